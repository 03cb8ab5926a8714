// A verified token's claims as the decision request's `subject`, by the
// issuer's claim mapping (docs/authentication.md, "Claim mapping").
#ifndef WARDEN_RUNTIME_AUTH_CHECK_CLAIMS_H_
#define WARDEN_RUNTIME_AUTH_CHECK_CLAIMS_H_

#include <string>

#include "runtime/auth/auth_config.h"
#include "runtime/auth/jwt_verifier.h"

namespace warden::auth {

// A verified token with its claims already mapped to the subject's JSON, so
// a token cache hit skips the mapping too. Only the authenticate stage
// inserts into the cache, so every cached VerifiedToken is a MappedToken.
struct MappedToken : VerifiedToken {
  // {"id":…,"roles":[…],…,"auth":{"mfa":…,"methods":[…],"acr":…,"kind":"token"
  // (the auth and subject objects left open for the ages).
  std::string subject_json;
  bool mfa = false;
};

// Fills token.subject_json and token.mfa.
void MapClaims(const ClaimMapping& mapping, MappedToken& token);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_CLAIMS_H_
