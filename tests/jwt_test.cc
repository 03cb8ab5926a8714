// JWT verification against JWKS (runtime/auth/jwt_verifier.h), the JWKS
// parser (jwk.h), strict base64url (base64url.h) and the verification cache
// (token_cache.h). Keys are generated per run (tests/auth_test_support.h).
#include "runtime/auth/jwt_verifier.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "runtime/auth/base64url.h"
#include "runtime/auth/jwk.h"
#include "runtime/auth/token_cache.h"
#include "tests/auth_test_support.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

using nlohmann::json;
using testing::Base64Url;
using testing::Claims;
using testing::Header;
using testing::MintRaw;
using testing::MintToken;
using testing::PublicJwk;
using testing::TestKeys;

constexpr int64_t kNowUnix = 1'800'000'000;
const absl::Time kNow = absl::FromUnixSeconds(kNowUnix);
constexpr char kIss[] = "https://idp.example.com";
constexpr char kAud[] = "warden";

// Generating RSA keys is slow: one set for the whole file.
const TestKeys& Keys() {
  static const TestKeys* keys = new TestKeys();
  return *keys;
}

IssuerConfig AllAlgs(const std::string& jwks_file) {
  IssuerConfig config;
  config.issuer = kIss;
  config.audiences = {kAud, "other-api"};
  config.algorithms = {"RS256", "PS256", "ES256", "EdDSA", "HS256"};
  config.jwks_file = jwks_file;
  config.hmac_keys = {{"hs-1", Keys().hmac_secret}};
  return config;
}

// A verifier for all algorithms on Keys(), with its JWKS in a temp dir.
struct Fixture {
  warden::testing::TempDir dir;
  std::string jwks_path = dir.Write("jwks.json", Keys().Jwks());
  std::unique_ptr<TokenVerifier> verifier;

  explicit Fixture(std::vector<IssuerConfig> issuers = {}) {
    if (issuers.empty()) issuers.push_back(AllAlgs(jwks_path));
    auto created = TokenVerifier::Create(std::move(issuers));
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    verifier = *std::move(created);
  }
  AuthError Verify(const std::string& token, VerifiedToken* out = nullptr,
                   absl::Time now = kNow) const {
    std::string detail;
    AuthError error = verifier->Verify(token, now, out, &detail);
    if (error != AuthError::kNone) {
      MESSAGE(std::string(AuthErrorCode(error)), ": ", detail);
      CHECK(!detail.empty());
    }
    return error;
  }
};

json Good() { return Claims(kIss, kAud, "alice", kNowUnix); }

std::string Mint(const std::string& alg, const json& payload) { return Keys().Mint(alg, payload); }

// ------------------------------------------------------------------ base64url

TEST_CASE("base64url: round trips and strictness") {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    std::string encoded = Base64UrlEncode(text);
    CHECK(encoded == Base64Url(text));
    auto decoded = Base64UrlDecode(encoded);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == text);
  }
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK_FALSE(Base64UrlDecode("Zg==").has_value());    // padding
  CHECK_FALSE(Base64UrlDecode("Zm9v+g").has_value());  // '+' is base64, not base64url
  CHECK_FALSE(Base64UrlDecode("Zm9v/g").has_value());
  CHECK_FALSE(Base64UrlDecode("Zm 9v").has_value());
  CHECK_FALSE(Base64UrlDecode("Z").has_value());   // 6 bits
  CHECK_FALSE(Base64UrlDecode("Zh").has_value());  // "f" is Zg; Zh has non-zero spare bits
  CHECK(Base64UrlDecode("Zm8").value() == "fo");
  CHECK_FALSE(Base64UrlDecode("Zm9").has_value());  // "fo" is Zm8
  CHECK(Base64UrlDecodedSize(4) == 3);
  CHECK(Base64UrlDecodedSize(3) == 2);
  CHECK(Base64UrlDecodedSize(2) == 1);
}

// ------------------------------------------------------------------ positives

TEST_CASE("every algorithm verifies, and the token's fields come back") {
  Fixture f;
  for (std::string alg : {"RS256", "PS256", "ES256", "EdDSA", "HS256"}) {
    CAPTURE(alg);
    json claims = Good();
    claims["amr"] = {"pwd", "otp"};
    claims["acr"] = "urn:mfa";
    claims["auth_time"] = kNowUnix - 120;
    claims["roles"] = {"admin"};
    VerifiedToken token;
    REQUIRE(f.Verify(Mint(alg, claims), &token) == AuthError::kNone);
    CHECK(token.issuer == kIss);
    CHECK(token.subject == "alice");
    CHECK(token.alg == alg);
    CHECK(token.kid == TestKeys::KidFor(alg));
    CHECK(token.jti == claims["jti"]);
    CHECK(token.issued_at == kNow - absl::Seconds(60));
    CHECK(token.expires_at == kNow - absl::Seconds(60) + absl::Hours(1));
    REQUIRE(token.not_before.has_value());
    CHECK(*token.not_before == kNow - absl::Seconds(60));
    REQUIRE(token.auth_time.has_value());
    CHECK(*token.auth_time == kNow - absl::Seconds(120));
    CHECK(token.amr == std::vector<std::string>{"pwd", "otp"});
    CHECK(token.acr == "urn:mfa");
    CHECK(token.claims["roles"][0] == "admin");
  }
}

