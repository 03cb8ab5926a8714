// The VM's request decoder (see request_decoder.h and docs/decisions.md).
//
// One forward walk over simdjson's On-Demand iterator validates every value
// (numbers, strings, duplicate keys, depth, array sizes) exactly like the
// JSON parser of the reference decoder, and decodes the values it knows into
// the frame on the way. Two places need a second look at an object, done
// with object::reset() and raw key comparisons (no string is unescaped
// twice, which would overrun the parser's string buffer):
//   - `resource`: its `type` selects the record its other fields belong to;
//   - the request: `resource` is decoded after the other parts, as in the
//     reference decoder (its problems are reported last).
#include "runtime/request_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/record_value.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"
#include "simdjson.h"

namespace warden::rt {

namespace od = simdjson::ondemand;

const char* RequestErrorCodeName(RequestErrorCode code) {
  switch (code) {
    case RequestErrorCode::kMalformedJson:
      return "malformed_json";
    case RequestErrorCode::kTooLarge:
      return "too_large";
    case RequestErrorCode::kTooDeep:
      return "too_deep";
    case RequestErrorCode::kTooManyElements:
      return "too_many_elements";
    case RequestErrorCode::kDuplicateKey:
      return "duplicate_key";
    case RequestErrorCode::kBadNumber:
      return "bad_number";
    case RequestErrorCode::kNotAnObject:
      return "not_an_object";
    case RequestErrorCode::kMissingAction:
      return "missing_action";
    case RequestErrorCode::kMissingResourceType:
      return "missing_resource_type";
    case RequestErrorCode::kBadJit:
      return "bad_jit";
    case RequestErrorCode::kBadLimits:
      return "bad_limits";
    case RequestErrorCode::kWrongType:
      return "wrong_type";
    case RequestErrorCode::kUnknownAttribute:
      return "unknown_attribute";
    case RequestErrorCode::kUnknownJitProfile:
      return "unknown_jit_profile";
    case RequestErrorCode::kUnknownLimit:
      return "unknown_limit";
  }
  return "unknown";
}

bool IsFatal(RequestErrorCode code) {
  switch (code) {
    case RequestErrorCode::kWrongType:
    case RequestErrorCode::kUnknownAttribute:
    case RequestErrorCode::kUnknownJitProfile:
    case RequestErrorCode::kUnknownLimit:
      return false;
    default:
      return true;
  }
}

const char* RequestErrorCategory(RequestErrorCode code) {
  return IsFatal(code) ? "bad_request" : RequestErrorCodeName(code);
}

// ---------------------------------------------------------------- schema

class RequestSchema {
 public:
  struct Field {
    uint32_t attribute = 0;
    int32_t record = -1;  // a record-typed field: its table
  };
  using FieldMap = absl::flat_hash_map<std::string, Field>;
  using NameMap = absl::flat_hash_map<std::string, int32_t>;

  explicit RequestSchema(const bc::Program& program);

  const Field* Find(int32_t record, std::string_view name) const {
    const FieldMap& map = records_[record];
    auto it = map.find(absl::string_view(name.data(), name.size()));
    return it == map.end() ? nullptr : &it->second;
  }
  static int32_t Lookup(const NameMap& map, std::string_view name) {
    auto it = map.find(absl::string_view(name.data(), name.size()));
    return it == map.end() ? -1 : it->second;
  }

