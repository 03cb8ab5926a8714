#include "cli/reference/reference_evaluator.h"

#include <doctest/doctest.h>

#include <string>

#include "cli/reference/test_runner.h"
#include "compiler/driver.h"

namespace warden {
namespace {

const char* kSchema = R"(package acme
schema {
  subject { level: int  groups: set<string>  note: string? }
  resource thing { n: int  m: int  x: decimal  s: string  d: duration  t: timestamp  addr: ip
                   kind: enum { small, large }  tags: set<string>  nets: set<ip> }
  actions { read, write, act }
}
role base
role mid extends base
role top extends mid
role other
separate top, other
jit lift { grants role other  max 1h  approvals 1 of role base }
data words: set<string>
limit calls: 5 per 1m by subject.id
risk r {
  +10 if subject.level > 3
  +20 if 1 / subject.level > 0
  -5 if 1 / subject.level < 0
}
)";

struct Compiled {
  std::unique_ptr<Compilation> compilation;
  const CheckedProgram& program() const { return *compilation->program; }
};

Compiled Compile(const std::string& body) {
  Compiled c{CompileSources({{"acme.warden", std::string(kSchema) + body}})};
  std::string diagnostics;
  for (const Diagnostic& d : c.compilation->diagnostics.Sorted())
    diagnostics += RenderText(d, c.compilation->sources);
  INFO(diagnostics);
  REQUIRE(c.compilation->program != nullptr);
  return c;
}

// Evaluates `expr` (as the condition of a rule on `thing`) over `request`:
// "true", "false" or the error code.
std::string Eval(const std::string& expr, const std::string& request) {
  Compiled c = Compile("policy p on thing { rule x: permit act if " + expr + " }");
  RequestOptions options;
  options.now_millis = kDefaultTestTimeMillis;
  DecodedRequest decoded = DecodeRequestJson(c.program(), request, options);
  INFO(request);
  REQUIRE(decoded.ok);
  const CExpr* condition = c.program().policies[0].rules[0].condition.get();
  REQUIRE(condition != nullptr);
  ReferenceError error;
  std::optional<EvalValue> value = EvaluateExpr(c.program(), decoded.request, *condition, &error);
  if (!value) return rt::EvalErrorCode(error.code);
  return value->b ? "true" : "false";
}

std::string Req(const std::string& resource, const std::string& rest = "") {
  return R"({"action": "act", "resource": {"type": "thing", "id": "i")" +
         (resource.empty() ? "" : ", " + resource) + "}" + (rest.empty() ? "" : ", " + rest) + "}";
}

TEST_CASE("expressions") {
  struct Case {
    const char* expr;
    std::string request;
    const char* expected;
  };
  const Case cases[] = {
      // arithmetic and comparisons
      {"resource.n + resource.m == 5", Req(R"("n": 2, "m": 3)"), "true"},
      {"resource.n - resource.m < 0", Req(R"("n": 2, "m": 3)"), "true"},
      {"resource.n * resource.m == 6", Req(R"("n": 2, "m": 3)"), "true"},
      {"resource.n / resource.m == -2", Req(R"("n": -7, "m": 3)"), "true"},
      {"resource.n % resource.m == -1", Req(R"("n": -7, "m": 3)"), "true"},
      {"resource.n % resource.m == 0", Req(R"("n": -9223372036854775807, "m": -1)"), "true"},
      {"-resource.n == 3", Req(R"("n": -3)"), "true"},
      {"resource.x * resource.n == 1.5", Req(R"("x": 0.5, "n": 3)"), "true"},
      {"resource.x >= 2", Req(R"("x": 2)"), "true"},
      {"resource.d * 3 == 90m", Req(R"("d": "30m")"), "true"},
      {"resource.t - 1d < timestamp(\"2026-01-01T00:00:00Z\")",
       Req(R"("t": "2026-01-01T12:00:00Z")"), "true"},
      {"resource.s < \"b\"", Req(R"("s": "B")"), "true"},
      {"resource.kind > small", Req(R"("kind": "large")"), "true"},
      // errors
      {"resource.n + 1 > 0", Req(R"("n": 9223372036854775807)"), "overflow"},
      {"resource.n - 2 < 0", Req(R"("n": -9223372036854775807)"), "overflow"},
      {"resource.n * resource.m > 0", Req(R"("n": 4294967296, "m": 4294967296)"), "overflow"},
      {"-resource.n > 0", Req(R"("n": -9223372036854775807)"), "true"},
      {"resource.n / resource.m > 0", Req(R"("n": -9223372036854775807, "m": 0)"),
       "division_by_zero"},
      {"resource.n % resource.m > 0", Req(R"("n": 1, "m": 0)"), "division_by_zero"},
      {"resource.x * resource.n > 0.0", Req(R"("x": 922337203685477.0, "n": 2)"), "overflow"},
      {"resource.d + resource.d > 0s", Req(R"("d": "106751991167d")"), "overflow"},
      {"resource.t + resource.d > resource.t",
       Req(R"("t": "2026-01-01T00:00:00Z", "d": "106751991167d")"), "overflow"},
      {"resource.n > 0", Req(""), "missing_attribute"},
      {"subject.level > 0", Req(R"("n": 1)"), "missing_attribute"},
      {"resource.n > 0 or resource.m > 0", Req(R"("n": 1)"), "true"},    // short circuit
      {"resource.n > 0 and resource.m > 0", Req(R"("n": 0)"), "false"},  // short circuit
      {"resource.n > 0 and resource.m > 0", Req(R"("n": 1)"), "missing_attribute"},
      {"data.words.is_empty()", Req(""), "missing_attribute"},
      {"limits.calls.exceeded", Req("", R"("limits": {"calls": null})"), "unavailable"},
      {"limits.calls.exceeded", Req("", R"("limits": {"calls": 5})"), "true"},
      {"limits.calls.remaining == 1", Req("", R"("limits": {"calls": 4})"), "true"},
      {"limits.calls.remaining == 0", Req("", R"("limits": {"calls": 50})"), "true"},
      // in, matches, methods
      {"resource.s in resource.tags", Req(R"("s": "a", "tags": ["a"])"), "true"},
      {"resource.s not in resource.tags", Req(R"("s": "a", "tags": [])"), "true"},
      {"resource.addr in ip(\"10.0.0.0/8\")", Req(R"("addr": "10.255.0.1")"), "true"},
      {"resource.addr in resource.nets",
       Req(R"("addr": "2001:db8::1", "nets": ["10.0.0.0/8", "2001:db8::/32"])"), "true"},
      {"resource.nets.contains(resource.addr)",
       Req(R"("addr": "10.1.1.1", "nets": ["10.0.0.0/8"])"), "true"},
      {"resource.s matches \"^a.c$\"", Req(R"("s": "abc")"), "true"},
      {"resource.s matches \"b\"", Req(R"("s": "abc")"), "true"},
      {"resource.s.lower() == \"abc\" and resource.s.upper() == \"ABC\"", Req(R"("s": "aBc")"),
       "true"},
      {"resource.tags.contains_any([\"x\", \"b\"])", Req(R"("tags": ["a", "b"])"), "true"},
      {"resource.tags.contains_all([\"a\", \"c\"])", Req(R"("tags": ["a", "b"])"), "false"},
      {"resource.tags.size() == 2", Req(R"("tags": ["a", "b", "a"])"), "true"},
      {"resource.tags == [resource.s, \"b\"]", Req(R"("tags": ["a", "b"], "s": "a")"), "true"},
      // quantifiers
      {"any g in resource.tags: g == resource.s", Req(R"("tags": ["a", "b"], "s": "b")"), "true"},
      {"all g in resource.tags: g != resource.s", Req(R"("tags": [], "s": "b")"), "true"},
      {"any g in resource.tags: all h in resource.tags: g <= h", Req(R"("tags": ["b", "a"])"),
       "true"},
      {"any n in resource.nets: resource.addr in n",
       Req(R"("addr": "10.0.0.1", "nets": ["11.0.0.0/8"])"), "false"},
      // time
      {"hour(resource.t, \"Europe/Paris\") == 1", Req(R"("t": "2026-01-01T00:30:00Z")"), "true"},
      {"minute(resource.t, \"Asia/Kolkata\") == 0", Req(R"("t": "2026-01-01T00:30:00Z")"), "true"},
      {"weekday(resource.t, \"UTC\") == thursday", Req(R"("t": "2026-01-01T00:30:00Z")"), "true"},
      {"date(resource.t, \"America/Los_Angeles\") == \"2025-12-31\"",
       Req(R"("t": "2026-01-01T00:30:00Z")"), "true"},
      {"weekday(context.time, \"UTC\") == monday", Req(""), "true"},
      // roles, has, risk
      {"subject has role base", Req("", R"("subject": {"roles": ["top"]})"), "true"},
      {"subject has role top", Req("", R"("subject": {"roles": ["base"]})"), "false"},
      {"subject has role other", Req("", R"("jit": ["lift"])"), "true"},
      {"subject has note", Req("", R"("subject": {"note": "x"})"), "true"},
      {"not (subject has note)", Req("", R"("subject": {"note": null})"), "true"},
      {"risk.r == 10", Req("", R"("subject": {"level": 4})"), "true"},
      {"risk.r == 20", Req("", R"("subject": {"level": 0})"),
       "true"},  // the failing +20 counts, -5 not
      {"risk.r == -5", Req("", R"("subject": {"level": -1})"), "true"},
      // actions
      {"action == act", Req(""), "true"},
      {"action in [read, write]", Req(""), "false"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.expr));
    CHECK(Eval(c.expr, c.request) == c.expected);
  }
}

