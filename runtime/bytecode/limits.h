// The sizes a bundle may have (ProgramLimits): what the loader and the
// verifier accept. Its own header so the embedding API (warden/engine.h) can
// name the limits without the verifier.
#ifndef WARDEN_RUNTIME_BYTECODE_LIMITS_H_
#define WARDEN_RUNTIME_BYTECODE_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "runtime/bytecode/opcodes.h"

namespace warden::bc {

// Every size the loader and verifier accept. Exceeding one is a clear
// InvalidArgument/ResourceExhausted error naming the limit, never a crash.
struct ProgramLimits {
  size_t max_bundle_bytes = size_t{512} << 20;  // whole bundle file
  size_t max_string_bytes = size_t{1} << 20;    // any one name, path or constant string
  size_t max_table_entries = size_t{1} << 22;   // entries of any one table (rules, attributes, …)
  size_t max_code = size_t{1} << 26;            // instructions in the program
  size_t max_block_size = size_t{1} << 16;      // instructions in one block
  size_t max_registers = kMaxRegisters;         // registers of one block (at most 256)
  size_t max_constant_set_size = size_t{1} << 20;  // members of one constant set
  size_t max_set_literal = 4096;                   // SETNEW capacity
  size_t max_roles = size_t{1} << 16;
  size_t max_policy_set_depth = 64;             // nesting of policy sets
  int64_t max_regex_memory = int64_t{1} << 20;  // RE2 max_mem per pattern
};

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_LIMITS_H_
