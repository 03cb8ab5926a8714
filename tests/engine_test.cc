// Decisions on the examples' policies with hand-built frames: permit, deny
// with a reason, step_up, not_applicable, separation of duties, obligations,
// and errors that fail closed.
#include "warden/engine.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "compiler/codegen.h"
#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "runtime/data_json.h"

namespace warden {
namespace {

std::unique_ptr<Engine> Load(const std::string& path, EngineOptions options = {},
                             CodegenOptions codegen = {}) {
  BuildOptions build_options;
  build_options.codegen = codegen;
  EngineBuild build =
      CompileToEngine(PolicySources::Paths({std::string(WARDEN_SOURCE_DIR) + "/" + path}),
                      build_options, std::move(options));
  REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
  return *std::move(build.engine);
}

// Builds a frame by attribute path.
class Request {
 public:
  explicit Request(const Engine& engine) : engine_(engine), frame_(engine.NewFrame()) {
    frame_.set_now_millis(1772445600000);
  }
  int Slot(const std::string& path) {
    int slot = engine_.SlotOf(path);
    REQUIRE_MESSAGE(slot >= 0, path);
    return slot;
  }
  Request& Str(const std::string& path, const std::string& value) {
    REQUIRE_MESSAGE(frame_.SetString(Slot(path), value), path);
    return *this;
  }
  Request& Int(const std::string& path, int64_t value) {
    REQUIRE_MESSAGE(frame_.SetInt(Slot(path), value), path);
    return *this;
  }
  Request& Bool(const std::string& path, bool value) {
    REQUIRE_MESSAGE(frame_.SetBool(Slot(path), value), path);
    return *this;
  }
  Request& Enum(const std::string& path, const std::string& member) {
    const bc::Program& p = engine_.program();
    const bc::Attribute& a = p.attributes[p.FindAttribute(path)];
    const auto& members = p.enums[a.type.enumeration].members;
    auto it = std::find(members.begin(), members.end(), member);
    REQUIRE(it != members.end());
    return Int(path, it - members.begin());
  }
  Request& Roles(const std::vector<std::string_view>& roles) {
    REQUIRE(frame_.SetStringSet(Slot("subject.roles"), roles));
    return *this;
  }
  Request& Ip(const std::string& path, std::vector<uint8_t> v4) {
    bc::IpNet ip;
    for (size_t i = 0; i < 4; ++i) ip.bytes[i] = v4[i];
    ip.prefix = 32;
    REQUIRE(frame_.SetIp(Slot(path), ip));
    return *this;
  }
  Request& Action(const std::string& action) {
    frame_.set_action(engine_.program().FindAction(action));
    return *this;
  }
  Request& Resource(const std::string& type, const std::string& id) {
    frame_.set_resource_type(engine_.program().FindResourceType(type));
    Str("resource.type", type);
    return Str("resource.id", id);
  }
  Request& Jit(const std::string& profile) {
    frame_.AddJitGrant(static_cast<uint32_t>(engine_.program().FindJit(profile)));
    return *this;
  }
  rt::Frame& frame() { return frame_; }
  Decision Decide() { return engine_.Decide(frame_); }

