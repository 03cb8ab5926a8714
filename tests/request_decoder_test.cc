// The VM's JSON request decoder: every type, defaults, every error code,
// lenient and strict modes, limits, escapes, and agreement with the
// reference evaluator's decoder (an independent implementation of
// docs/decisions.md) on values, problems and rejections.
#include "runtime/request_decoder.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/reference/request.h"
#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "runtime/record_value.h"
#include "warden/engine.h"

namespace warden {
namespace {

constexpr const char* kSchema = R"(package t

schema {
  subject {
    level: int
    score: decimal
    window: duration
    since: timestamp?
    home: ip?
    tier: enum { bronze, silver, gold }
    tags: set<string>
    nets: set<ip>
    counts: set<int>
    profile: { nick: string?  active: bool }
    grants: set<{ app: string, level: int, scopes: set<string>, owner: { id: string },
                  note: string?, nets: set<ip>, peers: set<{ id: string }> }>
  }
  resource doc { owner: string  size: int }
  actions { read, write }
}

role viewer
role admin extends viewer

jit elevate {
  grants role admin
  max 1h
}

limit calls: 10 per 1h by subject.id

policy p on doc {
  rule r: permit read if resource.owner == subject.id
}
)";

struct Fixture {
  std::unique_ptr<Compilation> compilation;
  std::unique_ptr<Engine> engine;
};

Fixture& Test() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    BuildOptions options;
    options.compile.run_lints = false;
    EngineBuild build = CompileToEngine(PolicySources::Texts({{"t.warden", kSchema}}), options);
    REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
    f->compilation = std::move(build.compilation);
    f->engine = *std::move(build.engine);
    return f;
  }();
  return *fixture;
}

struct Decoded {
  bool ok = false;
  std::vector<rt::RequestError> errors;
};

class Harness {
 public:
  explicit Harness(rt::DecoderOptions options = {})
      : engine_(*Test().engine),
        decoder_(engine_.program(), engine_.request_schema(), options),
        frame_(engine_.NewFrame()) {}
  bool Decode(std::string_view json) { return decoder_.Decode(json, &frame_); }
  const std::vector<rt::RequestError>& errors() const { return decoder_.errors(); }
  uint32_t Slot(const char* path) const { return static_cast<uint32_t>(engine_.SlotOf(path)); }
  bool Present(const char* path) const { return frame_.present(Slot(path)); }
  int64_t Int(const char* path) const { return frame_.slot(Slot(path)).i; }
  std::string Str(const char* path) const { return std::string(frame_.slot(Slot(path)).s.view()); }
  const rt::SetRef& Set(const char* path) const { return frame_.slot(Slot(path)).set; }
  const bc::IpNet& Ip(const char* path) const { return *frame_.slot(Slot(path)).ip; }
  rt::Frame& frame() { return frame_; }
  const bc::Program& program() const { return engine_.program(); }

 private:
  const Engine& engine_;
  rt::RequestDecoder decoder_;
  rt::Frame frame_;
};

std::string Req(const std::string& subject, const std::string& extra = "") {
  return R"({"subject": )" + subject +
         R"(, "action": "read", "resource": {"type": "doc", "id": "d1", "owner": "ann", "size": 3})" +
         extra + "}";
}

