// Every risk signal of the /v1/check service, in the order they run and
// write the decision request's context (signal.h says what each step is).
// The service loops over the registry; it never names a signal.
//
// Adding a signal: one file under runtime/auth/signals/ with its Signal
// class and its Make…Signal factory, one line in WARDEN_SIGNALS
// (signal_registry.cc), its attributes in WARDEN_BUILTIN_ATTRIBUTES
// (compiler/builtin_attributes.h), and its rows in docs/language.md
// ("Built-in schema") and docs/authentication.md ("Risk signals").
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_SIGNAL_REGISTRY_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_SIGNAL_REGISTRY_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/auth/auth_config.h"
#include "runtime/auth/signals/attempts.h"
#include "runtime/auth/signals/rate_limiter.h"
#include "runtime/auth/signals/signal.h"
#include "runtime/auth/state_store.h"

namespace warden::auth {

// What a signal's factory may use. The failed attempts and the rate-limit
// buckets are shared with the stages that need them outside the signals
// (the lockout before verification; the limits read while deciding).
struct SignalDeps {
  const AuthConfig& config;
  FailedAttempts& attempts;
  RateLimiter& limiter;
};

class SignalRegistry {
 public:
  // Every signal of WARDEN_SIGNALS, configured from `config`; an error names
  // the setting (e.g. an unknown auth.hours.time_zone).
  static absl::StatusOr<std::unique_ptr<SignalRegistry>> Create(const AuthConfig& config);

  // Loads every signal's tables from the store (at start-up).
  absl::Status Import(StateStore& store);
  // Writes every changed row of every table; the first error is returned,
  // after trying every table.
  absl::Status Flush(StateStore& store);
  void Sweep(absl::Time now);

  // Runs every signal's Look; a failure refuses the check (the last one
  // wins: each Look only reads).
  std::optional<SignalFailure> Look(CheckFacts& facts, std::string* signals) const;
  void Compute(const CheckFacts& facts, ContextWriter& out) const;
  void Record(const CheckFacts& facts, const DecidedFacts& decided, std::string* signals);

  // The top-level context members Warden computes (the built-in attributes
  // of source kComputed): a check may not send them.
  const std::vector<std::string_view>& computed_keys() const { return computed_keys_; }

  FailedAttempts& attempts() { return attempts_; }
  const FailedAttempts& attempts() const { return attempts_; }
  RateLimiter& limiter() { return limiter_; }

 private:
  explicit SignalRegistry(const AuthConfig& config);

  FailedAttempts attempts_;
  RateLimiter limiter_;
  std::vector<std::unique_ptr<Signal>> signals_;
  std::vector<std::string_view> computed_keys_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_SIGNAL_REGISTRY_H_
