#include "compiler/checker.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/driver.h"

namespace warden {
namespace {

const char* kSchema = R"(package acme
schema {
  subject { department: string  clearance: int  manager: string? }
  resource payment { owner: string  department: string  amount: decimal  created_by: string
                     approver: string?  tags: set<string> }
  resource document { owner: string  sensitivity: enum { public, internal, confidential, restricted } }
  context { channel: string? }
  actions { read, create, sensitive approve, delete }
}
role viewer
role editor extends viewer
role payment_creator
role payment_approver
separate payment_creator, payment_approver
)";

struct Result {
  std::unique_ptr<Compilation> compilation;
  std::string text;
};

Result Compile(const std::string& body) {
  Result result;
  result.compilation = CompileSources({{"acme.warden", std::string(kSchema) + body}});
  for (const Diagnostic& d : result.compilation->diagnostics.Sorted()) {
    result.text += RenderText(d, result.compilation->sources);
  }
  return result;
}

// kSchema is 14 lines, so the first line of a body is line 15.
TEST_CASE("a well-typed policy checks clean") {
  auto r = Compile(R"(
policy payments on payment combine deny_overrides {
  rule read_own: permit read if subject.department == resource.department
  rule approve: permit approve if subject has role payment_approver and resource.amount < 10000 and subject.auth.mfa
  rule maker_checker: deny approve if resource.created_by == subject.id because "maker-checker"
  rule big: step_up mfa approve if resource.amount >= 10000.00 and not subject.auth.mfa
}
policy docs on document {
  rule confidential: deny read if resource.sensitivity >= confidential and subject.clearance < 3
}
)");
  CHECK(r.text == "");
  REQUIRE(r.compilation->program != nullptr);
  CHECK(r.compilation->program->policies.size() == 2);
  CHECK(r.compilation->program->roots.size() == 2);
}

TEST_CASE("unknown attribute with a suggestion") {
  auto r = Compile("policy p on payment {\n  rule r: permit read if resource.amout > 5\n}\n");
  CHECK(
      r.text.find("acme.warden:16:35: error[E0102]: `resource.payment` has no attribute `amout`") !=
      std::string::npos);
  CHECK(r.text.find("help: did you mean `amount`?") != std::string::npos);
  CHECK(r.compilation->program == nullptr);
}

TEST_CASE("type mismatch") {
  auto r =
      Compile("policy p on payment {\n  rule r: permit read if resource.amount == \"big\"\n}\n");
  CHECK(r.text.find("error[E0201]: cannot compare `decimal` with `string`") != std::string::npos);
}

TEST_CASE("optional attributes need a has guard") {
  auto bad = Compile(
      "policy p on payment {\n  rule r: permit read if resource.approver == subject.id\n}\n");
  CHECK(bad.text.find("error[E0202]: `resource.payment.approver` is optional") !=
        std::string::npos);
  auto good = Compile(
      "policy p on payment {\n  rule r: permit read if resource has approver and resource.approver "
      "== subject.id\n}\n");
  CHECK(good.text == "");
  auto negated = Compile(
      "policy p on payment {\n  rule r: deny read if not (resource has approver) or "
      "resource.approver != subject.id\n}\n");
  CHECK(negated.text == "");
}

TEST_CASE("roles: unknown, cycles, separation of duties") {
  auto unknown = Compile(
      "policy p on payment {\n  rule r: permit read if subject has role payment_aprover\n}\n");
  CHECK(unknown.text.find("error[E0105]: unknown role `payment_aprover`") != std::string::npos);
  CHECK(unknown.text.find("did you mean `payment_approver`?") != std::string::npos);
  auto cycle = Compile("role a extends b\nrole b extends a\n");
  CHECK(cycle.text.find("error[E0301]") != std::string::npos);
  auto both = Compile("role super extends payment_creator, payment_approver\n");
  CHECK(both.text.find(
            "error[E0302]: role `super` holds both `payment_creator` and `payment_approver`") !=
        std::string::npos);
  auto jit = Compile(
      "jit j {\n  grants role payment_creator, payment_approver\n  max 1h\n  approvals 1 of role "
      "editor\n}\n");
  CHECK(jit.text.find("error[E0303]") != std::string::npos);
}

TEST_CASE("regex and time zone are validated") {
  auto regex = Compile(
      "policy p on payment {\n  rule r: permit read if resource.owner matches \"(unclosed\"\n}\n");
  CHECK(regex.text.find("error[E0205]: invalid pattern") != std::string::npos);
  auto zone = Compile(
      "policy p on payment {\n  rule r: permit read if hour(context.time, \"Mars/Olympus\") > "
      "9\n}\n");
  CHECK(zone.text.find("error[E0206]: unknown time zone `Mars/Olympus`") != std::string::npos);
  auto fine = Compile(
      "policy p on payment {\n  rule r: permit read if hour(context.time, \"Europe/Paris\") >= 9 "
      "and "
      "weekday(context.time, \"Europe/Paris\") in [monday, tuesday]\n}\n");
  CHECK(fine.text == "");
}

TEST_CASE("enum values resolve against the compared type") {
  auto bad = Compile(
      "policy p on document {\n  rule r: permit read if resource.sensitivity == secret\n}\n");
  CHECK(bad.text.find(
            "error[E0209]: `secret` is not a value of `enum resource.document.sensitivity`") !=
        std::string::npos);
  auto action = Compile(
      "policy p on document {\n  rule r: permit [read, create] if action in [read, create]\n}\n");
  CHECK(action.text == "");
}

TEST_CASE("consts and defs are inlined; recursion is an error") {
  auto ok = Compile(R"(const LIMIT = 10000.00
def owns = resource.owner == subject.id
def under(amount: decimal) = amount < LIMIT
policy p on payment {
  rule r: permit read if owns and under(resource.amount)
}
)");
  CHECK(ok.text == "");
  auto recursive =
      Compile("def a = b\ndef b = a\npolicy p on payment {\n  rule r: permit read if a\n}\n");
  CHECK(recursive.text.find("error[E0111]") != std::string::npos);
}

TEST_CASE("duplicates and unknown declarations") {
  auto r = Compile(R"(policy p on invoice { rule r: permit read }
policy q on payment combine most_specific { rule r: permit reed }
role viewer
)");
  CHECK(r.text.find("error[E0106]: unknown resource type `invoice`") != std::string::npos);
  CHECK(r.text.find("error[E0109]: unknown combining algorithm `most_specific`") !=
        std::string::npos);
  CHECK(r.text.find("error[E0107]: unknown action `reed`") != std::string::npos);
  CHECK(r.text.find("error[E0101]: role `viewer` is declared twice") != std::string::npos);
}

TEST_CASE("test requests are checked against the schema") {
  auto r = Compile(R"(policy p on payment { rule r: permit read if resource.owner == subject.id }
test "t" {
  given { subject: { id: "a", departmnt: "x" }, action: "read",
          resource: { type: "payment", amount: "lots" } }
  expect permit by r, nope
}
)");
  CHECK(r.text.find("error[E0208]: `subject` has no attribute `departmnt`") != std::string::npos);
  CHECK(r.text.find("error[E0208]: `resource.amount` must be a number") != std::string::npos);
  CHECK(r.text.find("error[E0112]: no rule `nope`") != std::string::npos);
}

TEST_CASE("lints") {
  auto r = Compile(R"(jit loose { grants role editor }
policy p on payment combine first_applicable {
  rule all_ok: permit read
  rule again: permit read if resource.owner == subject.id
  rule approve_weak: permit approve if subject has role payment_approver
  rule bypass: deny read if resource has approver and resource.approver == subject.id
  rule never: deny delete if 1 > 2
  rule secret: deny read if resource.owner == "AKIAIOSFODNN7EXAMPLE"
}
)");
  CHECK(r.text.find("warning[W0404]: rule `again` is never reached") != std::string::npos);
  CHECK(r.text.find("warning[W0406]: rule `approve_weak` permits sensitive action `approve`") !=
        std::string::npos);
  CHECK(r.text.find("warning[W0405]: rule `bypass` does not fire when `resource.payment.approver` "
                    "is absent") != std::string::npos);
  CHECK(r.text.find("warning[W0402]: rule `never` can never fire") != std::string::npos);
  CHECK(r.text.find("warning[W0401]: this string looks like an AWS access key") !=
        std::string::npos);
  CHECK(r.text.find("warning[W0407]: jit profile `loose` has no maximum duration") !=
        std::string::npos);
  CHECK(r.text.find("warning[W0408]") != std::string::npos);
  CHECK(r.compilation->program != nullptr);  // warnings only
}

TEST_CASE("imports across packages and the stdlib") {
  auto r = CompileSources({{"a.warden", "package a\nimport b\nconst X = b.LIMIT + 1\n"},
                           {"b.warden", "package b\nconst LIMIT = 41\n"},
                           {"c.warden", "package c\nimport nowhere\n"}});
  std::string text;
  for (const Diagnostic& d : r->diagnostics.Sorted()) text += RenderText(d, r->sources);
  CHECK(text.find("c.warden:2:8: error[E0103]: unknown package `nowhere`") != std::string::npos);
  auto cycle = CompileSources(
      {{"a.warden", "package a\nimport b\n"}, {"b.warden", "package b\nimport a\n"}});
  CHECK(cycle->diagnostics.Sorted().front().code == DiagCode::kImportCycle);
}

TEST_CASE("roles are one namespace: two packages may declare the same role") {
  auto render = [](const std::unique_ptr<Compilation>& c) {
    std::string text;
    for (const Diagnostic& d : c->diagnostics.Sorted()) text += RenderText(d, c->sources);
    return text;
  };
  auto shared = CompileSources({{"a.warden", "package a\nrole admin\nrole support\n"},
                                {"b.warden", "package b\nrole admin extends support\n"},
                                {"c.warden", "package c\nrole admin\nrole boss extends admin\n"}});
  CHECK(render(shared) == "");
  REQUIRE(shared->program != nullptr);
  const CheckedProgram& program = *shared->program;
  REQUIRE(program.FindRole("admin") >= 0);
  const Role& admin = program.roles[program.FindRole("admin")];
  REQUIRE(admin.extends.size() == 1);  // the parents b names
  CHECK(program.roles[admin.extends[0]].name == "support");

  auto conflicting =
      CompileSources({{"a.warden", "package a\nrole admin extends support\nrole support\n"},
                      {"b.warden", "package b\nrole admin extends boss\nrole boss\n"}});
  CHECK(render(conflicting)
            .find("b.warden:2:6: error[E0101]: role `admin` is declared with other "
                  "parents than at a.warden:2") != std::string::npos);
  auto twice = CompileSources({{"a.warden", "package a\nrole admin\nrole admin\n"}});
  CHECK(render(twice).find("a.warden:3:6: error[E0101]: role `admin` is declared twice") !=
        std::string::npos);
}

TEST_CASE("policy sets: nesting, use, roots and cycles") {
  auto r =
      Compile(R"(policy shared on payment { rule r: permit read if resource.owner == subject.id }
policyset outer combine first_applicable {
  policy inner on payment { rule i: deny delete }
  policyset nested combine permit_overrides { use shared }
}
)");
  CHECK(r.text == "");
  REQUIRE(r.compilation->program != nullptr);
  const CheckedProgram& program = *r.compilation->program;
  REQUIRE(program.roots.size() == 1);  // `shared` is used, `inner` nested: only `outer` is a root
  CHECK(program.roots[0].is_set);
  CHECK(program.policy_sets[program.roots[0].index].algorithm == Algorithm::kFirstApplicable);

  auto unknown = Compile("policyset s { use missing }\n");
  CHECK(unknown.text.find("error[E0102]: no policy or policy set `missing`") != std::string::npos);
  auto cycle = Compile("policyset a { use b }\npolicyset b { use a }\n");
  CHECK(cycle.text.find("error[E0111]") != std::string::npos);
}

TEST_CASE("risk scores, limits and data") {
  auto ok = Compile(R"(data blocked: set<ip>
risk signin {
  +40 if context has ip and context.ip in data.blocked
  +30 if not context.device.known
  -10 if subject.auth.mfa
}
limit calls: 100 per 1m by subject.id, action
policy p on payment {
  rule risky: step_up mfa * if risk.signin >= 50
  rule slow: deny * if limits.calls.exceeded because "rate limit"
  rule left: permit read if limits.calls.remaining > 10 and risk.signin < 50
}
)");
  CHECK(ok.text == "");
  auto bad = Compile(R"(policy p on payment {
  rule a: deny * if risk.login > 1
  rule b: deny * if limits.calls.exceeded
  rule c: deny * if data.nothing.is_empty()
}
)");
  CHECK(bad.text.find("error[E0102]: no risk score named `login` is declared") !=
        std::string::npos);
  CHECK(bad.text.find("error[E0102]: no limit named `calls` is declared") != std::string::npos);
  CHECK(bad.text.find("error[E0102]: no data named `nothing` is declared") != std::string::npos);
}