// ------------------------------------------------------------ decisions

ReferenceDecision DecideJson(const Compiled& c, const std::string& request, bool explain = false) {
  DecodedRequest decoded = DecodeRequestJson(c.program(), request);
  REQUIRE(decoded.ok);
  DecideOptions options;
  options.explain = explain;
  options.sources = &c.compilation->sources;
  return Decide(c.program(), decoded.request, options);
}

std::string Names(const ReferenceDecision& d) {
  std::string out;
  for (const RuleRef& r : d.rules) out += (out.empty() ? "" : ",") + r.name;
  return out;
}

TEST_CASE(
    "deciding rules under the overriding algorithms are every firing rule with the winning "
    "effect") {
  Compiled c = Compile(R"(
policy p on thing {
  rule d1: deny act if resource.n > 0 because "first"
  rule s1: step_up reauth act if resource.n > 0
  rule d2: deny act if resource.n > 1 because "second"
  rule s2: step_up mfa act
  rule s3: step_up reauth act
  rule p1: permit act
})");
  ReferenceDecision d = DecideJson(c, Req(R"("n": 2)"));
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(Names(d) == "d1,d2");
  CHECK(d.reasons == std::vector<std::string>{"first", "second"});
  d = DecideJson(c, Req(R"("n": 0)"));
  CHECK(d.outcome == rt::Outcome::kStepUp);
  CHECK(d.challenge == "mfa");
  CHECK(Names(d) == "s2");  // s3 steps up to another challenge
  d = DecideJson(c, Req(R"("n": 1)"));
  CHECK(d.challenge == "");
  CHECK(Names(d) == "d1");
  CHECK(d.rules[0].file == "acme.warden");
  CHECK(d.rules[0].line == 23);
  CHECK(d.rules[0].policy_name == "acme.p");
}

