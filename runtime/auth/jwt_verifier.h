// JWT verification (RFC 7519, JWS compact serialisation) against per-issuer
// configuration: keys from a JWKS file or HMAC secrets, OpenSSL 3 for the
// signatures. Every refusal is one AuthError (runtime/auth/auth_error.h).
//
// Order of checks: sizes; structure and base64url; the header (alg, typ,
// crit); the payload's `iss` picks the issuer; the algorithm must be one the
// issuer accepts; the key by kid and its type/alg pin; the signature; only
// then the claims (exp, nbf, iat, lifetime, aud, sub, required claims), so a
// forged token learns nothing about claim checks.
//
// Algorithm confusion is closed by construction: HS256 verifies only with
// the issuer's hmac_keys, never with JWKS material; RS256/PS256 only with
// RSA keys, ES256 only with P-256 keys, EdDSA only with Ed25519 keys; keys
// embedded in the token's header (jwk, jku, x5c, x5u) are never used.
#ifndef WARDEN_RUNTIME_AUTH_JWT_VERIFIER_H_
#define WARDEN_RUNTIME_AUTH_JWT_VERIFIER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "runtime/auth/auth_error.h"

namespace warden::auth {

struct HmacKey {
  std::string kid;     // "" matches a token without kid
  std::string secret;  // the secret bytes (resolved from env/file by the caller)
};

struct IssuerConfig {
  std::string issuer;                   // exact match of `iss`
  std::vector<std::string> audiences;   // the token's aud (string or array) must contain one
  std::vector<std::string> algorithms;  // subset of RS256 PS256 ES256 EdDSA HS256
  std::string jwks_file;                // public keys; may be empty when only HS256 is accepted
  std::vector<HmacKey> hmac_keys;       // for HS256; each secret >= 32 bytes
  absl::Duration leeway = absl::Seconds(30);      // at most 5 minutes
  absl::Duration max_lifetime = absl::Hours(24);  // exp - iat above it: kLifetimeTooLong
  std::vector<std::string> required_claims;       // top-level claims that must be present
};

struct VerifierLimits {
  size_t max_token_bytes = 16384;
  size_t max_header_bytes = 2048;   // decoded
  size_t max_payload_bytes = 8192;  // decoded
  int max_json_depth = 16;
};

struct VerifiedToken {
  std::string issuer, subject, jti, alg, kid;
  absl::Time issued_at = absl::InfinitePast(), expires_at = absl::InfiniteFuture();
  std::optional<absl::Time> not_before, auth_time;
  std::vector<std::string> amr;  // RFC 8176 methods
  std::string acr;
  nlohmann::json claims;  // the whole payload, for claim mapping
  // The JWKS key that verified the signature. It expires when a key set
  // change drops the key or changes it under its kid (a reload keeps the
  // same key object only for an unchanged key), so a cached verification
  // by a withdrawn key is refused at once (token_cache.h). HS256 keys come
  // from the configuration and never change while running.
  std::weak_ptr<const void> jwks_key;
  bool by_jwks_key = false;
  bool KeyWithdrawn() const { return by_jwks_key && jwks_key.expired(); }
};

class TokenVerifier {
 public:
  // Validates the configuration and loads every JWKS file. Fails on: no
  // issuers, duplicate or empty issuer, no audiences, an unknown algorithm or
  // "none", an asymmetric algorithm without jwks_file, HS256 without
  // hmac_keys, a secret under 32 bytes, duplicate HMAC kids, leeway outside
  // [0, 5 min], max_lifetime <= 0, zero limits, a JWKS that does not load.
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> Create(std::vector<IssuerConfig> issuers,
                                                               VerifierLimits limits = {});
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  // Verifies `token` at `now`; fills `out` (if given) on kNone. A token
  // refused after its signature verified (expired, not yet valid, wrong
  // audience, lifetime, a missing claim) fills only out->issuer and
  // out->subject ("" without a usable `sub`), so the caller can count the
  // refusal for that subject; any other refusal leaves `out` as it was (a
  // forged token's subject is the forger's choice). Never throws;
  // thread-safe (many threads verify while one reloads). `detail`
  // (optional) gets a one-line human explanation of a refusal.
  AuthError Verify(std::string_view token, absl::Time now, VerifiedToken* out,
                   std::string* detail = nullptr) const;

  // Re-reads the JWKS files whose size, mtime or inode changed, keeping the
  // key object of every key the new file has unchanged (the same kid and
  // material) so that only withdrawn keys expire; a file that fails to
  // load keeps its previous keys and its error is returned (the other files
  // are still reloaded). `on_read` (optional) hears the result of every file
  // actually read: once per new version, ok or refused.
  using KeysReadObserver = std::function<void(const std::string& path, const absl::Status&)>;
  absl::Status ReloadKeys(const KeysReadObserver& on_read = nullptr);

  // Peeks at the unverified `sub` (or `iss`) for logging and attempt
  // counting only: never trust them. nullopt when the token does not parse.
  static std::optional<std::string> UnverifiedSubject(std::string_view token);
  static std::optional<std::string> UnverifiedIssuer(std::string_view token);

  // The number of JWKS keys loaded for `issuer` (tests, status pages).
  size_t KeyCount(std::string_view issuer) const;

 private:
  struct State;
  explicit TokenVerifier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_JWT_VERIFIER_H_
