// The code generator: CheckedProgram -> bytecode Program (runtime/bytecode).
//
// Passes, in order:
//   1. tables    attributes -> frame slots (with the built-in fail-safe
//                defaults), enums, actions, resource types, roles (closures),
//                separations, challenges, JIT profiles, limits, data
//   2. code      every risk factor, rule condition and obligation/advice
//                value becomes a code block: typed register allocation per
//                block, short-circuit jumps for and/or, trivial constant
//                folding, constants deduplicated into the pool
//   3. policies  rules, policies, policy sets and roots by index
// The result always passes bc::Verify (the code generator checks it).
#ifndef WARDEN_COMPILER_CODEGEN_H_
#define WARDEN_COMPILER_CODEGEN_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "compiler/checked.h"
#include "compiler/source.h"
#include "runtime/bytecode/program.h"
#include "runtime/bytecode/verify.h"

namespace warden {

struct CodegenOptions {
  size_t max_registers = bc::kMaxRegisters;  // per block; the encoding allows 256
  size_t max_block_size = bc::ProgramLimits{}.max_block_size;
  size_t max_code = bc::ProgramLimits{}.max_code;
  size_t max_constants = bc::ProgramLimits{}.max_table_entries;
  size_t max_set_literal = bc::ProgramLimits{}.max_set_literal;
  // Give every permit rule's top-level `and` conjuncts a code block of their
  // own (bc::Rule::conjuncts), so explain can say which failed. Without
  // them, explain still reports every rule's status. Off by default: they
  // nearly double the bundle of a large policy set (the 100,000-rule bench
  // bundle: 17 -> 31 MB, load 190 -> 350 ms); `warden eval --explain` and
  // `warden compile --explain` turn them on.
  bool explain_conjuncts = false;
};

// Errors: a construct the bytecode does not support yet (fields of records
// held in sets), or a limit of `options` exceeded (ResourceExhausted).
absl::StatusOr<bc::Program> GenerateBytecode(const CheckedProgram& program,
                                             const SourceManager& sources,
                                             const CodegenOptions& options = {});

}  // namespace warden

#endif  // WARDEN_COMPILER_CODEGEN_H_