  int32_t subject = -1;
  int32_t context = -1;
  int32_t any_resource = -1;
  std::vector<int32_t> resource;  // by resource type
  NameMap actions;
  NameMap resource_types;
  NameMap jit_profiles;
  NameMap limits;
  std::vector<NameMap> enums;
  std::vector<FieldMap> records_;
};

RequestSchema::RequestSchema(const bc::Program& p) {
  auto new_record = [&] {
    records_.emplace_back();
    return static_cast<int32_t>(records_.size() - 1);
  };
  subject = new_record();
  context = new_record();
  any_resource = new_record();
  for (size_t t = 0; t < p.resource_types.size(); ++t) {
    resource.push_back(new_record());
    resource_types.emplace(p.resource_types[t], static_cast<int32_t>(t));
  }
  // Record tables of record-typed attributes, then every attribute as a field
  // of its parent (parents come before their fields in the table).
  std::vector<int32_t> table_of(p.attributes.size(), -1);
  for (size_t a = 0; a < p.attributes.size(); ++a) {
    if (p.attributes[a].type.code == bc::TypeCode::kRecord) table_of[a] = new_record();
  }
  for (size_t a = 0; a < p.attributes.size(); ++a) {
    const bc::Attribute& attribute = p.attributes[a];
    const std::string& path = attribute.path;
    std::string name = path.substr(path.rfind('.') + 1);
    int32_t owner = -1;
    if (attribute.parent >= 0) {
      if (static_cast<size_t>(attribute.parent) < table_of.size())
        owner = table_of[attribute.parent];
    } else if (attribute.resource_type >= 0) {
      if (static_cast<size_t>(attribute.resource_type) < resource.size())
        owner = resource[attribute.resource_type];
    } else if (path.rfind("subject.", 0) == 0) {
      owner = subject;
    } else if (path.rfind("context.", 0) == 0) {
      owner = context;
    } else if (path.rfind("resource.", 0) == 0) {
      owner = any_resource;
    }
    if (owner < 0 || attribute.slot >= p.slot_count) continue;
    records_[owner].emplace(name, Field{static_cast<uint32_t>(a), table_of[a]});
  }
  for (size_t a = 0; a < p.actions.size(); ++a)
    actions.emplace(p.actions[a].name, static_cast<int32_t>(a));
  for (size_t j = 0; j < p.jit_profiles.size(); ++j)
    jit_profiles.emplace(p.jit_profiles[j].name, static_cast<int32_t>(j));
  for (size_t l = 0; l < p.limits.size(); ++l)
    limits.emplace(p.limits[l].name, static_cast<int32_t>(l));
  for (const bc::Enum& e : p.enums) {
    NameMap& members = enums.emplace_back();
    for (size_t m = 0; m < e.members.size(); ++m)
      members.emplace(e.members[m], static_cast<int32_t>(m));
  }
}

std::shared_ptr<const RequestSchema> BuildRequestSchema(const bc::Program& program) {
  return std::make_shared<const RequestSchema>(program);
}

// ---------------------------------------------------------------- scalars

namespace {

// A JSON number token (RFC 8259 grammar), exactly: an int64 or a decimal
// scaled by 10^4 (at most 4 fractional digits, no exponent).
enum class NumberKind { kInt, kDecimal, kMalformed, kOutOfRange, kNotDecimal, kTooPrecise };

NumberKind ParseNumber(std::string_view text, int64_t* out) {
  size_t i = 0;
  const size_t n = text.size();
  bool negative = false;
  if (i < n && text[i] == '-') {
    negative = true;
    ++i;
  }
  size_t int_begin = i;
  if (i >= n || text[i] < '0' || text[i] > '9') return NumberKind::kMalformed;
  if (text[i] == '0') {
    ++i;
  } else {
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
  }
  size_t int_end = i;
  size_t frac_begin = 0;
  size_t frac_end = 0;
  bool exponent = false;
  if (i < n && text[i] == '.') {
    frac_begin = ++i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    frac_end = i;
    if (frac_end == frac_begin) return NumberKind::kMalformed;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    exponent = true;
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    size_t digits = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == digits) return NumberKind::kMalformed;
  }
  if (i != n) return NumberKind::kMalformed;
  if (exponent) return NumberKind::kNotDecimal;
  if (frac_begin != 0) {  // JSON has checked the grammar; runtime/values reads the decimal
    switch (values::ParseDecimal(text, out)) {
      case values::Error::kNone:
        return NumberKind::kDecimal;
      case values::Error::kPrecision:
        return NumberKind::kTooPrecise;
      case values::Error::kRange:
        return NumberKind::kOutOfRange;
      default:
        return NumberKind::kMalformed;
    }
  }
  // The magnitude, negated at the end (so INT64_MIN is representable).
  uint64_t whole = 0;
  for (size_t k = int_begin; k < int_end; ++k) {
    if (__builtin_mul_overflow(whole, uint64_t{10}, &whole) ||
        __builtin_add_overflow(whole, static_cast<uint64_t>(text[k] - '0'), &whole))
      return NumberKind::kOutOfRange;
  }
  uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (whole > limit) return NumberKind::kOutOfRange;
  *out = negative ? static_cast<int64_t>(0 - whole) : static_cast<int64_t>(whole);
  return NumberKind::kInt;
}

bool IpLess(const bc::IpNet& a, const bc::IpNet& b) {
  if (a.v6 != b.v6) return !a.v6;
  int order = std::memcmp(a.bytes, b.bytes, 16);
  return order != 0 ? order < 0 : a.prefix < b.prefix;
}

// The bytes of a JSON string after its opening quote: its length up to the
// closing quote, whether it has escapes; false on a raw control character.
bool ScanString(const char* p, const char* end, size_t* length, bool* escaped) {
  *escaped = false;
  for (const char* q = p; q < end; ++q) {
    unsigned char c = static_cast<unsigned char>(*q);
    if (c == '"') {
      *length = static_cast<size_t>(q - p);
      return true;
    }
    if (c < 0x20) return false;
    if (c == '\\') {
      *escaped = true;
      ++q;  // the escaped character (simdjson validates escapes when unescaping)
    }
  }
  return false;
}

// Whether the raw (still escaped) key at `raw` spells `name` (ASCII).
bool RawKeyIs(const char* raw, std::string_view name) {
  size_t k = 0;
  for (const char* q = raw;; ++q) {
    char c = *q;
    if (c == '"') return k == name.size();
    if (k >= name.size()) return false;
    if (c == '\\') {
      char e = *++q;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          c = e;
          break;
        case 'u': {
          unsigned v = 0;
          for (int h = 0; h < 4; ++h) {
            char x = *++q;
            v <<= 4;
            if (x >= '0' && x <= '9') {
              v |= static_cast<unsigned>(x - '0');
            } else if ((x | 0x20) >= 'a' && (x | 0x20) <= 'f') {
              v |= static_cast<unsigned>((x | 0x20) - 'a' + 10);
            } else {
              return false;
            }
          }
          if (v >= 0x80) return false;
          c = static_cast<char>(v);
          break;
        }
        default:
          return false;  // control escapes never spell an attribute name
      }
    }
    if (c != name[k++]) return false;
  }
}

std::string_view Trim(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r'))
    token.remove_suffix(1);
  return token;
}

}  // namespace

// ---------------------------------------------------------------- decoder

struct RequestDecoder::Impl {
  Impl(const bc::Program& p, std::shared_ptr<const RequestSchema> s, DecoderOptions o)
      : program(p), schema(std::move(s)), options(std::move(o)) {
    if (schema == nullptr) schema = BuildRequestSchema(program);
    key_sets.resize(static_cast<size_t>(std::max(options.max_depth, 0)) + 2);
    set_values.resize(key_sets.size());
  }

  struct Segment {
    std::string_view key;
    int64_t index = -1;  // >= 0: an array element
  };

