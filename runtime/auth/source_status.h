// What became of the updates of the files and the database the check service
// reads while it runs: JWKS files, IP lists, GeoIP databases and the state
// database. A refused update keeps the last good content serving (see
// NetworkFiles, TokenVerifier::ReloadKeys), so it would go unnoticed; each
// one is recorded here once, and the server turns the record into a log
// line, a metric and an entry of /v1/status (runtime/server/sources.h).
#ifndef WARDEN_RUNTIME_AUTH_SOURCE_STATUS_H_
#define WARDEN_RUNTIME_AUTH_SOURCE_STATUS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace warden::auth {

// Every source, with its name in logs, metrics and /v1/status.
#define WARDEN_UPDATE_SOURCES(X) \
  X(kJwks, "jwks")               \
  X(kIpList, "ip_list")          \
  X(kGeoip, "geoip")             \
  X(kState, "state")

enum class UpdateSource {
#define WARDEN_SOURCE_ENUM(id, name) id,
  WARDEN_UPDATE_SOURCES(WARDEN_SOURCE_ENUM)
#undef WARDEN_SOURCE_ENUM
};
inline constexpr size_t kUpdateSourceCount = 0
#define WARDEN_SOURCE_COUNT(id, name) +1
    WARDEN_UPDATE_SOURCES(WARDEN_SOURCE_COUNT)
#undef WARDEN_SOURCE_COUNT
    ;
std::string_view UpdateSourceName(UpdateSource source);

// One file (or the state database) as /v1/status shows it.
struct SourceStatus {
  UpdateSource source = UpdateSource::kJwks;
  std::string path;
  std::optional<absl::Time> last_ok;  // the last load (or state write) that succeeded
  std::optional<absl::Time> last_error_at;
  std::string last_error;  // "" once a later load succeeded
  int64_t refused = 0;     // updates refused (state: failed reads and writes)
};

// A refusal not yet logged.
struct SourceEvent {
  UpdateSource source = UpdateSource::kJwks;
  std::string path;
  std::string error;
};

class SourceReports {  // thread-safe
 public:
  void Loaded(UpdateSource source, const std::string& path, absl::Time now);
  void Refused(UpdateSource source, const std::string& path, const absl::Status& error,
               absl::Time now);
  // A failed write of the state database (also counted in Refused).
  void StateWriteFailed(const std::string& path, const absl::Status& error, absl::Time now);

  std::vector<SourceStatus> Snapshot() const;  // in order of first report
  std::array<int64_t, kUpdateSourceCount> RefusedBySource() const;
  int64_t state_write_errors() const;
  // The refusals since the last call, oldest first (at most kMaxPendingEvents
  // are kept; the counters count every one).
  std::vector<SourceEvent> TakeEvents();

  static constexpr size_t kMaxPendingEvents = 64;

 private:
  SourceStatus& Entry(UpdateSource source, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<SourceStatus> entries_ ABSL_GUARDED_BY(mu_);
  std::array<int64_t, kUpdateSourceCount> refused_ ABSL_GUARDED_BY(mu_) = {};
  int64_t state_write_errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<SourceEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SOURCE_STATUS_H_
