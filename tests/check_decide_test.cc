// Stages 5 and 6 of /v1/check alone: decide (the rate limits read into the
// frame) and record (a permit takes a token; refusals count as failures).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/auth/check/decide.h"
#include "runtime/auth/check/record.h"
#include "tests/check_stage_support.h"

namespace warden::auth {
namespace {

constexpr char kRead[] = R"({"subject":{"id":"ann","roles":["user"]},"action":"read",)"
                         R"("resource":{"type":"doc","id":"d","owner":"ann"}})";

TEST_CASE("decide reads the limits; recording a permit spends them") {
  auto engine = testing::StageEngine();
  JsonSession json(*engine);
  AuthConfig config;
  auto registry = SignalRegistry::Create(config);
  REQUIRE(registry.ok());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  std::vector<std::string> keys;
  Decision decision;
  REQUIRE(DecideCheck(*engine, json, (*registry)->limiter(), kRead, now, &keys, &decision));
  CHECK(decision.outcome == rt::Outcome::kPermit);
  REQUIRE(keys.size() == 1);
  CHECK_FALSE(keys[0].empty());
  NetworkSnapshot network;
  CheckFacts facts;
  facts.now = now;
  facts.subject = "ann";
  facts.subject_key = "s:ann";
  facts.network = &network;
  std::string signals;
  RecordDecision(**registry, facts, DecidedFacts{decision, engine->program(), json.frame(), keys},
                 &signals);
  CHECK(signals.empty());
  // The bucket of one is empty now: the next read is limited, and says so.
  REQUIRE(DecideCheck(*engine, json, (*registry)->limiter(), kRead, now, &keys, &decision));
  CHECK(decision.outcome == rt::Outcome::kDeny);
  RecordDecision(**registry, facts, DecidedFacts{decision, engine->program(), json.frame(), keys},
                 &signals);
  CHECK(signals == R"("rate_limited:reads")");
}

TEST_CASE("a request that does not decode is a bare deny") {
  auto engine = testing::StageEngine();
  JsonSession json(*engine);
  RateLimiter limiter;
  std::vector<std::string> keys;
  Decision decision;
  decision.outcome = rt::Outcome::kPermit;
  CHECK_FALSE(DecideCheck(*engine, json, limiter, R"({"action":"fly"})", absl::UnixEpoch(), &keys,
                          &decision));
  CHECK(decision.outcome == rt::Outcome::kDeny);
  CHECK_FALSE(json.errors().empty());
}

TEST_CASE("a refused credential is a failed attempt; Warden's own faults and lockouts are not") {
  FailedAttempts attempts;
  const absl::Time now = absl::UnixEpoch();
  RecordRefusal(attempts, Refusal{AuthError::kBadSignature, "", ""}, "ip:192.0.2.1", now);
  RecordRefusal(attempts, Refusal{AuthError::kExpired, "", "s:ann"}, "", now);
  CHECK(attempts.Get("ip:192.0.2.1", now).failures == 1);
  CHECK(attempts.Get("s:ann", now).failures == 1);
  for (AuthError error :
       {AuthError::kGeoIpUnavailable, AuthError::kStateUnavailable, AuthError::kLockedOut})
    RecordRefusal(attempts, Refusal{error, "", "s:ann"}, "ip:192.0.2.1", now);
  CHECK(attempts.Get("ip:192.0.2.1", now).failures == 1);
  CHECK(attempts.Get("s:ann", now).failures == 1);
}

}  // namespace
}  // namespace warden::auth
