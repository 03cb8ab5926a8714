// Stage 4 of /v1/check alone: the decision request built from the body, the
// identity and the signals, byte for byte.
#include <doctest/doctest.h>

#include <string>

#include "runtime/auth/check/decision_request.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

constexpr char kBody[] =
    R"({"api_key":"wdk_x","action":"read","resource":{"type":"doc","id":"d1"},)"
    R"("context":{"ip":"192.0.2.1","channel":"web"}})";

TEST_CASE("an API key's subject, the caller's members, time, then every signal") {
  AuthConfig config;
  auto registry = SignalRegistry::Create(config);
  REQUIRE(registry.ok());
  BodyParser parser;
  CheckBody check;
  REQUIRE_FALSE(ParseCheckBody(kBody, (*registry)->computed_keys(), parser, &check));
  const absl::Time now = absl::FromUnixMillis(1'800'000'000'123);
  Identity identity;
  identity.subject = "svc";
  identity.key = ApiKeyRecord{};
  identity.key->id = "0123456789abcdef";
  identity.key->subject = "svc";
  identity.key->roles = {"user"};
  identity.key->tenant = "acme";
  identity.key->created = now - absl::Seconds(90);
  NetworkSnapshot network;
  CheckFacts facts;
  facts.now = now;
  facts.subject = "svc";
  facts.subject_key = "s:svc";
  facts.ip = check.ip;
  facts.ip_net = check.ip_net;
  facts.ip_key = "ip:192.0.2.1";
  facts.network = &network;
  std::string request, signals;
  WriteDecisionRequest(check, identity, facts, **registry, &request, &signals);
  CHECK(request ==
        R"({"subject":{"id":"svc","roles":["user"],"tenant":"acme","auth":{"mfa":false,)"
        R"("methods":[],"acr":"","kind":"api_key","key_id":"0123456789abcdef",)"
        R"("token_age":"90000ms"}},"action":"read","resource":{"type":"doc","id":"d1"},)"
        R"("context":{"channel":"web","time":"2027-01-15T08:00:00.123Z","ip":"192.0.2.1",)"
        R"("network":{"anonymous":false,"hosting":false,"tor":false,"listed":false},)"
        R"("geo":{"impossible_travel":false,"travel_speed_kmh":0},"device":{"known":false},)"
        R"("attempts":{"failed_subject":0,"failed_ip":0,"locked":false},"unusual_hour":false,)"
        R"("known_network":false}})");
  CHECK(signals.empty());
}

TEST_CASE("a token's subject: its mapped claims and its ages") {
  auto token = std::make_shared<MappedToken>();
  token->subject_json = R"({"id":"ann","roles":[],"auth":{"mfa":true,"methods":[],"acr":"",)"
                        R"("kind":"token")";
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  token->auth_time = now - absl::Minutes(2);
  token->issued_at = now - absl::Minutes(1);
  Identity identity;
  identity.subject = "ann";
  identity.token = token;
  std::string out;
  WriteSubject(identity, now, &out);
  CHECK(out == R"({"id":"ann","roles":[],"auth":{"mfa":true,"methods":[],"acr":"",)"
               R"("kind":"token","auth_age":"120000ms","token_age":"60000ms"}})");
}

}  // namespace
}  // namespace warden::auth