TEST_CASE("aud arrays, fractional dates, typ variants and keys without kid") {
  Fixture f;
  json claims = Good();
  claims["aud"] = {"someone-else", "other-api"};
  claims["exp"] = kNowUnix + 100.5;
  claims["iat"] = kNowUnix - 0.25;
  VerifiedToken token;
  CHECK(f.Verify(Mint("ES256", claims), &token) == AuthError::kNone);
  CHECK(token.expires_at == kNow + absl::Milliseconds(100500));
  for (std::string typ : {"JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"}) {
    json header = Header("EdDSA", "ed-1");
    header["typ"] = typ;
    CHECK(f.Verify(MintToken(header, Good(), Keys().ed)) == AuthError::kNone);
  }
  // Without kid: the issuer's only key of the alg's type.
  json header = {{"alg", "ES256"}};
  CHECK(f.Verify(MintToken(header, Good(), Keys().ec)) == AuthError::kNone);
  CHECK(f.Verify(MintRaw(R"({"alg":"HS256"})", Good().dump(), "HS256", nullptr,
                         Keys().hmac_secret)) == AuthError::kNone);
  // Unknown header members (and embedded keys, never used) are ignored.
  header = Header("ES256", "ec-1");
  header["jwk"] = PublicJwk(testing::GenerateEcP256Key(), "evil");
  CHECK(f.Verify(MintToken(header, Good(), Keys().ec)) == AuthError::kNone);
}

TEST_CASE("a key of the attacker's, embedded in the header, is never used") {
  Fixture f;
  auto evil = testing::GenerateEcP256Key();
  json header = Header("ES256", "ec-1");
  header["jwk"] = PublicJwk(evil, "ec-1");
  CHECK(f.Verify(MintToken(header, Good(), evil)) == AuthError::kBadSignature);
}

// ------------------------------------------------------------------ negatives

TEST_CASE("malformed tokens") {
  Fixture f;
  std::string good = Mint("ES256", Good());
  std::string header = Base64Url(Header("ES256", "ec-1").dump());
  std::string payload = Base64Url(Good().dump());
  CHECK(f.Verify("") == AuthError::kMalformed);
  CHECK(f.Verify("abc") == AuthError::kMalformed);
  CHECK(f.Verify(header + "." + payload) == AuthError::kMalformed);
  CHECK(f.Verify(good + ".") == AuthError::kMalformed);
  CHECK(f.Verify(good + ".xyz") == AuthError::kMalformed);
  CHECK(f.Verify("..") == AuthError::kMalformed);
  auto with = [&](std::string_view h, std::string_view p) {
    return MintRaw(h, p, "ES256", Keys().ec);
  };
  CHECK(f.Verify(with("not json", Good().dump())) == AuthError::kMalformed);
  CHECK(f.Verify(with("[1,2]", Good().dump())) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"alg":"ES256","kid":"ec-1"})", "[]")) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"alg":"ES256","kid":"ec-1"})", "\"str\"")) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"alg":"ES256","kid":"ec-1"} x)", Good().dump())) ==
        AuthError::kMalformed);
  // Duplicate keys: two readers could disagree on which one counts.
  CHECK(f.Verify(with(R"({"alg":"ES256","alg":"none","kid":"ec-1"})", Good().dump())) ==
        AuthError::kMalformed);
  std::string dup_payload = Good().dump();
  dup_payload.insert(1, R"("sub":"mallory",)");
  CHECK(f.Verify(with(R"({"alg":"ES256","kid":"ec-1"})", dup_payload)) == AuthError::kMalformed);
  json nested = Good();
  json deep = 1;
  for (int i = 0; i < 20; ++i) deep = json::array({deep});
  nested["deep"] = deep;
  CHECK(f.Verify(Mint("ES256", nested)) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"alg":256,"kid":"ec-1"})", Good().dump())) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"kid":"ec-1"})", Good().dump())) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"alg":"ES256","kid":7})", Good().dump())) == AuthError::kMalformed);
  CHECK(f.Verify(with(R"({"alg":"ES256","kid":"ec-1","typ":"JOSE+JSON"})", Good().dump())) ==
        AuthError::kMalformed);
  // Invalid UTF-8 inside a JSON string.
  CHECK(f.Verify(with("{\"alg\":\"ES256\",\"kid\":\"ec-1\",\"x\":\"\xff\"}", Good().dump())) ==
        AuthError::kMalformed);
}

// A header extension Warden does not implement is its own reason, not a
// malformed token (issue 12, finding 12).
TEST_CASE("crit, enc and zip headers are token_unsupported_header") {
  Fixture f;
  auto with = [&](std::string_view h) { return MintRaw(h, Good().dump(), "ES256", Keys().ec); };
  for (std::string_view header : {R"({"alg":"ES256","kid":"ec-1","crit":["exp"],"exp":1})",
                                  R"({"alg":"ES256","kid":"ec-1","enc":"A128GCM"})",
                                  R"({"alg":"ES256","kid":"ec-1","zip":"DEF"})"}) {
    CAPTURE(header);
    CHECK(f.Verify(with(header)) == AuthError::kUnsupportedHeader);
  }
  CHECK(std::string_view(AuthErrorCode(AuthError::kUnsupportedHeader)) ==
        "token_unsupported_header");
}

TEST_CASE("bad base64url in any part") {
  Fixture f;
  std::string good = Mint("ES256", Good());
  size_t first = good.find('.'), second = good.find('.', first + 1);
  std::string header = good.substr(0, first), payload = good.substr(first + 1, second - first - 1),
              sig = good.substr(second + 1);
  CHECK(f.Verify(header + "=." + payload + "." + sig) == AuthError::kBadBase64);
  CHECK(f.Verify(header + "." + payload + "==." + sig) == AuthError::kBadBase64);
  CHECK(f.Verify(header + "." + payload + "." + sig + "=") == AuthError::kBadBase64);
  std::string plus = payload;
  plus[3] = '+';
  CHECK(f.Verify(header + "." + plus + "." + sig) == AuthError::kBadBase64);
  CHECK(f.Verify(header + "." + payload + "." + sig.substr(0, sig.size() - 1) + "*") ==
        AuthError::kBadBase64);
  CHECK(f.Verify("e30." + payload + "." + sig + "x") != AuthError::kNone);
}

