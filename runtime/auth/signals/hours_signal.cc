// The subject's usual sign-in hours (context.unusual_hour, raised as
// unusual_hour). A permit adds its hour to the baseline.
#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/hour_baseline.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {
namespace {

class HoursSignal final : public Signal {
 public:
  HoursSignal(const AuthConfig& config, absl::TimeZone zone)
      : hours_(HourPolicy{config.hours_min_samples, config.hours_unusual_below},
               config.max_subjects),
        zone_(zone) {}

  std::vector<StoredTable> tables() override { return {{"hours", &hours_}}; }

  void Compute(const CheckFacts& facts, ContextWriter& out) const override {
    const bool unusual = hours_.Unusual(facts.subject, facts.now, zone_);
    if (unusual) out.Raise("unusual_hour");
    out.Member(ContextKey::unusual_hour).append(unusual ? "true" : "false");
  }

  void Record(const CheckFacts& facts, const DecidedFacts& decided,
              std::string* /*signals*/) override {
    if (decided.permit()) hours_.Record(facts.subject, facts.now, zone_);
  }

 private:
  HourBaselines hours_;
  absl::TimeZone zone_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeHoursSignal(const SignalDeps& deps) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(deps.config.hours_time_zone, &zone))
    return absl::InvalidArgumentError(
        absl::StrCat("auth.hours.time_zone: unknown time zone ", deps.config.hours_time_zone));
  return std::make_unique<HoursSignal>(deps.config, zone);
}

}  // namespace warden::auth