 private:
  const Engine& engine_;
  rt::Frame frame_;
};

bool DecidedBy(const Decision& d, const std::string& rule) {
  for (const DecidingRule& r : d.rules) {
    if (r.name == rule) return true;
  }
  return false;
}

EngineOptions PaymentsData(std::vector<DataValue> sanctioned = {}) {
  EngineOptions options;
  options.data.emplace_back("sanctioned_countries", DataValue::List(std::move(sanctioned)));
  options.data.emplace_back("blocked_networks",
                            DataValue::List({DataValue::String("203.0.113.0/24")}));
  return options;
}

// A payment request with a low-risk context.
Request Payment(const Engine& engine, const std::string& subject,
                std::vector<std::string_view> roles, const std::string& action) {
  Request r(engine);
  r.Str("subject.id", subject)
      .Roles(roles)
      .Str("subject.department", "ops")
      .Action(action)
      .Resource("payment", "p-1");
  r.Int("resource.payment.amount", 800 * 10000)
      .Str("resource.payment.department", "ops")
      .Str("resource.payment.created_by", "carl")
      .Enum("resource.payment.status", "pending")
      .Str("resource.payment.beneficiary_country", "FR")
      .Str("resource.payment.beneficiary_iban", "FR7630006000011234567890189");
  r.Ip("context.ip", {198, 51, 100, 20}).Bool("context.device.known", true);
  r.Int("subject.auth.auth_age", 10 * 60 * 1000);
  return r;
}

TEST_CASE("payments: permit, with the deciding rule, file:line and obligation") {
  auto engine = Load("examples/payments", PaymentsData());
  Request r = Payment(*engine, "anna", {"payment_approver"}, "approve");
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kPermit);
  REQUIRE(d.rules.size() == 1);
  CHECK(d.rules[0].name == "approve_within_limit");
  CHECK(d.rules[0].policy == "acme.payments.payment_access");
  CHECK(d.rules[0].file.find("payments.warden") != std::string_view::npos);
  CHECK(d.rules[0].line > 0);
  REQUIRE(d.obligations.size() == 1);
  CHECK(d.obligations[0].name == "audit");
  REQUIRE(d.obligations[0].arg_count == 2);
  CHECK(d.args[0].key == "payment");
  CHECK(d.args[0].value == "p-1");
  CHECK(d.args[0].json == "\"p-1\"");
  CHECK(d.args[1].value == "800");
  CHECK(d.args[1].json == "800.0");
  CHECK(d.errors.empty());
  CHECK(d.bundle_hash.size() == 64);
}

TEST_CASE("a reused decision renders obligation values afresh") {
  auto engine = Load("examples/payments", PaymentsData());
  Request r = Payment(*engine, "anna", {"payment_approver"}, "approve");
  const std::string long_id = "payment-0123456789-abcdefghij \"quoted\"";
  r.Str("resource.id", long_id).Int("resource.payment.amount", 12345);  // 1.2345
  Decision d;
  engine->Decide(r.frame(), &d);
  REQUIRE(d.args.size() == 2);
  CHECK(d.args[0].value == long_id);
  CHECK(d.args[0].json == "\"payment-0123456789-abcdefghij \\\"quoted\\\"\"");
  CHECK(d.args[1].value == "1.2345");
  CHECK(d.args[1].json == "1.2345");
  // A decision without obligations, then one with other values: nothing stale.
  Request other = Payment(*engine, "vera", {"payment_viewer"}, "read");
  engine->Decide(other.frame(), &d);
  CHECK(d.args.empty());
  r.Str("resource.id", "p-2").Int("resource.payment.amount", -5000);  // -0.5
  engine->Decide(r.frame(), &d);
  REQUIRE(d.args.size() == 2);
  CHECK(d.args[0].value == "p-2");
  CHECK(d.args[0].json == "\"p-2\"");
  CHECK(d.args[1].value == "-0.5");
  CHECK(d.args[1].json == "-0.5");
}

TEST_CASE("an only_one_applicable conflict names its policy") {
  auto engine = Load("tests/conformance/combining.warden");
  Request r(*engine);
  r.Str("subject.id", "u").Action("act").Resource("ooa_box", "b");
  r.Bool("resource.ooa_box.p", true)
      .Bool("resource.ooa_box.d", true)
      .Bool("resource.ooa_box.s", false)
      .Bool("resource.ooa_box.r", false);
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(d.rules.empty());
  bool named = false;
  for (const DecisionError& error : d.errors) {
    if (error.code != rt::EvalError::kOnlyOneApplicable) continue;
    named = error.where.find("ooa") != std::string_view::npos;
    CHECK(error.what == "only_one_applicable");
  }
  CHECK(named);
}

// Record-typed data is checked whole at load: every required field, no
// undeclared one, the right types all the way down.
TEST_CASE("record data: loaded, read by fields, and refused when malformed") {
  auto json = [](const std::string& text) {
    auto parsed = ParseDataJson(text);
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
    return *parsed;
  };
  auto load = [&](const std::string& data) {
    EngineOptions options;
    options.data = json(data);
    EngineBuild build = CompileToEngine(PolicySources::Paths({std::string(WARDEN_SOURCE_DIR) +
                                                              "/tests/conformance/records.warden"}),
                                        {}, std::move(options));
    REQUIRE(build.compilation != nullptr);
    REQUIRE(build.compilation->program != nullptr);
    return std::move(build.engine);
  };
  const std::string grants =
      R"("grants": [{"user": "ann", "action": "grant", "until": "2027-01-01T00:00:00Z"}])";
  auto good = load(R"({"policy_limits": {"max_hours": 8, "regions": ["eu"],
      "tiers": [{"name": "gold", "cap": 1000}, {"name": "gold", "cap": "1000.0"}]}, )" +
                   grants + "}");
  REQUIRE_MESSAGE(good.ok(), good.status().ToString());
  Request r(**good);
  r.Str("subject.id", "ann").Action("grant").Resource("project", "p");
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kPermit);
  REQUIRE(d.obligations.size() == 1);  // advice `granted` renders a field of the data record
  CHECK(d.args[d.obligations[0].first_arg].value == "8");

  struct Bad {
    const char* data;
    const char* message;
  };
  const Bad bad[] = {
      {R"({"policy_limits": {"regions": [], "tiers": []}})",
       "policy_limits.max_hours`: no value given"},
      {R"({"policy_limits": {"max_hours": 1, "regions": [], "tiers": [], "extra": 1}})",
       "no field `extra`"},
      {R"({"policy_limits": {"max_hours": null, "regions": [], "tiers": []}})",
       "null for a required field"},
      {R"({"policy_limits": {"max_hours": "1", "regions": [], "tiers": []}})", "expected an int"},
      {R"({"policy_limits": {"max_hours": 1, "regions": [], "tiers": [{"name": "x"}]}})",
       "tiers[0].cap`: no value given"},
      {R"({"policy_limits": [1]})", "expected an object"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.data);
    auto engine = load(std::string(b.data).insert(1, grants + ", "));
    REQUIRE(!engine.ok());
    CHECK_MESSAGE(engine.status().message().find(b.message) != std::string::npos,
                  engine.status().message());
  }
}

