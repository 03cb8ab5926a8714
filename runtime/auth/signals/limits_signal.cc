// Rate limits: the token buckets of the policies' `limit` declarations. The
// decide stage reads them into the frame (limits.NAME.*, check/decide.h);
// here a permit takes a token from each limit its decision read, and every
// read limit that is exhausted is raised as rate_limited:NAME. Writes no
// context member.
#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {
namespace {

class LimitsSignal final : public Signal {
 public:
  explicit LimitsSignal(RateLimiter& limiter) : limiter_(limiter) {}

  std::vector<StoredTable> tables() override { return {{"buckets", &limiter_}}; }
  // A full bucket says nothing a missing one does not.
  void Sweep(absl::Time now) override { limiter_.Sweep(now); }
  void Compute(const CheckFacts& /*facts*/, ContextWriter& /*out*/) const override {}

  void Record(const CheckFacts& facts, const DecidedFacts& decided, std::string* signals) override {
    for (uint32_t limit : decided.decision.limits_read) {
      const bc::Limit& declared = decided.program.limits[limit];
      if (decided.permit())
        limiter_.Consume(declared.count, absl::Milliseconds(declared.window_ms),
                         decided.limit_keys[limit], facts.now);
    }
    for (uint32_t limit : decided.decision.limits_read) {
      const bc::Limit& declared = decided.program.limits[limit];
      if (decided.frame.limit_count(limit) >= declared.count)
        RaiseSignal(absl::StrCat("rate_limited:", declared.name), signals);
    }
  }

 private:
  RateLimiter& limiter_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeLimitsSignal(const SignalDeps& deps) {
  return std::make_unique<LimitsSignal>(deps.limiter);
}

}  // namespace warden::auth
