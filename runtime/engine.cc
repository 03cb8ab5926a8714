// The decision engine: a verified program, its rule index, and Decide().
//
// Decide, for one request frame:
//   1. effective roles: the closures of the subject's roles and of the roles
//      its active JIT grants give, as one bitset;
//   2. static separation of duties on those roles: a subject holding two
//      separated roles is denied at once;
//   3. the roots, combined deny_overrides, walking only the index's part for
//      the request's resource type, and in each policy only the rules for
//      the request's action (so unrelated policies cost nothing);
//   4. the decision: outcome, deciding rules (file:line), reasons,
//      obligations and advice of the deciding rules, errors.
#include "warden/engine.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "compiler/bytecode/bundle.h"

namespace warden {

using bc::ValueKind;
using rt::Outcome;
using rt::Value;

DataValue DataValue::Bool(bool v) {
  DataValue d;
  d.kind = Kind::kBool;
  d.b = v;
  return d;
}
DataValue DataValue::Int(int64_t v) {
  DataValue d;
  d.kind = Kind::kInt;
  d.i = v;
  return d;
}
DataValue DataValue::String(std::string v) {
  DataValue d;
  d.kind = Kind::kString;
  d.s = std::move(v);
  return d;
}
DataValue DataValue::List(std::vector<DataValue> v) {
  DataValue d;
  d.kind = Kind::kList;
  d.list = std::move(v);
  return d;
}

void Decision::Clear() {
  outcome = Outcome::kDeny;
  challenge = {};
  rules.clear();
  reasons.clear();
  obligations.clear();
  args.clear();
  errors.clear();
  limits_read.clear();
  risks.clear();
  bundle_hash = {};
}

namespace {

// Members of a policy set (or of the roots) grouped by the resource types
// they can apply to, keeping their positions so the order can be restored.
struct MemberIndex {
  std::vector<uint32_t> all;                                     // positions relevant to every type
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> by_type;  // type key -> positions
};

// Which resource types a node can apply to: all, or a sorted list of keys
// (key = resource type + 1; 0 = a type the program does not declare).
struct Relevance {
  bool all = false;
  std::vector<uint32_t> keys;
};

// -------------------------------------------------------------------- data

absl::Status DataError(const std::string& name, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("data `", name, "`: ", message));
}

bool ParseIp(const std::string& text, bc::IpNet* out) {
  std::string address = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string::npos) {
    address = text.substr(0, slash);
    std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      prefix = prefix * 10 + (c - '0');
    }
  }
  bc::IpNet ip;
  if (inet_pton(AF_INET, address.c_str(), ip.bytes) == 1) {
    ip.v6 = false;
  } else if (inet_pton(AF_INET6, address.c_str(), ip.bytes) == 1) {
    ip.v6 = true;
  } else {
    return false;
  }
  int max = ip.v6 ? 128 : 32;
  if (prefix > max) return false;
  ip.prefix = static_cast<uint8_t>(prefix < 0 ? max : prefix);
  for (int bit = ip.prefix; bit < max; ++bit) {
    if (ip.bytes[bit / 8] & (0x80 >> (bit % 8))) return false;  // host bits set
  }
  *out = ip;
  return true;
}

bool ParseDuration(const std::string& text, int64_t* out) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"ms", 1}, {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
  size_t i = 0;
  int64_t total = 0;
  if (text.empty()) return false;
  while (i < text.size()) {
    int64_t n = 0;
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[i] - '0', &n))
        return false;
      ++i;
    }
    if (i == start) return false;
    bool matched = false;
    for (const auto& [unit, ms] : kUnits) {
      size_t len = std::strlen(unit);
      if (text.compare(i, len, unit) == 0) {
        int64_t part = 0;
        if (__builtin_mul_overflow(n, ms, &part) || __builtin_add_overflow(total, part, &total))
          return false;
        i += len;
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  *out = total;
  return true;
}

bool ParseDecimal(const std::string& text, int64_t* out) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  int64_t whole = 0;
  size_t start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (__builtin_mul_overflow(whole, 10, &whole) ||
        __builtin_add_overflow(whole, text[i] - '0', &whole))
      return false;
    ++i;
  }
  if (i == start) return false;
  int64_t fraction = 0;
  int digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++digits > 4) return false;
      fraction = fraction * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0) return false;
  }
  if (i != text.size()) return false;
  for (; digits < 4; ++digits) fraction *= 10;
  int64_t value = 0;
  if (__builtin_mul_overflow(whole, 10000, &value) ||
      __builtin_add_overflow(value, fraction, &value))
    return false;
  *out = negative ? -value : value;
  return true;
}

// -------------------------------------------------------------------- rendering

void AppendInt(std::string* out, int64_t v) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  (void)ec;
  out->append(buffer, end);
}

}  // namespace

// -------------------------------------------------------------------- Impl