TEST_CASE("every type decodes into its slot") {
  Harness h;
  REQUIRE(
      h.Decode(Req(R"({"id": "ann", "roles": ["viewer"], "level": -42, "score": 800.05,
      "window": "1h30m", "since": "2026-03-02T10:00:00.123456Z", "home": "10.1.0.0/16",
      "tier": "silver", "tags": ["b", "a", "b"], "nets": ["::1", "10.0.0.1"],
      "counts": [3, 1, 2, 1], "profile": {"nick": "an\u00e9\ud83d\ude00", "active": true},
      "auth": {"mfa": true, "auth_age": "10m", "kind": "token"}})",
                   R"(, "context": {"ip": "2001:db8::1", "time": "2026-01-05T12:00:00+01:00"})")));
  CHECK(h.errors().empty());
  CHECK(h.Str("subject.id") == "ann");
  CHECK(h.Int("subject.level") == -42);
  CHECK(h.Int("subject.score") == 8000500);
  CHECK(h.Int("subject.window") == 90 * 60000);
  CHECK(h.Int("subject.since") == 1772445600123);
  CHECK(h.Ip("subject.home").prefix == 16);
  CHECK(h.Ip("subject.home").bytes[1] == 1);
  CHECK(h.Int("subject.tier") == 1);
  const rt::SetRef& tags = h.Set("subject.tags");
  REQUIRE(tags.size == 2);  // sorted, unique
  CHECK(tags.data[0].s.view() == "a");
  CHECK(tags.data[1].s.view() == "b");
  const rt::SetRef& nets = h.Set("subject.nets");
  REQUIRE(nets.size == 2);
  CHECK(!nets.data[0].ip->v6);  // IPv4 first
  const rt::SetRef& counts = h.Set("subject.counts");
  REQUIRE(counts.size == 3);
  CHECK(counts.data[0].i == 1);
  CHECK(counts.data[2].i == 3);
  CHECK(h.Present("subject.profile"));
  CHECK(h.Str("subject.profile.nick") == "an\xc3\xa9\xf0\x9f\x98\x80");  // escapes, surrogates
  CHECK(h.Int("subject.profile.active") == 1);
  CHECK(h.Int("subject.auth.mfa") == 1);
  CHECK(h.Int("subject.auth.auth_age") == 600000);
  CHECK(h.Ip("context.ip").v6);
  CHECK(h.Int("context.time") == 1767610800000);  // 11:00Z
  CHECK(h.frame().action() == h.program().FindAction("read"));
  CHECK(h.frame().resource_type() == h.program().FindResourceType("doc"));
  CHECK(h.Str("resource.type") == "doc");
  CHECK(h.Str("resource.id") == "d1");
  CHECK(h.Str("resource.doc.owner") == "ann");
  CHECK(h.Int("resource.doc.size") == 3);
}

TEST_CASE("defaults: omitted attributes stay absent (the VM applies fail-safe defaults)") {
  rt::DecoderOptions options;
  options.now_millis = 1767614400000;
  Harness h(options);
  REQUIRE(h.Decode(R"({"action": "write", "resource": {"type": "elsewhere"}})"));
  CHECK(!h.Present("subject.id"));
  CHECK(!h.Present("context.time"));
  CHECK(h.frame().now_millis() == 1767614400000);
  CHECK(h.frame().action() == h.program().FindAction("write"));
  CHECK(h.frame().resource_type() == -1);  // undeclared: `on *` policies only
  CHECK(h.Str("resource.type") == "elsewhere");
  // null is an absent optional value, and no problem.
  REQUIRE(h.Decode(Req(R"({"home": null, "since": null})")));
  CHECK(h.errors().empty());
  CHECK(!h.Present("subject.home"));
}

TEST_CASE("jit grants and limit counts") {
  Harness h;
  REQUIRE(h.Decode(
      Req("{}", R"(, "jit": ["elevate", "elevate", "nope"], "limits": {"calls": 7, "other": 1})")));
  CHECK(h.frame().jit_grants().size() == 1);
  CHECK(h.frame().limit_count(0) == 7);
  REQUIRE(h.errors().size() == 2);
  CHECK(h.errors()[0].code == rt::RequestErrorCode::kUnknownJitProfile);
  CHECK(h.errors()[0].json_path == "jit[2]");
  CHECK(h.errors()[1].code == rt::RequestErrorCode::kUnknownLimit);
  CHECK(h.errors()[1].json_path == "limits.other");
  REQUIRE(h.Decode(Req("{}", R"(, "limits": {"calls": null})")));
  CHECK(!h.frame().limit_available(0));
}