TEST_CASE("first_applicable stops at the first applicable rule") {
  Compiled c = Compile(R"(
policy p on thing combine first_applicable {
  rule a: permit act if resource.n == 1
  rule b: deny act
  rule c: permit act if resource.m / 0 > 1
})");
  ReferenceDecision d = DecideJson(c, Req(R"("n": 2, "m": 1)"), /*explain=*/true);
  CHECK(Names(d) == "b");
  CHECK(d.errors.empty());  // c is never evaluated
  REQUIRE(d.explain.size() == 3);
  CHECK(d.explain[0].status == "not_applicable");
  CHECK(d.explain[0].failed_conditions == std::vector<std::string>{"resource.n == 1"});
  CHECK(d.explain[1].status == "fired");
  CHECK(d.explain[2].status == "not_evaluated");
}

TEST_CASE("only_one_applicable with two applicable children denies with an error") {
  Compiled c = Compile(R"(
policy p on thing combine only_one_applicable {
  rule a: permit act
  rule b: permit act if resource.n > 0
})");
  ReferenceDecision d = DecideJson(c, Req(R"("n": 1)"));
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(d.rules.empty());
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].code == rt::EvalError::kOnlyOneApplicable);
  CHECK(d.errors[0].rule == "acme.p");
  d = DecideJson(c, Req(R"("n": 0)"));
  CHECK(d.outcome == rt::Outcome::kPermit);
}

