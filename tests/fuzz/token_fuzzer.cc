// libFuzzer target: JWT verification and the JWKS parser
// (runtime/auth/jwt_verifier.h, jwk.h, base64url.h, token_cache.h).
//
// The first byte picks the mode:
//   'J'  the rest is a JWKS document for ParseJwks;
//   'S'  the next byte picks an algorithm ('0'..'4': RS256 PS256 ES256 EdDSA HS256)
//        and the rest is header JSON, '\n', payload JSON: they are signed
//        with the fixed verifier's key for that algorithm, so the claim
//        checks after the signature are reached too;
//   'B'  the rest is base64url text: if it decodes, it re-encodes to itself;
//   else the whole input is a token for TokenVerifier::Verify.
//
// The verifier accepts every algorithm for the issuer "https://fuzz.test"
// (audience "fuzz"), with keys generated at start-up: RSA-2048 (kid
// rsa-1), P-256 (ec-1), Ed25519 (ed-1) and a random HMAC secret (hs-1).
//
// Oracles: no crash or sanitizer report; a token not signed here never
// verifies (that would be a forgery); a verified token has a subject, its
// issuer, an alg equal to the header's, and is not expired; verifying twice
// gives the same answer; the cache returns what was inserted.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/rand.h>

#include "runtime/auth/base64url.h"
#include "runtime/auth/jwk.h"
#include "runtime/auth/jwt_verifier.h"
#include "runtime/auth/token_cache.h"
#include "tests/auth_test_support.h"

namespace {

using warden::auth::AuthError;
using warden::auth::TokenVerifier;
using warden::auth::VerifiedToken;

constexpr int64_t kNowUnix = 1'800'000'000;
constexpr const char* kAlgs[] = {"RS256", "PS256", "ES256", "EdDSA", "HS256"};

struct Setup {
  warden::auth::testing::TestKeys keys;
  std::unique_ptr<TokenVerifier> verifier;
  warden::auth::TokenCache cache{256};

  Setup() {
    // A fresh secret: the test default is public, so seeds could carry
    // tokens that really verify.
    unsigned char secret[32];
    if (RAND_bytes(secret, sizeof secret) != 1) std::abort();
    keys.hmac_secret.assign(reinterpret_cast<const char*>(secret), sizeof secret);
    char dir[] = "/tmp/token_fuzzer.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    std::string path = std::string(dir) + "/jwks.json";
    FILE* file = std::fopen(path.c_str(), "wb");
    std::string jwks = keys.Jwks();
    if (file == nullptr || std::fwrite(jwks.data(), 1, jwks.size(), file) != jwks.size())
      std::abort();
    std::fclose(file);
    warden::auth::IssuerConfig issuer;
    issuer.issuer = "https://fuzz.test";
    issuer.audiences = {"fuzz"};
    issuer.algorithms = {"RS256", "PS256", "ES256", "EdDSA", "HS256"};
    issuer.jwks_file = path;
    issuer.hmac_keys = {{"hs-1", keys.hmac_secret}};
    issuer.required_claims = {};
    auto created = TokenVerifier::Create({issuer});
    if (!created.ok()) {
      std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
      std::abort();
    }
    verifier = *std::move(created);
    std::remove(path.c_str());
    ::rmdir(dir);
  }
};

Setup& Fixed() {
  static Setup* setup = new Setup();
  return *setup;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "oracle failed: %s\n", what);
    std::abort();
  }
}

AuthError VerifyAndCheck(std::string_view token, bool signed_here) {
  Setup& s = Fixed();
  const absl::Time now = absl::FromUnixSeconds(kNowUnix);
  VerifiedToken out;
  std::string detail;
  AuthError error = s.verifier->Verify(token, now, &out, &detail);
  Check(error == s.verifier->Verify(token, now, nullptr), "Verify is deterministic");
  if (error != AuthError::kNone) {
    Check(!detail.empty(), "a refusal has a detail");
    return error;
  }
  Check(signed_here, "a token not signed by the fixed keys verified (forgery)");
  Check(!out.subject.empty(), "a verified token has a subject");
  Check(out.issuer == "https://fuzz.test", "a verified token has the issuer");
  Check(out.expires_at + absl::Seconds(30) > now, "a verified token is not expired");
  Check(out.claims.is_object(), "claims are an object");
  auto shared = std::make_shared<const VerifiedToken>(std::move(out));
  s.cache.Insert(token, shared, now);
  auto hit = s.cache.Find(token, now);
  Check(hit == nullptr || hit == shared, "the cache returns what was inserted");
  Check(s.cache.Find(token, shared->expires_at) == nullptr, "the cache never returns at exp");
  return error;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  std::string_view rest = input.substr(1);
  switch (input[0]) {
    case 'J': {
      auto keys = warden::auth::ParseJwks(rest);
      if (keys.ok()) {
        for (const auto& key : *keys) Check(key.key != nullptr, "a parsed key has an EVP_PKEY");
      }
      return 0;
    }
    case 'B': {
      std::string decoded;
      if (warden::auth::Base64UrlDecode(rest, &decoded)) {
        Check(warden::auth::Base64UrlEncode(decoded) == rest, "base64url decoding is canonical");
      }
      return 0;
    }
    case 'S': {
      if (rest.empty()) return 0;
      const char* alg = kAlgs[static_cast<unsigned char>(rest[0] - '0') % 5];  // '0'..'4'
      rest.remove_prefix(1);
      size_t newline = rest.find('\n');
      if (newline == std::string_view::npos) return 0;
      Setup& s = Fixed();
      std::string token =
          warden::auth::testing::MintRaw(rest.substr(0, newline), rest.substr(newline + 1), alg,
                                         s.keys.KeyFor(alg), s.keys.hmac_secret);
      VerifyAndCheck(token, /*signed_here=*/true);
      return 0;
    }
    default:
      VerifyAndCheck(input, /*signed_here=*/false);
      (void)TokenVerifier::UnverifiedSubject(input);
      return 0;
  }
}