  // A fatal parse-level problem: the walk stops, and this is the only error.
  bool ParseFail(RequestErrorCode code, std::string message) {
    errors.clear();
    errors.push_back(RequestError{code, Path(), std::move(message)});
    parse_failed = true;
    return false;
  }
  bool SimdFail(simdjson::error_code error) {
    if (error == simdjson::DEPTH_ERROR) {
      return ParseFail(RequestErrorCode::kTooDeep, absl::StrCat("the request nests deeper than ",
                                                                options.max_depth, " levels"));
    }
    return ParseFail(RequestErrorCode::kMalformedJson,
                     absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
  }
  // A fatal decoding problem: the request is not evaluated, but the walk
  // goes on to find JSON errors, which the reference decoder reports first.
  void Fatal(RequestErrorCode code, std::string path, std::string message) {
    if (decode_failed) return;
    errors.push_back(RequestError{code, std::move(path), std::move(message)});
    decode_failed = true;
  }
  // Tolerated in lenient mode; an error in strict mode.
  void Problem(RequestErrorCode code, std::string message) {
    if (decode_failed) return;
    errors.push_back(RequestError{code, Path(), std::move(message)});
    if (options.strict) strict_failed = true;
  }

  std::string Path() const {
    std::string out;
    for (const Segment& s : path) {
      if (s.index >= 0) {
        absl::StrAppend(&out, "[", s.index, "]");
      } else {
        if (!out.empty()) out.push_back('.');
        out.append(s.key.data(), s.key.size());
      }
    }
    return out;
  }

  struct PathScope {
    PathScope(Impl* impl, std::string_view key, int64_t index = -1) : impl(impl) {
      impl->path.push_back(Segment{key, index});
    }
    ~PathScope() { impl->path.pop_back(); }
    Impl* impl;
  };

  bool Decode(const char* data, size_t size, size_t capacity, Frame* frame);

  // Validates and walks any value (nothing decoded). False: parse failure.
  bool Skip(od::value& v, int depth);
  bool SkipObject(od::value& v, int depth) { return Object(v, -1, depth); }
  // An object decoded into record table `record` (-1: only validated).
  bool Object(od::value& v, int32_t record, int depth);
  // A declared attribute's value.
  bool Attribute(od::value& v, const RequestSchema::Field& field, int depth);
  // A string value: a view into the request or the parser's buffer.
  bool String(od::value& v, std::string_view* out);
  bool Number(od::value& v, NumberKind* kind, int64_t* out);
  // A scalar of `code`; *ok false when the value does not fit (a container
  // is then skipped).
  bool Scalar(od::value& v, od::json_type type, bc::TypeCode code, int32_t enumeration, int depth,
              Value* out, bc::IpNet* ip, bool* ok);
  bool Set(od::value& v, const bc::Attribute& attribute, int depth);
  // A set of records (an attribute), decoded into the frame's arena.
  bool RecordSet(od::value& v, const bc::Attribute& attribute, int depth);
  // Any value of `type` inside a set of records (a record, a set, a
  // scalar), built in the frame's arena. *ok false when it does not fit its
  // type: the problem is reported once, where it is found.
  bool Composite(od::value& v, const bc::TypeRef& type, int depth, Value* out, bool* ok);
  bool RecordValue(od::value& v, const bc::TypeRef& type, int depth, Value* out, bool* ok);
  bool SetValue(od::value& v, const bc::TypeRef& type, int depth, Value* out, bool* ok);
  // The frame's arena is full: the request cannot be evaluated.
  bool OutOfMemory(od::value& v, int depth) {
    Fatal(RequestErrorCode::kTooLarge, Path(),
          absl::StrCat("`", Path(), "` does not fit the request's memory budget"));
    return Skip(v, depth);
  }
  // Reads the key of `field`, unescaping it only when it holds escapes. The
  // view lives in the request buffer or simdjson's string buffer. False, with
  // the failure recorded, for a malformed key.
  bool ReadKey(od::field& field, std::string_view* key) {
    const char* raw = field.key().raw();
    size_t length = 0;
    bool escaped = false;
    if (!ScanString(raw, raw + (options.max_bytes + 1), &length, &escaped)) {
      return ParseFail(RequestErrorCode::kMalformedJson,
                       "malformed JSON: a key with a control character");
    }
    *key = std::string_view(raw, length);
    if (escaped) {
      if (auto e = field.unescaped_key().get(*key); e) return SimdFail(e);
    }
    return true;
  }
  bool Duplicate(std::string_view key, size_t base, int depth);
  // The next member of an object being walked: its field and key. False,
  // with the failure recorded, for malformed JSON.
  template <typename Item>
  bool Member(Item& item, od::field* field, std::string_view* key) {
    if (auto e = std::move(item).get(*field); e) return SimdFail(e);
    return ReadKey(*field, key);
  }
  // `key` (the current path's last step) was given before in this object:
  // a parse failure, recorded.
  bool Repeated(std::string_view key, size_t base, int depth) {
    if (!Duplicate(key, base, depth)) return false;
    ParseFail(RequestErrorCode::kDuplicateKey, absl::StrCat("`", Path(), "` is given twice"));
    return true;
  }
  bool Root(od::document& doc);
  bool Resource(od::value& v);
  bool Jit(od::value& v);
  bool Limits(od::value& v);
  std::string Expected(bc::TypeCode code, int32_t enumeration) const;

  const bc::Program& program;
  std::shared_ptr<const RequestSchema> schema;
  DecoderOptions options;
  od::parser parser;
  std::vector<char> buffer;  // the padded copy of the request
  std::vector<RequestError> errors;
  std::vector<Segment> path;
  std::vector<std::string_view> keys;  // keys of the objects being walked (duplicate check)
  std::vector<absl::flat_hash_set<std::string_view>> key_sets;  // per depth, for large objects
  std::vector<std::string_view> set_strings;
  std::vector<int64_t> set_ints;
  std::vector<bc::IpNet> set_ips;
  std::vector<std::vector<Value>> set_values;  // per depth: members of sets in records
  Frame* frame = nullptr;
  bool parse_failed = false;
  bool decode_failed = false;
  bool strict_failed = false;
};

bool RequestDecoder::Impl::Duplicate(std::string_view key, size_t base, int depth) {
  size_t count = keys.size() - base;
  constexpr size_t kLinear = 32;
  if (count < kLinear) {
    for (size_t k = base; k < keys.size(); ++k) {
      if (keys[k] == key) return true;
    }
    keys.push_back(key);
    return false;
  }
  auto& set = key_sets[static_cast<size_t>(depth)];
  if (count == kLinear) set.insert(keys.begin() + static_cast<std::ptrdiff_t>(base), keys.end());
  keys.push_back(key);  // counts the keys; the set finds them
  return !set.insert(key).second;
}

bool RequestDecoder::Impl::String(od::value& v, std::string_view* out) {
  std::string_view raw;
  raw = v.raw_json_token();
  size_t length = 0;
  bool escaped = false;
  if (raw.empty() || raw[0] != '"' ||
      !ScanString(raw.data() + 1, raw.data() + raw.size(), &length, &escaped)) {
    return ParseFail(RequestErrorCode::kMalformedJson,
                     "malformed JSON: a string with a control character");
  }
  if (!escaped) {
    *out = std::string_view(raw.data() + 1, length);
    return true;
  }
  if (auto e = v.get_string().get(*out); e) return SimdFail(e);
  return true;
}

bool RequestDecoder::Impl::Number(od::value& v, NumberKind* kind, int64_t* out) {
  std::string_view raw;
  raw = v.raw_json_token();
  raw = Trim(raw);
  *kind = ParseNumber(raw, out);
  std::string text(raw.substr(0, 64));
  switch (*kind) {
    case NumberKind::kInt:
    case NumberKind::kDecimal:
      return true;
    case NumberKind::kMalformed:
      return ParseFail(RequestErrorCode::kMalformedJson,
                       absl::StrCat("malformed JSON: `", text, "` is not a number"));
    case NumberKind::kOutOfRange:
      return ParseFail(RequestErrorCode::kBadNumber,
                       absl::StrCat("the number `", text, "` is out of range"));
    case NumberKind::kNotDecimal:
      return ParseFail(RequestErrorCode::kBadNumber,
                       absl::StrCat("the number `", text,
                                    "` is not a decimal number (decimals have at most 4 "
                                    "fractional digits and no exponent)"));
    case NumberKind::kTooPrecise:
      return ParseFail(RequestErrorCode::kBadNumber,
                       absl::StrCat("the number `", text,
                                    "` has more than 4 fractional digits (decimals have at most 4 "
                                    "fractional digits and no exponent)"));
  }
  return false;
}

bool RequestDecoder::Impl::Skip(od::value& v, int depth) {
  od::json_type type;
  if (auto e = v.type().get(type); e) return SimdFail(e);
  switch (type) {
    case od::json_type::object:
      return SkipObject(v, depth);
    case od::json_type::array: {
      if (depth > options.max_depth) {
        return ParseFail(RequestErrorCode::kTooDeep, absl::StrCat("the request nests deeper than ",
                                                                  options.max_depth, " levels"));
      }
      od::array array;
      if (auto e = v.get_array().get(array); e) return SimdFail(e);
      int64_t index = 0;
      for (auto item : array) {
        od::value element;
        if (auto e = item.get(element); e) return SimdFail(e);
        if (static_cast<size_t>(index) >= options.max_set_elements) {
          return ParseFail(
              RequestErrorCode::kTooManyElements,
              absl::StrCat("`", Path(), "` has more than ", options.max_set_elements, " elements"));
        }
        PathScope scope(this, {}, index++);
        if (!Skip(element, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::number: {
      NumberKind kind;
      int64_t value;
      return Number(v, &kind, &value);
    }
    case od::json_type::string: {
      std::string_view s;
      return String(v, &s);
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b); e) return SimdFail(e);
      return true;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null); e) return SimdFail(e);
      if (!is_null) return SimdFail(simdjson::N_ATOM_ERROR);
      return true;
    }
  }
  return SimdFail(simdjson::TAPE_ERROR);
}

bool RequestDecoder::Impl::Object(od::value& v, int32_t record, int depth) {
  if (depth > options.max_depth) {
    return ParseFail(RequestErrorCode::kTooDeep,
                     absl::StrCat("the request nests deeper than ", options.max_depth, " levels"));
  }
  od::object object;
  if (auto e = v.get_object().get(object); e) return SimdFail(e);
  size_t base = keys.size();
  bool ok = true;
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (!Member(item, &field, &key)) {
      ok = false;
      break;
    }
    PathScope scope(this, key);
    if (Repeated(key, base, depth)) {
      ok = false;
      break;
    }
    od::value value = field.value();
    const RequestSchema::Field* declared =
        record >= 0 && !decode_failed ? schema->Find(record, key) : nullptr;
    if (declared == nullptr) {
      if (record >= 0 && options.strict) {
        std::string parent = Path();
        parent.resize(parent.size() - key.size() - (path.size() > 1 ? 1 : 0));
        Problem(RequestErrorCode::kUnknownAttribute,
                absl::StrCat("`", parent, "` has no attribute `", std::string(key), "`"));
      }
      if (!Skip(value, depth + 1)) {
        ok = false;
        break;
      }
      continue;
    }
    if (!Attribute(value, *declared, depth + 1)) {
      ok = false;
      break;
    }
  }
  if (keys.size() - base >= 32) key_sets[static_cast<size_t>(depth)].clear();
  keys.resize(base);
  return ok;
}