TEST_CASE("wrong signatures") {
  Fixture f;
  for (std::string alg : {"RS256", "PS256", "ES256", "EdDSA", "HS256"}) {
    CAPTURE(alg);
    std::string token = Mint(alg, Good());
    // Flip one bit of the signature's first byte (the first character's top
    // bits, so the base64url stays canonical).
    size_t sig_at = token.rfind('.') + 1;
    std::string flipped = token;
    flipped[sig_at] = flipped[sig_at] == 'A' ? 'B' : 'A';
    CHECK(f.Verify(flipped) == AuthError::kBadSignature);
    // The same header and signature on another payload.
    json other = Good();
    other["sub"] = "mallory";
    std::string forged = Mint(alg, other);
    std::string spliced = forged.substr(0, forged.rfind('.')) + token.substr(token.rfind('.'));
    CHECK(f.Verify(spliced) == AuthError::kBadSignature);
    // An empty signature.
    CHECK(f.Verify(token.substr(0, sig_at)) == AuthError::kBadSignature);
  }
  // Signed by another key of the right type under the trusted kid.
  auto rogue = testing::GenerateRsaKey();
  CHECK(f.Verify(MintToken(Header("RS256", "rsa-1"), Good(), rogue)) == AuthError::kBadSignature);
  CHECK(f.Verify(testing::MintHs256(Header("HS256", "hs-1"), Good(),
                                    "another-secret-another-secret-another")) ==
        AuthError::kBadSignature);
  // RS256 and PS256 are not interchangeable.
  std::string input = Base64Url(Header("PS256", "rsa-1").dump()) + "." + Base64Url(Good().dump());
  CHECK(f.Verify(input + "." + Base64Url(testing::Sign(Keys().rsa, "RS256", input))) ==
        AuthError::kBadSignature);
}

TEST_CASE("ES256 signatures of the wrong length, and DER instead of R||S") {
  Fixture f;
  std::string input = Base64Url(Header("ES256", "ec-1").dump()) + "." + Base64Url(Good().dump());
  std::string raw = testing::Sign(Keys().ec, "ES256", input);
  REQUIRE(raw.size() == 64);
  CHECK(f.Verify(input + "." + Base64Url(raw)) == AuthError::kNone);
  CHECK(f.Verify(input + "." + Base64Url(raw.substr(0, 63))) == AuthError::kBadSignature);
  CHECK(f.Verify(input + "." + Base64Url(raw + '\0')) == AuthError::kBadSignature);
  // OpenSSL's own DER encoding is not a JOSE signature.
  std::string der = testing::Sign(Keys().ec, "ES384-not-jose", input);
  CHECK(f.Verify(input + "." + Base64Url(der)) == AuthError::kBadSignature);
  // High-bit R and S both exercise the DER conversion's sign padding.
  CHECK(f.Verify(input + "." + Base64Url(std::string(64, '\xff'))) == AuthError::kBadSignature);
  CHECK(f.Verify(input + "." + Base64Url(std::string(64, '\0'))) == AuthError::kBadSignature);
}

TEST_CASE("alg none in any case is refused") {
  Fixture f;
  for (std::string alg : {"none", "NONE", "None", "nOnE"}) {
    std::string token =
        Base64Url(json{{"alg", alg}, {"typ", "JWT"}}.dump()) + "." + Base64Url(Good().dump()) + ".";
    CHECK(f.Verify(token) == AuthError::kAlgNone);
    CHECK(f.Verify(token + Base64Url("sig")) == AuthError::kAlgNone);
  }
}

TEST_CASE("algorithm confusion: HS256 signed with the RSA public key") {
  std::string pem = testing::PublicKeyPem(Keys().rsa);
  std::string der = testing::PublicKeyDer(Keys().rsa);
  REQUIRE(pem.size() > 32);
  auto hs = [&](const std::string& kid, const std::string& secret) {
    return testing::MintHs256(Header("HS256", kid), Good(), secret);
  };
  SUBCASE("an issuer without HS256") {
    Fixture setup;
    IssuerConfig config = AllAlgs(setup.jwks_path);
    config.algorithms = {"RS256"};
    config.hmac_keys.clear();
    Fixture f({config});
    for (const auto& secret : {pem, der}) {
      CHECK(f.Verify(hs("rsa-1", secret)) == AuthError::kAlgNotAllowed);
      CHECK(f.Verify(hs("", secret)) == AuthError::kAlgNotAllowed);
    }
  }
  SUBCASE("an issuer with both RS256 and HS256") {
    Fixture f;
    for (const auto& secret : {pem, der}) {
      CHECK(f.Verify(hs("rsa-1", secret)) == AuthError::kKeyAlgMismatch);
      CHECK(f.Verify(hs("hs-1", secret)) == AuthError::kBadSignature);
      CHECK(f.Verify(hs("", secret)) == AuthError::kBadSignature);
    }
    // The other way round: an asymmetric alg naming the HMAC key.
    CHECK(f.Verify(MintToken(Header("RS256", "hs-1"), Good(), Keys().rsa)) ==
          AuthError::kKeyAlgMismatch);
    // Key types never cross.
    CHECK(f.Verify(MintToken(Header("ES256", "rsa-1"), Good(), Keys().ec)) ==
          AuthError::kKeyAlgMismatch);
    CHECK(f.Verify(MintToken(Header("EdDSA", "ec-1"), Good(), Keys().ed)) ==
          AuthError::kKeyAlgMismatch);
    CHECK(f.Verify(MintToken(Header("RS256", "ed-1"), Good(), Keys().rsa)) ==
          AuthError::kKeyAlgMismatch);
  }
}

