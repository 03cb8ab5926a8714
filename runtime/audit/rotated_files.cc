#include "runtime/audit/rotated_files.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "runtime/audit/verify.h"

namespace warden::audit {
namespace {

// The digits after the last '.' of `name` when there are at least six.
bool RotationSuffix(const std::string& name, uint64_t* index) {
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || name.size() - dot - 1 < 6) return false;
  for (size_t i = dot + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return absl::SimpleAtoi(name.substr(dot + 1), index) && *index > 0;
}

}  // namespace

std::string RotatedPath(const std::string& active_path, uint64_t index) {
  return absl::StrFormat("%s.%06d", active_path, index);
}

uint64_t RotatedIndexOf(const std::string& path) {
  uint64_t index = 0;
  std::string name = std::filesystem::path(path).filename().string();
  return RotationSuffix(name, &index) ? index : 0;
}

std::vector<std::pair<uint64_t, std::string>> ListRotated(const std::string& active_path) {
  namespace fs = std::filesystem;
  std::vector<std::pair<uint64_t, std::string>> rotated;
  fs::path active(active_path);
  fs::path dir = active.parent_path().empty() ? fs::path(".") : active.parent_path();
  std::string prefix = active.filename().string() + ".";
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    uint64_t index = 0;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.find('.', prefix.size()) != std::string::npos) continue;
    if (!RotationSuffix(name, &index)) continue;
    rotated.emplace_back(index, (active.parent_path() / name).string());
  }
  std::sort(rotated.begin(), rotated.end());
  return rotated;
}

std::vector<std::string> FindAuditFiles(const std::string& active_path) {
  std::vector<std::string> files;
  for (auto& [index, path] : ListRotated(active_path)) files.push_back(std::move(path));
  std::error_code error;
  if (std::filesystem::exists(active_path, error)) files.push_back(active_path);
  return files;
}

}  // namespace warden::audit
