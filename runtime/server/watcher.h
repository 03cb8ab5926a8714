// A fingerprint of policy files for reload-on-change: every `.warden` file
// under the given directories (recursively), and every file given by name,
// with its size, modification time and inode. Polling this is robust to editors that save by
// renaming, and needs no inotify watch per directory.
#ifndef WARDEN_RUNTIME_SERVER_WATCHER_H_
#define WARDEN_RUNTIME_SERVER_WATCHER_H_

#include <string>
#include <vector>

namespace warden::server {

std::string FingerprintFiles(const std::vector<std::string>& paths);

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_WATCHER_H_