TEST_CASE("payments: read in own department, not_applicable elsewhere") {
  auto engine = Load("examples/payments", PaymentsData());
  Request r = Payment(*engine, "vera", {"payment_viewer"}, "read");
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kPermit);
  CHECK(DecidedBy(d, "read_own_department"));
  r.Str("resource.payment.department", "sales");
  d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kNotApplicable);
  CHECK(d.rules.empty());
}

TEST_CASE("payments: deny with a reason (maker-checker)") {
  auto engine = Load("examples/payments", PaymentsData());
  Request r = Payment(*engine, "anna", {"payment_approver"}, "approve");
  r.Str("resource.payment.created_by", "anna");
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(DecidedBy(d, "maker_checker"));
  REQUIRE(!d.reasons.empty());
  CHECK(d.reasons[0] == "the creator of a payment cannot approve it");
}

TEST_CASE("payments: step_up mfa for a large payment") {
  auto engine = Load("examples/payments", PaymentsData());
  Request r = Payment(*engine, "anna", {"payment_approver"}, "approve");
  r.Int("resource.payment.amount", 8000 * 10000);
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kStepUp);
  CHECK(d.challenge == "mfa");
  CHECK(DecidedBy(d, "large_needs_mfa"));
}

TEST_CASE("payments: data at load, risk scores") {
  auto engine = Load("examples/payments", PaymentsData({DataValue::String("KP")}));
  Request r = Payment(*engine, "carl", {"payment_creator"}, "create");
  r.Enum("resource.payment.status", "draft").Str("resource.payment.beneficiary_country", "KP");
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(DecidedBy(d, "sanctioned_beneficiary"));

  Request blocked = Payment(*engine, "carl", {"payment_creator"}, "create");
  blocked.Enum("resource.payment.status", "draft")
      .Ip("context.ip", {203, 0, 113, 9})
      .Bool("context.device.known", false);
  d = blocked.Decide();
  CHECK(d.outcome == rt::Outcome::kDeny);  // 30 (unknown device) + 50 (blocked network)
  CHECK(DecidedBy(d, "risky_session"));
}

