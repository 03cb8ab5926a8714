// Stage 4 of /v1/check: the decision request, the JSON the policies decide
// on (and the audit log records): `subject` from the verified credential
// (never from the caller), the caller's `action` and `resource`, and
// `context`: the caller's own members, then `time` and every signal's
// members in registry order. It never holds the credential.
#ifndef WARDEN_RUNTIME_AUTH_CHECK_DECISION_REQUEST_H_
#define WARDEN_RUNTIME_AUTH_CHECK_DECISION_REQUEST_H_

#include <string>

#include "runtime/auth/check/authenticate.h"
#include "runtime/auth/check/check_body.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {

// Appends the request to *request; the signals raised while computing
// go to *signals (a JSON array's members).
void WriteDecisionRequest(const CheckBody& check, const Identity& identity, const CheckFacts& facts,
                          const SignalRegistry& signals_registry, std::string* request,
                          std::string* signals);

// The `subject` object alone (exposed for tests).
void WriteSubject(const Identity& identity, absl::Time now, std::string* out);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_DECISION_REQUEST_H_
