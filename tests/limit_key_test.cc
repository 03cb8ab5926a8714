// Limit keys end to end: the checker's rule on `by` expressions, the code
// generator's LimitKey table, the bundle (format version 2) and verifier,
// the disassembly, and rt::AppendLimitKey on decoded requests.
#include "runtime/limit_key.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/bytecode/disasm.h"
#include "runtime/request_decoder.h"
#include "warden/engine.h"

namespace warden {
namespace {

constexpr const char* kPolicy = R"(package t

schema {
  subject {
    team: string
    plan: enum { free, pro }
    quota: int
  }
  context { device_tag: string? }
  resource doc { owner: string }
  resource model { size: int }
  actions { read, call }
}

limit per_subject: 10 per 1h by subject.id, context.ip
limit per_action: 5 per 1m by action, resource.type
limit per_team: 5 per 1m by subject.team, subject.plan, subject.auth.mfa, subject.quota
limit per_tag: 5 per 1m by context.device_tag, resource.id

policy p on doc {
  rule r: permit read if not limits.per_subject.exceeded
}
)";

std::string Diagnostics(const Compilation& compilation) {
  std::string text;
  for (const Diagnostic& d : compilation.diagnostics.Sorted())
    text += RenderText(d, compilation.sources);
  return text;
}

BuildOptions NoLints() {
  BuildOptions options;
  options.compile.run_lints = false;
  return options;
}

bc::Program CompileProgram(const std::string& source) {
  BundleBuild build = CompileToBundle(PolicySources::Texts({{"t.warden", source}}), NoLints());
  REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
  return *std::move(build.program);
}

// The diagnostics of `limit` declarations added to kPolicy's schema.
std::string CheckLimit(const std::string& declarations) {
  CompileOptions options;
  options.run_lints = false;
  auto compilation =
      CompileSources({{"t.warden", std::string(kPolicy) + declarations + "\n"}}, options);
  return Diagnostics(*compilation);
}

struct Keys {
  explicit Keys(const std::string& source = kPolicy) {
    EngineBuild build = CompileToEngine(PolicySources::Texts({{"t.warden", source}}), NoLints());
    REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
    engine_ = *std::move(build.engine);
    decoder_ = std::make_unique<rt::RequestDecoder>(engine_->program(), engine_->request_schema());
    frame_ = std::make_unique<rt::Frame>(engine_->NewFrame());
  }
  // The key of limit `name` for the JSON request.
  std::string Of(const char* name, const std::string& json) {
    REQUIRE_MESSAGE(decoder_->Decode(json, frame_.get()), json);
    int limit = engine_->program().FindLimit(name);
    REQUIRE(limit >= 0);
    std::string key;
    rt::AppendLimitKey(engine_->program(), static_cast<uint32_t>(limit), *frame_, &key);
    return key;
  }
  const bc::Program& program() const { return engine_->program(); }
  rt::Frame& frame() { return *frame_; }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<rt::RequestDecoder> decoder_;
  std::unique_ptr<rt::Frame> frame_;
};

std::string Request(
    const std::string& subject, const std::string& context = "{}",
    const std::string& action = "read",
    const std::string& resource = R"({"type": "doc", "id": "d1", "owner": "ann"})") {
  return R"({"subject": )" + subject + R"(, "action": ")" + action + R"(", "resource": )" +
         resource + R"(, "context": )" + context + "}";
}

const char* kAnn = R"({"id": "ann", "team": "red", "plan": "pro", "quota": 7})";
const char* kBob = R"({"id": "bob", "team": "red", "plan": "pro", "quota": 7})";

// ---------------------------------------------------------------- checker

TEST_CASE("limit keys: attribute paths, action and resource type/id are accepted") {
  CHECK(CheckLimit("limit a: 1 per 1m by subject.auth.kind, context.geo.country, resource.id") ==
        "");
  CHECK(CheckLimit("limit a: 1 per 1m by context.device.id, subject.auth.key_id, action") == "");
}

TEST_CASE("limit keys: anything the front-end cannot read from the frame is an error") {
  std::string computed = CheckLimit("limit a: 1 per 1m by subject.quota + 1");
  CHECK(computed.find("error[E0201]: a limit key must be an attribute path") != std::string::npos);
  CHECK(computed.find("t.warden:") != std::string::npos);
  CHECK(computed.find("help: key a limit by `subject.…`") != std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by \"everyone\"").find("must be an attribute path") !=
        std::string::npos);
  CHECK(CheckLimit("const k = \"x\"\nlimit a: 1 per 1m by k").find("must be an attribute path") !=
        std::string::npos);
  CHECK(CheckLimit("data names: set<string>\nlimit a: 1 per 1m by data.names")
            .find("must be an attribute path") != std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by subject.team.lower()").find("must be an attribute path") !=
        std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by lower(subject.team)").find("must be an attribute path") !=
        std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by subject").find("must be an attribute path") !=
        std::string::npos);
  std::string owner = CheckLimit("limit a: 1 per 1m by resource.owner");
  CHECK(owner.find("a limit key can read only `resource.type` or `resource.id`") !=
        std::string::npos);
  CHECK(owner.find("help: ") != std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by subject.roles").find("must be a single value") !=
        std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by subject.auth").find("must be a single value") !=
        std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by subject.nope").find("has no attribute `nope`") !=
        std::string::npos);
  CHECK(CheckLimit("limit a: 1 per 1m by subject.id, subject.id, subject.id, subject.id, "
                   "subject.id, subject.id, subject.id, subject.id, subject.id")
            .find("at most 8") != std::string::npos);
}