TEST_CASE("payments: separation of duties through a JIT grant") {
  auto engine = Load("examples/payments", PaymentsData());
  Request r = Payment(*engine, "carl", {"payment_creator"}, "read");
  CHECK(r.Decide().outcome == rt::Outcome::kPermit);
  r.Jit("break_glass");
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(d.rules.empty());
  REQUIRE(!d.errors.empty());
  CHECK(d.errors[0].code == rt::EvalError::kSeparationOfDuties);
}

TEST_CASE("payments: errors fail closed") {
  auto engine = Load("examples/payments", PaymentsData());
  SUBCASE("an erroring deny counts as deny") {
    Request r(*engine);
    r.Str("subject.id", "anna").Roles({"payment_approver"}).Str("subject.department", "ops");
    r.Action("approve").Resource("payment", "p-1");  // no payment attributes at all
    Decision d = r.Decide();
    CHECK(d.outcome == rt::Outcome::kDeny);
    CHECK(DecidedBy(d, "maker_checker"));
    bool missing = false;
    for (const DecisionError& e : d.errors)
      missing = missing || e.code == rt::EvalError::kMissingAttribute;
    CHECK(missing);
  }
  SUBCASE("an erroring permit counts as not applicable") {
    Request r = Payment(*engine, "vera", {"payment_viewer"}, "read");
    r.frame().Reset();
    r.frame().set_now_millis(1);
    r.Str("subject.id", "vera").Roles({"payment_viewer"}).Action("read").Resource("payment", "p-1");
    r.Str("resource.payment.department", "ops");  // subject.department missing
    Decision d = r.Decide();
    CHECK(d.outcome == rt::Outcome::kNotApplicable);
    REQUIRE(!d.errors.empty());
    CHECK(d.errors[0].code == rt::EvalError::kMissingAttribute);
    CHECK(d.errors[0].where == "read_own_department");
    // The line of the failing expression (`subject.department == …`), not of the rule (110).
    CHECK(std::string(d.errors[0].file).ends_with("examples/payments/payments.warden"));
    CHECK(d.errors[0].line == 111);
    CHECK(engine->ErrorMessage(d.errors[0]) == "`subject.department` is missing from the request");

    // Explain: the same decision, and every candidate rule with its status.
    Decision explained;
    Explanation explanation;
    engine->Explain(r.frame(), &explained, &explanation);
    CHECK(explained.outcome == d.outcome);
    REQUIRE(explained.errors.size() == d.errors.size());
    CHECK(explained.errors[0].line == 111);
    const RuleExplanation* rule = nullptr;
    for (const RuleExplanation& e : explanation.rules) {
      if (e.name == "read_own_department") rule = &e;
    }
    REQUIRE(rule != nullptr);
    CHECK(rule->status == RuleExplanation::Status::kError);
    CHECK(std::string(RuleStatusName(rule->status)) == "error");
    CHECK(rule->effect == "permit");
    CHECK(rule->error == "`subject.department` is missing from the request");
    // Compiled without conjuncts (the default): the failed conditions are unknown.
    CHECK(rule->conditions_unavailable);
    CHECK(rule->failed_conditions.empty());

    // With them, the conditions that failed.
    CodegenOptions with_conjuncts;
    with_conjuncts.explain_conjuncts = true;
    auto explaining = Load("examples/payments", PaymentsData(), with_conjuncts);
    Request again(*explaining);
    again.frame().set_now_millis(1);
    again.Str("subject.id", "vera").Roles({"payment_viewer"}).Action("read");
    again.Resource("payment", "p-1").Str("resource.payment.department", "ops");
    explaining->Explain(again.frame(), &explained, &explanation);
    rule = nullptr;
    for (const RuleExplanation& e : explanation.rules) {
      if (e.name == "read_own_department") rule = &e;
    }
    REQUIRE(rule != nullptr);
    CHECK(!rule->conditions_unavailable);
    REQUIRE(rule->failed_conditions.size() == 1);
    CHECK(rule->failed_conditions[0] ==
          "subject.department == resource.department (error: `subject.department` is missing "
          "from the request)");
  }
}

