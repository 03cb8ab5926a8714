// Stage 1 of /v1/check alone: the body's shape, one line per rule.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "runtime/auth/check/check_body.h"

namespace warden::auth {
namespace {

const std::vector<std::string_view> kComputed = {"time", "geo", "network", "attempts",
                                                 "unusual_hour"};

constexpr char kGood[] =
    R"({"token":"t.t.t","action":"read","resource":{"type":"doc","id":"d1"},)"
    R"("context":{"ip":"192.0.2.1","device":{"id":"laptop"},"channel":"web","n":[1, 2]}})";

TEST_CASE("a well-formed body: views of its members, the caller's context kept raw") {
  BodyParser parser;
  CheckBody body;
  REQUIRE_FALSE(ParseCheckBody(kGood, kComputed, parser, &body));
  CHECK(body.token == "t.t.t");
  CHECK(body.api_key.empty());
  CHECK(body.action_name == "read");
  CHECK(body.resource == R"({"type":"doc","id":"d1"})");
  CHECK(body.resource_type == "doc");
  CHECK(body.ip == "192.0.2.1");
  CHECK_FALSE(body.ip_net.v6);
  CHECK(body.ip_net.bytes[3] == 1);
  CHECK(body.device_id == "laptop");
  CHECK(body.context_rest == R"("channel":"web","n":[1, 2])");
}

TEST_CASE("the authorization member carries either credential") {
  BodyParser parser;
  CheckBody body;
  constexpr char kKey[] =
      R"({"authorization":"Bearer wdk_abc","action":"a","resource":{"type":"t"}})";
  REQUIRE_FALSE(ParseCheckBody(kKey, kComputed, parser, &body));
  CHECK(body.api_key == "wdk_abc");
  CHECK(body.token.empty());
  constexpr char kToken[] =
      R"({"authorization":"bearer x.y.z","action":"a","resource":{"type":"t"}})";
  REQUIRE_FALSE(ParseCheckBody(kToken, kComputed, parser, &body));
  CHECK(body.token == "x.y.z");
  CHECK_FALSE(body.ip);
  CHECK(body.context_rest.empty());  // nothing left over from the previous body
  // Whitespace may follow the object.
  CHECK_FALSE(ParseCheckBody(std::string(kKey) + " \r\n\t", kComputed, parser, &body));
}

struct Refused {
  const char* body;
  const char* code;
  const char* message;
};

// Each body is refused with its code and message.
void CheckRefused(const std::vector<Refused>& cases) {
  BodyParser parser;
  for (const Refused& c : cases) {
    const std::string text = c.body;
    CAPTURE(text);
    CheckBody body;
    const std::optional<BadRequest> bad = ParseCheckBody(c.body, kComputed, parser, &body);
    REQUIRE(bad);
    CHECK(bad->code == c.code);
    CHECK(bad->message == c.message);
  }
}

TEST_CASE("refused bodies: each rule with its code and message") {
  const std::vector<Refused> cases = {
      {"[1]", "malformed_json", "the body must be a JSON object"},
      {R"({"action":"a"} x)", "malformed_json", "the body must be a JSON object"},
      {R"({"token":1})", "bad_request", "token must be a string"},
      {R"({"authorization":"Basic x"})", "bad_request",
       "authorization must be \"Bearer <credential>\""},
      {R"({"action":1})", "bad_request", "action must be a string"},
      {R"({"resource":[]})", "bad_request", "resource must be an object"},
      {R"({"resource":{"type":1}})", "bad_request", "resource.type must be a string"},
      {R"({"context":1})", "bad_request", "context must be an object"},
      {R"({"context":{"geo":{}}})", "bad_request",
       "context.geo is computed by Warden; a check may not send it"},
      {R"({"context":{"ip":7}})", "bad_request", "context.ip must be a string"},
      {R"({"context":{"device":"d"}})", "bad_request", "context.device must be {\"id\": \"…\"}"},
      {R"({"context":{"device":{"known":true}}})", "bad_request",
       "context.device may only carry \"id\", a string (Warden computes \"known\")"},
      {R"({"subject":{}})", "bad_request",
       "a check may not send subject: it comes from the verified credential"},
      {R"({"limits":{}})", "bad_request", "limits is computed by Warden; a check may not send it"},
      {R"({"extra":1})", "bad_request",
       "unknown member extra (a check has token, api_key or authorization, action, resource and "
       "context)"},
      {R"({"resource":{"type":"t"}})", "bad_request", "action is required"},
      {R"({"action":"a","resource":{"id":"x"}})", "bad_request",
       "resource with a type is required"},
      {R"({"action":"a","resource":{"type":"t"},"context":{"ip":"10.0.0.0/8"}})", "bad_request",
       "context.ip is not an IP address"},
  };
  CheckRefused(cases);
}

// Issue 12, finding 4: with two credentials the last one used to win.
TEST_CASE("two credentials, or one twice, are ambiguous_credentials") {
  const char* const bodies[] = {
      R"({"token":"t","api_key":"k","action":"a","resource":{"type":"t"}})",
      R"({"api_key":"wdk_a","authorization":"Bearer wdk_b","action":"a","resource":{"type":"t"}})",
      R"({"authorization":"Bearer x.y.z","token":"a.b.c","action":"a","resource":{"type":"t"}})",
      R"({"api_key":"wdk_a","action":"a","api_key":"wdk_b","resource":{"type":"t"}})",
      R"({"token":"","token":"x.y.z","action":"a","resource":{"type":"t"}})",
  };
  BodyParser parser;
  for (const char* text : bodies) {
    CAPTURE(text);
    CheckBody body;
    const std::optional<BadRequest> bad = ParseCheckBody(text, kComputed, parser, &body);
    REQUIRE(bad);
    CHECK(bad->code == "ambiguous_credentials");
    CHECK(bad->message == "send one credential: token, api_key or authorization, once");
  }
}

// Issue 12, finding 10: a repeated key is refused as /v1/decide refuses it
// (last-wins used to decide on the second value).
TEST_CASE("a repeated key at any level is bad_request, named by its path") {
  const std::vector<Refused> cases = {
      {R"({"action":"a","action":"b","resource":{"type":"t"}})", "bad_request",
       "`action` is given twice"},
      {R"({"action":"a","resource":{"type":"t"},"resource":{"type":"u"}})", "bad_request",
       "`resource` is given twice"},
      {R"({"action":"a","resource":{"type":"t","type":"u"}})", "bad_request",
       "`resource.type` is given twice"},
      {R"({"action":"a","resource":{"type":"t"},"context":{"ip":"10.0.0.1","ip":"10.0.0.2"}})",
       "bad_request", "`context.ip` is given twice"},
      {R"({"action":"a","resource":{"type":"t"},"context":{"x":1,"x":2}})", "bad_request",
       "`context.x` is given twice"},
      {R"({"action":"a","resource":{"type":"t"},"context":{"device":{"id":"a","id":"b"}}})",
       "bad_request", "`context.device.id` is given twice"},
  };
  CheckRefused(cases);
}

TEST_CASE("the computed keys are the caller's list, not a fixed one") {
  BodyParser parser;
  CheckBody body;
  constexpr char kBody[] = R"({"action":"a","resource":{"type":"t"},"context":{"mood":1}})";
  CHECK_FALSE(ParseCheckBody(kBody, kComputed, parser, &body));
  const std::vector<std::string_view> more = {"mood"};
  CHECK(ParseCheckBody(kBody, more, parser, &body));
}

}  // namespace
}  // namespace warden::auth
