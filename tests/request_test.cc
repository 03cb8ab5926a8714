#include "cli/reference/request.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/driver.h"

namespace warden {
namespace {

const char* kPolicies = R"(package acme
schema {
  subject { department: string  level: int  manager: string? }
  resource payment { amount: decimal  tags: set<string>  due: timestamp  window: duration
                     network: ip  status: enum { draft, pending }  lines: set<{ sku: string  qty: int }> }
  actions { read, approve }
}
data blocked: set<ip>
data threshold: decimal
limit calls: 10 per 1m by subject.id
role r
jit grant { grants role r  max 1h  approvals 1 of role r }
)";

struct Fixture {
  std::unique_ptr<Compilation> compilation;
  const CheckedProgram& program() const { return *compilation->program; }
  Fixture() : compilation(CompileSources({{"acme.warden", kPolicies}})) {
    REQUIRE(compilation->program != nullptr);
  }
  const std::optional<EvalValue>& Attr(const DecodedRequest& r, const std::string& path) const {
    for (const Attribute& a : program().attributes) {
      if (a.path == path) return r.request.attributes[a.id];
    }
    FAIL("no attribute ", path);
    static std::optional<EvalValue> none;
    return none;
  }
};

TEST_CASE("decodes every type exactly") {
  Fixture f;
  RequestOptions options;
  options.now_millis = 42;
  DecodedRequest r = DecodeRequestJson(f.program(), R"({
    "subject": {"id": "ann", "department": "ops", "level": -3, "roles": ["r", "r"]},
    "action": "approve",
    "resource": {"type": "payment", "id": "p", "amount": 123456789012.3456, "tags": ["b", "a", "b"],
                 "due": "2026-01-01T01:00:00+01:00", "window": "1h30m", "network": "10.0.0.0/8",
                 "status": "pending", "lines": [{"sku": "x", "qty": 2}]},
    "context": {"ip": "2001:db8::1"},
    "jit": ["grant"], "limits": {"calls": 7}})",
                                       options);
  REQUIRE(r.ok);
  CHECK(r.errors.empty());
  CHECK(r.request.action == f.program().FindAction("approve"));
  CHECK(r.request.resource_type == f.program().FindResourceType("payment"));
  CHECK(f.Attr(r, "resource.payment.amount")->i == 1234567890123456);
  CHECK(FormatValue(*f.Attr(r, "resource.payment.tags")) == R"(["a", "b"])");
  CHECK(f.Attr(r, "resource.payment.due")->i == 1767225600000);
  CHECK(f.Attr(r, "resource.payment.window")->i == 5400000);
  CHECK(FormatValue(*f.Attr(r, "resource.payment.network")) == "10.0.0.0/8");
  CHECK(f.Attr(r, "resource.payment.status")->i == 1);
  CHECK(FormatValue(*f.Attr(r, "resource.payment.lines")) == R"([{sku: "x", qty: 2}])");
  CHECK(f.Attr(r, "subject.level")->i == -3);
  // The fields every resource has are filled for `on *` policies too.
  CHECK(f.Attr(r, "resource.id")->s == "p");
  CHECK(f.Attr(r, "resource.type")->s == "payment");
  CHECK(r.request.jit_grants == std::vector<int>{0});
  CHECK(r.request.limit_counts[0] == 7);
}

TEST_CASE("built-in defaults are the fail-safe ones") {
  Fixture f;
  RequestOptions options;
  options.now_millis = 1000;
  DecodedRequest r = DecodeRequestJson(
      f.program(), R"({"action": "read", "resource": {"type": "payment"}})", options);
  REQUIRE(r.ok);
  CHECK(f.Attr(r, "subject.auth.mfa")->b == false);
  CHECK(f.Attr(r, "subject.auth.methods")->elements.empty());
  CHECK(f.Attr(r, "subject.auth.acr")->s == "");
  CHECK(f.Attr(r, "subject.auth.auth_age")->i == INT64_MAX);
  CHECK(f.Attr(r, "subject.auth.token_age")->i == INT64_MAX);
  CHECK(f.Attr(r, "subject.auth.kind")->s == "none");
  CHECK(f.Attr(r, "context.time")->i == 1000);
  CHECK(f.Attr(r, "context.attempts.failed_ip")->i == 0);
  CHECK(!f.Attr(r, "subject.id").has_value());
  CHECK(!f.Attr(r, "resource.id").has_value());
  CHECK(!f.Attr(r, "subject.tenant").has_value());
  CHECK(!f.Attr(r, "context.ip").has_value());
  CHECK(!f.Attr(r, "subject.department").has_value());  // declared attributes have no default
  CHECK(r.request.limit_counts[0] == 0);
}