TEST_CASE("fail closed: errors, obligations and explain") {
  Compiled c = Compile(R"(
policy p on thing {
  rule needs_n: permit act if subject.level > 0 and resource.n / resource.m > 0
    obligation audit { n: resource.n, s: resource.s }
  rule deny_err: deny act if resource.n / resource.m > 5
    advice why { ratio: resource.n / resource.m }
})");
  ReferenceDecision d = DecideJson(c, Req(R"("n": 1, "m": 0)", R"("subject": {"level": 1})"), true);
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(Names(d) == "deny_err");
  CHECK(d.advice.empty());  // failed advice is left out
  REQUIRE(d.errors.size() == 3);
  CHECK(d.errors[0].rule == "needs_n");
  CHECK(d.errors[0].code == rt::EvalError::kDivisionByZero);
  CHECK(d.errors[0].line == 23);
  REQUIRE(d.explain.size() == 2);
  CHECK(d.explain[0].status == "error");
  CHECK(d.explain[0].failed_conditions ==
        std::vector<std::string>{"resource.n / resource.m > 0 (error: `/` by zero)"});
  CHECK(d.explain[1].status == "error");
  // A permit whose obligation fails (resource.s is missing) does not apply.
  d = DecideJson(c, Req(R"("n": 1, "m": 1)", R"("subject": {"level": 1})"));
  CHECK(d.outcome == rt::Outcome::kNotApplicable);
  d = DecideJson(c, Req(R"("n": 1, "m": 1, "s": "x")", R"("subject": {"level": 1})"));
  CHECK(d.outcome == rt::Outcome::kPermit);
  REQUIRE(d.obligations.size() == 1);
  CHECK(d.obligations[0].name == "audit");
  CHECK(FormatValue(d.obligations[0].values[1].second) == "\"x\"");
}

TEST_CASE("separation of duties denies before any policy") {
  Compiled c = Compile(R"(
policy p on thing { rule everyone: permit * })");
  ReferenceDecision d = DecideJson(c, Req("", R"("subject": {"roles": ["top"]}, "jit": ["lift"])"));
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(d.rules.empty());
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].code == rt::EvalError::kSeparationOfDuties);
  CHECK(d.reasons[0].find("`top` and `other`") != std::string::npos);
  CHECK(d.reasons[0].find("acme.warden:12") != std::string::npos);
  d = DecideJson(c, Req("", R"("subject": {"roles": ["mid"]}, "jit": ["lift"])"));
  CHECK(d.outcome == rt::Outcome::kPermit);
}

TEST_CASE("targets, undeclared types and actions") {
  Compiled c = Compile(R"(
policy typed on thing { rule typed_all: permit * }
policy any_type on * {
  rule star: deny * if resource.type == "vm"
  rule named: step_up mfa read if resource.id == "x"
  rule ordered: deny * if action >= write
})");
  ReferenceDecision d =
      DecideJson(c, R"({"action": "read", "resource": {"type": "thing", "id": "x"}})");
  CHECK(d.outcome == rt::Outcome::kStepUp);
  d = DecideJson(c, R"({"action": "boot", "resource": {"type": "vm", "id": "x"}})");
  CHECK(Names(d) == "star,ordered");  // an undeclared action has no order: the deny fails closed
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].code == rt::EvalError::kMissingAttribute);
  d = DecideJson(c, R"({"action": "boot", "resource": {"type": "pod", "id": "x"}})");
  CHECK(Names(d) == "ordered");
}

TEST_CASE("risk and limits are reported") {
  Compiled c = Compile(R"(
policy p on thing {
  rule risky: deny act if risk.r >= 30
  rule quota: permit act if not limits.calls.exceeded
})");
  ReferenceDecision d =
      DecideJson(c, Req("", R"("subject": {"level": 0}, "limits": {"calls": 1})"));
  CHECK(d.outcome == rt::Outcome::kPermit);
  REQUIRE(d.risks.size() == 1);
  CHECK(d.risks[0].second == 20);
  CHECK(d.errors.size() == 2);  // both failing factors are reported
  CHECK(d.limits_read == std::vector<std::string>{"calls"});
}

TEST_CASE("test runner messages") {
  BundleBuild build = CompileToBundle(PolicySources::Texts({{"t.warden", std::string(kSchema) + R"(
policy p on thing {
  rule r1: permit act
  rule maker: deny act if resource.n > 0
}
test "wrong" { given { action: "act", resource: { type: "thing", id: "i", n: 0 } } expect deny by maker }
test "right" { given { action: "act", resource: { type: "thing", id: "i", n: 1 } } expect deny by maker }
test "missing" { given { action: "act", resource: { type: "thing", id: "i" } } expect deny by maker }
)"}}));
  REQUIRE(build.compilation->program != nullptr);
  std::vector<TestOutcome> outcomes = RunTests(build);
  REQUIRE(outcomes.size() == 3);
  CHECK(!outcomes[0].passed);
  CHECK(outcomes[0].message == "expected deny by maker, got permit by r1");
  CHECK(outcomes[0].line == 26);
  CHECK(outcomes[1].passed);
  CHECK(outcomes[2].passed);  // the erroring deny fires
}

}  // namespace
}  // namespace warden
