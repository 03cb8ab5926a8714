// The IP lists and GeoIP databases the network and geolocation signals read:
// loaded at start-up, reloaded when a file changes (Reload, on the control
// thread), and read by every check through the snapshot it started with. A
// database is closed when the last check using it ends.
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_NETWORK_FILES_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_NETWORK_FILES_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "runtime/auth/auth_config.h"
#include "runtime/auth/file_stamp.h"
#include "runtime/auth/signals/geoip.h"
#include "runtime/auth/signals/ip_list.h"

namespace warden::auth {

struct NetworkSnapshot {
  std::vector<std::pair<std::string, std::shared_ptr<const IpList>>> ip_lists;  // as configured
  std::shared_ptr<const GeoIpDatabase> geo_city;                                // null: none
  std::shared_ptr<const GeoIpDatabase> geo_anonymous;                           // null: none
};

class NetworkFiles {
 public:
  explicit NetworkFiles(const AuthConfig& config) : config_(config) {}

  // Loads every list and database whose file changed since it was loaded. A
  // file that fails to load keeps its previous content (and is tried again
  // at the next call): a bad update never removes a list. `initial`: the
  // first load, where any failure is returned and nothing is kept.
  absl::Status Reload(bool initial);

  std::shared_ptr<const NetworkSnapshot> Current() const {
    absl::ReaderMutexLock lock(&mutex_);
    return current_;
  }

 private:
  const AuthConfig& config_;
  mutable absl::Mutex mutex_;
  std::shared_ptr<const NetworkSnapshot> current_ ABSL_GUARDED_BY(mutex_);
  // Stamps of the loaded files: IP lists in order, then city, then anonymous.
  std::vector<FileStamp> stamps_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_NETWORK_FILES_H_
