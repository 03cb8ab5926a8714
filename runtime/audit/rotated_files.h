// Naming and finding rotated audit files: `path.000001`, `path.000002`, …
// in chain order (the numbers grow with each rotation).
#ifndef WARDEN_RUNTIME_AUDIT_ROTATED_FILES_H_
#define WARDEN_RUNTIME_AUDIT_ROTATED_FILES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace warden::audit {

// The rotated siblings of `active_path` as (index, path), oldest first.
std::vector<std::pair<uint64_t, std::string>> ListRotated(const std::string& active_path);

// The rotation index of `path` if it is named like a rotated file (a name
// ending in "." and six or more digits), else 0.
uint64_t RotatedIndexOf(const std::string& path);

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_ROTATED_FILES_H_