std::string RequestDecoder::Impl::Expected(bc::TypeCode code, int32_t enumeration) const {
  switch (code) {
    case bc::TypeCode::kBool:
      return "true or false";
    case bc::TypeCode::kInt:
      return "an integer";
    case bc::TypeCode::kDecimal:
      return "a decimal number within range";
    case bc::TypeCode::kString:
      return "a string";
    case bc::TypeCode::kDuration:
      return "a duration string such as \"15m\"";
    case bc::TypeCode::kTimestamp:
      return "an RFC 3339 timestamp string such as \"2026-01-31T09:00:00Z\"";
    case bc::TypeCode::kIp:
      return "an IP address or CIDR network string";
    case bc::TypeCode::kEnum: {
      std::string out = "one of ";
      if (enumeration >= 0 && static_cast<size_t>(enumeration) < program.enums.size()) {
        const auto& members = program.enums[enumeration].members;
        for (size_t m = 0; m < members.size(); ++m)
          absl::StrAppend(&out, m > 0 ? ", " : "", members[m]);
      }
      return out;
    }
    case bc::TypeCode::kSet:
      return "an array";
    case bc::TypeCode::kRecord:
      return "an object";
  }
  return "a value of a known type";
}

bool RequestDecoder::Impl::Scalar(od::value& v, od::json_type type, bc::TypeCode code,
                                  int32_t enumeration, int depth, Value* out, bc::IpNet* ip,
                                  bool* ok) {
  *ok = false;
  switch (type) {
    case od::json_type::boolean: {
      bool b = false;
      if (auto e = v.get_bool().get(b); e) return SimdFail(e);
      if (code == bc::TypeCode::kBool) {
        out->i = b ? 1 : 0;
        *ok = true;
      }
      return true;
    }
    case od::json_type::number: {
      NumberKind kind;
      int64_t n = 0;
      if (!Number(v, &kind, &n)) return false;
      if (code == bc::TypeCode::kInt && kind == NumberKind::kInt) {
        out->i = n;
        *ok = true;
      } else if (code == bc::TypeCode::kDecimal) {
        if (kind == NumberKind::kDecimal) {
          out->i = n;
          *ok = true;
        } else {
          *ok = !__builtin_mul_overflow(n, values::kDecimalScale, &out->i);
        }
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (!String(v, &s)) return false;
      switch (code) {
        case bc::TypeCode::kString:
          if (s.size() > UINT32_MAX) return true;
          out->s = StrRef{s.data(), static_cast<uint32_t>(s.size())};
          *ok = true;
          return true;
        case bc::TypeCode::kDuration:
          *ok = values::ParseDuration(s, &out->i) == values::Error::kNone;
          return true;
        case bc::TypeCode::kTimestamp:
          *ok = values::ParseTimestamp(s, &out->i) == values::Error::kNone;
          return true;
        case bc::TypeCode::kIp:
          *ok = values::ParseIp(s, ip) == values::Error::kNone;
          return true;
        case bc::TypeCode::kEnum: {
          if (enumeration < 0 || static_cast<size_t>(enumeration) >= schema->enums.size())
            return true;
          int32_t member = RequestSchema::Lookup(schema->enums[enumeration], s);
          out->i = member;
          *ok = member >= 0;
          return true;
        }
        default:
          return true;
      }
    }
    default:
      return Skip(v, depth);
  }
}

bool RequestDecoder::Impl::Attribute(od::value& v, const RequestSchema::Field& field, int depth) {
  const bc::Attribute& attribute = program.attributes[field.attribute];
  od::json_type type;
  if (auto e = v.type().get(type); e) return SimdFail(e);
  if (type == od::json_type::null && attribute.optional) return Skip(v, depth);
  if (attribute.type.code == bc::TypeCode::kRecord) {
    if (type != od::json_type::object) {
      Problem(RequestErrorCode::kWrongType, absl::StrCat("`", Path(), "` must be an object"));
      return Skip(v, depth);
    }
    frame->MarkPresent(attribute.slot);
    return Object(v, field.record, depth);
  }
  if (attribute.type.code == bc::TypeCode::kSet) {
    if (attribute.type.element == bc::TypeCode::kRecord) return RecordSet(v, attribute, depth);
    return Set(v, attribute, depth);
  }
  Value value;
  value.i = 0;
  bc::IpNet ip;
  bool ok = false;
  if (!Scalar(v, type, attribute.type.code, attribute.type.enumeration, depth, &value, &ip, &ok))
    return false;
  if (!ok) {
    Problem(RequestErrorCode::kWrongType,
            absl::StrCat("`", Path(), "` must be ",
                         Expected(attribute.type.code, attribute.type.enumeration)));
    return true;
  }
  if (decode_failed) return true;
  switch (bc::ScalarKind(attribute.type.code)) {
    case bc::ValueKind::kBool:
      frame->SetBool(attribute.slot, value.i != 0);
      break;
    case bc::ValueKind::kString:
      frame->SetStringView(attribute.slot, value.s.view());
      break;
    case bc::ValueKind::kIp:
      frame->SetIp(attribute.slot, ip);
      break;
    default:
      frame->SetInt(attribute.slot, value.i);
      break;
  }
  return true;
}

bool RequestDecoder::Impl::Set(od::value& v, const bc::Attribute& attribute, int depth) {
  od::json_type type;
  if (auto e = v.type().get(type); e) return SimdFail(e);
  if (type != od::json_type::array) {
    Problem(RequestErrorCode::kWrongType, absl::StrCat("`", Path(), "` must be an array"));
    return Skip(v, depth);
  }
  if (depth > options.max_depth) {
    return ParseFail(RequestErrorCode::kTooDeep,
                     absl::StrCat("the request nests deeper than ", options.max_depth, " levels"));
  }
  bc::TypeCode element = attribute.type.element;
  bc::ValueKind kind = bc::ScalarKind(element);
  set_strings.clear();
  set_ints.clear();
  set_ips.clear();
  bool failed = decode_failed || kind == bc::ValueKind::kBool;  // no set<bool> in frames
  od::array array;
  if (auto e = v.get_array().get(array); e) return SimdFail(e);
  int64_t index = 0;
  for (auto item : array) {
    od::value value;
    if (auto e = item.get(value); e) return SimdFail(e);
    if (static_cast<size_t>(index) >= options.max_set_elements) {
      return ParseFail(
          RequestErrorCode::kTooManyElements,
          absl::StrCat("`", Path(), "` has more than ", options.max_set_elements, " elements"));
    }
    PathScope scope(this, {}, index++);
    if (failed) {
      if (!Skip(value, depth + 1)) return false;
      continue;
    }
    od::json_type item_type;
    if (auto e = value.type().get(item_type); e) return SimdFail(e);
    Value out;
    out.i = 0;
    bc::IpNet ip;
    bool ok = false;
    if (!Scalar(value, item_type, element, attribute.type.enumeration, depth + 1, &out, &ip, &ok))
      return false;
    if (!ok) {
      // A set missing an element would be wrong, not smaller: the set is absent.
      Problem(
          RequestErrorCode::kWrongType,
          absl::StrCat("`", Path(), "` must be ", Expected(element, attribute.type.enumeration)));
      failed = true;
      continue;
    }
    if (kind == bc::ValueKind::kString) {
      set_strings.push_back(out.s.view());
    } else if (kind == bc::ValueKind::kIp) {
      set_ips.push_back(ip);
    } else {
      set_ints.push_back(out.i);
    }
  }
  if (failed) return true;
  // Sets are sorted and unique, as the reference's values (quantifiers visit
  // elements in this order; count() sees no duplicates).
  if (kind == bc::ValueKind::kString) {
    std::sort(set_strings.begin(), set_strings.end());
    set_strings.erase(std::unique(set_strings.begin(), set_strings.end()), set_strings.end());
    frame->SetStringSet(attribute.slot, set_strings);
  } else if (kind == bc::ValueKind::kIp) {
    std::sort(set_ips.begin(), set_ips.end(), IpLess);
    set_ips.erase(std::unique(set_ips.begin(), set_ips.end()), set_ips.end());
    frame->SetIpSet(attribute.slot, set_ips);
  } else {
    std::sort(set_ints.begin(), set_ints.end());
    set_ints.erase(std::unique(set_ints.begin(), set_ints.end()), set_ints.end());
    frame->SetIntSet(attribute.slot, set_ints);
  }
  return true;
}

bool RequestDecoder::Impl::RecordSet(od::value& v, const bc::Attribute& attribute, int depth) {
  if (decode_failed) return Skip(v, depth);
  Value value;
  bool ok = false;
  if (!Composite(v, attribute.type, depth, &value, &ok)) return false;
  bc::RegType type = 0;
  if (ok && !decode_failed && bc::RegTypeOf(attribute.type, &type))
    frame->SetValue(attribute.slot, type, value);
  return true;
}

bool RequestDecoder::Impl::Composite(od::value& v, const bc::TypeRef& type, int depth, Value* out,
                                     bool* ok) {
  *ok = false;
  od::json_type json_type;
  if (auto e = v.type().get(json_type); e) return SimdFail(e);
  if (type.code == bc::TypeCode::kRecord || type.code == bc::TypeCode::kSet) {
    bool record = type.code == bc::TypeCode::kRecord;
    if (json_type != (record ? od::json_type::object : od::json_type::array)) {
      Problem(RequestErrorCode::kWrongType,
              absl::StrCat("`", Path(), "` must be ", record ? "an object" : "an array"));
      return Skip(v, depth);
    }
    if (depth > options.max_depth) {
      return ParseFail(RequestErrorCode::kTooDeep, absl::StrCat("the request nests deeper than ",
                                                                options.max_depth, " levels"));
    }
    return record ? RecordValue(v, type, depth, out, ok) : SetValue(v, type, depth, out, ok);
  }
  out->i = 0;
  bc::IpNet ip;
  if (!Scalar(v, json_type, type.code, type.enumeration, depth, out, &ip, ok)) return false;
  if (!*ok) {
    Problem(RequestErrorCode::kWrongType,
            absl::StrCat("`", Path(), "` must be ", Expected(type.code, type.enumeration)));
    return true;
  }
  if (type.code == bc::TypeCode::kIp) {
    auto* copy =
        static_cast<bc::IpNet*>(frame->arena().Allocate(sizeof(bc::IpNet), alignof(bc::IpNet)));
    if (copy == nullptr) {
      *ok = false;
      Fatal(RequestErrorCode::kTooLarge, Path(),
            absl::StrCat("`", Path(), "` does not fit the request's memory budget"));
      return true;
    }
    *copy = ip;
    out->ip = copy;
  }
  return true;
}

bool RequestDecoder::Impl::RecordValue(od::value& v, const bc::TypeRef& type, int depth, Value* out,
                                       bool* ok) {
  const bc::RecordShape& shape = program.records[type.record];
  RecordData* record = frame->arena().NewRecord(static_cast<uint32_t>(type.record),
                                                static_cast<uint32_t>(shape.fields.size()));
  if (record == nullptr) return OutOfMemory(v, depth);
  od::object object;
  if (auto e = v.get_object().get(object); e) return SimdFail(e);
  size_t base = keys.size();
  bool parsed = true;
  bool fits = true;
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (!Member(item, &field, &key)) {
      parsed = false;
      break;
    }
    PathScope scope(this, key);
    if (Repeated(key, base, depth)) {
      parsed = false;
      break;
    }
    od::value value = field.value();
    int index = fits ? shape.FindField(key) : -1;
    if (index < 0) {
      // An undeclared field: ignored, except in strict mode (where the
      // reference decoder calls it a wrongly typed value too).
      if (fits && options.strict) {
        Problem(RequestErrorCode::kWrongType,
                absl::StrCat("`", Path(), "` must be a declared attribute"));
        fits = false;
      }
      if (!Skip(value, depth + 1)) {
        parsed = false;
        break;
      }
      continue;
    }
    const bc::RecordField& declared = shape.fields[index];
    od::json_type json_type;
    if (auto e = value.type().get(json_type); e) {
      parsed = SimdFail(e);
      break;
    }
    if (json_type == od::json_type::null && declared.optional) {
      if (!Skip(value, depth + 1)) {
        parsed = false;
        break;
      }
      continue;
    }
    bool field_ok = false;
    if (!Composite(value, declared.type, depth + 1, &record->fields()[index], &field_ok)) {
      parsed = false;
      break;
    }
    if (field_ok) {
      record->present()[index] = 1;
    } else {
      fits = false;
    }
  }
  if (keys.size() - base >= 32) key_sets[static_cast<size_t>(depth)].clear();
  keys.resize(base);
  out->rec = record;
  *ok = parsed && fits;
  return parsed;
}