TEST_CASE("a key's JWK alg pins it") {
  warden::testing::TempDir dir;
  std::string jwks = testing::JwksJson(
      {PublicJwk(Keys().rsa, "rsa-1", "PS256"), PublicJwk(Keys().ec, "ec-1", "ES256")});
  IssuerConfig config = AllAlgs(dir.Write("jwks.json", jwks));
  Fixture f({config});
  CHECK(f.Verify(Mint("PS256", Good())) == AuthError::kNone);
  CHECK(f.Verify(Mint("RS256", Good())) == AuthError::kKeyAlgMismatch);
  CHECK(f.Verify(Mint("ES256", Good())) == AuthError::kNone);
  // Without kid, a pinned key is not a candidate for another alg.
  CHECK(f.Verify(MintToken({{"alg", "RS256"}}, Good(), Keys().rsa)) == AuthError::kUnknownKid);
  CHECK(f.Verify(MintToken({{"alg", "PS256"}}, Good(), Keys().rsa)) == AuthError::kNone);
}

TEST_CASE("algorithms the issuer does not accept") {
  Fixture setup;
  IssuerConfig config = AllAlgs(setup.jwks_path);
  config.algorithms = {"ES256"};
  config.hmac_keys.clear();
  Fixture f({config});
  CHECK(f.Verify(Mint("ES256", Good())) == AuthError::kNone);
  for (std::string alg : {"RS256", "PS256", "EdDSA"}) {
    CHECK(f.Verify(Mint(alg, Good())) == AuthError::kAlgNotAllowed);
  }
  for (std::string alg : {"ES384", "RS512", "HS512", "es256", ""}) {
    CHECK(f.Verify(MintRaw(Header(alg, "ec-1").dump(), Good().dump(), "ES256", Keys().ec)) ==
          AuthError::kAlgNotAllowed);
  }
}

TEST_CASE("unknown kid") {
  Fixture f;
  CHECK(f.Verify(MintToken(Header("ES256", "ec-2"), Good(), Keys().ec)) == AuthError::kUnknownKid);
  CHECK(f.Verify(testing::MintHs256(Header("HS256", "hs-2"), Good(), Keys().hmac_secret)) ==
        AuthError::kUnknownKid);
  // No kid and two candidate keys: ambiguous.
  warden::testing::TempDir dir;
  std::string jwks = testing::JwksJson(
      {PublicJwk(Keys().ec, "ec-1"), PublicJwk(testing::GenerateEcP256Key(), "ec-2")});
  Fixture two({AllAlgs(dir.Write("jwks.json", jwks))});
  CHECK(two.Verify(MintToken({{"alg", "ES256"}}, Good(), Keys().ec)) == AuthError::kUnknownKid);
  CHECK(two.Verify(MintToken(Header("ES256", "ec-1"), Good(), Keys().ec)) == AuthError::kNone);
}

TEST_CASE("time: expired, not yet valid, leeway, lifetime") {
  Fixture f;
  auto at = [&](json claims) { return f.Verify(Mint("ES256", claims)); };
  json c = Good();
  c["exp"] = kNowUnix - 29;  // within the 30 s leeway
  CHECK(at(c) == AuthError::kNone);
  c["exp"] = kNowUnix - 30;
  CHECK(at(c) == AuthError::kExpired);
  c["exp"] = kNowUnix - 86000;
  c["iat"] = kNowUnix - 86300;
  c["nbf"] = kNowUnix - 86300;
  CHECK(at(c) == AuthError::kExpired);
  c = Good();
  c["nbf"] = kNowUnix + 30;  // at the edge: allowed
  CHECK(at(c) == AuthError::kNone);
  c["nbf"] = kNowUnix + 31;
  CHECK(at(c) == AuthError::kNotYetValid);
  c = Good();
  c["iat"] = kNowUnix + 120;
  CHECK(at(c) == AuthError::kNotYetValid);
  c = Good();
  c["auth_time"] = kNowUnix + 120;
  CHECK(at(c) == AuthError::kNotYetValid);
  c = Good();
  c["exp"] = kNowUnix - 60 + 24 * 3600;  // exactly max_lifetime
  CHECK(at(c) == AuthError::kNone);
  c["exp"] = kNowUnix - 60 + 24 * 3600 + 1;
  CHECK(at(c) == AuthError::kLifetimeTooLong);
  c["exp"] = kNowUnix + 365LL * 24 * 3600;
  CHECK(at(c) == AuthError::kLifetimeTooLong);
  // The same token at different times.
  std::string token = Mint("EdDSA", Good());
  CHECK(f.Verify(token, nullptr, kNow + absl::Minutes(59)) == AuthError::kNone);
  CHECK(f.Verify(token, nullptr, kNow + absl::Minutes(59) + absl::Seconds(30)) ==
        AuthError::kExpired);
  CHECK(f.Verify(token, nullptr, kNow - absl::Seconds(95)) == AuthError::kNotYetValid);
}

TEST_CASE("issuer and audience") {
  Fixture f;
  json c = Good();
  c["iss"] = "https://evil.example.com";
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kUnknownIssuer);
  c["iss"] = std::string(kIss) + "/";
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kUnknownIssuer);
  c.erase("iss");
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kMissingClaim);
  c = Good();
  c["iss"] = 5;
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kMissingClaim);
  c = Good();
  c["aud"] = "not-us";
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kWrongAudience);
  c["aud"] = json::array({"a", "b"});
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kWrongAudience);
  c["aud"] = json::array();
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kWrongAudience);
  c["aud"] = json::array({kAud, 3});
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kMissingClaim);
  c["aud"] = 3;
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kMissingClaim);
  c.erase("aud");
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kMissingClaim);
}

