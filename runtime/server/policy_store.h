// The policies the server decides with, and their atomic replacement.
//
// A reload runs the loader (which compiles sources or reads a bundle) and
// verifies the result into a new Engine, all off the request threads; only
// then does it publish the new set. A failed reload publishes nothing: the
// last good set keeps serving and the failure (with the compiler's
// diagnostics) is kept for the admin status and the log.
//
// Request threads never lock on the hot path: each keeps its own reference
// to the current set and compares a generation number (one relaxed atomic
// load) to notice a swap. A decision in flight finishes on the set it
// started with; the old set is freed when its last user lets go.
#ifndef WARDEN_RUNTIME_SERVER_POLICY_STORE_H_
#define WARDEN_RUNTIME_SERVER_POLICY_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "warden/engine.h"

namespace warden::server {

// What a loader produces: bundle bytes and the options to load them with
// (the `data` values).
struct PolicySource {
  std::string bundle;
  EngineOptions options;
};

// Compiles or reads the policies. On failure returns an error whose message
// is the rendered diagnostics (file:line:col, caret).
using PolicyLoader = std::function<absl::StatusOr<PolicySource>()>;

struct LoadedPolicies {
  std::unique_ptr<Engine> engine;
  std::string bundle;  // the verified bundle's bytes (GET /v1/bundle on the admin socket)
  uint64_t generation = 0;
  absl::Time loaded_at;
  absl::Duration load_duration;
  std::string trigger;  // "start", "sighup", "admin", "watch"
};

struct ReloadStatus {
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  bool last_ok = true;
  absl::Time last_attempt;
  std::string last_trigger;
  std::string last_error;  // the rejected change's diagnostics
};

class PolicyStore {
 public:
  explicit PolicyStore(PolicyLoader loader) : loader_(std::move(loader)) {}

  // A summary of the policy files (watcher.h), taken at the start of every
  // reload, so the file watcher reloads only on changes no reload has seen.
  void set_fingerprint(std::function<std::string()> fingerprint) {
    fingerprint_ = std::move(fingerprint);
  }
  // The fingerprint the last reload (successful or not) started from.
  std::string attempted_fingerprint() const;

  // Loads and, on success, publishes. Reloads are serialised.
  absl::Status Reload(const std::string& trigger);

  // The current set (null before the first successful load).
  std::shared_ptr<const LoadedPolicies> current() const;
  // Changes on every publish; cheap to poll.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  ReloadStatus status() const;

 private:
  PolicyLoader loader_;
  std::function<std::string()> fingerprint_;
  std::string attempted_fingerprint_;  // guarded by mutex_
  std::mutex reload_mutex_;            // one reload at a time
  mutable std::mutex mutex_;           // guards current_ and status_
  std::shared_ptr<const LoadedPolicies> current_;
  ReloadStatus status_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_POLICY_STORE_H_