bool RequestDecoder::Impl::SetValue(od::value& v, const bc::TypeRef& type, int depth, Value* out,
                                    bool* ok) {
  bc::TypeRef element = ElementTypeRef(type);
  std::vector<Value>& members = set_values[static_cast<size_t>(depth)];
  members.clear();
  bool fits = true;
  od::array array;
  if (auto e = v.get_array().get(array); e) return SimdFail(e);
  int64_t index = 0;
  for (auto item : array) {
    od::value value;
    if (auto e = item.get(value); e) return SimdFail(e);
    if (static_cast<size_t>(index) >= options.max_set_elements) {
      return ParseFail(
          RequestErrorCode::kTooManyElements,
          absl::StrCat("`", Path(), "` has more than ", options.max_set_elements, " elements"));
    }
    PathScope scope(this, {}, index++);
    if (!fits) {
      if (!Skip(value, depth + 1)) return false;
      continue;
    }
    Value member;
    bool member_ok = false;
    if (!Composite(value, element, depth + 1, &member, &member_ok)) return false;
    // A set missing an element would be wrong, not smaller: the set is absent.
    if (!member_ok) {
      fits = false;
      continue;
    }
    members.push_back(member);
  }
  if (!fits) return true;
  Value* data = frame->arena().NewValues(members.size());
  if (data == nullptr) {
    Fatal(RequestErrorCode::kTooLarge, Path(),
          absl::StrCat("`", Path(), "` does not fit the request's memory budget"));
    return true;
  }
  std::copy(members.begin(), members.end(), data);
  // Sorted and unique, as the reference's sets (quantifiers visit members in
  // this order; size() sees no repeats).
  size_t size = SortUnique(program, element, data, members.size());
  out->set = SetRef{data, static_cast<uint32_t>(size), bc::ScalarKind(element.code), false, 0};
  *ok = true;
  return true;
}

