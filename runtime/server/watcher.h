// A fingerprint of policy files for reload-on-change: every regular file
// under the given paths (directories recursively) with its size and
// modification time. Polling this is robust to editors that save by
// renaming, and needs no inotify watch per directory.
#ifndef WARDEN_RUNTIME_SERVER_WATCHER_H_
#define WARDEN_RUNTIME_SERVER_WATCHER_H_

#include <string>
#include <vector>

namespace warden::server {

std::string FingerprintFiles(const std::vector<std::string>& paths);

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_WATCHER_H_
