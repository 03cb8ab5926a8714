// Loading, verifying and publishing policy sets (see policy_store.h).
#include "runtime/server/policy_store.h"

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden::server {

absl::Status PolicyStore::Reload(const std::string& trigger) {
  std::lock_guard<std::mutex> serial(reload_mutex_);
  const absl::Time started = absl::Now();
  std::string fingerprint = fingerprint_ ? fingerprint_() : std::string();
  absl::Status result;
  std::shared_ptr<LoadedPolicies> loaded;
  try {
    absl::StatusOr<PolicySource> source = loader_();
    if (!source.ok()) {
      result = source.status();
    } else {
      absl::StatusOr<std::unique_ptr<Engine>> engine =
          Engine::FromBundle(source->bundle, std::move(source->options));
      if (!engine.ok()) {
        result = engine.status();
      } else {
        loaded = std::make_shared<LoadedPolicies>();
        loaded->engine = std::move(*engine);
        loaded->bundle = std::move(source->bundle);
        loaded->loaded_at = absl::Now();
        loaded->load_duration = loaded->loaded_at - started;
        loaded->trigger = trigger;
      }
    }
  } catch (const std::exception& e) {  // e.g. out of memory while compiling
    result = absl::InternalError(absl::StrCat("loading the policies failed: ", e.what()));
  }

  std::lock_guard<std::mutex> lock(mutex_);
  attempted_fingerprint_ = std::move(fingerprint);
  status_.last_attempt = started;
  status_.last_trigger = trigger;
  if (loaded == nullptr) {
    ++status_.failed;
    status_.last_ok = false;
    status_.last_error = std::string(result.message());
    return result;
  }
  loaded->generation = generation_.load(std::memory_order_relaxed) + 1;
  current_ = std::move(loaded);
  ++status_.succeeded;
  status_.last_ok = true;
  status_.last_error.clear();
  generation_.store(current_->generation, std::memory_order_release);
  return absl::OkStatus();
}

std::shared_ptr<const LoadedPolicies> PolicyStore::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

std::string PolicyStore::attempted_fingerprint() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return attempted_fingerprint_;
}

ReloadStatus PolicyStore::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

}  // namespace warden::server