TEST_CASE("lenient and strict decoding") {
  Fixture f;
  const char* text = R"({"subject": {"level": "high", "nickname": "x"}, "action": "read",
                         "resource": {"type": "payment"}, "extra": 1, "jit": ["nope"]})";
  DecodedRequest lenient = DecodeRequestJson(f.program(), text);
  REQUIRE(lenient.ok);
  CHECK(!f.Attr(lenient, "subject.level").has_value());  // wrong type: absent
  REQUIRE(lenient.errors.size() == 2);
  CHECK(lenient.errors[0].code == "wrong_type");
  CHECK(lenient.errors[0].path == "subject.level");
  CHECK(lenient.errors[1].code == "unknown_jit_profile");
  RequestOptions strict;
  strict.strict = true;
  DecodedRequest rejected = DecodeRequestJson(f.program(), text, strict);
  CHECK(!rejected.ok);
  std::string codes;
  for (const RequestError& e : rejected.errors) codes += e.code + "@" + e.path + " ";
  CHECK(codes ==
        "wrong_type@subject.level unknown_attribute@subject.nickname unknown_attribute@extra "
        "unknown_jit_profile@jit[0] ");
}

TEST_CASE("a wrongly typed built-in takes its default") {
  Fixture f;
  DecodedRequest r = DecodeRequestJson(
      f.program(),
      R"({"subject": {"auth": {"mfa": "yes"}}, "action": "read", "resource": {"type": "payment"}})");
  REQUIRE(r.ok);
  CHECK(f.Attr(r, "subject.auth.mfa")->b == false);
  CHECK(r.errors.size() == 1);
}

TEST_CASE("fatal request errors") {
  Fixture f;
  struct Case {
    const char* text;
    const char* path;
    const char* message_part;
  };
  const Case cases[] = {
      {"{", "", "malformed JSON"},
      {"[]", "", "must be a JSON object"},
      {R"({"resource": {"type": "payment"}})", "action", "names no `action`"},
      {R"({"action": "read"})", "resource", "has no `resource`"},
      {R"({"action": "read", "resource": {"id": "x"}})", "resource.type", "needs a `type`"},
      {R"({"action": 3, "resource": {"type": "payment"}})", "action", "must be a string"},
      {R"({"action": "read", "action": "read", "resource": {"type": "payment"}})", "",
       "`action` is given twice"},
      {R"({"action": "read", "resource": {"type": "payment", "amount": 1.23456}})", "",
       "more than 4 fractional"},
      {R"({"action": "read", "resource": {"type": "payment", "amount": 1e3}})", "",
       "not a decimal"},
      {R"({"action": "read", "resource": {"type": "payment"}, "limits": {"calls": -1}})",
       "limits.calls", "non-negative"},
      {R"({"action": "read", "resource": {"type": "payment", "amount": 99999999999999999999}})", "",
       "out of range"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    DecodedRequest r = DecodeRequestJson(f.program(), c.text);
    CHECK(!r.ok);
    REQUIRE(!r.errors.empty());
    CHECK(r.errors[0].code == "bad_request");
    CHECK(r.errors[0].path == c.path);
    CHECK_MESSAGE(r.errors[0].message.find(c.message_part) != std::string::npos,
                  r.errors[0].message);
  }
}

TEST_CASE("size and depth limits") {
  Fixture f;
  RequestOptions options;
  options.max_bytes = 64;
  std::string big = R"({"action": "read", "resource": {"type": "payment", "id": ")" +
                    std::string(100, 'x') + "\"}}";
  DecodedRequest r = DecodeRequestJson(f.program(), big, options);
  CHECK(!r.ok);
  CHECK(r.errors[0].message.find("the limit is 64") != std::string::npos);
  options = {};
  options.max_depth = 4;
  std::string deep =
      R"({"action": "read", "resource": {"type": "payment"}, "context": {"a": [[[[1]]]]}})";
  r = DecodeRequestJson(f.program(), deep, options);
  CHECK(!r.ok);
  CHECK(r.errors[0].message.find("deeper than 4") != std::string::npos);
  // Very deep input fails cleanly rather than exhausting the stack.
  std::string hostile(100000, '[');
  r = DecodeRequestJson(f.program(), hostile);
  CHECK(!r.ok);
  options = {};
  options.max_set_elements = 2;
  r = DecodeRequestJson(
      f.program(),
      R"({"action": "read", "resource": {"type": "payment", "tags": ["a", "b", "c"]}})", options);
  CHECK(!r.ok);
}