TEST_CASE("missing or mistyped claims") {
  Fixture setup;
  IssuerConfig config = AllAlgs(setup.jwks_path);
  config.required_claims = {"tenant"};
  Fixture f({config});
  json c = Good();
  c["tenant"] = "acme";
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kNone);
  auto without = [&](const char* name) {
    json d = c;
    d.erase(name);
    return f.Verify(Mint("ES256", d));
  };
  CHECK(without("exp") == AuthError::kMissingClaim);
  CHECK(without("iat") == AuthError::kMissingClaim);  // needed for the lifetime bound
  CHECK(without("sub") == AuthError::kMissingClaim);
  CHECK(without("tenant") == AuthError::kMissingClaim);
  CHECK(without("nbf") == AuthError::kNone);
  CHECK(without("jti") == AuthError::kNone);
  auto with = [&](const char* name, json value) {
    json d = c;
    d[name] = std::move(value);
    return f.Verify(Mint("ES256", d));
  };
  CHECK(with("tenant", nullptr) == AuthError::kMissingClaim);
  CHECK(with("sub", "") == AuthError::kMissingClaim);
  CHECK(with("sub", 42) == AuthError::kMissingClaim);
  CHECK(with("exp", "1800003540") == AuthError::kMissingClaim);
  CHECK(with("exp", true) == AuthError::kMissingClaim);
  CHECK(with("exp", 1e300) == AuthError::kMissingClaim);
  CHECK(with("exp", -1) == AuthError::kMissingClaim);
  CHECK(with("exp", 18446744073709551615ULL) == AuthError::kMissingClaim);
  CHECK(with("exp", INT64_MIN) == AuthError::kMissingClaim);
  CHECK(with("iat", 253402300800LL) == AuthError::kMissingClaim);
  CHECK(with("nbf", "yesterday") == AuthError::kMissingClaim);
  CHECK(with("auth_time", json::array()) == AuthError::kMissingClaim);
  CHECK(with("jti", 5) == AuthError::kMissingClaim);
  CHECK(with("amr", "pwd") == AuthError::kMissingClaim);
  CHECK(with("amr", json::array({"pwd", 1})) == AuthError::kMissingClaim);
  CHECK(with("acr", 2) == AuthError::kMissingClaim);
  // Numbers beyond a double's range are not JSON nlohmann accepts.
  std::string huge = c.dump();
  huge.replace(huge.find("\"exp\":") + 6, 10, "1e999");
  CHECK(f.Verify(MintRaw(Header("ES256", "ec-1").dump(), huge, "ES256", Keys().ec)) ==
        AuthError::kMalformed);

  // An unbounded lifetime makes iat optional.
  config.max_lifetime = absl::InfiniteDuration();
  Fixture unbounded({config});
  json d = c;
  d.erase("iat");
  CHECK(unbounded.Verify(Mint("ES256", d)) == AuthError::kNone);
}

TEST_CASE("size limits") {
  Fixture f;
  json header = Header("ES256", "ec-1");
  header["x"] = std::string(2100, 'a');
  CHECK(f.Verify(MintToken(header, Good(), Keys().ec)) == AuthError::kTooLarge);
  json c = Good();
  c["blob"] = std::string(9000, 'b');
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kTooLarge);
  CHECK(f.Verify(std::string(16385, 'a')) == AuthError::kTooLarge);
  c["blob"] = std::string(7000, 'b');  // under the payload limit
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kNone);

  Fixture setup;
  VerifierLimits limits;
  limits.max_token_bytes = 200;
  auto small = TokenVerifier::Create({AllAlgs(setup.jwks_path)}, limits);
  REQUIRE(small.ok());
  CHECK((*small)->Verify(Mint("ES256", Good()), kNow, nullptr) == AuthError::kTooLarge);
}

TEST_CASE("a refusal names only the verified subject in `out`; detail is optional") {
  Fixture f;
  VerifiedToken token;
  token.subject = "untouched";
  json c = Good();
  c["exp"] = kNowUnix - 3600;
  c["iat"] = kNowUnix - 7200;
  const std::string expired = Mint("ES256", c);
  // A forged signature: nothing is written (its `sub` is the forger's).
  CHECK(f.verifier->Verify(expired.substr(0, expired.size() - 4) + "AAAA", kNow, &token) ==
        AuthError::kBadSignature);
  CHECK(token.subject == "untouched");
  // A verified signature, refused claims: the issuer and subject only.
  token.jti = "stale";
  CHECK(f.verifier->Verify(expired, kNow, &token) == AuthError::kExpired);
  CHECK(token.subject == c["sub"].get<std::string>());
  CHECK(token.issuer == kIss);
  CHECK(token.jti.empty());
  CHECK(token.claims.is_null());
  CHECK(f.verifier->Verify(Mint("ES256", Good()), kNow, nullptr, nullptr) == AuthError::kNone);
}

TEST_CASE("UnverifiedSubject and UnverifiedIssuer peek without verifying") {
  json c = Good();
  std::string forged =
      MintRaw(Header("ES256", "ec-1").dump(), c.dump(), "ES256", testing::GenerateEcP256Key());
  CHECK(TokenVerifier::UnverifiedSubject(forged) == std::optional<std::string>("alice"));
  CHECK(TokenVerifier::UnverifiedIssuer(forged) == std::optional<std::string>(kIss));
  CHECK_FALSE(TokenVerifier::UnverifiedSubject("garbage").has_value());
  CHECK_FALSE(TokenVerifier::UnverifiedSubject("a.%%%.c").has_value());
  c.erase("sub");
  CHECK_FALSE(TokenVerifier::UnverifiedSubject(Mint("ES256", c)).has_value());
}

