// Why a credential was refused: one stable reason code per failure, shown to
// callers of /v1/check as the deny's reason code (docs/authentication.md,
// "Reason codes"). Codes are part of the API: never renumber or rename.
#ifndef WARDEN_RUNTIME_AUTH_AUTH_ERROR_H_
#define WARDEN_RUNTIME_AUTH_AUTH_ERROR_H_

namespace warden::auth {

#define WARDEN_AUTH_ERRORS(X)                                                                    \
  X(kNone, "none", "no error")                                                                   \
  X(kNoCredential, "credential_missing", "the request carries no token or API key")              \
  X(kMalformed, "token_malformed", "the token is not three dot-separated parts of JSON")         \
  X(kBadBase64, "token_bad_base64", "a part of the token is not valid base64url")                \
  X(kTooLarge, "token_too_large", "the token or its header exceeds the configured size")         \
  X(kAlgNone, "token_alg_none", "the token is unsigned (alg: none)")                             \
  X(kAlgNotAllowed, "token_alg_not_allowed", "the issuer does not accept the token's algorithm") \
  X(kKeyAlgMismatch, "token_key_mismatch",                                                       \
    "the key chosen by kid is not a key for the token's algorithm (algorithm confusion)")        \
  X(kUnknownKid, "token_unknown_kid", "no key of the issuer has the token's kid")                \
  X(kBadSignature, "token_bad_signature", "the signature does not verify")                       \
  X(kUnknownIssuer, "token_unknown_issuer", "no issuer is configured for the token's iss")       \
  X(kWrongAudience, "token_wrong_audience",                                                      \
    "the token's aud names none of the accepted audiences")                                      \
  X(kExpired, "token_expired", "the token's exp has passed (beyond the leeway)")                 \
  X(kNotYetValid, "token_not_yet_valid", "the token's nbf or iat lies in the future")            \
  X(kLifetimeTooLong, "token_lifetime_too_long", "exp - iat exceeds the issuer's max_lifetime")  \
  X(kMissingClaim, "token_missing_claim", "a required claim is missing or has the wrong type")   \
  X(kRevokedToken, "token_revoked", "the token's jti has been revoked")                          \
  X(kRevokedSubject, "subject_revoked", "the subject's tokens issued before a time are revoked") \
  X(kApiKeyMalformed, "api_key_malformed", "the API key is not in Warden's key format")          \
  X(kApiKeyUnknown, "api_key_unknown", "no API key has this id, or the secret does not match")   \
  X(kApiKeyExpired, "api_key_expired", "the API key has expired")                                \
  X(kApiKeyRevoked, "api_key_revoked", "the API key has been revoked")                           \
  X(kApiKeyScope, "api_key_out_of_scope",                                                        \
    "the API key's scope does not include the action or resource type")                          \
  X(kStateUnavailable, "auth_state_unavailable", "the state store could not be read")            \
  X(kLockedOut, "locked_out",                                                                    \
    "too many failed attempts from this address or with this key: try again later")              \
  X(kGeoIpUnavailable, "geoip_unavailable", "the GeoIP database could not be read")              \
  X(kUnsupportedHeader, "token_unsupported_header",                                              \
    "the token's header needs an extension Warden does not implement (crit, or enc/zip of a JWE)")

enum class AuthError : unsigned char {
#define WARDEN_AUTH_ERROR_ENUM(name, code, meaning) name,
  WARDEN_AUTH_ERRORS(WARDEN_AUTH_ERROR_ENUM)
#undef WARDEN_AUTH_ERROR_ENUM
};

// The stable reason code ("token_expired") and a one-line meaning.
const char* AuthErrorCode(AuthError error);
const char* AuthErrorMeaning(AuthError error);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_AUTH_ERROR_H_
