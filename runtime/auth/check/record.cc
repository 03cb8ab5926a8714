#include "runtime/auth/check/record.h"

namespace warden::auth {

void RecordDecision(SignalRegistry& registry, const CheckFacts& facts, const DecidedFacts& decided,
                    std::string* signals) {
  registry.Record(facts, decided, signals);
}

void RecordRefusal(FailedAttempts& attempts, const Refusal& refusal, std::string_view ip_key,
                   absl::Time now) {
  const AuthError error = refusal.error;
  if (error == AuthError::kGeoIpUnavailable || error == AuthError::kStateUnavailable ||
      error == AuthError::kLockedOut)
    return;
  if (!ip_key.empty()) attempts.RecordFailure(ip_key, now);
  if (!refusal.failed_subject.empty()) attempts.RecordFailure(refusal.failed_subject, now);
}

}  // namespace warden::auth
