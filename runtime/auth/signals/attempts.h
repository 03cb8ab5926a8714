// Failed authentication attempts per key ("s:SUBJECT", "ip:ADDRESS", built
// by the caller), with lockout and exponential backoff. Feeds
// context.attempts.{failed_subject, failed_ip, locked} (see risk_signals.h).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_ATTEMPTS_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_ATTEMPTS_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "runtime/auth/signals/state_table.h"
#include "runtime/auth/state_rows.h"

namespace warden::auth {

struct AttemptPolicy {
  int lockout_after = 5;  // values below 1 act as 1
  absl::Duration window = absl::Minutes(15);
  absl::Duration base_lockout = absl::Minutes(1);
  absl::Duration max_lockout = absl::Hours(1);
};

// Window: sliding from the latest activity (a "streak"). Failures add up as
// long as each one comes within `window` of the previous failure or of the
// end of the lockout it caused; once `window` passes with neither, the
// streak is forgotten (failures 0, not locked). Measuring from the end of
// the lockout lets the backoff keep doubling up to max_lockout even when a
// lockout is longer than the window, and a slow attacker (one failure every
// window - 1s) still reaches the lockout; a user who mistypes once a day
// never does.
//
// Lockout: each failure at or beyond lockout_after locks the key until
// now + base_lockout × 2^(failures − lockout_after), capped at max_lockout.
// Failures recorded while locked count too (they extend the lockout); a
// caller that wants lockouts to be a fixed cost rejects locked keys before
// verifying the credential and does not record those. Success forgets the
// key entirely.
//
// Thread-safe, bounded (least recently updated keys are evicted; Sweep
// removes expired streaks). Persisted value:
// "1|FAILURES|LAST_FAILURE_UNIX_MICROS|LOCKED_UNTIL_UNIX_MICROS".
struct AttemptState {
  int failures = 0;  // in the current streak (saturates at 1,000,000)
  bool locked = false;
  absl::Time locked_until = absl::InfinitePast();  // InfinitePast when never locked
};

class FailedAttempts final : public PersistedTable {
 public:
  using AttemptState = ::warden::auth::AttemptState;

  explicit FailedAttempts(AttemptPolicy policy = {}, size_t max_entries = 1'000'000);

  AttemptState Get(std::string_view key, absl::Time now) const;
  // Counts a failure and returns the state after it.
  AttemptState RecordFailure(std::string_view key, absl::Time now);
  // Forgets the key (failures and lockout).
  void RecordSuccess(std::string_view key, absl::Time now);
  // Removes every expired streak; returns how many. Call periodically.
  size_t Sweep(absl::Time now);

  // The lockout after the given number of failures (zero below lockout_after).
  absl::Duration LockoutFor(int failures) const;
  const AttemptPolicy& policy() const { return policy_; }

  // Persistence: the PersistedTable surface (state_rows.h).
  void Import(std::string_view key, std::string_view value) override;
  StateRows TakeDirty() override;
  StateRows Snapshot() const override;
  size_t rejected_rows() const override { return rejected_.load(std::memory_order_relaxed); }
  size_t size() const override { return table_.size(); }
  size_t dropped_deletions() const override { return table_.dropped_deletions(); }

 private:
  struct Streak {
    int failures = 0;
    absl::Time last_failure = absl::InfinitePast();
    absl::Time locked_until = absl::InfinitePast();
  };
  static std::string Encode(const Streak& streak);
  bool Expired(const Streak& streak, absl::Time now) const;
  AttemptState StateOf(const Streak& streak, absl::Time now) const;

  AttemptPolicy policy_;
  signals_internal::StateTable<Streak> table_;
  std::atomic<size_t> rejected_{0};
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_ATTEMPTS_H_