// ---------------------------------------------------------------- bytecode

TEST_CASE("limit keys: codegen, bundle round trip, disassembly") {
  bc::Program program = CompileProgram(kPolicy);
  const bc::Limit& subject = program.limits[program.FindLimit("per_subject")];
  REQUIRE(subject.keys.size() == 2);
  CHECK(subject.keys[0].kind == bc::LimitKey::Kind::kSlot);
  CHECK(subject.keys[0].path == "subject.id");
  CHECK(subject.keys[0].slot == program.attributes[program.FindAttribute("subject.id")].slot);
  CHECK(subject.keys[1].path == "context.ip");
  const bc::Limit& action = program.limits[program.FindLimit("per_action")];
  REQUIRE(action.keys.size() == 2);
  CHECK(action.keys[0].kind == bc::LimitKey::Kind::kAction);
  CHECK(action.keys[0].path == "action");
  CHECK(action.keys[1].kind == bc::LimitKey::Kind::kResourceType);
  CHECK(action.keys[1].path == "resource.type");

  std::string bytes = bc::WriteBundle(program);
  auto loaded = bc::ReadBundle(bytes);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
  CHECK(loaded->limits[0].keys.size() == program.limits[0].keys.size());
  CHECK(bc::WriteBundle(*loaded) == bytes);
  std::string listing = bc::Disassemble(*loaded);
  CHECK(listing.find("per_subject: 10 per 3600000ms by subject.id @") != std::string::npos);
  CHECK(listing.find("per_action: 5 per 60000ms by action, resource.type (resource type, @") !=
        std::string::npos);
}

