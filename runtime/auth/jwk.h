// JSON Web Keys (RFC 7517) for token verification: a JWKS document becomes
// pre-built OpenSSL public keys. Only what JWT verification here accepts
// is loaded — RSA (>= 2048 bits), EC P-256 and Ed25519 signature keys — and
// anything else is an error naming the key, never silently skipped, so a
// JWKS file that changes shape is noticed when it is (re)loaded.
#ifndef WARDEN_RUNTIME_AUTH_JWK_H_
#define WARDEN_RUNTIME_AUTH_JWK_H_

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace warden::auth {

enum class JwkType : unsigned char { kRsa, kEcP256, kEd25519 };

struct Jwk {
  std::string kid;  // "" when the key has none
  std::string kty;  // "RSA", "EC" or "OKP"
  JwkType type = JwkType::kRsa;
  std::string alg;  // "" = any algorithm of the key's type; else the only one it verifies
  std::string use;  // "" or "sig"
  int bits = 0;     // RSA modulus size; 256 for the others
  // The public key, built once and shared read-only by verifying threads.
  std::shared_ptr<EVP_PKEY> key;
};

struct JwksLimits {
  size_t max_keys = 64;
  size_t max_document_bytes = 1 << 20;
  int max_json_depth = 16;
  int min_rsa_bits = 2048;
  int max_rsa_bits = 8192;  // bounds the cost of one verification
};

// Parses a JWKS document ({"keys": [...]}). Fails on invalid or duplicate
// JSON, no keys, too many keys, duplicate kids, private key material,
// unsupported kty/crv/alg, `use` other than "sig", `key_ops` without
// "verify", RSA moduli outside the limits and EC points not on P-256.
absl::StatusOr<std::vector<Jwk>> ParseJwks(std::string_view document,
                                           const JwksLimits& limits = {});

// One key object; `where` names it in errors ("key 2 (kid \"a\")").
absl::StatusOr<Jwk> ParseJwk(const nlohmann::json& jwk, const JwksLimits& limits = {},
                             std::string_view where = "key");

// Reads and parses a JWKS file (refusing files over max_document_bytes).
absl::StatusOr<std::vector<Jwk>> LoadJwksFile(const std::string& path,
                                              const JwksLimits& limits = {});

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_JWK_H_
