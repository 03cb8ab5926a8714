// JWT verification speed (issue 5: "an uncached ES256 token within 1.3x of
// a bare OpenSSL ES256 verify on the same machine").
//
// BM_OpenSslEs256Verify is the floor: EVP_DigestVerify of the same signing
// input with a pre-built key and a DER signature, as a program calling
// OpenSSL directly would do it (a fresh EVP_MD_CTX per verification).
// BM_Verify* run TokenVerifier::Verify on a realistic access token (about
// 750 bytes: OIDC claims, roles, scope, amr/acr), everything included:
// splitting, base64url, strict JSON, key selection, signature, claims.
// BM_CacheHit is TokenCache::Find on that token (SHA-256 + a shard lookup).
//
//   ./build/release/bench/jwt_bench --benchmark_repetitions=5 \
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "runtime/auth/base64url.h"
#include "runtime/auth/jwk.h"
#include "runtime/auth/jwt_verifier.h"
#include "runtime/auth/token_cache.h"
#include "tests/auth_test_support.h"

namespace {

namespace t = warden::auth::testing;
using warden::auth::AuthError;
using warden::auth::TokenVerifier;
using warden::auth::VerifiedToken;

constexpr int64_t kNowUnix = 1'800'000'000;
constexpr char kIss[] = "https://login.example.com/realms/production";

nlohmann::json AccessTokenClaims() {
  return {
      {"iss", kIss},
      {"sub", "f3c2a9e4-5b7d-4c1e-9a8f-2d6b0e1c7a34"},
      {"aud", {"warden", "payments-api"}},
      {"exp", kNowUnix + 300},
      {"iat", kNowUnix - 60},
      {"nbf", kNowUnix - 60},
      {"auth_time", kNowUnix - 900},
      {"jti", "7b1e0c5a-2f4d-4e8b-b6a1-9c3d8e7f0a12"},
      {"scope", "openid profile email payments:read payments:write"},
      {"acr", "urn:example:acr:mfa"},
      {"amr", {"pwd", "otp"}},
      {"email", "alice.martin@example.com"},
      {"preferred_username", "alice"},
      {"tenant", "acme-europe"},
      {"roles", {"payments-operator", "reporting-viewer"}},
  };
}

struct Fixture {
  t::TestKeys keys;
  std::string jwks_path;
  std::unique_ptr<TokenVerifier> verifier;
  std::vector<warden::auth::Jwk> jwks;

  Fixture() {
    char dir[] = "/tmp/jwt_bench.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    jwks_path = std::string(dir) + "/jwks.json";
    FILE* file = std::fopen(jwks_path.c_str(), "wb");
    std::string text = keys.Jwks(/*pin=*/true);
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
    warden::auth::IssuerConfig issuer;
    issuer.issuer = kIss;
    issuer.audiences = {"warden"};
    issuer.algorithms = {"RS256", "ES256", "EdDSA", "HS256"};
    issuer.jwks_file = jwks_path;
    issuer.hmac_keys = {{"hs-1", keys.hmac_secret}};
    auto created = TokenVerifier::Create({issuer});
    if (!created.ok()) std::abort();
    verifier = *std::move(created);
    jwks = *warden::auth::ParseJwks(text);
  }
  std::string Token(const std::string& alg) const { return keys.Mint(alg, AccessTokenClaims()); }
};

Fixture& Fixed() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_OpenSslEs256Verify(benchmark::State& state) {
  Fixture& f = Fixed();
  std::string token = f.Token("ES256");
  std::string input = token.substr(0, token.rfind('.'));
  // The same signature as DER (OpenSSL's format), outside the timing.
  std::string der = t::Sign(f.keys.ec, "ES256-as-DER", input);
  EVP_PKEY* key = f.jwks[1].key.get();  // the pre-built P-256 key
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    int ok =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
      state.SkipWithError("OpenSSL did not verify");
      break;
    }
  }
  state.counters["token_bytes"] = static_cast<double>(token.size());
}
BENCHMARK(BM_OpenSslEs256Verify);

void VerifyLoop(benchmark::State& state, const std::string& alg) {
  Fixture& f = Fixed();
  std::string token = f.Token(alg);
  const absl::Time now = absl::FromUnixSeconds(kNowUnix);
  for (auto _ : state) {
    VerifiedToken out;
    AuthError error = f.verifier->Verify(token, now, &out);
    if (error != AuthError::kNone) {
      state.SkipWithError(warden::auth::AuthErrorCode(error));
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.counters["token_bytes"] = static_cast<double>(token.size());
}

void BM_VerifyEs256Uncached(benchmark::State& state) { VerifyLoop(state, "ES256"); }
void BM_VerifyRs256(benchmark::State& state) { VerifyLoop(state, "RS256"); }
void BM_VerifyEdDsa(benchmark::State& state) { VerifyLoop(state, "EdDSA"); }
void BM_VerifyHs256(benchmark::State& state) { VerifyLoop(state, "HS256"); }
BENCHMARK(BM_VerifyEs256Uncached);
BENCHMARK(BM_VerifyRs256);
BENCHMARK(BM_VerifyEdDsa);
BENCHMARK(BM_VerifyHs256);

void BM_CacheHit(benchmark::State& state) {
  Fixture& f = Fixed();
  std::string token = f.Token("ES256");
  const absl::Time now = absl::FromUnixSeconds(kNowUnix);
  VerifiedToken out;
  if (f.verifier->Verify(token, now, &out) != AuthError::kNone) std::abort();
  warden::auth::TokenCache cache;
  // A realistically full cache around the entry.
  for (int i = 0; i < 10000; ++i) {
    auto other = std::make_shared<VerifiedToken>(out);
    cache.Insert("other-token-" + std::to_string(i), other, now);
  }
  cache.Insert(token, std::make_shared<const VerifiedToken>(out), now);
  for (auto _ : state) {
    auto hit = cache.Find(token, now);
    if (hit == nullptr) {
      state.SkipWithError("cache miss");
      break;
    }
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_CacheHit)->ThreadRange(1, 2);

}  // namespace
