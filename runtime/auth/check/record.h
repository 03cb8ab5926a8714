// Stage 6 of /v1/check: record what the check teaches. A decision goes to
// every signal (SignalRegistry::Record: a permit consumes the limits it read
// and updates the subject's last sign-in, devices, hour baseline and
// attempts); a refused credential is a failed attempt for the address and
// for the subject or API key it names.
#ifndef WARDEN_RUNTIME_AUTH_CHECK_RECORD_H_
#define WARDEN_RUNTIME_AUTH_CHECK_RECORD_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "runtime/auth/check/authenticate.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {

void RecordDecision(SignalRegistry& registry, const CheckFacts& facts, const DecidedFacts& decided,
                    std::string* signals);

// Only a refused credential is a failed attempt: not Warden's own faults
// (state or GeoIP unavailable), and not a check refused unread during a
// lockout.
void RecordRefusal(FailedAttempts& attempts, const Refusal& refusal, std::string_view ip_key,
                   absl::Time now);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_RECORD_H_
