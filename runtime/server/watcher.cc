// Policy file fingerprints (see watcher.h).
#include "runtime/server/watcher.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace warden::server {
namespace {

void AddFile(const std::string& path, std::vector<std::string>* entries) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return;
  entries->push_back(absl::StrCat(path, "\t", info.st_size, "\t", info.st_mtim.tv_sec, ".",
                                  info.st_mtim.tv_nsec, "\t", info.st_ino, "\n"));
}

}  // namespace

std::string FingerprintFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> entries;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      AddFile(path, &entries);
      continue;
    }
    auto it = std::filesystem::recursive_directory_iterator(
        path, std::filesystem::directory_options::skip_permission_denied, ec);
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().extension() == ".warden" && it->is_regular_file(ec))
        AddFile(it->path().string(), &entries);
    }
    if (ec) entries.push_back(absl::StrCat(path, "\terror\t", ec.message(), "\n"));
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const std::string& entry : entries) out += entry;
  return out;
}

}  // namespace warden::server