TEST_CASE("lenient: wrong types are absent and reported; unknown attributes ignored") {
  Harness h;
  REQUIRE(h.Decode(Req(R"({"level": 1.5, "score": "x", "tier": "platinum", "tags": ["a", 3],
      "window": "30m1h", "home": "10.0.0.1/8", "since": "yesterday", "unknown": {"deep": [1]},
      "profile": 3})")));
  std::vector<std::string> paths;
  for (const auto& e : h.errors()) {
    CHECK(e.code == rt::RequestErrorCode::kWrongType);
    CHECK(std::string(rt::RequestErrorCategory(e.code)) == "wrong_type");
    paths.push_back(e.json_path);
  }
  CHECK(paths == std::vector<std::string>{"subject.level", "subject.score", "subject.tier",
                                          "subject.tags[1]", "subject.window", "subject.home",
                                          "subject.since", "subject.profile"});
  CHECK(!h.Present("subject.level"));
  CHECK(!h.Present("subject.tags"));
  CHECK(h.errors()[2].message.find("bronze, silver, gold") != std::string::npos);
}

TEST_CASE("strict: unknown attributes and wrong types reject the request") {
  rt::DecoderOptions options;
  options.strict = true;
  Harness h(options);
  CHECK(!h.Decode(Req(R"({"nickname": "x"})", R"(, "extra": 1)")));
  REQUIRE(h.errors().size() == 2);
  CHECK(h.errors()[0].code == rt::RequestErrorCode::kUnknownAttribute);
  CHECK(h.errors()[0].json_path == "subject.nickname");
  CHECK(h.errors()[1].json_path == "extra");
  CHECK(!h.Decode(Req(R"({"level": "1"})")));
  CHECK(h.errors()[0].code == rt::RequestErrorCode::kWrongType);
  CHECK(!h.Decode(Req("{}", R"(, "jit": ["nope"])")));
  CHECK(h.Decode(Req(R"({"level": 1})")));
}

struct FatalCase {
  const char* json;
  rt::RequestErrorCode code;
};

TEST_CASE("fatal errors: every code") {
  rt::DecoderOptions options;
  options.max_depth = 4;
  options.max_set_elements = 3;
  options.max_bytes = 4096;
  Harness h(options);
  const FatalCase cases[] = {
      {"", rt::RequestErrorCode::kMalformedJson},
      {"{", rt::RequestErrorCode::kMalformedJson},
      {R"({"action": "read", "resource": {"type": "doc"}} x)",
       rt::RequestErrorCode::kMalformedJson},
      {R"({"action": "read", "resource": {"type": "doc"}, "x": tru})",
       rt::RequestErrorCode::kMalformedJson},
      {R"({"action": "read", "resource": {"type": "doc"}, "x": 01})",
       rt::RequestErrorCode::kMalformedJson},
      {"{\"action\": \"re\x01\", \"resource\": {\"type\": \"doc\"}}",
       rt::RequestErrorCode::kMalformedJson},
      {"{\"action\": \"\xff\", \"resource\": {\"type\": \"doc\"}}",
       rt::RequestErrorCode::kMalformedJson},
      {R"({"action": "read", "resource": {"type": "doc"}, "x": "\ud800"})",
       rt::RequestErrorCode::kMalformedJson},
      {R"({"action": "read", "resource": {"type": "doc", "x": {"a": {"b": [1]}}}})",
       rt::RequestErrorCode::kTooDeep},
      {R"({"action": "read", "resource": {"type": "doc"}, "jit": [1, 2, 3, 4]})",
       rt::RequestErrorCode::kTooManyElements},
      {R"({"action": "read", "action": "write", "resource": {"type": "doc"}})",
       rt::RequestErrorCode::kDuplicateKey},
      {R"({"action": "read", "resource": {"type": "doc", "id": "a", "i\u0064": "b"}})",
       rt::RequestErrorCode::kDuplicateKey},
      {R"({"action": "read", "resource": {"type": "doc"}, "x": 1e3})",
       rt::RequestErrorCode::kBadNumber},
      {R"({"action": "read", "resource": {"type": "doc"}, "x": 1.23456})",
       rt::RequestErrorCode::kBadNumber},
      {R"({"action": "read", "resource": {"type": "doc"}, "x": 9223372036854775808})",
       rt::RequestErrorCode::kBadNumber},
      {"[1, 2]", rt::RequestErrorCode::kNotAnObject},
      {R"({"action": "read", "resource": "doc"})", rt::RequestErrorCode::kNotAnObject},
      {R"({"resource": {"type": "doc"}})", rt::RequestErrorCode::kMissingAction},
      {R"({"action": 3, "resource": {"type": "doc"}})", rt::RequestErrorCode::kMissingAction},
      {R"({"action": "read"})", rt::RequestErrorCode::kMissingResourceType},
      {R"({"action": "read", "resource": {"id": "x"}})",
       rt::RequestErrorCode::kMissingResourceType},
      {R"({"action": "read", "resource": {"type": "doc"}, "jit": "elevate"})",
       rt::RequestErrorCode::kBadJit},
      {R"({"action": "read", "resource": {"type": "doc"}, "limits": {"calls": -1}})",
       rt::RequestErrorCode::kBadLimits},
      {R"({"action": "read", "resource": {"type": "doc"}, "limits": []})",
       rt::RequestErrorCode::kBadLimits},
  };
  for (const FatalCase& c : cases) {
    CAPTURE(c.json);
    CHECK(!h.Decode(c.json));
    REQUIRE(!h.errors().empty());
    CHECK(std::string(rt::RequestErrorCodeName(h.errors().back().code)) ==
          rt::RequestErrorCodeName(c.code));
    CHECK(std::string(rt::RequestErrorCategory(c.code)) == "bad_request");
  }
  std::string large = Req("{}");
  large.insert(large.size() - 1, ", \"pad\": \"" + std::string(5000, 'x') + "\"");
  CHECK(!h.Decode(large));
  CHECK(h.errors()[0].code == rt::RequestErrorCode::kTooLarge);
  // A JSON error wins over a decoding one found earlier, as in the reference.
  CHECK(!h.Decode(R"({"action": 3, "resource": {"type": "doc"}, "x": 1e3})"));
  REQUIRE(h.errors().size() == 1);
  CHECK(h.errors()[0].code == rt::RequestErrorCode::kBadNumber);
  // The decoder recovers for the next request.
  CHECK(h.Decode(Req("{}")));
}

TEST_CASE("large objects: duplicates are found beyond the linear scan") {
  Harness h;
  std::string subject = "{";
  for (int i = 0; i < 100; ++i) subject += "\"k" + std::to_string(i) + "\": 1, ";
  std::string ok = subject + "\"id\": \"ann\"}";
  CHECK(h.Decode(Req(ok)));
  std::string dup = subject + "\"k50\": 2}";
  CHECK(!h.Decode(Req(dup)));
  CHECK(h.errors()[0].code == rt::RequestErrorCode::kDuplicateKey);
  CHECK(h.errors()[0].json_path == "subject.k50");
}

// A frame value against the reference's, deeply (sets member by member, in
// order: both keep sets sorted the same way).
void CheckValue(const bc::Program& p, const bc::TypeRef& type, const rt::Value& v,
                const EvalValue& value) {
  switch (value.kind) {
    case EvalValue::Kind::kBool:
      CHECK(v.i == (value.b ? 1 : 0));
      break;
    case EvalValue::Kind::kString:
      CHECK(std::string(v.s.view()) == value.s);
      break;
    case EvalValue::Kind::kIp:
      CHECK(std::memcmp(v.ip->bytes, value.ip.bytes, 16) == 0);
      CHECK(v.ip->prefix == value.ip.prefix);
      break;
    case EvalValue::Kind::kSet: {
      REQUIRE(v.set.size == value.elements.size());
      bc::TypeRef element = rt::ElementTypeRef(type);
      for (uint32_t k = 0; k < v.set.size; ++k)
        CheckValue(p, element, v.set.data[k], value.elements[k]);
      break;
    }
    case EvalValue::Kind::kRecord: {
      if (type.record < 0) break;  // a request record: presence only
      const bc::RecordShape& shape = p.records[type.record];
      const rt::RecordData& record = *v.rec;
      for (uint32_t f = 0; f < record.count; ++f) {
        CAPTURE(shape.fields[f].name);
        auto at = std::find(value.names.begin(), value.names.end(), shape.fields[f].name);
        REQUIRE((record.present()[f] != 0) == (at != value.names.end()));
        if (at != value.names.end()) {
          CheckValue(p, shape.fields[f].type, record.fields()[f],
                     value.elements[static_cast<size_t>(at - value.names.begin())]);
        }
      }
      break;
    }
    default:
      CHECK(v.i == value.i);
      break;
  }
}

// Values of the frame against the reference decoder's, attribute by attribute.
void CheckAgainstReference(const std::string& json, bool strict) {
  CAPTURE(json);
  Fixture& f = Test();
  rt::DecoderOptions options;
  options.strict = strict;
  options.now_millis = 1767614400000;
  Harness h(options);
  bool ok = h.Decode(json);
  RequestOptions reference_options;
  reference_options.strict = strict;
  reference_options.now_millis = 1767614400000;
  DecodedRequest reference = DecodeRequestJson(*f.compilation->program, json, reference_options);
  CHECK(ok == reference.ok);
  REQUIRE(h.errors().size() == reference.errors.size());
  for (size_t k = 0; k < reference.errors.size(); ++k) {
    CHECK(std::string(rt::RequestErrorCategory(h.errors()[k].code)) == reference.errors[k].code);
    if (reference.errors[k].code != "bad_request" || !reference.errors[k].path.empty())
      CHECK(h.errors()[k].json_path == reference.errors[k].path);
  }
  if (!ok) return;
  const bc::Program& p = h.program();
  for (size_t a = 0; a < p.attributes.size(); ++a) {
    const bc::Attribute& attribute = p.attributes[a];
    if (!h.frame().present(attribute.slot)) continue;
    const auto& value = reference.request.attributes[a];
    CAPTURE(attribute.path);
    if (attribute.resource_type >= 0 && attribute.resource_type != h.frame().resource_type())
      continue;
    REQUIRE(value.has_value());
    CheckValue(p, attribute.type, h.frame().slot(attribute.slot), *value);
  }
}

TEST_CASE("agrees with the reference decoder") {
  const std::string requests[] = {
      Req(R"({"id": "ann", "level": 3, "score": 12, "window": "2d3h4m5s6ms", "tier": "gold",
          "since": "1969-12-31T23:59:59.9995Z", "home": "::ffff:10.0.0.0/104",
          "tags": ["x", "y\n"], "counts": [-1, 9223372036854775807]})"),
      Req(R"({"score": -0.0001, "since": "2026-02-29T00:00:00Z", "home": "10.0.0.0/+8"})"),
      Req(R"({"score": 922337203685477.5807, "since": "2026-03-01T00:00:00.5-05:30"})"),
      Req(R"({"score": 922337203685477.5808, "level": -9223372036854775808})"),
      Req(R"({"window": "0s", "since": "2026-13-01T00:00:00Z", "home": "1.2.3.4/33"})"),
      Req(R"({"window": "1m1m", "since": "2026-01-01t00:00:00z", "home": "1.2.3.4 "})"),
      Req(R"({"profile": null, "auth": {"kind": "nope", "methods": "pwd"}})"),
      Req(R"({"profile": {"nick": null, "active": null, "x": 1}})"),
      Req("[]"),
      Req("{}", R"(, "jit": [1, {"a": 2}], "limits": {"calls": 1.5})"),
      Req("{}", R"(, "limits": {"nope": "x"})"),
      R"({"subject": {"level": "x"}, "action": 3, "resource": {"type": "doc"}})",
      R"({"resource": {"type": "doc", "size": "big"}, "subject": {"level": "x"}, "action": "read"})",
      R"({"resource": {"t\u0079pe": "doc", "size": 1}, "action": "read"})",
      R"({"action": "read", "resource": {"type": 3}})",
      R"({"action": "read", "resource": {"type": "doc"}, "context": 5})",
      R"({"action": "read", "resource": {"type": "doc"}} )",
      R"("just a string")",
      R"({"action": "read", "resource": {"type": "doc"}, "x": -})",
      // Sets of records: order, repeats, nested values, absent and wrong fields.
      Req(R"({"grants": [
          {"app": "b", "level": 2, "scopes": ["y", "x", "x"], "owner": {"id": "o"},
           "nets": ["10.0.0.0/8", "::1"], "peers": [{"id": "q"}, {"id": "p"}, {"id": "q"}]},
          {"app": "a", "level": 1, "scopes": [], "owner": {"id": "p"}, "note": null, "nets": [],
           "peers": []},
          {"app": "b", "level": 2, "scopes": ["x", "y"], "owner": {"id": "o"},
           "nets": ["::1", "10.0.0.0/8"], "peers": [{"id": "p"}, {"id": "q"}]},
          {"app": "c"},
          {"level": 0, "note": "n"}]})"),
      Req(R"({"grants": [{"app": "a", "level": "2"}]})"),
      Req(R"({"grants": [{"app": "a", "bogus": 1}]})"),
      Req(R"({"grants": [{"app": null}]})"),
      Req(R"({"grants": [1]})"),
      Req(R"({"grants": {"app": "a"}})"),
      Req(R"({"grants": [{"owner": {"id": 3}}]})"),
      Req(R"({"grants": [{"peers": [{"id": "a", "x": []}]}]})"),
      Req(R"({"grants": [{"nets": ["10.0.0.0/33"]}]})"),
  };
  for (const std::string& json : requests) {
    CheckAgainstReference(json, false);
    CheckAgainstReference(json, true);
  }
}