// ------------------------------------------------------------------ configuration

TEST_CASE("Create refuses unsafe or incomplete configurations") {
  Fixture setup;
  auto fails = [&](auto mutate, const std::string& needle) {
    IssuerConfig config = AllAlgs(setup.jwks_path);
    mutate(config);
    auto created = TokenVerifier::Create({config});
    CAPTURE(needle);
    REQUIRE_FALSE(created.ok());
    CHECK(warden::testing::Contains(std::string(created.status().message()), needle));
  };
  fails([](IssuerConfig& c) { c.algorithms.push_back("none"); }, "none");
  fails([](IssuerConfig& c) { c.algorithms = {"NONE"}; }, "none");
  fails([](IssuerConfig& c) { c.algorithms = {"RS384"}; }, "not supported");
  fails([](IssuerConfig& c) { c.algorithms.clear(); }, "no algorithms");
  fails([](IssuerConfig& c) { c.audiences.clear(); }, "no audiences");
  fails([](IssuerConfig& c) { c.hmac_keys[0].secret = "short"; }, "32 bytes");
  fails([](IssuerConfig& c) { c.hmac_keys.clear(); }, "HS256 needs hmac_keys");
  fails([](IssuerConfig& c) { c.hmac_keys.push_back(c.hmac_keys[0]); }, "two HMAC keys");
  fails([](IssuerConfig& c) { c.leeway = absl::Minutes(6); }, "leeway");
  fails([](IssuerConfig& c) { c.leeway = -absl::Seconds(1); }, "leeway");
  fails([](IssuerConfig& c) { c.max_lifetime = absl::ZeroDuration(); }, "max_lifetime");
  fails([](IssuerConfig& c) { c.jwks_file.clear(); }, "jwks_file");
  fails([](IssuerConfig& c) { c.jwks_file += ".missing"; }, "cannot open");
  fails([](IssuerConfig& c) { c.issuer.clear(); }, "empty name");
  CHECK_FALSE(TokenVerifier::Create({}).ok());
  CHECK_FALSE(TokenVerifier::Create({AllAlgs(setup.jwks_path), AllAlgs(setup.jwks_path)}).ok());

  // HS256 alone needs no JWKS.
  IssuerConfig hs_only = AllAlgs("");
  hs_only.algorithms = {"HS256"};
  Fixture f({hs_only});
  CHECK(f.Verify(Mint("HS256", Good())) == AuthError::kNone);
  CHECK(f.Verify(Mint("ES256", Good())) == AuthError::kAlgNotAllowed);
}

TEST_CASE("several issuers, one JWKS file each or shared") {
  Fixture setup;
  IssuerConfig a = AllAlgs(setup.jwks_path);
  IssuerConfig b = AllAlgs(setup.jwks_path);
  b.issuer = "https://other.example.com";
  b.audiences = {"b-api"};
  b.algorithms = {"EdDSA"};
  b.hmac_keys.clear();
  Fixture f({a, b});
  json c = Claims(b.issuer, "b-api", "bob", kNowUnix);
  CHECK(f.Verify(Mint("EdDSA", c)) == AuthError::kNone);
  CHECK(f.Verify(Mint("ES256", c)) == AuthError::kAlgNotAllowed);
  c["aud"] = kAud;  // a's audience is not b's
  CHECK(f.Verify(Mint("EdDSA", c)) == AuthError::kWrongAudience);
  CHECK(f.verifier->KeyCount(kIss) == 3);
  CHECK(f.verifier->KeyCount(b.issuer) == 3);
}

// ------------------------------------------------------------------ JWKS

TEST_CASE("JWKS: the supported keys load") {
  auto keys = ParseJwks(Keys().Jwks(/*pin=*/true));
  REQUIRE_MESSAGE(keys.ok(), keys.status().ToString());
  REQUIRE(keys->size() == 3);
  CHECK((*keys)[0].type == JwkType::kRsa);
  CHECK((*keys)[0].bits == 2048);
  CHECK((*keys)[0].alg == "RS256");
  CHECK((*keys)[1].type == JwkType::kEcP256);
  CHECK((*keys)[2].type == JwkType::kEd25519);
  CHECK((*keys)[2].kid == "ed-1");
  // A 4096-bit key and an RSA modulus with a leading zero octet.
  auto big = testing::GenerateRsaKey(4096);
  json jwk = PublicJwk(big, "big");
  std::string n = *Base64UrlDecode(jwk["n"].get<std::string>());
  jwk["n"] = Base64Url(std::string(1, '\0') + n);
  keys = ParseJwks(testing::JwksJson({jwk}));
  REQUIRE_MESSAGE(keys.ok(), keys.status().ToString());
  CHECK((*keys)[0].bits == 4096);
}

