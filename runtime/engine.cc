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
#include "runtime/decision_json.h"
#include "runtime/record_value.h"

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
DataValue DataValue::Object(std::vector<DataField> v) {
  DataValue d;
  d.kind = Kind::kObject;
  d.fields = std::move(v);
  return d;
}
DataValue DataValue::Null() {
  DataValue d;
  d.kind = Kind::kNull;
  return d;
}

void Decision::Clear() {
  outcome = Outcome::kDeny;
  challenge = {};
  rules.clear();
  reasons.clear();
  obligations.clear();
  // Keep the strings that own heap memory for AddArg to reuse.
  const size_t inline_chars = std::string().capacity();  // kept without the heap
  for (ObligationArg& arg : args) {
    if (arg.value.capacity() > inline_chars || arg.json.capacity() > inline_chars)
      spare_args_.push_back(std::move(arg));
  }
  args.clear();
  errors.clear();
  limits_read.clear();
  risks.clear();
  bundle_hash = {};
}

ObligationArg& Decision::AddSpareArg() {
  ObligationArg& arg = args.emplace_back(std::move(spare_args_.back()));
  spare_args_.pop_back();
  return arg;
}

namespace {

// Members of a policy set (or of the roots) grouped by the resource types
// they can apply to, keeping their positions so the order can be restored.
struct MemberIndex {
  std::vector<uint32_t> all;  // positions relevant to every type
  // type key -> the positions relevant to that type, `all` included, in order.
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> merged;

  // The positions to evaluate for a request of resource type `key`, in order.
  // When the program has few resource types, the same as a table by type
  // key: 0 for `all`, else 1 + an index into `lists` (no hashing per decision).
  std::vector<uint32_t> dense;
  std::vector<std::vector<uint32_t>> lists;

  const std::vector<uint32_t>& ForType(uint32_t key) const {
    if (!dense.empty()) {
      uint32_t at = key < dense.size() ? dense[key] : 0;
      return at == 0 ? all : lists[at - 1];
    }
    auto it = merged.find(key);
    return it == merged.end() ? all : it->second;
  }
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

}  // namespace

// -------------------------------------------------------------------- Impl

struct Engine::Impl {
  bc::Program program;
  std::string hash;
  EngineOptions options;
  rt::Prepared prepared;
  absl::flat_hash_map<std::string, uint32_t> role_by_name;
  // For few roles, a scan of their names is cheaper than hashing.
  static constexpr size_t kRoleScanLimit = 32;
  std::vector<std::string_view> role_names;