TEST_CASE("sets of records: limits on depth, duplicates and the request's memory") {
  {
    rt::DecoderOptions options;
    options.max_depth = 4;
    Harness h(options);
    // subject(1) grants(2) member(3) peers(4) member(5): too deep.
    CHECK(!h.Decode(Req(R"({"grants": [{"peers": [{"id": "a"}]}]})")));
    REQUIRE(h.errors().size() == 1);
    CHECK(h.errors()[0].code == rt::RequestErrorCode::kTooDeep);
  }
  {
    Harness h;
    CHECK(!h.Decode(Req(R"({"grants": [{"app": "a", "app": "b"}]})")));
    REQUIRE(h.errors().size() == 1);
    CHECK(h.errors()[0].code == rt::RequestErrorCode::kDuplicateKey);
    CHECK(h.errors()[0].json_path == "subject.grants[0].app");
  }
  {
    Harness h;
    REQUIRE(h.Decode(Req(R"({"grants": [{"app": "a", "level": 1}, {"app": "a", "level": 1}]})")));
    CHECK(h.Set("subject.grants").size == 1);
    CHECK(h.Set("subject.grants").element == bc::ValueKind::kRecord);
  }
  {
    // A frame whose arena cannot hold the set: the request is refused, never cut short.
    const Engine& engine = *Test().engine;
    rt::RequestDecoder decoder(engine.program(), engine.request_schema());
    rt::FrameOptions small;
    small.max_arena_bytes = 512;
    rt::Frame frame(engine.program(), small);
    std::string members;
    for (int k = 0; k < 40; ++k)
      members +=
          std::string(k ? ", " : "") + R"({"app": "a)" + std::to_string(k) + R"(", "level": 1})";
    CHECK(!decoder.Decode(Req(R"({"grants": [)" + members + "]}"), &frame));
    REQUIRE(decoder.errors().size() == 1);
    CHECK(decoder.errors()[0].code == rt::RequestErrorCode::kTooLarge);
  }
}

