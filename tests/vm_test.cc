// The VM, one operator family at a time: each case compiles
// `rule r: permit read if CONDITION` (or deny) and decides a fixed request.
#include "runtime/vm.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "warden/engine.h"

namespace warden {
namespace {

const char* kSchema = R"(package t
schema {
  subject { name: string  level: int  tags: set<string>  nick: string? }
  resource doc { size: int  price: decimal  created: timestamp  ttl: duration  addr: ip
                 kind: enum { a, b, c }  kinds: set<enum { x, y, z }>  nums: set<int> }
  actions { read }
}
role base
role admin extends base
limit calls: 10 per 1h by subject.id
risk r {
  +30 if subject.level > 5
  +5 if subject has nick and subject.nick == "boom"
}
)";

struct Outcome {
  rt::Outcome outcome;
  rt::EvalError error = rt::EvalError::kNone;
};

Outcome Eval(const std::string& condition, const std::string& effect = "permit") {
  std::string text = std::string(kSchema) + "policy p on doc { rule r: " + effect + " read if " +
                     condition + " }\n";
  EngineBuild build = CompileToEngine(PolicySources::Texts({{"t.warden", text}}));
  if (build.compilation->program == nullptr) {
    for (const auto& d : build.compilation->diagnostics.Sorted()) MESSAGE(d.message);
    FAIL("does not compile: " << condition);
  }
  REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
  const Engine& e = **build.engine;
  rt::Frame f = e.NewFrame();
  f.set_action(0);
  f.set_resource_type(0);
  f.set_now_millis(1772445600000);  // 2026-03-02T10:00:00Z, a Monday
  CHECK(f.SetString(e.SlotOf("resource.type"), "doc"));
  CHECK(f.SetString(e.SlotOf("subject.id"), "u1"));
  CHECK(f.SetString(e.SlotOf("subject.name"), "Alice"));
  CHECK(f.SetInt(e.SlotOf("subject.level"), 7));
  CHECK(f.SetStringSet(e.SlotOf("subject.tags"), {"red", "blue"}));
  CHECK(f.SetStringSet(e.SlotOf("subject.roles"), {"admin"}));
  CHECK(f.SetInt(e.SlotOf("resource.doc.size"), 100));
  CHECK(f.SetInt(e.SlotOf("resource.doc.price"), 12'5000));  // 12.5
  CHECK(f.SetInt(e.SlotOf("resource.doc.created"), 1772445600000 - 3600000));
  CHECK(f.SetInt(e.SlotOf("resource.doc.ttl"), 900000));
  bc::IpNet ip;
  ip.bytes[0] = 10;
  ip.bytes[1] = 1;
  ip.bytes[2] = 2;
  ip.bytes[3] = 3;
  ip.prefix = 32;
  CHECK(f.SetIp(e.SlotOf("resource.doc.addr"), ip));
  CHECK(f.SetInt(e.SlotOf("resource.doc.kind"), 1));
  CHECK(f.SetIntSet(e.SlotOf("resource.doc.kinds"), {0, 2}));
  CHECK(f.SetIntSet(e.SlotOf("resource.doc.nums"), {1, 2, 3}));
  f.SetLimitCount(0, 4);
  Decision d = e.Decide(f);
  Outcome out{d.outcome};
  if (!d.errors.empty()) out.error = d.errors[0].code;
  return out;
}

bool Holds(const std::string& condition) {
  Outcome o = Eval(condition);
  CHECK_MESSAGE(o.error == rt::EvalError::kNone, condition);
  return o.outcome == rt::Outcome::kPermit;
}

TEST_CASE("comparisons and arithmetic") {
  CHECK(Holds("resource.size == 100"));
  CHECK(Holds("resource.size + 1 > 100"));
  CHECK(!Holds("resource.size < 100"));
  CHECK(Holds("resource.size >= 100 and resource.size <= 100"));
  CHECK(Holds("resource.price + resource.price == 25.00"));
  CHECK(Holds("resource.price > 12"));
  CHECK(Holds("-resource.size == 0 - 100"));
  CHECK(Holds("resource.size / 7 == 14 and resource.size % 7 == 2"));
  CHECK(Holds("context.time - resource.created == 1h"));
  CHECK(Holds("resource.ttl < 1h and resource.ttl * 4 == 1h"));
  CHECK(Holds("resource.kind == b and resource.kind > a and resource.kind < c"));
  CHECK(Holds("subject.name != \"Bob\" and subject.name < \"Bob\""));
  CHECK(Holds("not (subject.level == 3)"));
}

TEST_CASE("short-circuit: an operand not evaluated cannot fail") {
  CHECK(!Holds("subject.level == 0 and resource.size / 0 == 1"));
  CHECK(Holds("subject.level == 7 or resource.size / 0 == 1"));
  CHECK(!Holds("subject has nick and subject.nick == \"x\""));
  CHECK(Holds("not (subject has nick) or subject.nick == \"x\""));
}

TEST_CASE("errors fail closed") {
  Outcome o = Eval("resource.size / (resource.size - 100) == 1");
  CHECK(o.outcome == rt::Outcome::kNotApplicable);
  CHECK(o.error == rt::EvalError::kDivisionByZero);
  o = Eval("resource.size / (resource.size - 100) == 1", "deny");
  CHECK(o.outcome == rt::Outcome::kDeny);
  CHECK(o.error == rt::EvalError::kDivisionByZero);
  o = Eval("resource.size * 9223372036854775807 > 0");
  CHECK(o.outcome == rt::Outcome::kNotApplicable);
  CHECK(o.error == rt::EvalError::kOverflow);
  o = Eval("resource.size % 0 == 1", "step_up mfa");
  CHECK(o.outcome == rt::Outcome::kStepUp);
  CHECK(o.error == rt::EvalError::kDivisionByZero);
}

TEST_CASE("strings and regexes") {
  CHECK(Holds("subject.name.starts_with(\"Al\") and subject.name.ends_with(\"ce\")"));
  CHECK(Holds("subject.name.contains(\"lic\") and not subject.name.contains(\"x\")"));
  CHECK(Holds("subject.name.lower() == \"alice\" and subject.name.upper() == \"ALICE\""));
  CHECK(Holds("subject.name.size() == 5"));
  CHECK(Holds("subject.name matches \"^A[a-z]+$\""));
  CHECK(!Holds("subject.name matches \"^[0-9]+$\""));
}

TEST_CASE("sets, membership, quantifiers") {
  CHECK(Holds("\"red\" in subject.tags and not (\"green\" in subject.tags)"));
  CHECK(Holds("subject.name in [\"Bob\", \"Alice\"]"));
  CHECK(Holds("resource.size in [1, 100, 1000]"));
  CHECK(
      Holds("subject.tags.contains_any([\"blue\", \"x\"]) and not "
            "subject.tags.contains_all([\"blue\", \"x\"])"));
  CHECK(Holds("subject.tags.size() == 2 and not subject.tags.is_empty()"));
  CHECK(Holds("subject.tags == [\"blue\", \"red\"]"));
  CHECK(Holds("[subject.name, \"x\"].contains(\"Alice\")"));
  CHECK(Holds("any t in subject.tags: t == \"blue\""));
  CHECK(!Holds("all t in subject.tags: t == \"blue\""));
  CHECK(Holds("all n in resource.nums: any m in resource.nums: m == n"));
  CHECK(Holds("resource.kinds.contains(z) and not resource.kinds.contains(y)"));
}

TEST_CASE("ip networks") {
  CHECK(Holds("resource.addr in ip(\"10.0.0.0/8\")"));
  CHECK(!Holds("resource.addr in ip(\"192.168.0.0/16\")"));
  CHECK(Holds("resource.addr in [ip(\"192.168.0.0/16\"), ip(\"10.1.0.0/16\")]"));
  CHECK(Holds("resource.addr == ip(\"10.1.2.3\")"));
}

TEST_CASE("time in a zone") {
  CHECK(Holds("hour(context.time, \"UTC\") == 10 and minute(context.time, \"UTC\") == 0"));
  CHECK(Holds("hour(context.time, \"Europe/Paris\") == 11"));
  CHECK(Holds("weekday(context.time, \"UTC\") == monday"));
  CHECK(Holds("date(context.time, \"UTC\") == \"2026-03-02\""));
}

TEST_CASE("roles, risk, limits") {
  CHECK(Holds("subject has role base and subject has role admin"));
  CHECK(Holds("risk.r == 30"));
  Outcome o = Eval("limits.calls.remaining == 6 and not limits.calls.exceeded");
  CHECK(o.outcome == rt::Outcome::kPermit);
}

TEST_CASE("values are 16 bytes; instructions 8") {
  CHECK(sizeof(rt::Value) == 16);
  CHECK(sizeof(bc::Instr) == 8);
}

}  // namespace
}  // namespace warden