struct Engine::Impl {
  bc::Program program;
  std::string hash;
  EngineOptions options;
  rt::Prepared prepared;
  absl::flat_hash_map<std::string, uint32_t> role_by_name;
  std::vector<std::string> separation_reasons;
  std::vector<uint32_t> rule_policy;  // rule -> its policy
  // The index.
  std::vector<Relevance> set_relevance;
  std::vector<MemberIndex> set_members;
  MemberIndex root_members;
  std::vector<uint32_t> action_offsets;  // per policy: actions + 2 offsets into action_rules
  std::vector<uint32_t> action_rules;
  std::vector<uint32_t> policy_offset;  // per policy: start in action_offsets
  uint32_t action_buckets = 0;          // actions + 1 (bucket 0: an undeclared action)
  int roles_slot = -1;
  std::shared_ptr<const rt::RequestSchema> request_schema;

  absl::Status Prepare();
  absl::Status PrepareData();
  absl::Status ConvertData(const std::string& name, const bc::TypeRef& type, const DataValue* value,
                           Value* out);
  absl::Status ConvertScalar(const std::string& name, bc::TypeCode code, int32_t enumeration,
                             const DataValue& value, Value* out);
  void BuildIndex();
  void Decide(const rt::Frame& frame, Decision* decision) const;
  void Render(const bc::TypeRef& type, const Value& value, std::string* out) const;
  void RenderScalar(bc::TypeCode code, int32_t enumeration, const Value& value,
                    std::string* out) const;
};

absl::Status Engine::Impl::Prepare() {
  const bc::Program& p = program;
  rt::Prepared& P = prepared;
  P.program = &program;
  // Constants: strings view the program's pool; sets view `members`.
  size_t member_count = 0;
  for (const bc::Constant& k : p.constants) member_count += k.elements.size();
  P.members.resize(member_count);
  P.constants.resize(p.constants.size());
  size_t next_member = 0;
  for (size_t i = 0; i < p.constants.size(); ++i) {
    const bc::Constant& k = p.constants[i];
    Value& v = P.constants[i];
    switch (k.kind) {
      case ValueKind::kString:
        v.s = rt::StrRef{k.s.data(), static_cast<uint32_t>(k.s.size())};
        break;
      case ValueKind::kIp:
        v.ip = &k.ip;
        break;
      case ValueKind::kSet: {
        Value* members = P.members.data() + next_member;
        for (size_t j = 0; j < k.elements.size(); ++j) members[j] = P.constants[k.elements[j]];
        v.set = rt::SetRef{members, static_cast<uint32_t>(k.elements.size()), k.element, true, 0};
        next_member += k.elements.size();
        break;
      }
      default:
        v.i = k.i;
        break;
    }
  }
  for (const std::string& pattern : p.regexes) {
    RE2::Options re_options;
    re_options.set_log_errors(false);
    re_options.set_max_mem(options.limits.max_regex_memory);
    auto re = std::make_unique<RE2>(pattern, re_options);
    if (!re->ok())
      return absl::InvalidArgumentError(absl::StrCat("regex does not compile: ", re->error()));
    P.regexes.push_back(std::move(re));
  }
  for (const std::string& zone : p.zones) {
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(zone, &tz))
      return absl::InvalidArgumentError(absl::StrCat("unknown time zone ", zone));
    P.zones.push_back(tz);
  }
  P.default_kind.assign(p.slot_count, rt::Prepared::kNoDefault);
  P.defaults.resize(p.slot_count);
  for (const bc::Attribute& a : p.attributes) {
    if (a.default_value == bc::kDefaultNow) {
      P.default_kind[a.slot] = rt::Prepared::kNowDefault;
    } else if (a.default_value >= 0) {
      P.default_kind[a.slot] = rt::Prepared::kConstantDefault;
      P.defaults[a.slot] = P.constants[a.default_value];
    }
    if (a.path == "subject.roles") roles_slot = static_cast<int>(a.slot);
  }
  P.role_words = (p.roles.size() + 63) / 64;
  P.role_closure.assign(p.roles.size() * P.role_words, 0);
  for (size_t r = 0; r < p.roles.size(); ++r) {
    role_by_name.emplace(p.roles[r].name, static_cast<uint32_t>(r));
    uint64_t* bits = P.role_closure.data() + r * P.role_words;
    bits[r / 64] |= uint64_t{1} << (r % 64);
    for (uint32_t c : p.roles[r].closure) bits[c / 64] |= uint64_t{1} << (c % 64);
  }
  for (const bc::Separation& s : p.separations) {
    std::string file = s.file < p.files.size() ? p.files[s.file] : "?";
    separation_reasons.push_back(
        absl::StrCat("the subject holds roles that are separated (", file, ":", s.line, ")"));
  }
  if (absl::Status status = PrepareData(); !status.ok()) return status;
  BuildIndex();
  request_schema = rt::BuildRequestSchema(program);
  return absl::OkStatus();
}