TEST_CASE("end to end: the payments example decides from JSON like from a hand-built frame") {
  EngineOptions options;
  options.data.emplace_back("sanctioned_countries", DataValue::List({}));
  options.data.emplace_back("blocked_networks",
                            DataValue::List({DataValue::String("203.0.113.0/24")}));
  EngineBuild build =
      CompileToEngine(PolicySources::Paths({std::string(WARDEN_SOURCE_DIR) + "/examples/payments"}),
                      {}, std::move(options));
  REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
  auto& engine = build.engine;
  rt::DecoderOptions decoder_options;
  decoder_options.now_millis = 1772445600000;
  JsonSession session(**engine, decoder_options);
  const std::string permit = R"({"subject": {"id": "anna", "roles": ["payment_approver"],
      "department": "ops", "auth": {"auth_age": "10m"}},
    "action": "approve",
    "resource": {"type": "payment", "id": "p-1", "amount": 800.00, "department": "ops",
                 "created_by": "carl", "status": "pending", "beneficiary_country": "FR",
                 "beneficiary_iban": "FR7630006000011234567890189"},
    "context": {"ip": "198.51.100.20", "device": {"known": true}}})";
  Decision d;
  REQUIRE((*engine)->DecideJson(permit, session, &d));
  CHECK(d.outcome == rt::Outcome::kPermit);
  REQUIRE(d.rules.size() == 1);
  CHECK(d.rules[0].name == "approve_within_limit");
  REQUIRE(d.obligations.size() == 1);
  CHECK(d.obligations[0].name == "audit");
  CHECK(d.args[0].value == "p-1");
  CHECK(d.args[1].value == "800");
  CHECK(d.errors.empty());

  std::string maker = permit;
  maker.replace(maker.find("\"carl\""), 6, "\"anna\"");
  REQUIRE((*engine)->DecideJson(maker, session, &d));
  CHECK(d.outcome == rt::Outcome::kDeny);
  REQUIRE(!d.reasons.empty());
  CHECK(d.reasons[0] == "the creator of a payment cannot approve it");

  std::string large = permit;
  large.replace(large.find("800.00"), 6, "6000.00");
  REQUIRE((*engine)->DecideJson(large, session, &d));
  CHECK(d.outcome == rt::Outcome::kStepUp);
  CHECK(d.challenge == "mfa");

  // A rejected request: deny with a bad_request error.
  DecisionOrRequestError rejected = (*engine)->DecideJson("{\"action\": 1}", session);
  CHECK(!rejected.ok);
  CHECK(rejected.decision.outcome == rt::Outcome::kDeny);
  REQUIRE(!rejected.decision.errors.empty());
  CHECK(rejected.decision.errors[0].code == rt::EvalError::kBadRequest);
  CHECK(rejected.errors.back().code == rt::RequestErrorCode::kMissingAction);
}

}  // namespace
}  // namespace warden
