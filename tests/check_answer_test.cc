// Stage 7 of /v1/check alone: the answers, byte for byte. A refusal is the
// one decision renderer's deny plus the check's members.
#include <doctest/doctest.h>

#include <string>

#include "runtime/auth/check/answer.h"
#include "runtime/decision_json.h"
#include "runtime/request_decoder.h"
#include "tests/check_stage_support.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

TEST_CASE("a refusal: the decision JSON of a deny with the code's meaning, then auth_error") {
  auto engine = testing::StageEngine();
  Decision scratch;
  std::string out;
  AppendRefusalAnswer(*engine, Refusal{AuthError::kExpired, "", ""}, R"("failed_attempts")",
                      &scratch, &out);
  CHECK(out ==
        R"j({"decision":"deny","challenge":null,"rules":[],"reasons":["the token's exp has )j"
        R"j(passed (beyond the leeway)"],"obligations":[],"advice":[],"errors":[],"risk":{},)j"
        R"j("limits":[],"auth_error":{"code":"token_expired","message":"the token's exp has )j"
        R"j(passed (beyond the leeway)"},"signals":["failed_attempts"]})j");
  // The decision part is exactly what the renderer makes of the scratch.
  std::string rendered;
  AppendDecisionJson(*engine, scratch, {}, &rendered);
  rendered.pop_back();
  CHECK(out.starts_with(rendered + ",\"auth_error\""));
  // A detail replaces the meaning in the message only.
  out.clear();
  AppendRefusalAnswer(*engine, Refusal{AuthError::kLockedOut, "try later", ""}, "", &scratch, &out);
  CHECK(warden::testing::Contains(out, R"("message":"try later"},"signals":[]})"));
  CHECK(warden::testing::Contains(out, R"("reasons":["too many failed attempts)"));
}

TEST_CASE("a decision: the decision JSON, the identity and the signals") {
  auto engine = testing::StageEngine();
  Decision decision;
  decision.outcome = rt::Outcome::kPermit;
  Identity identity;
  identity.subject = "svc";
  identity.key = ApiKeyRecord{};
  identity.key->id = "0123456789abcdef";
  std::string out;
  AppendDecisionAnswer(*engine, decision, {}, identity, R"("new_device")", &out);
  CHECK(out == R"({"decision":"permit","challenge":null,"rules":[],"reasons":[],"obligations":[],)"
               R"("advice":[],"errors":[],"risk":{},"limits":[],"identity":{"subject":"svc",)"
               R"("kind":"api_key","key_id":"0123456789abcdef"},"signals":["new_device"]})");
}

TEST_CASE("a step-up names its challenge and the step_up obligation's values") {
  auto engine = testing::StageEngine();
  JsonSession json(*engine);
  Decision decision;
  REQUIRE(json.decoder().Decode(R"({"subject":{"id":"ops","roles":["operator"]},"action":"admin",)"
                                R"("resource":{"type":"doc","id":"d","owner":"ops"}})",
                                &json.frame()));
  engine->Decide(json.frame(), &decision);
  REQUIRE(decision.outcome == rt::Outcome::kStepUp);
  auto token = std::make_shared<MappedToken>();
  token->issuer = "https://id.test";
  Identity identity;
  identity.subject = "ops";
  identity.token = token;
  std::string out;
  AppendDecisionAnswer(*engine, decision, {}, identity, "", &out);
  CHECK(warden::testing::Contains(
      out, R"("identity":{"subject":"ops","kind":"token","issuer":"https://id.test","mfa":false},)"
           R"("signals":[],"step_up":{"challenge":"mfa","max_auth_age":"5m"}})"));
}

// Issue 12, finding 9: a refused body is a bare deny like every refusal,
// not an error alone.
TEST_CASE("a refused body: the refusal shape, a bare deny with the error") {
  std::string out;
  AppendBadRequestAnswer(BadRequest{"bad_request", "action is required"}, &out);
  CHECK(out == R"({"error":{"code":"bad_request","path":"","message":"action is required"},)"
               R"("decision":"deny","challenge":null,"rules":[],"reasons":[],"obligations":[],)"
               R"("advice":[],"errors":[],"risk":{},"limits":[]})");
}

}  // namespace
}  // namespace warden::auth