absl::Status Engine::Impl::ConvertScalar(const std::string& name, bc::TypeCode code,
                                         int32_t enumeration, const DataValue& value, Value* out) {
  using bc::TypeCode;
  using K = DataValue::Kind;
  switch (code) {
    case TypeCode::kBool:
      if (value.kind != K::kBool) return DataError(name, "expected a bool");
      out->i = value.b ? 1 : 0;
      return absl::OkStatus();
    case TypeCode::kInt:
      if (value.kind != K::kInt) return DataError(name, "expected an int");
      out->i = value.i;
      return absl::OkStatus();
    case TypeCode::kDecimal:
      if (value.kind == K::kInt) {
        if (__builtin_mul_overflow(value.i, 10000, &out->i))
          return DataError(name, "decimal out of range");
        return absl::OkStatus();
      }
      if (value.kind != K::kString || !ParseDecimal(value.s, &out->i))
        return DataError(name, "expected a decimal");
      return absl::OkStatus();
    case TypeCode::kDuration:
      if (value.kind == K::kInt) {
        out->i = value.i;
        return absl::OkStatus();
      }
      if (value.kind != K::kString || !ParseDuration(value.s, &out->i))
        return DataError(name, "expected a duration");
      return absl::OkStatus();
    case TypeCode::kTimestamp: {
      if (value.kind == K::kInt) {
        out->i = value.i;
        return absl::OkStatus();
      }
      absl::Time time;
      std::string error;
      if (value.kind != K::kString ||
          !absl::ParseTime(absl::RFC3339_full, value.s, &time, &error)) {
        return DataError(name, "expected an RFC 3339 timestamp");
      }
      out->i = absl::ToUnixMillis(time);
      return absl::OkStatus();
    }
    case TypeCode::kEnum: {
      if (value.kind != K::kString) return DataError(name, "expected an enum member name");
      const std::vector<std::string>& members = program.enums[enumeration].members;
      auto it = std::find(members.begin(), members.end(), value.s);
      if (it == members.end())
        return DataError(name, absl::StrCat("`", value.s, "` is not a member"));
      out->i = it - members.begin();
      return absl::OkStatus();
    }
    case TypeCode::kString:
      if (value.kind != K::kString) return DataError(name, "expected a string");
      prepared.data_strings.push_back(value.s);
      out->s =
          rt::StrRef{prepared.data_strings.back().data(), static_cast<uint32_t>(value.s.size())};
      return absl::OkStatus();
    case TypeCode::kIp: {
      bc::IpNet ip;
      if (value.kind != K::kString || !ParseIp(value.s, &ip))
        return DataError(name, "expected an IP address or network");
      prepared.data_ips.push_back(ip);
      out->ip = &prepared.data_ips.back();
      return absl::OkStatus();
    }
    default:
      return DataError(name, "unsupported type");
  }
}

absl::Status Engine::Impl::ConvertData(const std::string& name, const bc::TypeRef& type,
                                       const DataValue* value, Value* out) {
  if (type.code == bc::TypeCode::kSet) {
    ValueKind element = bc::ScalarKind(type.element);
    std::vector<Value>& members = prepared.data_sets.emplace_back();
    if (value != nullptr) {
      if (value->kind != DataValue::Kind::kList) return DataError(name, "expected a list");
      for (const DataValue& item : value->list) {
        Value v;
        if (absl::Status s = ConvertScalar(name, type.element, type.enumeration, item, &v); !s.ok())
          return s;
        members.push_back(v);
      }
    }
    auto less = [&](const Value& a, const Value& b) {
      switch (element) {
        case ValueKind::kString:
          return a.s.view() < b.s.view();
        case ValueKind::kIp: {
          if (a.ip->v6 != b.ip->v6) return !a.ip->v6;
          int order = std::memcmp(a.ip->bytes, b.ip->bytes, 16);
          return order != 0 ? order < 0 : a.ip->prefix < b.ip->prefix;
        }
        default:
          return a.i < b.i;
      }
    };
    std::sort(members.begin(), members.end(), less);
    members.erase(
        std::unique(members.begin(), members.end(),
                    [&](const Value& a, const Value& b) { return rt::ScalarEqual(element, a, b); }),
        members.end());
    out->set = rt::SetRef{members.data(), static_cast<uint32_t>(members.size()), element, true, 0};
    return absl::OkStatus();
  }
  if (value == nullptr) {  // allowed missing: the empty value
    switch (type.code) {
      case bc::TypeCode::kString:
        out->s = rt::StrRef{"", 0};
        return absl::OkStatus();
      case bc::TypeCode::kIp:
        return DataError(name, "no value given");
      default:
        out->i = 0;
        return absl::OkStatus();
    }
  }
  return ConvertScalar(name, type.code, type.enumeration, *value, out);
}