TEST_CASE("undeclared actions and resource types") {
  Fixture f;
  DecodedRequest r = DecodeRequestJson(
      f.program(), R"({"action": "purge", "resource": {"type": "vm", "id": "v", "cpu": 4}})");
  REQUIRE(r.ok);
  CHECK(r.request.action == -1);
  CHECK(r.request.action_name == "purge");
  CHECK(r.request.resource_type == -1);
  CHECK(r.request.resource_type_name == "vm");
  CHECK(f.Attr(r, "resource.id")->s == "v");
}

TEST_CASE("limit counts: null means the counter is unavailable") {
  Fixture f;
  DecodedRequest r = DecodeRequestJson(
      f.program(),
      R"({"action": "read", "resource": {"type": "payment"}, "limits": {"calls": null}})");
  REQUIRE(r.ok);
  CHECK(!r.request.limit_counts[0].has_value());
}

TEST_CASE("data values") {
  Fixture f;
  std::vector<std::optional<EvalValue>> data;
  std::vector<RequestError> errors;
  CHECK(DecodeDataJson(f.program(), R"({"blocked": ["10.0.0.0/8"], "threshold": 5})", {}, &data,
                       &errors));
  CHECK(data[1]->i == 50000);
  errors.clear();
  CHECK(!DecodeDataJson(f.program(), R"({"blocked": []})", {}, &data, &errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "missing_data");
  errors.clear();
  CHECK(
      !DecodeDataJson(f.program(), R"({"blocked": ["nope"], "threshold": 1})", {}, &data, &errors));
  CHECK(errors[0].code == "wrong_type");
}

TEST_CASE("test requests: data defaults and a fixed time") {
  auto compilation = CompileSources({{"t.warden", std::string(kPolicies) + R"(
test "t" { given { action: "read", resource: { type: "payment", id: "p" } } expect not_applicable })"}});
  REQUIRE(compilation->program != nullptr);
  const CheckedProgram& program = *compilation->program;
  RequestOptions options;
  options.now_millis = kDefaultTestTimeMillis;
  DecodedRequest r = DecodeTestRequest(program, program.tests[0].source->given, nullptr, options);
  REQUIRE(r.ok);
  CHECK(r.request.data[0]->elements.empty());  // set: empty
  CHECK(!r.request.data[1].has_value());       // decimal: must be given when read
  for (const Attribute& a : program.attributes) {
    if (a.path == "context.time") CHECK(r.request.attributes[a.id]->i == kDefaultTestTimeMillis);
  }
}

TEST_CASE("values order and compare") {
  CHECK(CompareValues(EvalValue::String("B"), EvalValue::String("a")) < 0);  // byte-wise
  CHECK(CompareValues(EvalValue::String("\xC3\xA9"), EvalValue::String("z")) > 0);
  CHECK(EvalValue::Set({EvalValue::Int(2), EvalValue::Int(1), EvalValue::Int(2)}) ==
        EvalValue::Set({EvalValue::Int(1), EvalValue::Int(2)}));
  CHECK(FormatValue(EvalValue::Decimal(12345)) == "1.2345");
  CHECK(FormatValue(EvalValue::Duration(90 * 60 * 1000)) == "1h30m");
  CHECK(FormatValue(EvalValue::Timestamp(0)) == "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace warden
