// Stage 2 of /v1/check alone: the credential against the authenticator,
// with real keys, tokens and API keys (no service around it).
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "runtime/auth/check/authenticate.h"
#include "tests/auth_test_support.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

using nlohmann::json;

struct Fixture {
  warden::testing::TempDir dir;
  testing::TestKeys keys;
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  AuthConfig config;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<Authenticator> auth;
  FailedAttempts attempts{AttemptPolicy{2}};

  Fixture() {
    IssuerSettings issuer;
    issuer.verify.issuer = "https://id.test";
    issuer.verify.audiences = {"api"};
    issuer.verify.algorithms = {"ES256"};
    issuer.verify.jwks_file = dir.Write("jwks.json", keys.Jwks());
    issuer.claims.attributes = {{"team", "org.team"}};
    config.issuers.push_back(issuer);
    StateStoreOptions options;
    options.create_if_missing = true;
    auto opened = StateStore::Open(dir / "state.db", options);
    REQUIRE(opened.ok());
    store = *std::move(opened);
    auto created = Authenticator::Create(config, *store);
    REQUIRE(created.ok());
    auth = *std::move(created);
    REQUIRE(auth->Load(now).ok());
  }

  // Issued `age_s` seconds ago for an hour.
  std::string Token(const std::string& sub, int64_t age_s = 0) const {
    json claims = testing::Claims("https://id.test", "api", sub, absl::ToUnixSeconds(now) - age_s);
    claims["org"] = {{"team", "blue"}};
    return keys.Mint("ES256", claims);
  }

  CheckBody Body(std::string_view token, std::string_view api_key = {}) const {
    CheckBody body;
    body.token = token;
    body.api_key = api_key;
    body.action_name = "read";
    body.resource_type = "doc";
    return body;
  }

  // Rotates the key set as an operator does: a new file renamed over the old.
  void ReplaceJwks(const std::vector<json>& keys_json) {
    const std::string fresh = dir.Write("jwks.json.new", testing::JwksJson(keys_json));
    std::filesystem::rename(fresh, dir / "jwks.json");
    SourceReports reports;
    auth->Poll(now, reports);
  }

  std::optional<Refusal> Run(const CheckBody& body, Identity* identity,
                             std::string_view ip_key = "ip:192.0.2.1") {
    return auth->Authenticate(body, ip_key, attempts, now, identity);
  }
};

TEST_CASE("a verified token is the identity, its claims mapped to the subject") {
  Fixture f;
  const std::string token = f.Token("ann");
  Identity identity;
  REQUIRE_FALSE(f.Run(f.Body(token), &identity));
  CHECK(identity.subject == "ann");
  REQUIRE(identity.token != nullptr);
  CHECK_FALSE(identity.key);
  CHECK(warden::testing::Contains(identity.token->subject_json, R"("team":"blue")"));
  // Cached: the same mapped token again.
  Identity again;
  REQUIRE_FALSE(f.Run(f.Body(token), &again));
  CHECK(again.token == identity.token);
}

TEST_CASE("refusals carry the code; a forged token names no subject") {
  Fixture f;
  Identity identity;
  CHECK(f.Run(f.Body({}), &identity)->error == AuthError::kNoCredential);
  const std::string good = f.Token("ann");
  const std::optional<Refusal> forged =
      f.Run(f.Body(good.substr(0, good.size() - 4) + "AAAA"), &identity);
  REQUIRE(forged);
  CHECK(forged->error == AuthError::kBadSignature);
  CHECK(forged->failed_subject.empty());  // anyone can write "ann" in a forged token
  const std::optional<Refusal> expired = f.Run(f.Body(f.Token("bo", 7200)), &identity);
  REQUIRE(expired);
  CHECK(expired->error == AuthError::kExpired);
}