absl::Status Engine::Impl::PrepareData() {
  prepared.data.resize(program.data.size());
  for (const auto& [name, value] : options.data) {
    if (program.FindData(name) < 0) return DataError(name, "the bundle declares no such data");
  }
  for (size_t i = 0; i < program.data.size(); ++i) {
    const bc::DataSlot& slot = program.data[i];
    const DataValue* given = nullptr;
    for (const auto& [name, value] : options.data) {
      if (name == slot.name) given = &value;
    }
    if (given == nullptr && !options.allow_missing_data)
      return DataError(slot.name, "no value given");
    if (absl::Status s = ConvertData(slot.name, slot.type, given, &prepared.data[i]); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

void Engine::Impl::BuildIndex() {
  const bc::Program& p = program;
  rule_policy.assign(p.rules.size(), 0);
  for (size_t i = 0; i < p.policies.size(); ++i) {
    for (uint32_t r : p.policies[i].rules) rule_policy[r] = static_cast<uint32_t>(i);
  }
  // Rules by action, per policy. Bucket 0: actions the program does not
  // declare (only `*` rules apply); bucket a + 1: action a.
  action_buckets = static_cast<uint32_t>(p.actions.size()) + 1;
  policy_offset.resize(p.policies.size());
  for (size_t i = 0; i < p.policies.size(); ++i) {
    policy_offset[i] = static_cast<uint32_t>(action_offsets.size());
    for (uint32_t bucket = 0; bucket < action_buckets; ++bucket) {
      action_offsets.push_back(static_cast<uint32_t>(action_rules.size()));
      for (uint32_t r : p.policies[i].rules) {
        const bc::Rule& rule = p.rules[r];
        bool applies =
            rule.any_action || (bucket > 0 && std::find(rule.actions.begin(), rule.actions.end(),
                                                        bucket - 1) != rule.actions.end());
        if (applies) action_rules.push_back(r);
      }
    }
    action_offsets.push_back(static_cast<uint32_t>(action_rules.size()));
  }
  // Which resource types each node can apply to. Sets are processed after
  // their members (the verifier proved the nesting acyclic).
  auto policy_relevance = [&](uint32_t i) {
    Relevance r;
    const bc::Policy& policy = p.policies[i];
    if (policy.rules.empty()) return r;  // never applicable
    if (policy.resource_type < 0) {
      r.all = true;
    } else {
      r.keys.push_back(static_cast<uint32_t>(policy.resource_type) + 1);
    }
    return r;
  };
  set_relevance.assign(p.policy_sets.size(), Relevance{});
  std::vector<uint8_t> done(p.policy_sets.size(), 0);
  auto relevance_of = [&](const bc::Member& m) -> Relevance {
    return m.is_set ? set_relevance[m.index] : policy_relevance(m.index);
  };
  for (size_t root = 0; root < p.policy_sets.size(); ++root) {
    std::vector<uint32_t> stack = {static_cast<uint32_t>(root)};
    while (!stack.empty()) {
      uint32_t s = stack.back();
      if (done[s]) {
        stack.pop_back();
        continue;
      }
      bool ready = true;
      for (const bc::Member& m : p.policy_sets[s].members) {
        if (m.is_set && !done[m.index]) {
          stack.push_back(m.index);
          ready = false;
        }
      }
      if (!ready) continue;
      Relevance r;
      bc::Algorithm algorithm = p.policy_sets[s].algorithm;
      r.all = algorithm == bc::Algorithm::kDenyUnlessPermit ||
              algorithm == bc::Algorithm::kPermitUnlessDeny;
      for (const bc::Member& m : p.policy_sets[s].members) {
        Relevance child = relevance_of(m);
        r.all = r.all || child.all;
        if (!r.all) r.keys.insert(r.keys.end(), child.keys.begin(), child.keys.end());
      }
      if (r.all) r.keys.clear();
      std::sort(r.keys.begin(), r.keys.end());
      r.keys.erase(std::unique(r.keys.begin(), r.keys.end()), r.keys.end());
      set_relevance[s] = std::move(r);
      done[s] = 1;
      stack.pop_back();
    }
  }
  auto index_members = [&](const std::vector<bc::Member>& members) {
    MemberIndex index;
    for (uint32_t pos = 0; pos < members.size(); ++pos) {
      Relevance r = relevance_of(members[pos]);
      if (r.all) {
        index.all.push_back(pos);
      } else {
        for (uint32_t key : r.keys) index.by_type[key].push_back(pos);
      }
    }
    return index;
  };
  set_members.clear();
  for (const bc::PolicySet& set : p.policy_sets) set_members.push_back(index_members(set.members));
  root_members = index_members(p.roots);
}

// -------------------------------------------------------------------- deciding

namespace {

// Per-thread working memory for Decide; grows once, then is reused.
struct DecideScratch {
  rt::Scratch vm;
  struct Child {
    Outcome outcome;
    int32_t challenge;
    uint32_t dec_begin;  // into deciders
    uint32_t dec_end;
  };
  std::vector<Child> children;
  std::vector<Outcome> outcomes;
  std::vector<uint32_t> deciders;  // rule indices
  struct ExtraValue {
    uint32_t rule;
    uint16_t extra;
    uint16_t arg;  // kExtraHeader: the entry that opens an obligation or advice
    Value value;
  };
  // Every obligation or advice that applies opens with a header entry, so
  // one without arguments is still reported.
  static constexpr uint16_t kExtraHeader = UINT16_MAX;
  std::vector<ExtraValue> extras;
};

DecideScratch& ThreadScratch() {
  thread_local DecideScratch scratch;
  return scratch;
}

using Child = DecideScratch::Child;

class Decider {
 public:
  Decider(const Engine::Impl& engine, const rt::Frame& frame, DecideScratch& s)
      : e_(engine), p_(engine.program), frame_(frame), s_(s) {
    int32_t type = frame.resource_type();
    type_key_ = type >= 0 && static_cast<size_t>(type) < p_.resource_types.size()
                    ? static_cast<uint32_t>(type) + 1
                    : 0;
    int32_t action = frame.action();
    action_bucket_ = action >= 0 && static_cast<size_t>(action) < p_.actions.size()
                         ? static_cast<uint32_t>(action) + 1
                         : 0;
  }

  Child Roots() { return Members(bc::Algorithm::kDenyOverrides, p_.roots, e_.root_members, 0); }

 private:
  Child NotApplicable() const {
    uint32_t at = static_cast<uint32_t>(s_.deciders.size());
    return Child{Outcome::kNotApplicable, -1, at, at};
  }

  Child Member(const bc::Member& m) {
    return m.is_set ? Members(p_.policy_sets[m.index].algorithm, p_.policy_sets[m.index].members,
                              e_.set_members[m.index], m.index + 1)
                    : Policy(m.index);
  }

  // Evaluates the members relevant to the request's resource type in their
  // order: the union of `index.all` and `index.by_type[type]`, merged.
  Child Members(bc::Algorithm algorithm, const std::vector<bc::Member>& members,
                const MemberIndex& index, uint32_t set_plus_one) {
    (void)set_plus_one;
    static const std::vector<uint32_t> kNone;
    auto it = index.by_type.find(type_key_);
    const std::vector<uint32_t>& typed = it == index.by_type.end() ? kNone : it->second;
    size_t base = s_.children.size();
    uint32_t dec_base = static_cast<uint32_t>(s_.deciders.size());
    size_t i = 0;
    size_t j = 0;
    while (i < index.all.size() || j < typed.size()) {
      uint32_t pos;
      if (j >= typed.size() || (i < index.all.size() && index.all[i] < typed[j])) {
        pos = index.all[i++];
      } else {
        pos = typed[j++];
      }
      Child child = Member(members[pos]);
      s_.children.push_back(child);
      s_.outcomes.push_back(child.outcome);
      if (algorithm == bc::Algorithm::kFirstApplicable && child.outcome != Outcome::kNotApplicable)
        break;
    }
    return Combine(algorithm, base, dec_base);
  }

  Child Policy(uint32_t index) {
    const bc::Policy& policy = p_.policies[index];
    if (policy.rules.empty()) return NotApplicable();
    const uint32_t* offsets = e_.action_offsets.data() + e_.policy_offset[index];
    uint32_t begin = offsets[action_bucket_];
    uint32_t end = offsets[action_bucket_ + 1];
    // No candidate rule: not applicable whatever the algorithm (docs/decisions.md),
    // so deny_unless_permit does not deny requests its policy never targets.
    if (begin == end) return NotApplicable();
    size_t base = s_.children.size();
    uint32_t dec_base = static_cast<uint32_t>(s_.deciders.size());
    for (uint32_t k = begin; k < end; ++k) {
      Child child = Rule(e_.action_rules[k]);
      s_.children.push_back(child);
      s_.outcomes.push_back(child.outcome);
      if (policy.algorithm == bc::Algorithm::kFirstApplicable &&
          child.outcome != Outcome::kNotApplicable)
        break;
    }
    return Combine(policy.algorithm, base, dec_base);
  }

  // Combines children[base..] and keeps the deciders of the winning ones.
  Child Combine(bc::Algorithm algorithm, size_t base, uint32_t dec_base) {
    size_t count = s_.children.size() - base;
    rt::EvalError error = rt::EvalError::kNone;
    rt::Combined combined = rt::CombineOutcomes(static_cast<rt::Algorithm>(algorithm),
                                                s_.outcomes.data() + base, count, &error);
    if (error != rt::EvalError::kNone) {
      s_.vm.errors.push_back(rt::Scratch::Error{error, rt::Scratch::Source::kCombine, 0, 0});
    }
    Child result{combined.outcome, -1, dec_base, dec_base};
    if (combined.child >= 0) {
      const Child& winner = s_.children[base + combined.child];
      result.challenge = winner.challenge;
      bool every_match = algorithm != bc::Algorithm::kFirstApplicable &&
                         algorithm != bc::Algorithm::kOnlyOneApplicable;
      uint32_t out = dec_base;
      for (size_t c = base; c < s_.children.size(); ++c) {
        const Child& child = s_.children[c];
        bool wins = every_match
                        ? child.outcome == combined.outcome && child.challenge == winner.challenge
                        : c == base + combined.child;
        if (!wins) continue;
        for (uint32_t d = child.dec_begin; d < child.dec_end; ++d)
          s_.deciders[out++] = s_.deciders[d];
      }
      result.dec_end = out;
    }
    s_.deciders.resize(result.dec_end);
    s_.children.resize(base);
    s_.outcomes.resize(base);
    return result;
  }

  Child Rule(uint32_t index) {
    const bc::Rule& rule = p_.rules[index];
    Outcome effect = rule.effect == bc::Effect::kPermit ? Outcome::kPermit
                     : rule.effect == bc::Effect::kDeny ? Outcome::kDeny
                                                        : Outcome::kStepUp;
    if (rule.condition != bc::kNoBlock) {
      Value holds;
      rt::EvalError error =
          rt::Run(e_.prepared, frame_, s_.vm, static_cast<uint32_t>(rule.condition), &holds);
      if (error != rt::EvalError::kNone) {
        s_.vm.errors.push_back(
            rt::Scratch::Error{error, rt::Scratch::Source::kCondition, index, 0});
        // Fail closed: an erroring permit does not apply; deny and step_up do.
        if (effect == Outcome::kPermit) return NotApplicable();
      } else if (holds.i == 0) {
        return NotApplicable();
      }
    }
    size_t extras_base = s_.extras.size();
    for (uint16_t x = 0; x < rule.extras.size(); ++x) {
      const bc::Extra& extra = rule.extras[x];
      size_t extra_base = s_.extras.size();
      s_.extras.push_back(
          DecideScratch::ExtraValue{index, x, DecideScratch::kExtraHeader, Value{}});
      for (uint16_t a = 0; a < extra.args.size(); ++a) {
        Value value;
        rt::EvalError error = rt::Run(e_.prepared, frame_, s_.vm, extra.args[a].block, &value);
        if (error != rt::EvalError::kNone) {
          s_.vm.errors.push_back(
              rt::Scratch::Error{error, rt::Scratch::Source::kObligation, index, x});
          if (effect == Outcome::kPermit && extra.is_obligation) {
            s_.extras.resize(
                extras_base);  // an obligation that cannot be met: the permit does not apply
            return NotApplicable();
          }
          s_.extras.resize(extra_base);  // leave this obligation or advice out
          break;
        }
        s_.extras.push_back(DecideScratch::ExtraValue{index, x, a, value});
      }
    }
    uint32_t at = static_cast<uint32_t>(s_.deciders.size());
    s_.deciders.push_back(index);
    return Child{effect, rule.challenge, at, at + 1};
  }

  const Engine::Impl& e_;
  const bc::Program& p_;
  const rt::Frame& frame_;
  DecideScratch& s_;
  uint32_t type_key_ = 0;
  uint32_t action_bucket_ = 0;
};

}  // namespace

void Engine::Impl::RenderScalar(bc::TypeCode code, int32_t enumeration, const Value& value,
                                std::string* out) const {
  using bc::TypeCode;
  switch (code) {
    case TypeCode::kBool:
      out->append(value.i != 0 ? "true" : "false");
      return;
    case TypeCode::kString:
      out->append(value.s.data, value.s.size);
      return;
    case TypeCode::kDecimal: {
      int64_t v = value.i;
      uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
      if (v < 0) out->push_back('-');
      char buffer[24];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), magnitude / 10000);
      (void)ec;
      out->append(buffer, end);
      uint64_t fraction = magnitude % 10000;
      if (fraction != 0) {
        char digits[5] = {
            static_cast<char>('0' + fraction / 1000), static_cast<char>('0' + fraction / 100 % 10),
            static_cast<char>('0' + fraction / 10 % 10), static_cast<char>('0' + fraction % 10), 0};
        int n = 4;
        while (n > 1 && digits[n - 1] == '0') --n;
        out->push_back('.');
        out->append(digits, n);
      }
      return;
    }
    case TypeCode::kDuration:
      AppendInt(out, value.i);
      out->append("ms");
      return;
    case TypeCode::kEnum:
      if (enumeration >= 0 && value.i >= 0 &&
          static_cast<size_t>(value.i) < program.enums[enumeration].members.size()) {
        out->append(program.enums[enumeration].members[value.i]);
        return;
      }
      AppendInt(out, value.i);
      return;
    case TypeCode::kIp: {
      char buffer[INET6_ADDRSTRLEN] = {};
      inet_ntop(value.ip->v6 ? AF_INET6 : AF_INET, value.ip->bytes, buffer, sizeof(buffer));
      out->append(buffer);
      if (value.ip->prefix != (value.ip->v6 ? 128 : 32)) {
        out->push_back('/');
        AppendInt(out, value.ip->prefix);
      }
      return;
    }
    default:
      AppendInt(out, value.i);
      return;  // int, timestamp (ms since the epoch)
  }
}

void Engine::Impl::Render(const bc::TypeRef& type, const Value& value, std::string* out) const {
  if (type.code != bc::TypeCode::kSet) return RenderScalar(type.code, type.enumeration, value, out);
  out->push_back('[');
  for (uint32_t i = 0; i < value.set.size; ++i) {
    if (i > 0) out->append(", ");
    RenderScalar(type.element, type.enumeration, value.set.data[i], out);
  }
  out->push_back(']');
}

void Engine::Impl::Decide(const rt::Frame& frame, Decision* d) const {
  d->Clear();
  d->bundle_hash = hash;
  if (frame.slot_count() != program.slot_count) {
    d->outcome = Outcome::kDeny;
    d->errors.push_back(DecisionError{rt::EvalError::kBadRequest, "frame",
                                      "the frame was made for another program"});
    return;
  }
  DecideScratch& s = ThreadScratch();
  s.vm.Begin(prepared, options.vm);
  s.children.clear();
  s.outcomes.clear();
  s.deciders.clear();
  s.extras.clear();

  // 1. Effective roles.
  const size_t words = prepared.role_words;
  auto grant = [&](uint32_t role) {
    const uint64_t* bits = prepared.role_closure.data() + role * words;
    for (size_t w = 0; w < words; ++w) s.vm.roles[w] |= bits[w];
  };
  if (roles_slot >= 0 && frame.present(static_cast<uint32_t>(roles_slot))) {
    const rt::SetRef& roles = frame.slot(static_cast<uint32_t>(roles_slot)).set;
    for (uint32_t i = 0; i < roles.size; ++i) {
      auto it = role_by_name.find(absl::string_view(roles.data[i].s.data, roles.data[i].s.size));
      if (it != role_by_name.end()) grant(it->second);
    }
  }
  for (uint32_t profile : frame.jit_grants()) {
    if (profile >= program.jit_profiles.size()) continue;
    for (uint32_t role : program.jit_profiles[profile].grants) grant(role);
  }
  // 2. Static separation of duties.
  for (size_t i = 0; i < program.separations.size(); ++i) {
    int held = 0;
    for (uint32_t role : program.separations[i].roles)
      held += (s.vm.roles[role / 64] >> (role % 64)) & 1;
    if (held >= 2) {
      d->outcome = Outcome::kDeny;
      d->reasons.push_back(separation_reasons[i]);
      d->errors.push_back(
          DecisionError{rt::EvalError::kSeparationOfDuties, "separate", separation_reasons[i]});
      return;
    }
  }
  // 3. The roots, deny_overrides.
  Decider decider(*this, frame, s);
  Child result = decider.Roots();
  // 4. The decision.
  d->outcome = result.outcome;
  if (result.outcome == Outcome::kStepUp && result.challenge >= 0)
    d->challenge = program.challenges[result.challenge];
  for (uint32_t k = result.dec_begin; k < result.dec_end; ++k) {
    uint32_t r = s.deciders[k];
    const bc::Rule& rule = program.rules[r];
    // A rule evaluated twice (a policy `use`d by two sets) is listed once.
    bool listed = false;
    for (const DecidingRule& seen : d->rules) listed = listed || seen.rule == r;
    if (listed) continue;
    d->rules.push_back(DecidingRule{rule.name, program.policies[rule_policy[r]].name,
                                    rule.file < program.files.size()
                                        ? std::string_view(program.files[rule.file])
                                        : std::string_view(),
                                    rule.line, r});
    if (rule.has_reason) d->reasons.push_back(rule.reason);
    int last_extra = -1;  // a second evaluation of the rule restarts at a lower extra
    for (size_t x = 0; x < s.extras.size();) {
      const DecideScratch::ExtraValue& first = s.extras[x];
      if (first.rule != r) {
        ++x;
        continue;
      }
      if (static_cast<int>(first.extra) <= last_extra) break;
      last_extra = first.extra;
      const bc::Extra& extra = rule.extras[first.extra];
      Obligation obligation{extra.is_obligation, extra.name, rule.name,
                            static_cast<uint32_t>(d->args.size()), 0};
      size_t y = x;
      for (; y < s.extras.size() && s.extras[y].rule == r && s.extras[y].extra == first.extra;
           ++y) {
        if (s.extras[y].arg == DecideScratch::kExtraHeader) continue;
        const bc::ExtraArg& arg = extra.args[s.extras[y].arg];
        d->args.emplace_back();
        d->args.back().key = arg.key;
        Render(arg.type, s.extras[y].value, &d->args.back().value);
        ++obligation.arg_count;
      }
      d->obligations.push_back(obligation);
      x = y;
    }
  }
  for (size_t e = 0; e < s.vm.errors.size(); ++e) {
    const rt::Scratch::Error& error = s.vm.errors[e];
    // The same failure of a rule evaluated twice (a policy `use`d by two
    // sets) is listed once.
    bool repeated = false;
    for (size_t f = 0; f < e && error.source != rt::Scratch::Source::kCombine; ++f) {
      const rt::Scratch::Error& other = s.vm.errors[f];
      repeated = repeated || (other.code == error.code && other.source == error.source &&
                              other.index == error.index && other.detail == error.detail);
    }
    if (repeated) continue;
    DecisionError out{error.code, {}, {}};
    switch (error.source) {
      case rt::Scratch::Source::kCondition:
        out.where = program.rules[error.index].name;
        out.what = "condition";
        break;
      case rt::Scratch::Source::kObligation:
        out.where = program.rules[error.index].name;
        out.what = program.rules[error.index].extras[error.detail].name;
        break;
      case rt::Scratch::Source::kRisk:
        out.where = program.risks[error.index].name;
        out.what = "risk factor";
        break;
      case rt::Scratch::Source::kSeparation:
        out.where = "separate";
        break;
      case rt::Scratch::Source::kCombine:
        out.where = "only_one_applicable";
        out.what = "combine";
        break;
    }
    d->errors.push_back(out);
  }
  d->limits_read.assign(s.vm.limits_read.begin(), s.vm.limits_read.end());
  for (size_t r = 0; r < program.risks.size() && r < s.vm.risk_done.size(); ++r) {
    if (s.vm.risk_done[r]) d->risks.emplace_back(program.risks[r].name, s.vm.risk_value[r]);
  }
}

// -------------------------------------------------------------------- Engine

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::FromBundle(std::string_view bytes,
                                                           EngineOptions options) {
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<bc::Program> program = bc::ReadBundle(bytes, options.limits, &impl->hash);
  if (!program.ok()) return program.status();
  impl->program = std::move(*program);
  impl->options = std::move(options);
  if (absl::Status status = impl->Prepare(); !status.ok()) return status;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::FromFile(const std::string& path,
                                                         EngineOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return absl::InternalError(absl::StrCat("cannot read ", path));
  if (static_cast<uint64_t>(size) > options.limits.max_bundle_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": ", size, " bytes exceed max_bundle_bytes"));
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path));
  return FromBundle(bytes, std::move(options));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::FromProgram(bc::Program program,
                                                            EngineOptions options) {
  std::string bundle = bc::WriteBundle(program);
  return FromBundle(bundle, std::move(options));
}