bool RequestDecoder::Impl::Jit(od::value& v) {
  od::json_type type;
  if (auto e = v.type().get(type); e) return SimdFail(e);
  if (type != od::json_type::array) {
    Fatal(RequestErrorCode::kBadJit, "jit", "`jit` must be an array of JIT profile names");
    return Skip(v, 1);
  }
  od::array array;
  if (auto e = v.get_array().get(array); e) return SimdFail(e);
  int64_t index = 0;
  for (auto item : array) {
    od::value value;
    if (auto e = item.get(value); e) return SimdFail(e);
    if (static_cast<size_t>(index) >= options.max_set_elements) {
      return ParseFail(
          RequestErrorCode::kTooManyElements,
          absl::StrCat("`", Path(), "` has more than ", options.max_set_elements, " elements"));
    }
    PathScope scope(this, {}, index++);
    od::json_type item_type;
    if (auto e = value.type().get(item_type); e) return SimdFail(e);
    int32_t profile = -1;
    std::string_view name;
    if (item_type == od::json_type::string) {
      if (!String(value, &name)) return false;
      profile = RequestSchema::Lookup(schema->jit_profiles, name);
    } else if (!Skip(value, 2)) {
      return false;
    }
    if (profile < 0) {
      Problem(RequestErrorCode::kUnknownJitProfile,
              absl::StrCat("`", std::string(name), "` is not a jit profile"));
      continue;
    }
    if (decode_failed) continue;
    const auto& grants = frame->jit_grants();
    if (std::find(grants.begin(), grants.end(), static_cast<uint32_t>(profile)) == grants.end())
      frame->AddJitGrant(static_cast<uint32_t>(profile));
  }
  return true;
}