TEST_CASE("JWKS errors name the key") {
  auto error = [](const std::string& document) {
    auto keys = ParseJwks(document);
    REQUIRE_FALSE(keys.ok());
    return std::string(keys.status().message());
  };
  auto one = [&](json jwk) { return error(testing::JwksJson({PublicJwk(Keys().ed, "ok"), jwk})); };
  using warden::testing::Contains;
  json ec = PublicJwk(Keys().ec, "ec-x");

  json bad_curve = ec;
  bad_curve["crv"] = "P-384";
  CHECK(Contains(one(bad_curve), "key 1 (kid \"ec-x\")"));
  CHECK(Contains(one(bad_curve), "P-384"));
  json secp256k1 = ec;
  secp256k1["crv"] = "secp256k1";
  CHECK(Contains(one(secp256k1), "not supported"));
  json off_curve = ec;
  std::string y = *Base64UrlDecode(ec["y"].get<std::string>());
  y[31] = static_cast<char>(y[31] ^ 1);
  off_curve["y"] = Base64Url(y);
  CHECK(Contains(one(off_curve), "not on P-256"));
  json short_x = ec;
  short_x["x"] = Base64Url(std::string(31, '\1'));
  CHECK(Contains(one(short_x), "32 bytes"));

  json short_rsa = PublicJwk(testing::GenerateRsaKey(1024), "weak");
  CHECK(Contains(one(short_rsa), "1024 bits"));
  CHECK(Contains(one(short_rsa), "kid \"weak\""));
  json rsa = PublicJwk(Keys().rsa, "r");
  json even_e = rsa;
  even_e["e"] = Base64Url(std::string("\x01\x00\x00", 3));
  CHECK(Contains(one(even_e), "exponent"));
  json padded = rsa;
  padded["n"] = rsa["n"].get<std::string>() + "=";
  CHECK(Contains(one(padded), "base64url"));

  json okp = PublicJwk(Keys().ed, "o");
  json ed448 = okp;
  ed448["crv"] = "Ed448";
  CHECK(Contains(one(ed448), "Ed448"));
  json x25519 = okp;
  x25519["crv"] = "X25519";
  CHECK(Contains(one(x25519), "X25519"));

  json priv = rsa;
  priv["d"] = Base64Url("secret");
  CHECK(Contains(one(priv), "private key material"));
  CHECK(Contains(one(json{{"kty", "oct"}, {"k", Base64Url("0123456789abcdef0123456789abcdef")}}),
                 "\"oct\""));
  CHECK(Contains(one(json{{"kty", "oct"}, {"kid", "sym"}}), "oct"));
  json enc = rsa;
  enc["use"] = "enc";
  CHECK(Contains(one(enc), "\"use\""));
  json ops = rsa;
  ops["key_ops"] = {"encrypt"};
  CHECK(Contains(one(ops), "key_ops"));
  json wrong_alg = ec;
  wrong_alg["alg"] = "RS256";
  CHECK(Contains(one(wrong_alg), "\"alg\""));
  json no_kty = ec;
  no_kty.erase("kty");
  CHECK(Contains(one(no_kty), "kty"));
  CHECK(Contains(one(json{{"kty", "RSA"}, {"kid", "n-less"}, {"e", "AQAB"}}), "\"n\""));
  CHECK(Contains(one(json("not an object")), "key 1"));

  CHECK(Contains(error("garbage"), "not valid JSON"));
  CHECK(Contains(error(""), "not valid JSON"));
  CHECK(Contains(error("[]"), "not a JSON object"));
  CHECK(Contains(error("{}"), "\"keys\""));
  CHECK(Contains(error(R"({"keys":{}})"), "\"keys\""));
  CHECK(Contains(error(R"({"keys":[]})"), "empty"));
  CHECK(Contains(error(R"({"keys":[],"keys":[1]})"), "duplicate"));
  CHECK(Contains(
      error(testing::JwksJson({PublicJwk(Keys().ec, "same"), PublicJwk(Keys().ed, "same")})),
      "duplicates the kid"));
  std::vector<json> many(65, PublicJwk(Keys().ed, ""));
  CHECK(Contains(error(testing::JwksJson(many)), "65 keys"));
  CHECK(Contains(error(std::string((1 << 20) + 1, ' ')), "bytes"));
}

// ------------------------------------------------------------------ reloading

TEST_CASE("ReloadKeys picks up a rotated file and keeps the old keys on a bad one") {
  Fixture f;
  auto rotated_ec = testing::GenerateEcP256Key();
  auto new_token = MintToken(Header("ES256", "ec-2"), Good(), rotated_ec);
  auto old_token = Mint("ES256", Good());
  CHECK(f.verifier->ReloadKeys().ok());  // nothing changed
  CHECK(f.Verify(new_token) == AuthError::kUnknownKid);

  // A broken file: an error, and the old keys stay.
  warden::testing::WriteFile(f.jwks_path, "{\"keys\": [");
  absl::Status status = f.verifier->ReloadKeys();
  CHECK_FALSE(status.ok());
  CHECK(warden::testing::Contains(std::string(status.message()), "jwks.json"));
  CHECK(f.Verify(old_token) == AuthError::kNone);
  CHECK_FALSE(f.verifier->ReloadKeys().ok());  // still broken: still reported
  CHECK(f.Verify(old_token) == AuthError::kNone);

  // Rotation: ec-1 retired, ec-2 introduced (a different size, so the
  // stamp changes even within one mtime tick).
  warden::testing::WriteFile(f.jwks_path, testing::JwksJson({PublicJwk(rotated_ec, "ec-2"),
                                                             PublicJwk(Keys().ed, "ed-1")}));
  CHECK(f.verifier->ReloadKeys().ok());
  CHECK(f.Verify(new_token) == AuthError::kNone);
  CHECK(f.Verify(old_token) == AuthError::kUnknownKid);
  CHECK(f.verifier->KeyCount(kIss) == 2);

  // A removed file is an error too; the keys stay.
  std::filesystem::remove(f.jwks_path);
  CHECK_FALSE(f.verifier->ReloadKeys().ok());
  CHECK(f.Verify(new_token) == AuthError::kNone);
}

