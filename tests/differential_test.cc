// Randomised differential testing: the bytecode VM and the reference
// evaluator must decide every request identically.
//
// For the examples' policies (with the standard library) and every
// conformance file the code generator supports, requests are generated from
// a fixed seed: random subsets of the declared attributes (nested records
// included), values drawn from the constants that appear in the policies
// (and their neighbours) plus random and extreme ones, random declared roles
// plus an undeclared one, declared and undeclared actions and resource
// types, random JIT grants and limit counts (around each limit, or
// unavailable), random decision times, and random data values supplied at
// load. Each request is decoded as JSON by the reference decoder
// (lenient), decided by the reference evaluator, put into a frame by
// vm_bridge.h and decided by the engine; outcome, challenge, deciding rules
// and errors (codes and lines) must be equal (CompareDecisions), and for
// every 4th request the explanations (CompareExplanations). The first mismatch of
// each program is reported with the request.
//
// Default: 24,000 requests. WARDEN_DIFF_REQUESTS=N runs N (the `slow` ctest
// entry differential_test_long runs 1,000,000); WARDEN_DIFF_SEED=S changes
// the seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/reference/reference_evaluator.h"
#include "cli/reference/request.h"
#include "cli/reference/vm_bridge.h"
#include "compiler/driver.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"

namespace warden {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kDefaultRequests = 24000;
constexpr int kDataVariants = 4;  // engines per program, each with its own random data

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoll(text, nullptr, 10);
}

// Constants of the policies, by type kind (set constants contribute their
// elements).
class Constants {
 public:
  explicit Constants(const CheckedProgram& program) {
    for (const Policy& policy : program.policies) {
      for (const Rule& rule : policy.rules) {
        if (rule.condition) Walk(*rule.condition);
        for (const RuleExtra& extra : rule.extras) {
          for (const auto& arg : extra.args) Walk(*arg.second);
        }
      }
    }
    for (const RiskScore& risk : program.risks) {
      for (const RiskFactor& factor : risk.factors) {
        if (factor.condition) Walk(*factor.condition);
      }
    }
    for (const RateLimit& limit : program.limits) {
      for (const auto& key : limit.keys) Walk(*key);
    }
  }
  const std::vector<Value>& Of(TypeKind kind) const {
    static const std::vector<Value> kNone;
    auto it = by_kind_.find(kind);
    return it == by_kind_.end() ? kNone : it->second;
  }

 private:
  void Add(const Value& value) {
    if (value.kind == TypeKind::kSet) {
      for (const Value& element : value.elements) Add(element);
      return;
    }
    by_kind_[value.kind].push_back(value);
  }
  void Walk(const CExpr& expr) {
    if (expr.kind == CExprKind::kConstant) Add(expr.value);
    for (const auto& arg : expr.args) {
      if (arg) Walk(*arg);
    }
  }
  std::map<TypeKind, std::vector<Value>> by_kind_;
};

class Generator {
 public:
  Generator(const CheckedProgram& program, uint64_t seed)
      : program_(program), constants_(program), rng_(seed) {}

