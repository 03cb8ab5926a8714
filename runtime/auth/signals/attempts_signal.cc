// Failed attempts of the subject and of the client address
// (context.attempts.{failed_subject, failed_ip, locked}, raised as
// failed_attempts and locked_out). A permit ends the subject's streak; the
// failures themselves are recorded by the refusals (check/record.h), and a
// locked address or API key is refused before verification
// (check/authenticate.h).
#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {
namespace {

class AttemptsSignal final : public Signal {
 public:
  explicit AttemptsSignal(FailedAttempts& attempts) : attempts_(attempts) {}

  std::vector<StoredTable> tables() override { return {{"attempts", &attempts_}}; }
  // An expired streak says nothing a missing entry does not.
  void Sweep(absl::Time now) override { attempts_.Sweep(now); }

  void Compute(const CheckFacts& facts, ContextWriter& out) const override {
    const AttemptState subject = attempts_.Get(facts.subject_key, facts.now);
    const AttemptState ip =
        facts.ip_key.empty() ? AttemptState{} : attempts_.Get(facts.ip_key, facts.now);
    const bool locked = subject.locked || ip.locked;
    if (subject.failures > 0 || ip.failures > 0) out.Raise("failed_attempts");
    if (locked) out.Raise("locked_out");
    absl::StrAppend(&out.Member(ContextKey::attempts), "{\"failed_subject\":", subject.failures,
                    ",\"failed_ip\":", ip.failures, ",\"locked\":", locked ? "true" : "false", "}");
  }

  void Record(const CheckFacts& facts, const DecidedFacts& decided,
              std::string* /*signals*/) override {
    if (decided.permit()) attempts_.RecordSuccess(facts.subject_key, facts.now);
  }

 private:
  FailedAttempts& attempts_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeAttemptsSignal(const SignalDeps& deps) {
  return std::make_unique<AttemptsSignal>(deps.attempts);
}

}  // namespace warden::auth
