// Verifying audit files: recomputes every line's hash and follows the chain
// across rotated files, classifying what is wrong (docs/audit.md).
#ifndef WARDEN_RUNTIME_AUDIT_VERIFY_H_
#define WARDEN_RUNTIME_AUDIT_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace warden::audit {

struct VerifyProblem {
  std::string file;
  uint64_t line = 0;  // 1-based line number in `file`
  // edited | removed | inserted | reordered | truncated | malformed | broken_link
  std::string kind;
  std::string message;
};

struct VerifyReport {
  uint64_t lines = 0;  // complete lines read
  uint64_t files = 0;
  std::vector<VerifyProblem> problems;  // in file and line order
  uint64_t first_seq = 0;               // of the chain as read
  uint64_t last_seq = 0;
  std::string last_hash;  // hex; compare it with a copy kept elsewhere
  bool intact() const { return problems.empty(); }
};

// Verifies `files_in_order` as one chain (oldest rotated file first, the
// active file last). The chain must start at seq 0 unless the first file is
// a rotated file numbered above 1 (older ones were deleted by keep_files).
// A Status error only when a file cannot be read.
absl::StatusOr<VerifyReport> VerifyAuditFiles(const std::vector<std::string>& files_in_order);

// `path` + ".000001"-style name of rotated file `index`.
std::string RotatedPath(const std::string& active_path, uint64_t index);

// The rotated siblings of `active_path` in chain order, then `active_path`
// itself if it exists. Empty if neither exists.
std::vector<std::string> FindAuditFiles(const std::string& active_path);

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_VERIFY_H_
