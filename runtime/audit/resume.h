// Where an existing log's chain ends, read from the tail of the files so that
// opening a large log does not re-read it.
#ifndef WARDEN_RUNTIME_AUDIT_RESUME_H_
#define WARDEN_RUNTIME_AUDIT_RESUME_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/audit/line_format.h"

namespace warden::audit {

struct ChainTail {
  uint64_t next_seq = 0;
  Digest prev{};               // all zeros for a new chain
  uint64_t torn_bytes = 0;     // cut off the active file's end
  uint64_t active_bytes = 0;   // the active file's size afterwards
  uint64_t next_rotation = 1;  // the index the next rotated file gets
  std::string notice;          // what happened, for the operator
};

// Reads the last complete line of the active file `path` (or, when it has
// none, of its newest rotated sibling). An incomplete last line of the
// active file is truncated away: it was never confirmed by Flush, and
// keeping it would leave a malformed line in the middle of the chain.
absl::StatusOr<ChainTail> ResumeChain(const std::string& path);

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_RESUME_H_
