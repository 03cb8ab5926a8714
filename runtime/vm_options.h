// The VM's per-decision budgets (VmOptions), apart from the VM so the
// embedding API (warden/engine.h) can name them.
#ifndef WARDEN_RUNTIME_VM_OPTIONS_H_
#define WARDEN_RUNTIME_VM_OPTIONS_H_

#include <cstddef>

namespace warden::rt {

struct VmOptions {
  size_t max_loop_iterations = size_t{1} << 20;  // LOOP back-jumps per decision
  size_t max_scratch_bytes = size_t{1} << 20;    // lower()/upper()/date()/set literals per decision
};

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_VM_OPTIONS_H_
