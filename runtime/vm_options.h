// The VM's per-decision budgets (VmOptions), apart from the VM so the
// embedding API (warden/engine.h) can name them.
#ifndef WARDEN_RUNTIME_VM_OPTIONS_H_
#define WARDEN_RUNTIME_VM_OPTIONS_H_

#include <cstddef>

namespace warden::rt {

// Quantifier iterations per decision: each element whose body does not
// settle an `any`/`all` (the VM's LOOP back-jump). Bounds the cost of nested
// quantifiers over big request sets; exhausted, it is kLimitExceeded. The
// reference evaluator (cli/reference/) counts the same iterations against
// the same default, so both evaluators refuse the same decisions.
inline constexpr size_t kDefaultMaxLoopIterations = size_t{1} << 20;

struct VmOptions {
  size_t max_loop_iterations = kDefaultMaxLoopIterations;  // LOOP back-jumps per decision
  size_t max_scratch_bytes = size_t{1} << 20;  // lower()/upper()/date()/set literals per decision
};

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_VM_OPTIONS_H_