// Issue 12, item 6: what the verification cache relies on.
TEST_CASE("a verified token's key expires when a reload withdraws it, not when it keeps it") {
  Fixture f;
  VerifiedToken ec, ed;
  REQUIRE(f.verifier->Verify(Mint("ES256", Good()), kNow, &ec) == AuthError::kNone);
  REQUIRE(f.verifier->Verify(Mint("EdDSA", Good()), kNow, &ed) == AuthError::kNone);
  CHECK(ec.by_jwks_key);
  CHECK_FALSE(ec.KeyWithdrawn());
  // ed-1 kept as it was, ec-1 given other material, rsa-1 dropped.
  auto other_ec = testing::GenerateEcP256Key();
  const std::string fresh = f.jwks_path + ".new";
  warden::testing::WriteFile(
      fresh, testing::JwksJson({PublicJwk(other_ec, "ec-1"), PublicJwk(Keys().ed, "ed-1")}));
  std::filesystem::rename(fresh, f.jwks_path);
  REQUIRE(f.verifier->ReloadKeys().ok());
  CHECK(ec.KeyWithdrawn());
  CHECK_FALSE(ed.KeyWithdrawn());
}

TEST_CASE("concurrency: threads verify while the keys reload") {
  Fixture f;
  std::vector<std::string> tokens = {Mint("ES256", Good()), Mint("EdDSA", Good()),
                                     Mint("HS256", Good()), Mint("RS256", Good())};
  std::string a = Keys().Jwks(false), b = Keys().Jwks(true);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      TokenCache cache(64);
      size_t i = static_cast<size_t>(t);
      while (!stop.load()) {
        const std::string& token = tokens[i++ % tokens.size()];
        VerifiedToken out;
        if (f.verifier->Verify(token, kNow, &out) != AuthError::kNone) ++failures;
        cache.Insert(token, std::make_shared<VerifiedToken>(out), kNow);
        if (cache.Find(token, kNow) == nullptr) ++failures;
        ++verified;
      }
    });
  }
  int errors = 0;
  for (int round = 0; round < 60; ++round) {
    // Valid variants of the same keys, and a broken file now and then.
    std::string text = round % 3 == 2 ? std::string("{broken") : (round % 2 ? a : b);
    text.append(static_cast<size_t>(round % 7), ' ');  // change the size too
    warden::testing::WriteFile(f.jwks_path, text);
    if (!f.verifier->ReloadKeys().ok()) ++errors;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  CHECK(verified.load() > 0);
  CHECK(errors > 0);
  MESSAGE("verified ", verified.load(), " tokens during 60 reloads");
}

// ------------------------------------------------------------------ cache

std::shared_ptr<const VerifiedToken> Verified(absl::Time expires_at, const std::string& sub = "s") {
  auto token = std::make_shared<VerifiedToken>();
  token->subject = sub;
  token->expires_at = expires_at;
  return token;
}

TEST_CASE("cache: hits, misses, never at or after exp") {
  TokenCache cache(100);
  absl::Time exp = kNow + absl::Minutes(5);
  cache.Insert("token-a", Verified(exp, "a"), kNow);
  CHECK(cache.size() == 1);
  auto hit = cache.Find("token-a", kNow);
  REQUIRE(hit != nullptr);
  CHECK(hit->subject == "a");
  CHECK(cache.Find("token-b", kNow) == nullptr);
  CHECK(cache.Find("token-a", exp - absl::Nanoseconds(1)) != nullptr);
  CHECK(cache.Find("token-a", exp) == nullptr);  // strict: no leeway
  CHECK(cache.size() == 0);                      // and dropped
  CHECK(cache.Find("token-a", kNow) == nullptr);
  // Already expired: not stored.
  cache.Insert("token-c", Verified(kNow), kNow);
  cache.Insert("token-d", nullptr, kNow);
  CHECK(cache.size() == 0);
  // Replacing keeps one entry.
  cache.Insert("token-e", Verified(exp, "e1"), kNow);
  cache.Insert("token-e", Verified(exp, "e2"), kNow);
  CHECK(cache.size() == 1);
  CHECK(cache.Find("token-e", kNow)->subject == "e2");
  cache.Clear();
  CHECK(cache.size() == 0);
  CHECK(cache.Find("token-e", kNow) == nullptr);
}

TEST_CASE("cache: bounded, oldest out first") {
  TokenCache cache(32);  // 2 per shard
  absl::Time exp = kNow + absl::Hours(1);
  for (int i = 0; i < 5000; ++i) {
    cache.Insert("token-" + std::to_string(i), Verified(exp), kNow);
    CHECK(cache.size() <= 32);
  }
  CHECK(cache.size() == 32);
  CHECK(cache.Find("token-4999", kNow) != nullptr);
  CHECK(cache.Find("token-0", kNow) == nullptr);
  // Re-inserting one token over and over must not grow the bookkeeping.
  TokenCache one(16);
  for (int i = 0; i < 10000; ++i) one.Insert("same", Verified(exp), kNow);
  CHECK(one.size() == 1);
  TokenCache off(0);
  off.Insert("token", Verified(exp), kNow);
  CHECK(off.size() == 0);
  CHECK(off.Find("token", kNow) == nullptr);
}

TEST_CASE("cache: verified tokens round trip through the verifier") {
  Fixture f;
  TokenCache cache;
  std::string token = Mint("ES256", Good());
  VerifiedToken out;
  REQUIRE(f.Verify(token, &out) == AuthError::kNone);
  cache.Insert(token, std::make_shared<const VerifiedToken>(out), kNow);
  auto hit = cache.Find(token, kNow + absl::Minutes(58));
  REQUIRE(hit != nullptr);
  CHECK(hit->subject == "alice");
  // exp is kNow + 59 min; the verifier's leeway does not apply to the cache.
  CHECK(cache.Find(token, kNow + absl::Minutes(59)) == nullptr);
  CHECK(cache.Find(token + "x", kNow) == nullptr);
}

}  // namespace
}  // namespace warden::auth