bool RequestDecoder::Impl::Limits(od::value& v) {
  od::json_type type;
  if (auto e = v.type().get(type); e) return SimdFail(e);
  if (type != od::json_type::object) {
    Fatal(RequestErrorCode::kBadLimits, "limits",
          "`limits` must map limit names to the number of requests already counted");
    return Skip(v, 1);
  }
  od::object object;
  if (auto e = v.get_object().get(object); e) return SimdFail(e);
  size_t base = keys.size();
  bool ok = true;
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (!Member(item, &field, &key)) {
      ok = false;
      break;
    }
    PathScope scope(this, key);
    if (Repeated(key, base, 2)) {
      ok = false;
      break;
    }
    od::value value = field.value();
    int32_t limit = RequestSchema::Lookup(schema->limits, key);
    if (limit < 0) {
      Problem(RequestErrorCode::kUnknownLimit,
              absl::StrCat("no limit named `", std::string(key), "` is declared"));
      if (!Skip(value, 3)) {
        ok = false;
        break;
      }
      continue;
    }
    od::json_type value_type;
    if (auto e = value.type().get(value_type); e) {
      ok = SimdFail(e);
      break;
    }
    NumberKind kind = NumberKind::kMalformed;
    int64_t count = -1;
    if (value_type == od::json_type::number) {
      if (!Number(value, &kind, &count)) {
        ok = false;
        break;
      }
    } else if (!Skip(value, 3)) {
      ok = false;
      break;
    }
    if (value_type == od::json_type::null) {  // the counter store could not be read
      if (!decode_failed) frame->SetLimitUnavailable(static_cast<uint32_t>(limit));
    } else if (kind == NumberKind::kInt && count >= 0) {
      if (!decode_failed) frame->SetLimitCount(static_cast<uint32_t>(limit), count);
    } else {
      Fatal(RequestErrorCode::kBadLimits, Path(),
            "a limit count must be a non-negative integer (or null: unavailable)");
    }
  }
  if (keys.size() - base >= 32) key_sets[2].clear();
  keys.resize(base);
  return ok;
}

bool RequestDecoder::Impl::Resource(od::value& v) {
  PathScope scope(this, "resource");
  od::json_type type;
  if (auto e = v.type().get(type); e) return SimdFail(e);
  if (type != od::json_type::object) {
    Fatal(RequestErrorCode::kNotAnObject, "resource", "`resource` must be an object with a `type`");
    return Skip(v, 2);
  }
  od::object object;
  if (auto e = v.get_object().get(object); e) return SimdFail(e);
  // Pass 1: the first `type` (raw keys; its value is read here and only here).
  bool found = false;
  std::string_view type_name;
  for (auto item : object) {
    od::field field;
    if (auto e = std::move(item).get(field); e) return SimdFail(e);
    if (!RawKeyIs(field.key().raw(), "type")) continue;
    od::value value = field.value();
    od::json_type value_type;
    if (auto e = value.type().get(value_type); e) return SimdFail(e);
    if (value_type == od::json_type::string) {
      PathScope type_scope(this, "type");
      if (!String(value, &type_name)) return false;
      found = true;
    }
    break;
  }
  if (auto e = object.reset().error(); e) return SimdFail(e);
  int32_t record = -1;
  if (!found) {
    Fatal(RequestErrorCode::kMissingResourceType, "resource.type",
          "`resource` needs a `type` string");
  } else if (!decode_failed) {
    int32_t index = RequestSchema::Lookup(schema->resource_types, type_name);
    frame->set_resource_type(index);
    record = index >= 0 ? schema->resource[index] : schema->any_resource;
  }
  if (decode_failed) record = -1;
  // Pass 2: every field, as an object of `record` (`type` was read in pass 1).
  size_t base = keys.size();
  constexpr int kDepth = 2;
  bool ok = true;
  bool type_seen = false;
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (!Member(item, &field, &key)) {
      ok = false;
      break;
    }
    PathScope key_scope(this, key);
    if (Repeated(key, base, kDepth)) {
      ok = false;
      break;
    }
    od::value value = field.value();
    if (key == "type" && !type_seen) {
      type_seen = true;
      if (found) {
        if (record >= 0) {
          if (const RequestSchema::Field* f = schema->Find(record, "type"))
            frame->SetStringView(program.attributes[f->attribute].slot, type_name);
        }
        continue;  // read in pass 1
      }
    }
    const RequestSchema::Field* declared = record >= 0 ? schema->Find(record, key) : nullptr;
    if (declared == nullptr) {
      if (record >= 0 && options.strict) {
        Problem(RequestErrorCode::kUnknownAttribute,
                absl::StrCat("`resource` has no attribute `", std::string(key), "`"));
      }
      if (!Skip(value, kDepth + 1)) {
        ok = false;
        break;
      }
      continue;
    }
    if (!Attribute(value, *declared, kDepth + 1)) {
      ok = false;
      break;
    }
  }
  if (keys.size() - base >= 32) key_sets[kDepth].clear();
  keys.resize(base);
  return ok;
}