const bc::Program& Engine::program() const { return impl_->program; }
const std::string& Engine::bundle_hash() const { return impl_->hash; }

rt::Frame Engine::NewFrame(rt::FrameOptions options) const {
  return rt::Frame(impl_->program, options);
}

int Engine::SlotOf(std::string_view path) const {
  int index = impl_->program.FindAttribute(path);
  return index < 0 ? -1 : static_cast<int>(impl_->program.attributes[index].slot);
}

void Engine::Decide(const rt::Frame& frame, Decision* decision) const noexcept {
  try {
    impl_->Decide(frame, decision);
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
}

Decision Engine::Decide(const rt::Frame& frame) const {
  Decision decision;
  Decide(frame, &decision);
  return decision;
}

const std::shared_ptr<const rt::RequestSchema>& Engine::request_schema() const {
  return impl_->request_schema;
}

bool Engine::DecideJson(std::string_view json, JsonSession& session,
                        Decision* decision) const noexcept {
  try {
    if (session.decoder().Decode(json, &session.frame())) {
      Decide(session.frame(), decision);
      return true;
    }
    decision->Clear();
    decision->bundle_hash = impl_->hash;
    decision->outcome = rt::Outcome::kDeny;
    const std::vector<rt::RequestError>& errors = session.errors();
    // The fatal error is the last one (earlier entries: problems before it).
    for (const rt::RequestError& error : errors) {
      if (rt::IsFatal(error.code) || session.decoder().options().strict) {
        decision->errors.push_back(
            DecisionError{rt::EvalError::kBadRequest, error.json_path, error.message});
      }
    }
    if (decision->errors.empty())
      decision->errors.push_back(DecisionError{rt::EvalError::kBadRequest, "", "bad request"});
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
  return false;
}

DecisionOrRequestError Engine::DecideJson(std::string_view json, JsonSession& session) const {
  DecisionOrRequestError out;
  out.ok = DecideJson(json, session, &out.decision);
  out.errors = session.errors();
  return out;
}

JsonSession::JsonSession(const Engine& engine, rt::DecoderOptions options)
    : decoder_(engine.program(), engine.request_schema(), std::move(options)),
      frame_(engine.NewFrame()) {}

}  // namespace warden
