// Unusual hour: a per-subject histogram of sign-in hours (local time in a
// zone the caller chooses), exponentially decayed so that habits can change.
// Feeds context.unusual_hour (see risk_signals.h).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_HOUR_BASELINE_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_HOUR_BASELINE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "runtime/auth/signals/state_table.h"
#include "runtime/auth/state_rows.h"

namespace warden::auth {

struct HourPolicy {
  // Sign-ins recorded (not decayed: a weekly user still leaves learning)
  // before a subject's hour can be unusual.
  int min_samples = 20;
  // Unusual when the (decayed) share of the subject's sign-ins in this hour
  // and its two neighbours (h-1, h, h+1, wrapping at midnight) is below this.
  double unusual_below = 0.02;
  // Weight kept per day of age (0.98: a sign-in 35 days ago counts half).
  // Values outside (0, 1] act as 1 (no decay).
  double decay_per_day = 0.98;
};

// Thread-safe, bounded (least recently updated subjects are evicted).
// Intended use: Unusual() before the decision, Record() after a successful
// sign-in, so an attacker's rejected attempts do not teach the baseline.
// Persisted value: "1|SAMPLES|UPDATED_UNIX_MICROS|B0,B1,...,B23" (decayed
// counts as of UPDATED, 6 significant digits).
class HourBaselines final : public PersistedTable {
 public:
  explicit HourBaselines(HourPolicy policy = {}, size_t max_entries = 1'000'000);

  // Never unusual while learning (fewer than min_samples sign-ins).
  bool Unusual(std::string_view subject, absl::Time now, const absl::TimeZone& zone) const;
  void Record(std::string_view subject, absl::Time now, const absl::TimeZone& zone);
  // The share of the hour's neighbourhood; nullopt while learning.
  std::optional<double> Share(std::string_view subject, absl::Time now,
                              const absl::TimeZone& zone) const;
  // Sign-ins recorded for the subject (0 when unknown).
  int64_t Samples(std::string_view subject) const;
  void Forget(std::string_view subject);
  const HourPolicy& policy() const { return policy_; }

  // Persistence: the PersistedTable surface (state_rows.h).
  void Import(std::string_view key, std::string_view value) override;
  StateRows TakeDirty() override;
  StateRows Snapshot() const override;
  size_t rejected_rows() const override { return rejected_.load(std::memory_order_relaxed); }
  size_t size() const override { return table_.size(); }
  size_t dropped_deletions() const override { return table_.dropped_deletions(); }

 private:
  struct Baseline {
    std::array<double, 24> bins{};
    int64_t samples = 0;
    absl::Time updated = absl::InfinitePast();
  };
  static std::string Encode(const Baseline& baseline);

  HourPolicy policy_;
  signals_internal::StateTable<Baseline> table_;
  std::atomic<size_t> rejected_{0};
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_HOUR_BASELINE_H_