bool RequestDecoder::Impl::Root(od::document& doc) {
  od::json_type type;
  if (auto e = doc.type().get(type); e) return SimdFail(e);
  if (type != od::json_type::object) {
    if (type == od::json_type::array) {
      // Validate it (a JSON error is reported before "not an object").
      od::array array;
      if (auto e = doc.get_array().get(array); e) return SimdFail(e);
      int64_t index = 0;
      for (auto item : array) {
        od::value element;
        if (auto e = item.get(element); e) return SimdFail(e);
        if (static_cast<size_t>(index) >= options.max_set_elements) {
          return ParseFail(
              RequestErrorCode::kTooManyElements,
              absl::StrCat("`` has more than ", options.max_set_elements, " elements"));
        }
        PathScope scope(this, {}, index++);
        if (!Skip(element, 2)) return false;
      }
    } else {
      std::string_view raw;
      if (auto e = doc.raw_json_token().get(raw); e) return SimdFail(e);
      raw = Trim(raw);
      bool valid = false;
      int64_t n = 0;
      if (type == od::json_type::number) {
        NumberKind kind = ParseNumber(raw, &n);
        valid = kind != NumberKind::kMalformed;
      } else if (type == od::json_type::string) {
        size_t length = 0;
        bool escaped = false;
        valid = !raw.empty() &&
                ScanString(raw.data() + 1, raw.data() + raw.size(), &length, &escaped) &&
                length + 2 == raw.size();
      } else {
        valid = raw == "true" || raw == "false" || raw == "null";
      }
      if (!valid) return SimdFail(simdjson::TAPE_ERROR);
    }
    Fatal(RequestErrorCode::kNotAnObject, "", "a request must be a JSON object");
    return true;
  }
  od::object object;
  if (auto e = doc.get_object().get(object); e) return SimdFail(e);
  size_t base = keys.size();
  bool has_action = false;
  bool has_resource = false;
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (!Member(item, &field, &key)) return false;
    PathScope scope(this, key);
    if (Repeated(key, base, 1)) return false;
    od::value value = field.value();
    od::json_type value_type;
    if (auto e = value.type().get(value_type); e) return SimdFail(e);
    if (key == "subject" || key == "context") {
      int32_t record = key == "subject" ? schema->subject : schema->context;
      if (value_type != od::json_type::object) {
        Problem(RequestErrorCode::kWrongType, absl::StrCat("`", Path(), "` must be an object"));
        if (!Skip(value, 2)) return false;
      } else if (!Object(value, decode_failed ? -1 : record, 2)) {
        return false;
      }
    } else if (key == "action") {
      has_action = true;
      if (value_type != od::json_type::string) {
        Fatal(RequestErrorCode::kMissingAction, "action",
              "`action` must be a string naming an action");
        if (!Skip(value, 2)) return false;
        continue;
      }
      std::string_view action;
      if (!String(value, &action)) return false;
      if (!decode_failed) {
        const int32_t index = RequestSchema::Lookup(schema->actions, action);
        frame->set_action(index);
        // Kept for the error an ordered comparison of it raises.
        if (index < 0) frame->SetUndeclaredActionName(action);
      }
    } else if (key == "resource") {
      has_resource = true;  // decoded last (pass B)
    } else if (key == "jit") {
      if (!Jit(value)) return false;
    } else if (key == "limits") {
      if (!Limits(value)) return false;
    } else {
      if (options.strict) {
        Problem(RequestErrorCode::kUnknownAttribute,
                absl::StrCat("a request has no part `", std::string(key),
                             "`; it has subject, action, resource, context, jit and limits"));
      }
      if (!Skip(value, 2)) return false;
    }
  }
  keys.resize(base);
  key_sets[1].clear();
  if (!has_action)
    Fatal(RequestErrorCode::kMissingAction, "action", "the request names no `action`");
  if (!has_resource) {
    Fatal(RequestErrorCode::kMissingResourceType, "resource", "the request has no `resource`");
    return true;
  }
  // Pass B: the resource.
  if (auto e = object.reset().error(); e) return SimdFail(e);
  for (auto item : object) {
    od::field field;
    if (auto e = std::move(item).get(field); e) return SimdFail(e);
    if (!RawKeyIs(field.key().raw(), "resource")) continue;
    od::value value = field.value();
    if (!Resource(value)) return false;
  }
  return true;
}

bool RequestDecoder::Impl::Decode(const char* data, size_t size, size_t capacity, Frame* out) {
  errors.clear();
  path.clear();
  keys.clear();
  parse_failed = decode_failed = strict_failed = false;
  frame = out;
  frame->Reset();
  frame->set_now_millis(options.now_millis ? *options.now_millis : absl::ToUnixMillis(absl::Now()));
  if (size > options.max_bytes) {
    ParseFail(RequestErrorCode::kTooLarge,
              absl::StrCat("the request is ", size, " bytes; the limit is ", options.max_bytes));
    frame->Reset();
    return false;
  }
  // Capacity grows by doubling, so the parser stops allocating once warm.
  size_t wanted = std::max<size_t>(size, 4096);
  size_t depth = static_cast<size_t>(std::max(options.max_depth, 0)) + 8;
  if (parser.capacity() < wanted || parser.max_depth() != depth) {
    size_t capacity_target = 4096;
    while (capacity_target < wanted) capacity_target *= 2;
    if (auto e = parser.allocate(capacity_target, depth); e) {
      SimdFail(e);
      frame->Reset();
      return false;
    }
  }
  od::document doc;
  bool walked = false;
  if (auto e = parser.iterate(data, size, capacity).get(doc); e) {
    SimdFail(e);
  } else {
    walked = Root(doc);
  }
  if (walked && !parse_failed) {
    // Nothing may follow the request.
    const char* location = nullptr;
    if (doc.current_location().get(location) == simdjson::SUCCESS) {
      ParseFail(RequestErrorCode::kMalformedJson, "malformed JSON: content after the request");
    }
  }
  bool ok = !parse_failed && !decode_failed && !strict_failed;
  if (!ok) frame->Reset();
  return ok;
}

RequestDecoder::RequestDecoder(const bc::Program& program,
                               std::shared_ptr<const RequestSchema> schema, DecoderOptions options)
    : impl_(std::make_unique<Impl>(program, std::move(schema), std::move(options))) {}

RequestDecoder::~RequestDecoder() = default;

size_t RequestDecoder::Padding() { return simdjson::SIMDJSON_PADDING; }

bool RequestDecoder::Decode(std::string_view json, Frame* frame) {
  size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
  if (json.size() <= impl_->options.max_bytes && impl_->buffer.size() < needed) {
    size_t size = 4096;
    while (size < needed) size *= 2;
    impl_->buffer.resize(size);
  }
  if (json.size() > impl_->options.max_bytes)
    return impl_->Decode(json.data(), json.size(), 0, frame);
  std::memcpy(impl_->buffer.data(), json.data(), json.size());
  std::memset(impl_->buffer.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
  return impl_->Decode(impl_->buffer.data(), json.size(), impl_->buffer.size(), frame);
}

bool RequestDecoder::DecodePadded(const char* data, size_t size, size_t capacity, Frame* frame) {
  if (capacity < size + simdjson::SIMDJSON_PADDING)
    return Decode(std::string_view(data, size), frame);
  return impl_->Decode(data, size, capacity, frame);
}

const std::vector<RequestError>& RequestDecoder::errors() const { return impl_->errors; }
const DecoderOptions& RequestDecoder::options() const { return impl_->options; }

}  // namespace warden::rt