TEST_CASE("a policy on * knows only the attributes every resource has") {
  auto r = Compile("policy p on * {\n  rule r: permit read if resource.owner == subject.id\n}\n");
  CHECK(r.text.find("this policy is `on *`: only `resource.type` and `resource.id` are known") !=
        std::string::npos);
}

TEST_CASE("use members keep their place in a policy set") {
  auto r = Compile(R"(policy first on payment { rule a: deny read }
policyset s combine first_applicable {
  use first
  policy second on payment { rule b: permit read if resource.owner == subject.id }
}
)");
  REQUIRE(r.compilation->program != nullptr);
  const PolicySet& set = r.compilation->program->policy_sets[0];
  REQUIRE(set.members.size() == 2);
  CHECK(r.compilation->program->policies[set.members[0].index].name == "acme.first");
  CHECK(r.compilation->program->policies[set.members[1].index].name == "acme.second");
}

TEST_CASE("int constants widen to decimal in comparisons and `in`, not in `*`") {
  auto r = Compile(R"(policy p on payment {
  rule a: deny read if 2 * resource.amount > 100 and 2 in [1.5, 2.0] and resource.amount == 3
}
)");
  CHECK(r.text.find("error") == std::string::npos);
}

TEST_CASE("null in a test stands for an absent optional attribute") {
  auto r = Compile(R"(policy p on payment { rule r: permit read if resource.owner == subject.id }
test "t" {
  given { subject: { id: "a", manager: null, department: null }, action: "read",
          resource: { type: "payment", owner: "a" } }
  expect permit by r
}
)");
  CHECK(r.text.find("`subject.manager`") == std::string::npos);
  CHECK(r.text.find("error[E0208]: `subject.department` is required and cannot be null") !=
        std::string::npos);
}

TEST_CASE("a rule with obligations does not shadow the rules after it") {
  auto r = Compile(R"(policy p on payment combine first_applicable {
  rule settle: permit read obligation audit { amount: resource.amount }
  rule fallback: deny read
}
)");
  CHECK(r.text.find("W0404") == std::string::npos);
}

TEST_CASE("weekday is a type for schema attributes and def parameters") {
  auto r = Compile(R"(schema { resource shift { day: weekday } }
def weekend(d: weekday) = d in [saturday, sunday]
policy p on shift {
  rule r: deny read if weekend(resource.day) or weekend(weekday(context.time, "UTC"))
}
)");
  CHECK(r.text == "");
}

TEST_CASE("examples and stdlib policies check clean") {
  auto r = CompilePaths({std::string(WARDEN_SOURCE_DIR) + "/examples",
                         std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies"});
  REQUIRE(r.ok());
  std::string text;
  for (const Diagnostic& d : (*r)->diagnostics.Sorted()) text += RenderText(d, (*r)->sources);
  CHECK(text == "");
  CHECK((*r)->program != nullptr);
}

}  // namespace
}  // namespace warden