  uint64_t Next() { return rng_(); }
  size_t Pick(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  int64_t Range(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1));
  }

  int64_t Now() {
    const std::vector<Value>& stamps = constants_.Of(TypeKind::kTimestamp);
    if (!stamps.empty() && Chance(40)) return Near(stamps[Pick(stamps.size())].int_value, 60000);
    // Around the test default (Monday 2026-01-05T12:00Z): every weekday and hour.
    return kDefaultTestTimeMillis + Range(-7 * kDay, 7 * kDay);
  }

  // A request as JSON text.
  std::string Request() {
    std::string out = "{";
    // Resource type: declared ones mostly, sometimes an undeclared one.
    int type = -1;
    std::string type_name = "undeclared_type";
    if (!program_.resource_types.empty() && !Chance(8)) {
      type = static_cast<int>(Pick(program_.resource_types.size()));
      type_name = program_.resource_types[type].name;
    }
    std::string action = "undeclared_action";
    if (!program_.actions.empty() && !Chance(8))
      action = program_.actions[Pick(program_.actions.size())].name;
    absl::StrAppend(&out, "\"action\": ", Quote(action));
    absl::StrAppend(&out, ", \"subject\": ", Record(*program_.subject, "subject"));
    const RecordType* resource =
        type >= 0 ? program_.resource_types[type].record : program_.any_resource;
    std::string fields = Fields(*resource, "resource");
    absl::StrAppend(&out, ", \"resource\": {\"type\": ", Quote(type_name),
                    fields.empty() ? "" : ", ", fields, "}");
    if (program_.context != nullptr && Chance(90))
      absl::StrAppend(&out, ", \"context\": ", Record(*program_.context, "context"));
    if (!program_.jit_profiles.empty() && Chance(30)) {
      std::vector<std::string> grants;
      for (const JitProfile& jit : program_.jit_profiles) {
        if (Chance(40)) grants.push_back(Quote(jit.name));
      }
      absl::StrAppend(&out, ", \"jit\": [", absl::StrJoin(grants, ", "), "]");
    }
    if (!program_.limits.empty() && Chance(70)) {
      std::vector<std::string> counts;
      for (const RateLimit& limit : program_.limits) {
        if (!Chance(70)) continue;
        std::string count;
        switch (Pick(6)) {
          case 0:
            count = "null";  // the counter store could not be read
            break;
          case 1:
            count = "0";
            break;
          case 2:
            count = absl::StrCat(std::max<int64_t>(0, limit.count - 1));
            break;
          case 3:
            count = absl::StrCat(limit.count);
            break;
          case 4:
            count = absl::StrCat(limit.count + 1);
            break;
          default:
            count = absl::StrCat(Range(0, limit.count * 3 + 5));
        }
        counts.push_back(absl::StrCat(Quote(limit.name), ": ", count));
      }
      absl::StrAppend(&out, ", \"limits\": {", absl::StrJoin(counts, ", "), "}");
    }
    out += "}";
    return out;
  }

  // Every declared data value, as the JSON object `warden eval --data` reads.
  std::string Data() {
    std::vector<std::string> members;
    spell_invalid_ = false;
    for (const DataSlot& data : program_.data)
      members.push_back(absl::StrCat(Quote(data.name), ": ", ValueText(data.type, "data")));
    spell_invalid_ = true;
    return absl::StrCat("{", absl::StrJoin(members, ", "), "}");
  }

 private:
  static std::string Quote(const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  int64_t Near(int64_t value, int64_t spread) {
    int64_t delta = Range(-spread, spread);
    if (Chance(50)) delta = Range(-1, 1);
    int64_t out = 0;
    if (__builtin_add_overflow(value, delta, &out)) return value;
    return out;
  }

  std::string Fields(const RecordType& record, const std::string& path) {
    std::vector<std::string> members;
    for (const Field& field : record.fields) {
      if (path == "resource" && field.name == "type") continue;
      if (path == "subject" && field.name == "roles") {
        if (!Chance(85)) continue;
        std::vector<std::string> roles;
        for (const Role& role : program_.roles) {
          if (Chance(25)) roles.push_back(Quote(role.name));
        }
        if (Chance(15)) roles.push_back(Quote("undeclared_role"));
        members.push_back(absl::StrCat("\"roles\": [", absl::StrJoin(roles, ", "), "]"));
        continue;
      }
      // Required attributes are mostly present, optional ones half the time.
      if (!Chance(field.optional ? 50 : 80)) continue;
      if (field.optional && Chance(10)) {
        members.push_back(absl::StrCat(Quote(field.name), ": null"));
        continue;
      }
      std::string child = absl::StrCat(path, ".", field.name);
      if (field.type->kind == TypeKind::kRecord) {
        members.push_back(
            absl::StrCat(Quote(field.name), ": ", Record(*field.type->record, child)));
      } else {
        members.push_back(absl::StrCat(Quote(field.name), ": ", ValueText(field.type, child)));
      }
    }
    return absl::StrJoin(members, ", ");
  }

  std::string Record(const RecordType& record, const std::string& path) {
    return absl::StrCat("{", Fields(record, path), "}");
  }

  std::string ValueText(const Type* type, const std::string& path) {
    switch (type->kind) {
      case TypeKind::kBool:
        return Chance(50) ? "true" : "false";
      case TypeKind::kInt:
        return absl::StrCat(Int());
      case TypeKind::kDecimal:
        return DecimalSpelling(Decimal());
      case TypeKind::kString:
        return Quote(String());
      case TypeKind::kDuration:
        return Quote(DurationSpelling(Duration()));
      case TypeKind::kTimestamp:
        return Quote(TimestampSpelling(Timestamp()));
      case TypeKind::kIp:
        return Quote(IpSpelling(Ip()));
      case TypeKind::kEnum: {
        const std::vector<std::string>& members = type->enumeration->members;
        if (members.empty() || Chance(3)) return Quote("not_a_member");  // wrong_type: absent
        return Quote(members[Pick(members.size())]);
      }
      case TypeKind::kSet: {
        if (type->element == nullptr || type->element->kind == TypeKind::kSet) return "[]";
        std::vector<std::string> items;
        size_t count = Pick(Chance(80) ? 4 : 8);
        for (size_t k = 0; k < count; ++k) {
          // Repeats too: sets hold none, however the request lists them.
          if (!items.empty() && Chance(15)) {
            items.push_back(items[Pick(items.size())]);
            continue;
          }
          items.push_back(ValueText(type->element, absl::StrCat(path, "[]")));
        }
        return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
      }
      case TypeKind::kRecord:
        return Record(*type->record, path);
      case TypeKind::kError:
        break;
    }
    return "null";
  }

  int64_t Int() {
    const std::vector<Value>& pool = constants_.Of(TypeKind::kInt);
    if (!pool.empty() && Chance(50)) return Near(pool[Pick(pool.size())].int_value, 3);
    switch (Pick(8)) {
      case 0:
        return INT64_MAX - Range(0, 2);
      case 1:
        return INT64_MIN + Range(0, 2);
      case 2:
        return Range(-1, 1);
      default:
        return Range(-1000, 1000);
    }
  }

  int64_t Decimal() {
    const std::vector<Value>& pool = constants_.Of(TypeKind::kDecimal);
    if (!pool.empty() && Chance(50)) return Near(pool[Pick(pool.size())].int_value, 10000);
    switch (Pick(8)) {
      case 0:
        return INT64_MAX - Range(0, 2);
      case 1:
        return -INT64_MAX + Range(0, 2);
      case 2:
        return Range(-1, 1);
      default:
        return Range(-100000000, 100000000);
    }
  }

  std::string String() {
    const std::vector<Value>& pool = constants_.Of(TypeKind::kString);
    if (!pool.empty() && Chance(60)) {
      std::string s = pool[Pick(pool.size())].string_value;
      switch (Pick(6)) {
        case 0:
          return s + "x";
        case 1:
          return "x" + s;
        case 2: {
          std::string upper = s;
          for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          return upper;
        }
        default:
          return s;
      }
    }
    static const char* const kWords[] = {"",       "a",  "anna", "bob", "carl", "ops",
                                         "team-a", "FR", "é",    "x y", "ALL",  "alice"};
    return kWords[Pick(std::size(kWords))];
  }

  int64_t Duration() {
    const std::vector<Value>& pool = constants_.Of(TypeKind::kDuration);
    if (!pool.empty() && Chance(60))
      return std::max<int64_t>(0, Near(pool[Pick(pool.size())].int_value, 1000));
    if (Chance(5)) return INT64_MAX / 2 + Range(0, 1000);
    return Range(0, 3 * kDay);
  }

  int64_t Timestamp() {
    const std::vector<Value>& pool = constants_.Of(TypeKind::kTimestamp);
    if (!pool.empty() && Chance(50)) return Near(pool[Pick(pool.size())].int_value, 3600000);
    return kDefaultTestTimeMillis + Range(-400 * kDay, 400 * kDay);
  }

  IpNetwork Ip() {
    const std::vector<Value>& pool = constants_.Of(TypeKind::kIp);
    IpNetwork ip;
    if (!pool.empty() && Chance(60)) {
      ip = pool[Pick(pool.size())].ip;
      int max = ip.v6 ? 128 : 32;
      int prefix = ip.prefix;
      // An address inside the network (random host bits), or next to it.
      for (int bit = prefix; bit < max; ++bit) {
        if (Chance(50)) ip.bytes[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
      }
      if (Chance(20) && prefix > 0) {
        int bit = prefix - 1;
        ip.bytes[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
      }
      ip.prefix = Chance(85) ? max : prefix;
      // A network keeps its host bits clear (data files reject anything else).
      for (int bit = ip.prefix; bit < max; ++bit)
        ip.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    } else {
      ip.v6 = Chance(15);
      int bytes = ip.v6 ? 16 : 4;
      for (int k = 0; k < bytes; ++k) ip.bytes[k] = static_cast<uint8_t>(Next());
      ip.prefix = ip.v6 ? 128 : 32;
    }
    return ip;
  }

  // Values are spelled canonically, in another valid spelling, or (in
  // requests only: a data file that does not load is no comparison) in an
  // invalid one, which both decoders must refuse alike
  // (docs/language.md, "Value syntax").
  bool Misspell() { return spell_invalid_ && Chance(4); }

  std::string DecimalSpelling(int64_t scaled) {
    std::string canonical = values::DecimalString(scaled);
    if (Misspell()) return Pick(2) == 0 ? absl::StrCat(canonical, "1e0") : canonical + "00001";
    switch (Pick(3)) {
      case 0:
        return canonical;
      case 1: {  // always four fractional digits: "10.5000"
        std::string padded = canonical;
        padded.append(4 - (padded.size() - padded.find('.') - 1), '0');
        return padded;
      }
      default:  // a whole number as an integer: "800"
        return scaled % values::kDecimalScale == 0 ? absl::StrCat(scaled / values::kDecimalScale)
                                                   : canonical;
    }
  }

  std::string DurationSpelling(int64_t millis) {
    std::string canonical = values::DurationString(millis);
    if (Misspell()) return Pick(2) == 0 ? canonical + canonical : canonical + " ";
    switch (Pick(4)) {
      case 0:
        return canonical;
      case 1:
        return absl::StrCat(millis, "ms");
      case 2:
        return millis % 1000 == 0 ? absl::StrCat(millis / 1000, "s") : canonical;
      default:
        return "00" + canonical;  // leading zeros read as written
    }
  }

  std::string TimestampSpelling(int64_t millis) {
    std::string canonical = values::TimestampString(millis);
    if (Misspell()) return canonical.substr(0, canonical.size() - 1);  // no offset
    switch (Pick(4)) {
      case 0:
        return canonical;
      case 1: {  // the same instant at another offset
        int minutes = static_cast<int>(Range(-23 * 60 - 59, 23 * 60 + 59));
        std::string local = values::TimestampString(millis + int64_t{minutes} * 60000);
        local.pop_back();
        int magnitude = minutes < 0 ? -minutes : minutes;
        return absl::StrFormat("%s%c%02d:%02d", local, minutes < 0 ? '-' : '+', magnitude / 60,
                               magnitude % 60);
      }
      case 2: {  // lower case, and digits past the millisecond
        std::string lower = canonical;
        lower.pop_back();
        size_t dot = lower.find('.');
        if (dot == std::string::npos) {
          dot = lower.size();
          lower += '.';
        }
        lower.append(dot + 4 - lower.size(), '0');  // the milliseconds, then finer digits
        lower += "999z";
        lower[10] = 't';
        return lower;
      }
      default:
        return absl::StrCat(canonical.substr(0, canonical.size() - 1), "+00:00");
    }
  }

  std::string IpSpelling(const IpNetwork& ip) {
    std::string canonical = values::IpString(ip);
    if (Misspell()) return Pick(2) == 0 ? "0" + canonical : canonical + "%eth0";
    if (Pick(3) != 0) return canonical;
    if (!ip.v6) {  // IPv4-mapped IPv6 is the IPv4 address
      int max = 32;
      std::string address = canonical.substr(0, canonical.find('/'));
      return ip.prefix == max ? "::ffff:" + address
                              : absl::StrCat("::FFFF:", address, "/", 96 + ip.prefix);
    }
    std::string expanded;  // eight groups with leading zeros, upper case
    for (int group = 0; group < 8; ++group) {
      absl::StrAppendFormat(&expanded, "%s%02X%02X", group == 0 ? "" : ":", ip.bytes[2 * group],
                            ip.bytes[2 * group + 1]);
    }
    return ip.prefix == 128 ? expanded : absl::StrCat(expanded, "/", ip.prefix);
  }

  const CheckedProgram& program_;
  Constants constants_;
  std::mt19937_64 rng_;
  bool spell_invalid_ = true;
};

struct Target {
  std::string name;
  std::vector<std::string> paths;
};

std::vector<Target> Targets() {
  std::string root = WARDEN_SOURCE_DIR;
  std::vector<Target> targets;
  targets.push_back({"examples + stdlib", {root + "/examples", root + "/stdlib-policies"}});
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/tests/conformance")) {
    if (entry.path().extension() == ".warden") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files)
    targets.push_back({std::filesystem::path(file).filename().string(), {file}});
  return targets;
}

TEST_CASE("the VM and the reference evaluator agree on random requests") {
  const int64_t requested = EnvInt("WARDEN_DIFF_REQUESTS", kDefaultRequests);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("WARDEN_DIFF_SEED", 20260105));
  std::vector<Target> targets = Targets();
  BuildOptions build_options;
  build_options.compile.stdlib_dir = std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies";

  auto started = std::chrono::steady_clock::now();
  int64_t decided = 0;
  int64_t undecodable = 0;
  size_t programs = 0;
  std::map<std::string, int64_t> outcomes;
  for (size_t t = 0; t < targets.size(); ++t) {
    const Target& target = targets[t];
    CAPTURE(target.name);
    BundleBuild build = CompileToBundle(PolicySources::Paths(target.paths), build_options);
    REQUIRE(build.compilation != nullptr);
    REQUIRE(build.compilation->program != nullptr);
    const absl::StatusOr<bc::Program>& bytecode = build.program;
    if (!bytecode.ok()) {
      // Said, not hidden: the conformance suite lists these files too.
      MESSAGE(target.name, ": not run on the VM: ", std::string(bytecode.status().message()));
      CHECK(absl::IsUnimplemented(bytecode.status()));
      continue;
    }
    ++programs;
  }
  REQUIRE(programs > 0);
  const int64_t per_program =
      (requested + static_cast<int64_t>(programs) - 1) / static_cast<int64_t>(programs);

  for (size_t t = 0; t < targets.size(); ++t) {
    const Target& target = targets[t];
    CAPTURE(target.name);
    BuildOptions with_conjuncts = build_options;
    with_conjuncts.codegen.explain_conjuncts = true;  // explanations are compared too
    BundleBuild build = CompileToBundle(PolicySources::Paths(target.paths), with_conjuncts);
    REQUIRE(build.compilation != nullptr);
    if (!build.program.ok()) continue;
    const Compilation& compilation = *build.compilation;
    const CheckedProgram& program = *compilation.program;
    const bc::Program* bytecode = &*build.program;

    Generator generator(program, seed + t * 7919);
    DecideOptions decide_options;
    decide_options.sources = &compilation.sources;
    bool mismatch = false;
    for (int variant = 0; variant < kDataVariants && !mismatch; ++variant) {
      RequestOptions request_options;
      std::string data_text = generator.Data();
      std::vector<std::optional<EvalValue>> data;
      std::vector<RequestError> data_errors;
      REQUIRE_MESSAGE(DecodeDataJson(program, data_text, request_options, &data, &data_errors),
                      data_text);
      auto engine = BuildEngine(program, *bytecode, std::nullopt, std::nullopt, data);
      REQUIRE_MESSAGE(engine.ok(), std::string(engine.status().message()));
      rt::Frame frame = (*engine)->NewFrame();
      Decision vm;
      Explanation explanation;
      const int64_t count = per_program / kDataVariants + (variant < per_program % kDataVariants);
      for (int64_t n = 0; n < count; ++n) {
        std::string text = generator.Request();
        request_options.now_millis = generator.Now();
        DecodedRequest request = DecodeRequestJson(program, text, request_options);
        if (!request.ok) {
          ++undecodable;
          continue;
        }
        request.request.data = data;
        ReferenceDecision reference = Decide(program, request.request, decide_options);
        frame.Reset();
        absl::Status filled =
            FillFrame(program, **engine, request.request, *request_options.now_millis, &frame);
        REQUIRE_MESSAGE(filled.ok(), std::string(filled.message()), "\nrequest: ", text);
        // Every 4th request is also explained on both (Engine::Explain makes
        // the same decision as Decide).
        const bool explain = n % 4 == 0;
        if (explain) {
          DecideOptions explained = decide_options;
          explained.explain = true;
          reference = Decide(program, request.request, explained);
          (*engine)->Explain(frame, &vm, &explanation);
        } else {
          (*engine)->Decide(frame, &vm);
        }
        ++decided;
        ++outcomes[DescribeOutcome(reference.outcome, "")];
        std::string difference = CompareDecisions(vm, reference);
        if (explain && difference.empty()) difference = CompareExplanations(explanation, reference);
        if (!difference.empty()) {
          FAIL_CHECK(target.name, ": the evaluators disagree on request #", n, " (data variant ",
                     variant, "): ", difference, "\nrequest: ", text, "\ndata: ", data_text,
                     "\nnow: ", *request_options.now_millis, "\ndecoded:\n  ",
                     DescribeRequest(program, request.request));
          mismatch = true;
          break;
        }
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::vector<std::string> mix;
  for (const auto& [outcome, count] : outcomes) mix.push_back(absl::StrCat(outcome, " ", count));
  MESSAGE("differential: ", decided, " requests decided by both evaluators on ", programs,
          " programs in ", seconds, " s (", undecodable, " undecodable skipped; ",
          absl::StrJoin(mix, ", "), ")");
  CHECK(decided >= requested * 9 / 10);
}

// Issue 12, item 13: a 10,000 x 10,000 nested quantifier is 10^8 iterations.
// The VM's loop budget refused it while the reference permitted it after
// ~40 s; both now spend the one budget (runtime/vm_options.h) and fail the
// rule with kLimitExceeded, the reference within a second or so.
TEST_CASE("both evaluators refuse a huge nested quantifier with the loop budget") {
  const std::string policy = R"(package acme
schema {
  subject { level: int }
  resource thing { tags: set<string> }
  actions { read }
}
policy p on thing {
  rule pairs: permit read if any a in resource.tags: any b in resource.tags: a == "x" and b == "y"
}
)";
  BundleBuild build = CompileToBundle(PolicySources::Texts({{"huge.warden", policy}}));
  REQUIRE(build.compilation != nullptr);
  REQUIRE(build.compilation->program != nullptr);
  REQUIRE_MESSAGE(build.program.ok(), std::string(build.program.status().message()));
  const CheckedProgram& program = *build.compilation->program;
  nlohmann::json tags = nlohmann::json::array();
  for (int i = 0; i < 10000; ++i) tags.push_back(absl::StrCat("t", i));
  const nlohmann::json request_json = {
      {"subject", {{"id", "ann"}, {"level", 1}}},
      {"action", "read"},
      {"resource", {{"type", "thing"}, {"id", "r"}, {"tags", tags}}}};
  RequestOptions options;
  options.now_millis = kDefaultTestTimeMillis;
  DecodedRequest request = DecodeRequestJson(program, request_json.dump(), options);
  REQUIRE(request.ok);
  DecideOptions decide_options;
  decide_options.sources = &build.compilation->sources;
  const auto started = std::chrono::steady_clock::now();
  ReferenceDecision reference = Decide(program, request.request, decide_options);
  MESSAGE("the reference decided in ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), " s");
  CHECK(reference.outcome != rt::Outcome::kPermit);
  REQUIRE(reference.errors.size() == 1);
  CHECK(reference.errors[0].code == rt::EvalError::kLimitExceeded);

  auto engine = BuildEngine(program, *build.program, std::nullopt, std::nullopt, {});
  REQUIRE_MESSAGE(engine.ok(), std::string(engine.status().message()));
  rt::Frame frame = (*engine)->NewFrame();
  REQUIRE(FillFrame(program, **engine, request.request, *options.now_millis, &frame).ok());
  Decision vm;
  (*engine)->Decide(frame, &vm);
  CHECK(vm.outcome != rt::Outcome::kPermit);
  const std::string difference = CompareDecisions(vm, reference);
  CHECK_MESSAGE(difference.empty(), difference);
}

// Regression: the reference once merged errors by file:line, which are empty
// without a SourceManager, so two failing risk factors were listed as one.
TEST_CASE("the reference lists distinct errors without a SourceManager") {
  auto compiled =
      CompilePaths({std::string(WARDEN_SOURCE_DIR) + "/tests/conformance/agreement.warden"});
  REQUIRE(compiled.ok());
  const CheckedProgram& program = *(*compiled)->program;
  RequestOptions options;
  options.now_millis = kDefaultTestTimeMillis;
  DecodedRequest request = DecodeRequestJson(
      program,
      R"({"action": "score", "resource": {"type": "item", "id": "i", "n": 1, "m": 1, "flagged": false}})",
      options);
  REQUIRE(request.ok);
  ReferenceDecision decision = Decide(program, request.request);
  CHECK(decision.outcome == rt::Outcome::kDeny);
  CHECK(decision.errors.size() == 2);
}

}  // namespace
}  // namespace warden