  // The index of the role named `name`, or -1.
  int FindRole(std::string_view name) const {
    if (!role_names.empty()) {
      for (size_t r = 0; r < role_names.size(); ++r) {
        if (role_names[r].size() == name.size() &&
            std::memcmp(role_names[r].data(), name.data(), name.size()) == 0)
          return static_cast<int>(r);
      }
      return -1;
    }
    auto it = role_by_name.find(absl::string_view(name.data(), name.size()));
    return it == role_by_name.end() ? -1 : static_cast<int>(it->second);
  }
  std::vector<std::string> separation_reasons;
  std::vector<std::string> risk_labels;  // "risk NAME": where a risk factor's error happened
  std::vector<int32_t> slot_attribute;   // per frame slot: the first attribute in it, or -1
  std::vector<uint32_t> rule_policy;     // rule -> its policy
  // What deciding needs of each rule, packed (bc::Rule is large and cold).
  struct HotRule {
    Outcome effect;
    bool has_extras;
    int32_t condition;  // a block, or bc::kNoBlock
    int32_t challenge;
  };
  std::vector<HotRule> hot_rules;
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
  absl::Status ConvertRecord(const std::string& name, const bc::TypeRef& type,
                             const DataValue* value, Value* out);
  absl::Status ConvertScalar(const std::string& name, bc::TypeCode code, int32_t enumeration,
                             const DataValue& value, Value* out);
  void BuildIndex();
  template <bool kExplain>
  void Decide(const rt::Frame& frame, Decision* decision, Explanation* explanation) const;
  void ExplainRules(const rt::Frame& frame, Explanation* explanation) const;
  std::string ErrorMessage(rt::EvalError code, uint32_t instruction, const rt::Frame* frame) const;
  // Where an error happened (DecisionError::file, line).
  void Locate(uint32_t file, uint32_t line, DecisionError* out) const {
    out->file = file < program.files.size() ? std::string_view(program.files[file]) : "";
    out->line = line;
  }
  // An obligation's value as text and as JSON (ObligationArg::value, ::json).
  // Sets are written in ascending order without repeats, as the reference
  // evaluator holds them; `order` is scratch space for sorting.
  void Render(const bc::TypeRef& type, const Value& value, ObligationArg* arg,
              std::vector<uint32_t>* order) const;
  void RenderScalar(bc::TypeCode code, int32_t enumeration, const Value& value, std::string* text,
                    std::string* json) const;
  // Records and sets of records, recursively (fields in declaration order).
  void RenderComposite(const bc::TypeRef& type, const Value& value, std::string* text,
                       std::string* json) const;
  void RenderNumber(bc::TypeCode code, const Value& value, char* text, size_t* text_size,
                    char* json, size_t* json_size) const;
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
  P.entries.resize(p.blocks.size());
  for (size_t b = 0; b < p.blocks.size(); ++b) {
    const bc::CodeBlock& block = p.blocks[b];
    rt::Prepared::Entry& entry = P.entries[b];
    entry.code = p.code.data() + block.begin;
    if (block.size == 2 && entry.code[0].op == bc::Op::kLOAD && entry.code[1].op == bc::Op::kRET &&
        entry.code[1].a == entry.code[0].a) {
      entry.shape = rt::Prepared::Entry::kLoadSlot;
      entry.operand = entry.code[0].c;
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
    if (p.roles.size() <= kRoleScanLimit) role_names.emplace_back(p.roles[r].name);
    uint64_t* bits = P.role_closure.data() + r * P.role_words;
    bits[r / 64] |= uint64_t{1} << (r % 64);
    for (uint32_t c : p.roles[r].closure) bits[c / 64] |= uint64_t{1} << (c % 64);
  }
  for (const bc::Separation& s : p.separations) {
    std::string file = s.file < p.files.size() ? p.files[s.file] : "?";
    separation_reasons.push_back(
        absl::StrCat("the subject holds roles that are separated (", file, ":", s.line, ")"));
  }
  for (const bc::Risk& risk : p.risks) risk_labels.push_back(absl::StrCat("risk ", risk.name));
  slot_attribute.assign(p.slot_count, -1);
  for (size_t a = 0; a < p.attributes.size(); ++a) {
    uint32_t slot = p.attributes[a].slot;
    if (slot < slot_attribute.size() && slot_attribute[slot] < 0)
      slot_attribute[slot] = static_cast<int32_t>(a);
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

absl::Status Engine::Impl::ConvertRecord(const std::string& name, const bc::TypeRef& type,
                                         const DataValue* value, Value* out) {
  const bc::RecordShape& shape = program.records[type.record];
  rt::RecordData* record = prepared.data_arena.NewRecord(
      static_cast<uint32_t>(type.record), static_cast<uint32_t>(shape.fields.size()));
  if (record == nullptr) return DataError(name, "too large");
  out->rec = record;
  if (value == nullptr) return absl::OkStatus();  // allowed missing: every field absent
  if (value->kind != DataValue::Kind::kObject) return DataError(name, "expected an object");
  for (const auto& [key, field_value] : value->fields) {
    if (shape.FindField(key) < 0) return DataError(name, absl::StrCat("no field `", key, "`"));
  }
  for (size_t f = 0; f < shape.fields.size(); ++f) {
    const bc::RecordField& field = shape.fields[f];
    std::string path = absl::StrCat(name, ".", field.name);
    const DataValue* given = nullptr;
    for (const auto& [key, field_value] : value->fields) {
      if (key == field.name) given = &field_value;
    }
    if (given != nullptr && given->kind == DataValue::Kind::kNull) {
      if (!field.optional) return DataError(path, "null for a required field");
      given = nullptr;
    }
    if (given == nullptr) {
      if (!field.optional && !options.allow_missing_data) return DataError(path, "no value given");
      continue;
    }
    if (absl::Status s = ConvertData(path, field.type, given, &record->fields()[f]); !s.ok())
      return s;
    record->present()[f] = 1;
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::ConvertData(const std::string& name, const bc::TypeRef& type,
                                       const DataValue* value, Value* out) {
  if (type.code == bc::TypeCode::kRecord) return ConvertRecord(name, type, value, out);
  if (type.code == bc::TypeCode::kSet && type.element == bc::TypeCode::kRecord) {
    std::vector<Value>& members = prepared.data_sets.emplace_back();
    if (value != nullptr) {
      if (value->kind != DataValue::Kind::kList) return DataError(name, "expected a list");
      bc::TypeRef element = rt::ElementTypeRef(type);
      for (size_t k = 0; k < value->list.size(); ++k) {
        Value v;
        absl::Status s =
            ConvertRecord(absl::StrCat(name, "[", k, "]"), element, &value->list[k], &v);
        if (!s.ok()) return s;
        members.push_back(v);
      }
      members.resize(rt::SortUnique(program, element, members.data(), members.size()));
    }
    out->set = rt::SetRef{members.data(), static_cast<uint32_t>(members.size()), ValueKind::kRecord,
                          false, 0};
    return absl::OkStatus();
  }
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
  prepared.data_missing.assign(program.data.size(), 0);
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
    // Not given (as `warden test` allows): sets, strings, ints and bools are
    // empty; a value of any other type has no empty form, and reading it is
    // an error, as in the reference evaluator.
    bool empty_form = slot.type.code == bc::TypeCode::kSet ||
                      slot.type.code == bc::TypeCode::kString ||
                      slot.type.code == bc::TypeCode::kInt || slot.type.code == bc::TypeCode::kBool;
    prepared.data_missing[i] = given == nullptr && !empty_form;
    if (prepared.data_missing[i]) continue;
    if (absl::Status s = ConvertData(slot.name, slot.type, given, &prepared.data[i]); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

void Engine::Impl::BuildIndex() {
  const bc::Program& p = program;
  rule_policy.assign(p.rules.size(), 0);
  hot_rules.clear();
  for (const bc::Rule& rule : p.rules) {
    Outcome effect = rule.effect == bc::Effect::kPermit ? Outcome::kPermit
                     : rule.effect == bc::Effect::kDeny ? Outcome::kDeny
                                                        : Outcome::kStepUp;
    hot_rules.push_back(HotRule{effect, !rule.extras.empty(), rule.condition, rule.challenge});
  }
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
    absl::flat_hash_map<uint32_t, std::vector<uint32_t>> by_type;  // type key -> positions
    // Dense tables cost (types + 1) entries per set: only for modest programs.
    const size_t type_keys = p.resource_types.size() + 1;
    const size_t dense_keys =
        type_keys * (p.policy_sets.size() + 1) <= (size_t{1} << 20) ? type_keys : 0;
    for (uint32_t pos = 0; pos < members.size(); ++pos) {
      Relevance r = relevance_of(members[pos]);
      if (r.all) {
        index.all.push_back(pos);
      } else {
        for (uint32_t key : r.keys) by_type[key].push_back(pos);
      }
    }
    for (const auto& [key, typed] : by_type) {
      std::vector<uint32_t> merged;
      std::merge(index.all.begin(), index.all.end(), typed.begin(), typed.end(),
                 std::back_inserter(merged));
      if (dense_keys > 0) {
        index.dense.resize(dense_keys, 0);
        index.lists.push_back(std::move(merged));
        index.dense[key] = static_cast<uint32_t>(index.lists.size());
      } else {
        index.merged[key] = std::move(merged);
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
  // A combined node: its outcome, its challenge (index into the program's
  // challenges, or -1) and its deciding rules, deciders[dec_begin, dec_end).
  struct Child {
    Outcome outcome;
    int32_t challenge;
    uint32_t dec_begin;  // into deciders
    uint32_t dec_end;
  };
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
  std::vector<uint32_t> order;  // for writing a set's members in order
  // Explain only: every candidate rule as it is evaluated.
  struct Explained {
    uint32_t rule;
    RuleExplanation::Status status;
    rt::EvalError error;  // the rule's first failure, or kNone
    uint32_t pc;          // its instruction
  };
  std::vector<Explained> explained;
};

DecideScratch& ThreadScratch() {
  thread_local DecideScratch scratch;
  return scratch;
}

using Child = DecideScratch::Child;
using Status = RuleExplanation::Status;

// Error::detail of a kCombine error: which kind of node conflicted.
constexpr uint32_t kPolicyNode = 0;
constexpr uint32_t kSetNode = 1;
constexpr uint32_t kRootsNode = 2;

// Walks the policy tree for one request. Each node combines its children
// while it evaluates them (rt::Combiner): a child's deciding rules are
// appended to s_.deciders and then kept, moved down to the node's start, or
// dropped, so the deciders of a node are always one contiguous run. With
// kExplain, it also records every candidate rule (DecideScratch::explained);
// without, the explain code is not compiled in.
template <bool kExplain>
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

  Child Roots() {
    return Members(bc::Algorithm::kDenyOverrides, p_.roots, e_.root_members, kRootsNode, 0);
  }

 private:
  Child NotApplicable() const {
    uint32_t at = static_cast<uint32_t>(s_.deciders.size());
    return Child{Outcome::kNotApplicable, -1, at, at};
  }

  Child Member(const bc::Member& m) {
    return m.is_set ? Members(p_.policy_sets[m.index].algorithm, p_.policy_sets[m.index].members,
                              e_.set_members[m.index], kSetNode, m.index)
                    : Policy(m.index);
  }

  // Applies the combiner's verdict on the child whose deciders start at `mark`.
  void Keep(rt::Combiner::Take take, uint32_t dec_base, uint32_t mark) {
    std::vector<uint32_t>& d = s_.deciders;
    switch (take) {
      case rt::Combiner::Take::kDrop:
        d.erase(d.begin() + mark, d.end());
        break;
      case rt::Combiner::Take::kWin:
        if (mark != dec_base) {
          uint32_t end = static_cast<uint32_t>(d.size());
          std::copy(d.begin() + mark, d.end(), d.begin() + dec_base);
          d.erase(d.begin() + dec_base + (end - mark), d.end());
        }
        break;
      case rt::Combiner::Take::kJoin:
        break;
      case rt::Combiner::Take::kClear:
        d.erase(d.begin() + dec_base, d.end());
        break;
    }
  }

  Child Finish(const rt::Combiner& combiner, uint32_t dec_base, uint32_t node, uint32_t kind) {
    rt::EvalError error = rt::EvalError::kNone;
    rt::Combined combined = combiner.Finish(&error);
    if (error != rt::EvalError::kNone) {
      s_.vm.errors.push_back(
          rt::Scratch::Error{error, rt::Scratch::Source::kCombine, node, kind, 0});
    }
    if (combined.child < 0) s_.deciders.erase(s_.deciders.begin() + dec_base, s_.deciders.end());
    return Child{combined.outcome, combiner.challenge(), dec_base,
                 static_cast<uint32_t>(s_.deciders.size())};
  }

  // Evaluates the members relevant to the request's resource type, in their
  // order (MemberIndex::ForType).
  Child Members(bc::Algorithm algorithm, const std::vector<bc::Member>& members,
                const MemberIndex& index, uint32_t kind, uint32_t node) {
    const std::vector<uint32_t>& positions = index.ForType(type_key_);
    uint32_t dec_base = static_cast<uint32_t>(s_.deciders.size());
    rt::Combiner combiner(static_cast<rt::Algorithm>(algorithm));
    for (uint32_t pos : positions) {
      uint32_t mark = static_cast<uint32_t>(s_.deciders.size());
      Child child = Member(members[pos]);
      Keep(combiner.Add(child.outcome, child.challenge), dec_base, mark);
      if (combiner.done()) break;
    }
    return Finish(combiner, dec_base, node, kind);
  }

  Child Policy(uint32_t index) {
    const bc::Policy& policy = p_.policies[index];
    const uint32_t* offsets = e_.action_offsets.data() + e_.policy_offset[index];
    uint32_t begin = offsets[action_bucket_];
    uint32_t end = offsets[action_bucket_ + 1];
    // No candidate rule: not applicable whatever the algorithm (docs/decisions.md),
    // so deny_unless_permit does not deny requests its policy never targets.
    if (begin == end) return NotApplicable();
    uint32_t dec_base = static_cast<uint32_t>(s_.deciders.size());
    rt::Combiner combiner(static_cast<rt::Algorithm>(policy.algorithm));
    for (uint32_t k = begin; k < end; ++k) {
      uint32_t rule = e_.action_rules[k];
      uint32_t mark = static_cast<uint32_t>(s_.deciders.size());
      Outcome outcome = Rule(rule);
      if (outcome == Outcome::kNotApplicable) continue;  // Add would drop it: nothing to undo
      Keep(combiner.Add(outcome, e_.hot_rules[rule].challenge), dec_base, mark);
      if (combiner.done()) {
        if constexpr (kExplain) {
          for (uint32_t j = k + 1; j < end; ++j) {
            s_.explained.push_back(DecideScratch::Explained{
                e_.action_rules[j], Status::kNotEvaluated, rt::EvalError::kNone, 0});
          }
        }
        break;
      }
    }
    return Finish(combiner, dec_base, index, kPolicyNode);
  }

  // Evaluates a rule: its effect if it applies (and it is then appended to
  // the deciders, its obligations and advice to the extras), else not applicable.
  // Explain: the entry of the rule being evaluated.
  DecideScratch::Explained& Entry() { return s_.explained.back(); }
  void NoteError(rt::EvalError error) {
    if (Entry().error == rt::EvalError::kNone) {
      Entry().error = error;
      Entry().pc = s_.vm.fault_pc;
    }
  }

  Outcome Rule(uint32_t index) {
    const Engine::Impl::HotRule& hot = e_.hot_rules[index];
    Outcome effect = hot.effect;
    if constexpr (kExplain) {
      s_.explained.push_back(
          DecideScratch::Explained{index, Status::kFired, rt::EvalError::kNone, 0});
    }
    if (hot.condition != bc::kNoBlock) {
      Value holds;
      rt::EvalError error =
          rt::RunBlock(e_.prepared, frame_, s_.vm, static_cast<uint32_t>(hot.condition), &holds);
      if (error != rt::EvalError::kNone) {
        s_.vm.errors.push_back(
            rt::Scratch::Error{error, rt::Scratch::Source::kCondition, index, 0, s_.vm.fault_pc});
        if constexpr (kExplain) {
          NoteError(error);
          Entry().status = Status::kError;
        }
        // Fail closed: an erroring permit does not apply; deny and step_up do.
        if (effect == Outcome::kPermit) return Outcome::kNotApplicable;
      } else if (holds.i == 0) {
        if constexpr (kExplain) Entry().status = Status::kNotApplicable;
        return Outcome::kNotApplicable;
      }
    }
    if (!hot.has_extras) {
      s_.deciders.push_back(index);
      return effect;
    }
    const bc::Rule& rule = p_.rules[index];
    size_t extras_base = s_.extras.size();
    bool unmet = false;  // a permit's obligation could not be computed
    for (uint16_t x = 0; x < rule.extras.size(); ++x) {
      const bc::Extra& extra = rule.extras[x];
      size_t extra_base = s_.extras.size();
      s_.extras.push_back(
          DecideScratch::ExtraValue{index, x, DecideScratch::kExtraHeader, Value{}});
      for (uint16_t a = 0; a < extra.args.size(); ++a) {
        Value value;
        rt::EvalError error = rt::RunBlock(e_.prepared, frame_, s_.vm, extra.args[a].block, &value);
        if (error != rt::EvalError::kNone) {
          s_.vm.errors.push_back(rt::Scratch::Error{error, rt::Scratch::Source::kObligation, index,
                                                    x, s_.vm.fault_pc});
          if constexpr (kExplain) NoteError(error);
          // An obligation that cannot be met: the permit does not apply. The
          // other obligations and advice are still evaluated, so their errors
          // are reported too (as the reference evaluator does).
          unmet = unmet || (effect == Outcome::kPermit && extra.is_obligation);
          s_.extras.resize(extra_base);  // leave this obligation or advice out
          break;
        }
        s_.extras.push_back(DecideScratch::ExtraValue{index, x, a, value});
      }
    }
    if (unmet) {
      if constexpr (kExplain) Entry().status = Status::kError;
      s_.extras.resize(extras_base);
      return Outcome::kNotApplicable;
    }
    s_.deciders.push_back(index);
    return effect;
  }

  const Engine::Impl& e_;
  const bc::Program& p_;
  const rt::Frame& frame_;
  DecideScratch& s_;
  uint32_t type_key_ = 0;
  uint32_t action_bucket_ = 0;
};

}  // namespace

namespace {

// Writes v into buffer (at least 24 bytes); returns the end.
char* IntText(char* buffer, int64_t v) { return std::to_chars(buffer, buffer + 24, v).ptr; }

// A decimal (scaled by 10^4) as "-12.5"; with `always_fraction`, whole
// numbers get ".0" ("800.0": a JSON number that reads back as a decimal).
// Returns the end (buffer: at least 32 bytes).
char* DecimalText(char* buffer, int64_t v, bool always_fraction) {
  uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  char* p = buffer;
  if (v < 0) *p++ = '-';
  p = std::to_chars(p, buffer + 32, magnitude / 10000).ptr;
  uint64_t fraction = magnitude % 10000;
  if (fraction == 0) {
    if (always_fraction) {
      *p++ = '.';
      *p++ = '0';
    }
    return p;
  }
  *p++ = '.';
  char digits[4] = {
      static_cast<char>('0' + fraction / 1000), static_cast<char>('0' + fraction / 100 % 10),
      static_cast<char>('0' + fraction / 10 % 10), static_cast<char>('0' + fraction % 10)};
  int n = 4;
  while (n > 1 && digits[n - 1] == '0') --n;
  std::memcpy(p, digits, n);
  return p + n;
}

// A duration as the language writes it: "1h30m", "250ms", "0s", "-5m".
char* DurationText(char* buffer, int64_t millis) {
  char* p = buffer;
  if (millis == 0) {
    *p++ = '0';
    *p++ = 's';
    return p;
  }
  if (millis < 0) *p++ = '-';
  uint64_t rest = millis < 0 ? 0 - static_cast<uint64_t>(millis) : static_cast<uint64_t>(millis);
  static constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : kUnits) {
    if (rest < size) continue;
    p = std::to_chars(p, buffer + 64, rest / size).ptr;
    for (const char* c = name; *c != 0; ++c) *p++ = *c;
    rest %= size;
  }
  return p;
}

// A timestamp (ms since the epoch) in RFC 3339, UTC, with the fraction of a
// second only when there is one: "2026-03-02T10:00:00Z", "…:00.25Z".
char* TimestampText(char* buffer, int64_t millis) {
  int64_t seconds = millis / 1000;
  int64_t ms = millis % 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  absl::CivilSecond civil =
      absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  char* p = std::to_chars(buffer, buffer + 24, civil.year()).ptr;
  auto two = [&](char separator, int value) {
    *p++ = separator;
    *p++ = static_cast<char>('0' + value / 10);
    *p++ = static_cast<char>('0' + value % 10);
  };
  two('-', civil.month());
  two('-', civil.day());
  two('T', civil.hour());
  two(':', civil.minute());
  two(':', civil.second());
  if (ms != 0) {
    char digits[3] = {static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                      static_cast<char>('0' + ms % 10)};
    int n = 3;
    while (digits[n - 1] == '0') --n;
    *p++ = '.';
    std::memcpy(p, digits, n);
    p += n;
  }
  *p++ = 'Z';
  return p;
}

// An IP address ("10.0.0.1") or network ("10.0.0.0/8").
char* IpText(char* buffer, const bc::IpNet& ip) {
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes, buffer, INET6_ADDRSTRLEN);
  char* p = buffer + std::strlen(buffer);
  if (ip.prefix != (ip.v6 ? 128 : 32)) {
    *p++ = '/';
    p = std::to_chars(p, p + 4, static_cast<int>(ip.prefix)).ptr;
  }
  return p;
}

// A string as a JSON literal into buffer (room for size + 2), when it needs
// no escaping; else false.
bool PlainJsonString(char* buffer, const rt::StrRef& s) {
  for (uint32_t i = 0; i < s.size; ++i) {
    unsigned char c = static_cast<unsigned char>(s.data[i]);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return false;
  }
  buffer[0] = '"';
  std::memcpy(buffer + 1, s.data, s.size);
  buffer[s.size + 1] = '"';
  return true;
}

}  // namespace

// Renders a scalar of a type whose text and JSON both fit 64 bytes (every
// scalar but strings and enum members) into the two buffers; returns their
// lengths through *text_size and *json_size.
void Engine::Impl::RenderNumber(bc::TypeCode code, const Value& value, char* text,
                                size_t* text_size, char* json, size_t* json_size) const {
  using bc::TypeCode;
  char* end = text;
  switch (code) {
    case TypeCode::kBool:
      end = value.i != 0 ? std::copy_n("true", 4, text) : std::copy_n("false", 5, text);
      break;
    case TypeCode::kDecimal: {
      end = DecimalText(text, value.i, /*always_fraction=*/true);
      *json_size = end - text;
      std::memcpy(json, text, *json_size);
      // The text form drops a zero fraction ("800"); JSON keeps it ("800.0").
      *text_size = end[-1] == '0' && end[-2] == '.' ? *json_size - 2 : *json_size;
      return;
    }
    case TypeCode::kDuration:
      end = std::copy_n("ms", 2, IntText(text, value.i));
      *text_size = end - text;
      json[0] = '"';
      end = DurationText(json + 1, value.i);
      *end++ = '"';
      *json_size = end - json;
      return;
    case TypeCode::kTimestamp:
      *text_size = IntText(text, value.i) - text;
      json[0] = '"';
      end = TimestampText(json + 1, value.i);
      *end++ = '"';
      *json_size = end - json;
      return;
    case TypeCode::kIp:
      *text_size = IpText(text, *value.ip) - text;
      json[0] = '"';
      std::memcpy(json + 1, text, *text_size);
      json[*text_size + 1] = '"';
      *json_size = *text_size + 2;
      return;
    default:  // int; an enum index without a name
      end = IntText(text, value.i);
      break;
  }
  *text_size = end - text;
  std::memcpy(json, text, *text_size);
  *json_size = *text_size;
}

void Engine::Impl::RenderScalar(bc::TypeCode code, int32_t enumeration, const Value& value,
                                std::string* text, std::string* json) const {
  char text_buffer[72];
  char json_buffer[72];
  size_t text_size = 0;
  size_t json_size = 0;
  if (code == bc::TypeCode::kString) {
    text->append(value.s.data, value.s.size);
    if (value.s.size <= 64 && PlainJsonString(json_buffer, value.s)) {
      json->append(json_buffer, value.s.size + 2);
    } else {
      AppendJsonString(value.s.view(), json);
    }
    return;
  }
  if (code == bc::TypeCode::kEnum && enumeration >= 0 && value.i >= 0 &&
      static_cast<size_t>(value.i) < program.enums[enumeration].members.size()) {
    const std::string& name = program.enums[enumeration].members[value.i];
    text->append(name);
    AppendJsonString(name, json);
    return;
  }
  RenderNumber(code, value, text_buffer, &text_size, json_buffer, &json_size);
  text->append(text_buffer, text_size);
  json->append(json_buffer, json_size);
}

void Engine::Impl::RenderComposite(const bc::TypeRef& type, const Value& value, std::string* text,
                                   std::string* json) const {
  if (type.code == bc::TypeCode::kRecord) {
    const rt::RecordData& record = *value.rec;
    const bc::RecordShape& shape = program.records[record.shape];
    text->push_back('{');
    json->push_back('{');
    bool first = true;
    for (uint32_t f = 0; f < record.count; ++f) {
      if (!record.present()[f]) continue;
      if (!first) {
        text->append(", ");
        json->push_back(',');
      }
      first = false;
      absl::StrAppend(text, shape.fields[f].name, ": ");
      AppendJsonString(shape.fields[f].name, json);
      json->push_back(':');
      RenderComposite(shape.fields[f].type, record.fields()[f], text, json);
    }
    text->push_back('}');
    json->push_back('}');
    return;
  }
  if (type.code != bc::TypeCode::kSet)
    return RenderScalar(type.code, type.enumeration, value, text, json);
  // Ascending, without repeats, as the reference evaluator holds sets.
  const rt::SetRef& set = value.set;
  bc::TypeRef element = rt::ElementTypeRef(type);
  std::vector<uint32_t> order(set.size);
  for (uint32_t i = 0; i < set.size; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    return rt::CompareValues(program, element, set.data[x], set.data[y]) < 0;
  });
  text->push_back('[');
  json->push_back('[');
  for (size_t k = 0; k < order.size(); ++k) {
    const Value& member = set.data[order[k]];
    if (k > 0) {
      if (rt::CompareValues(program, element, set.data[order[k - 1]], member) == 0) continue;
      text->append(", ");
      json->push_back(',');
    }
    RenderComposite(element, member, text, json);
  }
  text->push_back(']');
  json->push_back(']');
}

void Engine::Impl::Render(const bc::TypeRef& type, const Value& value, ObligationArg* arg,
                          std::vector<uint32_t>* order) const {
  std::string* text = &arg->value;
  std::string* json = &arg->json;
  if (type.record >= 0) {  // a record, or a set of records: the general, slower path
    text->clear();
    json->clear();
    return RenderComposite(type, value, text, json);
  }
  if (type.code != bc::TypeCode::kSet) {
    // The common cases in one assignment per string.
    char text_buffer[72];
    char json_buffer[72];
    size_t text_size = 0;
    size_t json_size = 0;
    text->clear();
    json->clear();
    if (type.code == bc::TypeCode::kString && value.s.size <= 64 &&
        PlainJsonString(json_buffer, value.s)) {
      text->append(value.s.data, value.s.size);
      json->append(json_buffer, value.s.size + 2);
      return;
    }
    if (type.code != bc::TypeCode::kString && type.code != bc::TypeCode::kEnum) {
      RenderNumber(type.code, value, text_buffer, &text_size, json_buffer, &json_size);
      text->append(text_buffer, text_size);
      json->append(json_buffer, json_size);
      return;
    }
  }
  text->clear();
  json->clear();
  if (type.code != bc::TypeCode::kSet)
    return RenderScalar(type.code, type.enumeration, value, text, json);
  const rt::SetRef& set = value.set;
  order->clear();
  for (uint32_t i = 0; i < set.size; ++i) order->push_back(i);
  if (!set.sorted) {
    std::sort(order->begin(), order->end(), [&](uint32_t x, uint32_t y) {
      return rt::CompareScalar(set.element, set.data[x], set.data[y]) < 0;
    });
  }
  text->push_back('[');
  json->push_back('[');
  for (size_t k = 0; k < order->size(); ++k) {
    const Value& member = set.data[(*order)[k]];
    if (k > 0) {
      if (rt::ScalarEqual(set.element, set.data[(*order)[k - 1]], member)) continue;  // a repeat
      text->append(", ");
      json->push_back(',');
    }
    RenderScalar(type.element, type.enumeration, member, text, json);
  }
  text->push_back(']');
  json->push_back(']');
}

template <bool kExplain>
void Engine::Impl::Decide(const rt::Frame& frame, Decision* d, Explanation* explanation) const {
  if constexpr (kExplain) explanation->Clear();
  d->Clear();
  d->bundle_hash = hash;
  if (frame.slot_count() != program.slot_count) {
    d->outcome = Outcome::kDeny;
    d->errors.push_back(DecisionError{rt::EvalError::kBadRequest,
                                      "frame",
                                      "the frame was made for another program",
                                      {},
                                      0,
                                      kNoInstruction});
    return;
  }
  DecideScratch& s = ThreadScratch();
  s.vm.Begin(prepared, options.vm);
  s.deciders.clear();
  s.extras.clear();
  if constexpr (kExplain) s.explained.clear();

  // 1. Effective roles.
  const size_t words = prepared.role_words;
  auto grant = [&](uint32_t role) {
    const uint64_t* bits = prepared.role_closure.data() + role * words;
    for (size_t w = 0; w < words; ++w) s.vm.roles[w] |= bits[w];
  };
  if (roles_slot >= 0 && frame.present(static_cast<uint32_t>(roles_slot))) {
    const rt::SetRef& roles = frame.slot(static_cast<uint32_t>(roles_slot)).set;
    for (uint32_t i = 0; i < roles.size; ++i) {
      int role = FindRole(roles.data[i].s.view());
      if (role >= 0) grant(static_cast<uint32_t>(role));
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
      DecisionError error{rt::EvalError::kSeparationOfDuties,
                          "separate",
                          separation_reasons[i],
                          {},
                          0,
                          kNoInstruction};
      Locate(program.separations[i].file, program.separations[i].line, &error);
      d->errors.push_back(error);
      return;
    }
  }
  // 3. The roots, deny_overrides.
  Decider<kExplain> decider(*this, frame, s);
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
        ObligationArg& out = d->AddArg();
        out.key = arg.key;
        Render(arg.type, s.extras[y].value, &out, &s.order);
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
                              other.index == error.index && other.detail == error.detail &&
                              other.pc == error.pc);
    }
    if (repeated) continue;
    DecisionError out{error.code, {}, {}, {}, 0, kNoInstruction};
    switch (error.source) {
      case rt::Scratch::Source::kCondition:
      case rt::Scratch::Source::kObligation: {
        const bc::Rule& rule = program.rules[error.index];
        out.where = rule.name;
        out.what = error.source == rt::Scratch::Source::kCondition
                       ? std::string_view("condition")
                       : std::string_view(rule.extras[error.detail].name);
        // The failing expression's line; the rule's in a program without lines.
        const bc::SourceLine* at = program.LineOf(error.pc);
        Locate(at != nullptr ? at->file : rule.file, at != nullptr ? at->line : rule.line, &out);
        out.instruction = error.pc;
        break;
      }
      case rt::Scratch::Source::kRisk: {
        out.where = risk_labels[error.index];  // as the reference evaluator names it
        out.what = "risk factor";
        if (const bc::SourceLine* at = program.LineOf(error.pc)) Locate(at->file, at->line, &out);
        out.instruction = error.pc;
        break;
      }
      case rt::Scratch::Source::kSeparation:
        out.where = "separate";
        break;
      case rt::Scratch::Source::kCombine:
        // The policy or set whose children conflicted (the roots: the bundle).
        out.where =
            error.detail == kPolicyNode ? std::string_view(program.policies[error.index].name)
            : error.detail == kSetNode  ? std::string_view(program.policy_sets[error.index].name)
                                        : std::string_view("the bundle");
        out.what = "only_one_applicable";
        if (error.detail == kPolicyNode) {
          Locate(program.policies[error.index].file, program.policies[error.index].line, &out);
        } else if (error.detail == kSetNode) {
          Locate(program.policy_sets[error.index].file, program.policy_sets[error.index].line,
                 &out);
        }
        break;
    }
    d->errors.push_back(out);
  }
  d->limits_read.assign(s.vm.limits_read.begin(), s.vm.limits_read.end());
  for (uint32_t r = 0; r < program.risks.size(); ++r) {
    if (s.vm.risk_done(r)) d->risks.emplace_back(program.risks[r].name, s.vm.risk_value[r]);
  }
  // Last, so evaluating conjuncts changes nothing in the decision.
  if constexpr (kExplain) ExplainRules(frame, explanation);
}

const char* RuleStatusName(RuleExplanation::Status status) {
  switch (status) {
    case Status::kFired:
      return "fired";
    case Status::kError:
      return "error";
    case Status::kNotApplicable:
      return "not_applicable";
    case Status::kNotEvaluated:
      return "not_evaluated";
  }
  return "?";
}

namespace {

// An attribute path as policies write it: `resource.payment.amount` is
// `resource.amount` (as the reference evaluator names it).
std::string DisplayPath(const bc::Attribute& attribute) {
  if (attribute.resource_type < 0) return attribute.path;
  size_t dot = attribute.path.find('.', 9);
  return dot == std::string::npos ? attribute.path
                                  : absl::StrCat("resource", attribute.path.substr(dot));
}

}  // namespace

std::string Engine::Impl::ErrorMessage(rt::EvalError code, uint32_t instruction,
                                       const rt::Frame* frame) const {
  if (instruction < program.code.size()) {
    const bc::Instr& in = program.code[instruction];
    switch (in.op) {
      case bc::Op::kLOAD:
        if (in.c < slot_attribute.size() && slot_attribute[in.c] >= 0) {
          return absl::StrCat("`", DisplayPath(program.attributes[slot_attribute[in.c]]),
                              "` is missing from the request");
        }
        break;
      case bc::Op::kDATA:
        if (in.c < program.data.size())
          return absl::StrCat("data `", program.data[in.c].name, "` is not given");
        break;
      case bc::Op::kFIELD: {
        // The record's shape is in the register type of the instruction's
        // block (blocks are laid out in code order: a binary search).
        auto after = std::upper_bound(
            program.blocks.begin(), program.blocks.end(), instruction,
            [](uint32_t pc, const bc::CodeBlock& block) { return pc < block.begin; });
        if (after != program.blocks.begin()) {
          const bc::CodeBlock& block = *(after - 1);
          if (instruction >= block.begin + block.size) break;
          uint32_t shape = bc::ShapeOf(program.reg_types[block.reg_begin + in.b]);
          if (shape < program.records.size() && in.c < program.records[shape].fields.size())
            return absl::StrCat("a set element has no `", program.records[shape].fields[in.c].name,
                                "`");
        }
        break;
      }
      case bc::Op::kACTION:
        if (frame != nullptr) {
          return absl::StrCat("the action `", std::string(frame->undeclared_action_name()),
                              "` is not declared, so it has no order");
        }
        return "the action is not declared, so it has no order";
      case bc::Op::kLIMEXC:
      case bc::Op::kLIMREM:
        if (in.c < program.limits.size())
          return absl::StrCat("the counter of limit `", program.limits[in.c].name,
                              "` is unavailable");
        break;
      case bc::Op::kNEG:
        return "negation overflows";
      case bc::Op::kADD:
        return "`+` overflows";
      case bc::Op::kSUB:
        return "`-` overflows";
      case bc::Op::kMUL:
        return "`*` overflows";
      case bc::Op::kDIV:
        return code == rt::EvalError::kDivisionByZero ? "`/` by zero" : "`/` overflows";
      case bc::Op::kMOD:
        return "`%` by zero";
      case bc::Op::kLOOP:
        return "the loop budget (max_loop_iterations) is exhausted";
      default:
        if (code == rt::EvalError::kLimitExceeded)
          return "the decision's scratch memory (max_scratch_bytes) is exhausted";
        break;
    }
  }
  return rt::EvalErrorCode(code);
}

void Engine::Impl::ExplainRules(const rt::Frame& frame, Explanation* explanation) const {
  DecideScratch& s = ThreadScratch();
  for (const DecideScratch::Explained& entry : s.explained) {
    const bc::Rule& rule = program.rules[entry.rule];
    RuleExplanation& out = explanation->rules.emplace_back();
    out.rule = entry.rule;
    out.name = rule.name;
    out.policy = program.policies[rule_policy[entry.rule]].name;
    out.file = rule.file < program.files.size() ? std::string_view(program.files[rule.file]) : "";
    out.line = rule.line;
    out.effect = bc::EffectName(rule.effect);
    if (rule.effect == bc::Effect::kStepUp && rule.challenge >= 0)
      absl::StrAppend(&out.effect, " ", program.challenges[rule.challenge]);
    out.status = entry.status;
    if (entry.error != rt::EvalError::kNone)
      out.error = ErrorMessage(entry.error, entry.pc, &frame);
    // A permit rule that did not fire: which of its conditions failed.
    bool fired = entry.status == Status::kFired ||
                 (entry.status == Status::kError && rule.effect != bc::Effect::kPermit);
    if (rule.effect != bc::Effect::kPermit || fired || entry.status == Status::kNotEvaluated ||
        rule.condition == bc::kNoBlock)
      continue;
    if (rule.conjuncts.empty()) {
      out.conditions_unavailable = true;
      continue;
    }
    for (const bc::Conjunct& conjunct : rule.conjuncts) {
      s.vm.loop_budget = options.vm.max_loop_iterations;  // each on its own, as the reference does
      Value holds;
      rt::EvalError error = rt::RunBlock(prepared, frame, s.vm, conjunct.block, &holds);
      if (error != rt::EvalError::kNone) {
        out.failed_conditions.push_back(absl::StrCat(
            conjunct.text, " (error: ", ErrorMessage(error, s.vm.fault_pc, &frame), ")"));
      } else if (holds.i == 0) {
        out.failed_conditions.push_back(conjunct.text);
      }
    }
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
    impl_->Decide<false>(frame, decision, nullptr);
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
}

void Engine::Explain(const rt::Frame& frame, Decision* decision,
                     Explanation* explanation) const noexcept {
  try {
    impl_->Decide<true>(frame, decision, explanation);
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
}

std::string Engine::ErrorMessage(const DecisionError& error, const rt::Frame* frame) const {
  if (error.code == rt::EvalError::kSeparationOfDuties || error.code == rt::EvalError::kBadRequest)
    return std::string(error.what);
  return impl_->ErrorMessage(error.code, error.instruction, frame);
}

Decision Engine::Decide(const rt::Frame& frame) const {
  Decision decision;
  Decide(frame, &decision);
  return decision;
}

const std::shared_ptr<const rt::RequestSchema>& Engine::request_schema() const {
  return impl_->request_schema;
}

namespace {

// Decodes `json` into the session's frame and runs `decide` on it; a request
// that cannot be evaluated is a deny with bad_request errors (DecideJson).
template <typename F>
bool DecodeAndDecide(std::string_view json, JsonSession& session, const std::string& hash,
                     Decision* decision, F decide) noexcept {
  try {
    if (session.decoder().Decode(json, &session.frame())) {
      decide(session.frame());
      return true;
    }
    decision->Clear();
    decision->bundle_hash = hash;
    decision->outcome = rt::Outcome::kDeny;
    const std::vector<rt::RequestError>& errors = session.errors();
    // The fatal error is the last one (earlier entries: problems before it).
    for (const rt::RequestError& error : errors) {
      if (rt::IsFatal(error.code) || session.decoder().options().strict) {
        decision->errors.push_back(DecisionError{
            rt::EvalError::kBadRequest, error.json_path, error.message, {}, 0, kNoInstruction});
      }
    }
    if (decision->errors.empty())
      decision->errors.push_back(
          DecisionError{rt::EvalError::kBadRequest, "", "bad request", {}, 0, kNoInstruction});
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
  return false;
}

}  // namespace

bool Engine::DecideJson(std::string_view json, JsonSession& session,
                        Decision* decision) const noexcept {
  return DecodeAndDecide(json, session, impl_->hash, decision,
                         [&](const rt::Frame& frame) { Decide(frame, decision); });
}

bool Engine::ExplainJson(std::string_view json, JsonSession& session, Decision* decision,
                         Explanation* explanation) const noexcept {
  explanation->Clear();
  return DecodeAndDecide(json, session, impl_->hash, decision,
                         [&](const rt::Frame& frame) { Explain(frame, decision, explanation); });
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
