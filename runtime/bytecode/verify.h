// The bytecode verifier: checks a Program before anything runs it.
//
// A bundle comes from disk or the network and may be corrupt or hostile; the
// VM trusts nothing it has not been verified to hold. Verify checks every
// table index, every instruction's operands against the operand format in
// opcodes.h (register numbers and kinds, slots, constants, jump targets),
// that registers are written before they are read on every path, that jumps
// go forward inside their block except LOOP back to its FORNEXT (so every
// block terminates), that policy sets nest without cycles, that regexes
// compile and time zones exist, and that every size is within ProgramLimits.
#ifndef WARDEN_RUNTIME_BYTECODE_VERIFY_H_
#define WARDEN_RUNTIME_BYTECODE_VERIFY_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "runtime/bytecode/limits.h"
#include "runtime/bytecode/program.h"

namespace warden::bc {

absl::Status Verify(const Program& program, const ProgramLimits& limits = {});

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_VERIFY_H_
