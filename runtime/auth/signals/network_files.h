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
#include "runtime/auth/source_status.h"

namespace warden::auth {

struct NetworkSnapshot {
  std::vector<std::pair<std::string, std::shared_ptr<const IpList>>> ip_lists;  // as configured
  std::shared_ptr<const GeoIpDatabase> geo_city;                                // null: none
  std::shared_ptr<const GeoIpDatabase> geo_anonymous;                           // null: none
};

class NetworkFiles {
 public:
  // `reports` (may be null) records every load and refusal; it must outlive
  // this object.
  explicit NetworkFiles(const AuthConfig& config, SourceReports* reports = nullptr)
      : config_(config), reports_(reports) {}

  // Loads every list and database whose file changed since it was loaded. A
  // file that fails to load keeps its previous content: a bad update never
  // removes a list. It is refused (and reported) once, and read again when
  // it changes. `initial`: the first load, where any failure is returned and
  // nothing is kept.
  absl::Status Reload(bool initial);

  std::shared_ptr<const NetworkSnapshot> Current() const {
    absl::ReaderMutexLock lock(&mutex_);
    return current_;
  }

 private:
  // Whether the file at `index` of stamps_ needs reading: not when it is the
  // version loaded, or the version refused last.
  bool Changed(size_t index, const FileStamp& stamp, bool initial);
  // Records the result of reading the file at `index`.
  void Report(UpdateSource source, const std::string& path, size_t index, const FileStamp& stamp,
              const absl::Status& result);

  const AuthConfig& config_;
  SourceReports* const reports_;
  mutable absl::Mutex mutex_;
  std::shared_ptr<const NetworkSnapshot> current_ ABSL_GUARDED_BY(mutex_);
  // Stamps of the loaded files: IP lists in order, then city, then anonymous.
  std::vector<FileStamp> stamps_;
  std::vector<FileStamp> refused_;      // the version of each file last refused
  std::vector<absl::Status> refusals_;  // and why (returned again until it changes)
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_NETWORK_FILES_H_