TEST_CASE("a token refused after its signature verified counts for its subject") {
  Fixture f;
  Identity identity;
  const std::optional<Refusal> expired = f.Run(f.Body(f.Token("bo", 7200)), &identity);
  REQUIRE(expired);
  CHECK(expired->error == AuthError::kExpired);
  CHECK(expired->failed_subject == "s:bo");
  json claims = testing::Claims("https://id.test", "other-api", "cy", absl::ToUnixSeconds(f.now));
  const std::optional<Refusal> audience = f.Run(f.Body(f.keys.Mint("ES256", claims)), &identity);
  REQUIRE(audience);
  CHECK(audience->error == AuthError::kWrongAudience);
  CHECK(audience->failed_subject == "s:cy");
  // The same claims with a signature that does not verify name nobody.
  const std::string expired_token = f.Token("bo", 7200);
  const std::optional<Refusal> forged =
      f.Run(f.Body(expired_token.substr(0, expired_token.size() - 4) + "AAAA"), &identity);
  REQUIRE(forged);
  CHECK(forged->error == AuthError::kBadSignature);
  CHECK(forged->failed_subject.empty());
}

TEST_CASE("a key set change refuses the cached tokens of a withdrawn key at once") {
  Fixture f;
  const std::string token = f.Token("ann");
  Identity first;
  REQUIRE_FALSE(f.Run(f.Body(token), &first));
  // Adding a key keeps the cached verification (the same object comes back).
  const testing::PKey next_ec = testing::GenerateEcP256Key();
  f.ReplaceJwks({testing::PublicJwk(f.keys.ec, "ec-1"), testing::PublicJwk(next_ec, "ec-2")});
  Identity kept;
  REQUIRE_FALSE(f.Run(f.Body(token), &kept));
  CHECK(kept.token == first.token);
  // A different key under the same kid withdraws the old one.
  f.ReplaceJwks({testing::PublicJwk(next_ec, "ec-1")});
  Identity identity;
  const std::optional<Refusal> changed = f.Run(f.Body(token), &identity);
  REQUIRE(changed);
  CHECK(changed->error == AuthError::kBadSignature);
  // Back again, then dropped: refused too.
  f.ReplaceJwks({testing::PublicJwk(f.keys.ec, "ec-1"), testing::PublicJwk(next_ec, "ec-2")});
  REQUIRE_FALSE(f.Run(f.Body(token), &identity));
  f.ReplaceJwks({testing::PublicJwk(next_ec, "ec-2")});
  const std::optional<Refusal> dropped = f.Run(f.Body(token), &identity);
  REQUIRE(dropped);
  CHECK(dropped->error == AuthError::kUnknownKid);
}

TEST_CASE("a locked-out address is refused without verifying") {
  Fixture f;
  f.attempts.RecordFailure("ip:192.0.2.1", f.now);
  f.attempts.RecordFailure("ip:192.0.2.1", f.now);
  Identity identity;
  const std::optional<Refusal> locked = f.Run(f.Body(f.Token("ann")), &identity);
  REQUIRE(locked);
  CHECK(locked->error == AuthError::kLockedOut);
  CHECK(identity.subject.empty());
  CHECK_FALSE(f.Run(f.Body(f.Token("ann")), &identity, "ip:198.51.100.1"));
}

TEST_CASE("API keys: verified after a poll, scoped, a wrong secret names the key") {
  Fixture f;
  ApiKeySpec spec;
  spec.subject = "svc";
  spec.actions = {"read"};
  auto key = GenerateApiKey(spec, f.now);
  REQUIRE(key.ok());
  Identity identity;
  CHECK(f.Run(f.Body({}, key->key), &identity)->error == AuthError::kApiKeyUnknown);
  {
    auto other = StateStore::Open(f.dir / "state.db");  // another process's write
    REQUIRE(other.ok());
    REQUIRE((*other)->PutApiKey(key->record).ok());
  }
  SourceReports reports;
  f.auth->Poll(f.now, reports);
  CHECK(reports.RefusedBySource()[static_cast<size_t>(UpdateSource::kState)] == 0);
  REQUIRE_FALSE(f.Run(f.Body({}, key->key), &identity));
  CHECK(identity.subject == "svc");
  REQUIRE(identity.key);
  CHECK(identity.key->id == key->record.id);
  CheckBody out_of_scope = f.Body({}, key->key);
  out_of_scope.action_name = "delete";
  CHECK(f.Run(out_of_scope, &identity)->error == AuthError::kApiKeyScope);
  std::string wrong = key->key;
  char& c = wrong[wrong.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  const std::optional<Refusal> refused = f.Run(f.Body({}, wrong), &identity);
  REQUIRE(refused);
  CHECK(refused->error == AuthError::kApiKeyUnknown);
  CHECK(refused->failed_subject == "k:" + key->record.id);
}

}  // namespace
}  // namespace warden::auth