TEST_CASE("unknown resource types reach only `on *` policies; undeclared actions only `*` rules") {
  auto engine = Load("stdlib-policies/std/mfa_for_admins.warden");
  Request r(*engine);
  r.Str("subject.id", "ann").Roles({"admin"}).Action("delete").Resource("tenant", "acme");
  r.Enum("subject.auth.kind", "token").Int("subject.auth.auth_age", 3600000);
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kStepUp);
  CHECK(d.challenge == "mfa");
  CHECK(DecidedBy(d, "admin_needs_mfa"));
  r.Bool("subject.auth.mfa", true);
  CHECK(r.Decide().outcome == rt::Outcome::kNotApplicable);
  // auth_age omitted: the fail-safe default is "very old".
  Request old(*engine);
  old.Str("subject.id", "ann")
      .Roles({"admin"})
      .Action("read")
      .Resource("tenant", "acme")
      .Bool("subject.auth.mfa", true);
  d = old.Decide();
  CHECK(d.outcome == rt::Outcome::kStepUp);
  CHECK(d.challenge == "reauth");
}

TEST_CASE("documents: nested sets, optional attributes, sets") {
  auto engine = Load("examples/documents");
  Request r(*engine);
  r.Str("subject.id", "pat").Str("subject.tenant", "acme").Str("subject.department", "sales");
  r.Enum("subject.auth.kind", "token").Action("read").Resource("document", "d-1");
  r.Str("resource.document.tenant", "acme")
      .Str("resource.document.owner", "olga")
      .Str("resource.document.department", "hr")
      .Enum("resource.document.sensitivity", "public")
      .Bool("resource.document.legal_hold", false)
      .Str("resource.document.title", "Holiday calendar");
  REQUIRE(r.frame().SetStringSet(r.Slot("resource.document.shared_with"), {}));
  REQUIRE(r.frame().SetStringSet(r.Slot("resource.document.shared_departments"), {"sales"}));
  Decision d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kPermit);
  CHECK(DecidedBy(d, "read_public"));
  CHECK(DecidedBy(d, "shared_with_me"));  // every firing permit under deny_overrides
  r.Str("subject.tenant", "other");
  d = r.Decide();
  CHECK(d.outcome == rt::Outcome::kDeny);
  CHECK(DecidedBy(d, "other_tenant"));
}

TEST_CASE("a policy without candidate rules is not applicable, whatever its algorithm") {
  auto engine = Load("tests/fixtures/no_candidates.warden");
  Request read(*engine);
  read.Str("subject.id", "ann")
      .Action("read")
      .Resource("doc", "d-1")
      .Str("resource.doc.owner", "ann");
  CHECK(read.Decide().outcome == rt::Outcome::kNotApplicable);
  Request approve(*engine);
  approve.Str("subject.id", "bob")
      .Action("approve")
      .Resource("doc", "d-1")
      .Str("resource.doc.owner", "ann");
  CHECK(approve.Decide().outcome == rt::Outcome::kDeny);  // candidates, none permits
}

TEST_CASE("CombineOutcomes agrees with the documented table") {
  using rt::Algorithm;
  using O = rt::Outcome;
  auto combine = [](Algorithm a, std::vector<O> outcomes) {
    return rt::CombineOutcomes(a, outcomes.data(), outcomes.size(), nullptr).outcome;
  };
  CHECK(combine(Algorithm::kDenyOverrides, {O::kPermit, O::kStepUp, O::kDeny}) == O::kDeny);
  CHECK(combine(Algorithm::kDenyOverrides, {O::kPermit, O::kStepUp}) == O::kStepUp);
  CHECK(combine(Algorithm::kPermitOverrides, {O::kDeny, O::kStepUp, O::kPermit}) == O::kPermit);
  CHECK(combine(Algorithm::kFirstApplicable, {O::kNotApplicable, O::kDeny, O::kPermit}) ==
        O::kDeny);
  CHECK(combine(Algorithm::kDenyUnlessPermit, {}) == O::kDeny);
  CHECK(combine(Algorithm::kPermitUnlessDeny, {}) == O::kPermit);
  CHECK(combine(Algorithm::kOnlyOneApplicable, {O::kPermit, O::kPermit}) == O::kDeny);
  CHECK(combine(Algorithm::kOnlyOneApplicable, {O::kNotApplicable}) == O::kNotApplicable);
}

}  // namespace
}  // namespace warden