TEST_CASE("limit keys: bundles of format version 1 are refused") {
  CHECK(bc::kBundleFormatVersion >= 2);  // key components since version 2
  std::string bytes = bc::WriteBundle(CompileProgram(kPolicy));
  bytes[4] = 1;
  auto loaded = bc::ReadBundle(bytes);
  REQUIRE(!loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(loaded.status().message().find("unsupported bundle format version 1") != std::string::npos);
}

TEST_CASE("limit keys: the verifier rejects hostile key tables") {
  const bc::Program good = CompileProgram(kPolicy);
  REQUIRE(bc::Verify(good).ok());
  // Each case is rejected for its own reason, which the message names.
  auto rejected = [](const bc::Program& p, const char* what, const char* reason) {
    auto loaded = bc::ReadBundle(bc::WriteBundle(p));  // a valid checksum
    REQUIRE_MESSAGE(!loaded.ok(), what);
    INFO(what, ": ", loaded.status().ToString());
    CHECK(loaded.status().message().find(reason) != std::string_view::npos);
  };
  uint32_t roles = good.attributes[good.FindAttribute("subject.roles")].slot;
  uint32_t auth = good.attributes[good.FindAttribute("subject.auth")].slot;
  {
    bc::Program p = good;
    p.limits[0].keys[0].slot = p.slot_count;
    rejected(p, "slot out of range", "limit 0 key 0: slot out of range");
  }
  {
    bc::Program p = good;
    p.limits[0].keys[0].slot = roles;
    rejected(p, "a set slot", "limit 0 key 0: the slot holds no single value");
  }
  {
    bc::Program p = good;
    p.limits[0].keys[0].slot = auth;
    rejected(p, "a record slot", "limit 0 key 0: the slot holds no single value");
  }
  {
    bc::Program p = good;
    p.limits[0].keys[0].kind = static_cast<bc::LimitKey::Kind>(7);
    // The bundle reader refuses the unknown enumerator before the verifier
    // runs; the verifier, given the program directly, names the key.
    absl::Status verified = bc::Verify(p);
    CHECK(verified.message().find("limit 0 key 0: invalid kind") != std::string_view::npos);
    absl::Status read = bc::ReadBundle(bc::WriteBundle(p)).status();
    CHECK(read.code() == absl::StatusCode::kDataLoss);
    CHECK(read.message().find("an enumerated value is out of range") != std::string_view::npos);
  }
  {
    bc::Program p = good;
    p.limits[0].keys.resize(bc::kMaxLimitKeys + 1, p.limits[0].keys[0]);
    rejected(p, "too many keys", "key components exceed the limit of 8");
  }
  {
    bc::Program p = good;
    p.limits[p.FindLimit("per_action")].keys[0].slot = 1;  // an action key has no slot
    rejected(p, "action with a slot", "key 0: an action key has no slot");
  }
  {
    bc::Program p = good;
    p.limits[p.FindLimit("per_action")].keys[1].slot =
        good.attributes[good.FindAttribute("subject.quota")].slot;
    rejected(p, "resource type key on an int slot",
             "key 1: the resource type slot must hold a string");
  }
  {
    bc::Program p = good;
    p.limits[0].name = "a|b";
    rejected(p, "separator in the name", "limit 0: the name is not an identifier");
  }
}

// ---------------------------------------------------------------- keys

TEST_CASE("limit keys: equal requests, equal keys; a differing attribute, another key") {
  Keys keys;
  std::string ann = keys.Of("per_subject", Request(kAnn, R"({"ip": "10.0.0.7"})"));
  CHECK(ann == "per_subject|s3:ann|p10.0.0.7");
  CHECK(keys.Of("per_subject", Request(kAnn, R"({"ip": "10.0.0.7"})")) == ann);
  // Attributes outside the key do not matter.
  CHECK(keys.Of("per_subject", Request(kAnn, R"({"ip": "10.0.0.7", "device_tag": "x"})", "call")) ==
        ann);
  CHECK(keys.Of("per_subject", Request(kBob, R"({"ip": "10.0.0.7"})")) != ann);
  CHECK(keys.Of("per_subject", Request(kAnn, R"({"ip": "10.0.0.8"})")) != ann);
  CHECK(keys.Of("per_subject", Request(kAnn, R"({"ip": "2001:db8::1"})")) ==
        "per_subject|s3:ann|p2001:db8::1");
}

// Issue 12, item 5: a limit by context.ip counts the address, however spelled.
TEST_CASE("limit keys: an address is keyed by its value, not its spelling") {
  Keys keys;
  auto key = [&](const char* ip) {
    return keys.Of("per_subject", Request(kAnn, absl::StrCat(R"({"ip": ")", ip, R"("})")));
  };
  const std::string v4 = key("10.250.0.9");
  CHECK(v4 == "per_subject|s3:ann|p10.250.0.9");
  for (const char* spelling : {"::ffff:10.250.0.9", "::FFFF:afa:9", "0:0:0:0:0:ffff:10.250.0.9"})
    CHECK_MESSAGE(key(spelling) == v4, spelling);
  const std::string v6 = key("2001:db8::7");
  CHECK(v6 == "per_subject|s3:ann|p2001:db8::7");
  for (const char* spelling : {"2001:DB8::7", "2001:0db8:0000:0000:0000:0000:0000:0007"})
    CHECK_MESSAGE(key(spelling) == v6, spelling);
}

TEST_CASE("limit keys: an absent optional attribute is a bucket of its own") {
  Keys keys;
  std::string absent = keys.Of("per_subject", Request(kAnn));
  CHECK(absent == "per_subject|s3:ann|-");
  CHECK(keys.Of("per_subject", Request(kAnn, R"({"ip": "10.0.0.7"})")) != absent);
  std::string no_tag = keys.Of("per_tag", Request(kAnn));
  CHECK(no_tag == "per_tag|-|s2:d1");
  std::string empty_tag = keys.Of("per_tag", Request(kAnn, R"({"device_tag": ""})"));
  CHECK(empty_tag == "per_tag|s0:|s2:d1");
  CHECK(empty_tag != no_tag);
  std::string dash_tag = keys.Of("per_tag", Request(kAnn, R"({"device_tag": "-"})"));
  CHECK(dash_tag != no_tag);
}

TEST_CASE("limit keys: '|' in values cannot make two tuples collide") {
  Keys keys;
  auto tag_and_id = [&](const std::string& tag, const std::string& id) {
    return keys.Of("per_tag", Request(kAnn, R"({"device_tag": ")" + tag + R"("})", "read",
                                      R"({"type": "doc", "id": ")" + id + R"(", "owner": "ann"})"));
  };
  std::string a = tag_and_id("a|b", "c");
  std::string b = tag_and_id("a", "b|c");
  CHECK(a != b);
  CHECK(a == "per_tag|s3:a|b|s1:c");
  CHECK(tag_and_id("a|s1:b", "c") != tag_and_id("a", "b|s1:c"));
  CHECK(tag_and_id("", "") == "per_tag|s0:|s0:");
}

TEST_CASE("limit keys: action and resource type by name") {
  Keys keys;
  std::string read_doc = keys.Of("per_action", Request(kAnn));
  CHECK(read_doc == "per_action|a4:read|t3:doc");
  std::string call_model = keys.Of(
      "per_action", Request(kAnn, "{}", "call", R"({"type": "model", "id": "m", "size": 1})"));
  CHECK(call_model == "per_action|a4:call|t5:model");
  CHECK(keys.Of("per_action", Request(kAnn, "{}", "call")) == "per_action|a4:call|t3:doc");
  // Undeclared ones: every undeclared action shares a bucket; a resource
  // type keeps its name.
  CHECK(keys.Of("per_action", Request(kAnn, "{}", "dance", R"({"type": "image", "id": "i"})")) ==
        "per_action|a?|t5:image");
}

TEST_CASE("limit keys: enums by member name, ints, bools and defaults") {
  Keys keys;
  std::string pro = keys.Of("per_team", Request(kAnn));
  CHECK(pro == "per_team|s3:red|e3:pro|b0|i7");  // subject.auth.mfa defaults to false
  CHECK(keys.Of("per_team", Request(R"({"id": "ann", "team": "red", "plan": "pro", "quota": 7,
                                        "auth": {"mfa": false}})")) == pro);
  CHECK(keys.Of("per_team", Request(R"({"id": "ann", "team": "red", "plan": "pro", "quota": 7,
                                        "auth": {"mfa": true}})")) ==
        "per_team|s3:red|e3:pro|b1|i7");
  CHECK(keys.Of("per_team",
                Request(R"({"id": "ann", "team": "red", "plan": "free", "quota": -3})")) ==
        "per_team|s3:red|e4:free|b0|i-3");
  // A required attribute without a default that the request lacks.
  CHECK(keys.Of("per_team", Request(R"({"id": "ann", "plan": "free", "quota": 1})")) ==
        "per_team|-|e4:free|b0|i1");
}

TEST_CASE("limit keys: decimals, durations, timestamps and built-in enums") {
  Keys keys(R"(package t
schema {
  subject { score: decimal  window: duration  since: timestamp }
  resource doc { owner: string }
  actions { read }
}
limit l: 1 per 1m by subject.score, subject.window, subject.since, subject.auth.kind, context.time
)");
  std::string key = keys.Of("l", R"({"subject": {"id": "a", "score": 1.5, "window": "2s",
    "since": "1970-01-01T00:00:01Z", "auth": {"kind": "token"}}, "action": "read",
    "resource": {"type": "doc", "id": "d"}, "context": {"time": "1970-01-01T00:00:02Z"}})");
  CHECK(key == "l|i15000|i2000|i1000|e5:token|i2000");
  // context.time defaults to the decision time.
  std::string defaulted = keys.Of("l", R"({"subject": {"id": "a", "score": 0, "window": "1s",
    "since": "1970-01-01T00:00:00Z"}, "action": "read", "resource": {"type": "doc", "id": "d"}})");
  CHECK(defaulted.rfind("l|i0|i1000|i0|e4:none|i", 0) == 0);
}

TEST_CASE("limit keys: no allocation once the string has capacity; bad indices") {
  Keys keys;
  std::string json = Request(kAnn, R"({"ip": "10.0.0.7"})");
  REQUIRE(keys.decoder_->Decode(json, &keys.frame()));
  std::string key;
  key.reserve(256);
  const char* data = key.data();
  for (uint32_t limit = 0; limit < keys.program().limits.size(); ++limit) {
    rt::AppendLimitKey(keys.program(), limit, keys.frame(), &key);
    CHECK(!key.empty());
    CHECK(key.data() == data);
  }
  rt::AppendLimitKey(keys.program(), 99, keys.frame(), &key);
  CHECK(key.empty());
}

}  // namespace
}  // namespace warden
