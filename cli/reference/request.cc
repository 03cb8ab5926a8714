#include "cli/reference/request.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"

namespace warden {

// ---------------------------------------------------------------- EvalValue

EvalValue EvalValue::Bool(bool value) {
  EvalValue v;
  v.kind = Kind::kBool;
  v.b = value;
  return v;
}
EvalValue EvalValue::Int(int64_t value) {
  EvalValue v;
  v.kind = Kind::kInt;
  v.i = value;
  return v;
}
EvalValue EvalValue::Decimal(int64_t scaled) {
  EvalValue v;
  v.kind = Kind::kDecimal;
  v.i = scaled;
  return v;
}
EvalValue EvalValue::String(std::string value) {
  EvalValue v;
  v.kind = Kind::kString;
  v.s = std::move(value);
  return v;
}
EvalValue EvalValue::Duration(int64_t millis) {
  EvalValue v;
  v.kind = Kind::kDuration;
  v.i = millis;
  return v;
}
EvalValue EvalValue::Timestamp(int64_t millis) {
  EvalValue v;
  v.kind = Kind::kTimestamp;
  v.i = millis;
  return v;
}
EvalValue EvalValue::Ip(const IpNetwork& network) {
  EvalValue v;
  v.kind = Kind::kIp;
  v.ip = network;
  return v;
}
EvalValue EvalValue::Enum(int index, std::string name) {
  EvalValue v;
  v.kind = Kind::kEnum;
  v.i = index;
  v.s = std::move(name);
  return v;
}
EvalValue EvalValue::Set(std::vector<EvalValue> elements) {
  EvalValue v;
  v.kind = Kind::kSet;
  std::sort(elements.begin(), elements.end(),
            [](const EvalValue& a, const EvalValue& b) { return CompareValues(a, b) < 0; });
  elements.erase(
      std::unique(elements.begin(), elements.end(),
                  [](const EvalValue& a, const EvalValue& b) { return CompareValues(a, b) == 0; }),
      elements.end());
  v.elements = std::move(elements);
  return v;
}
EvalValue EvalValue::Record() {
  EvalValue v;
  v.kind = Kind::kRecord;
  return v;
}

namespace {

template <typename T>
int Three(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareIp(const IpNetwork& a, const IpNetwork& b) {
  if (a.v6 != b.v6) return a.v6 ? 1 : -1;
  for (int k = 0; k < 16; ++k) {
    if (a.bytes[k] != b.bytes[k]) return a.bytes[k] < b.bytes[k] ? -1 : 1;
  }
  return Three(a.prefix, b.prefix);
}

}  // namespace

int CompareValues(const EvalValue& a, const EvalValue& b) {
  if (a.kind != b.kind) return Three(static_cast<int>(a.kind), static_cast<int>(b.kind));
  switch (a.kind) {
    case EvalValue::Kind::kBool:
      return Three(a.b, b.b);
    case EvalValue::Kind::kInt:
    case EvalValue::Kind::kDecimal:
    case EvalValue::Kind::kDuration:
    case EvalValue::Kind::kTimestamp:
    case EvalValue::Kind::kEnum:
      return Three(a.i, b.i);
    case EvalValue::Kind::kString: {
      int order = a.s.compare(b.s);  // byte-wise, as memcmp
      return order < 0 ? -1 : (order > 0 ? 1 : 0);
    }
    case EvalValue::Kind::kIp:
      return CompareIp(a.ip, b.ip);
    case EvalValue::Kind::kSet:
    case EvalValue::Kind::kRecord: {
      if (a.kind == EvalValue::Kind::kRecord) {
        if (int order = Three(a.names, b.names); order != 0) return order;
      }
      size_t n = std::min(a.elements.size(), b.elements.size());
      for (size_t k = 0; k < n; ++k) {
        if (int order = CompareValues(a.elements[k], b.elements[k]); order != 0) return order;
      }
      return Three(a.elements.size(), b.elements.size());
    }
  }
  return 0;
}

bool operator==(const EvalValue& a, const EvalValue& b) { return CompareValues(a, b) == 0; }

std::string FormatValue(const EvalValue& value) {
  switch (value.kind) {
    case EvalValue::Kind::kBool:
      return value.b ? "true" : "false";
    case EvalValue::Kind::kInt:
      return absl::StrCat(value.i);
    case EvalValue::Kind::kDecimal:
      return values::DecimalString(value.i);
    case EvalValue::Kind::kString:
      return absl::StrCat("\"", value.s, "\"");
    case EvalValue::Kind::kDuration:
      return values::DurationString(value.i);
    case EvalValue::Kind::kTimestamp:
      return values::TimestampString(value.i);
    case EvalValue::Kind::kIp:
      return values::IpString(value.ip);
    case EvalValue::Kind::kEnum:
      return value.s;
    case EvalValue::Kind::kSet: {
      std::vector<std::string> parts;
      for (const EvalValue& element : value.elements) parts.push_back(FormatValue(element));
      return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
    }
    case EvalValue::Kind::kRecord: {
      std::vector<std::string> parts;
      for (size_t k = 0; k < value.elements.size(); ++k) {
        parts.push_back(absl::StrCat(value.names[k], ": ", FormatValue(value.elements[k])));
      }
      return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
    }
  }
  return "?";
}

nlohmann::json ValueJson(const EvalValue& value) {
  switch (value.kind) {
    case EvalValue::Kind::kBool:
      return value.b;
    case EvalValue::Kind::kInt:
      return value.i;
    case EvalValue::Kind::kDecimal:
      // The double nearest the exact decimal (converting the scaled int to a
      // double first would round twice beyond 2^53).
      return std::strtod(values::DecimalString(value.i).c_str(), nullptr);
    case EvalValue::Kind::kString:
      return value.s;
    case EvalValue::Kind::kDuration:   // "15m"
    case EvalValue::Kind::kTimestamp:  // RFC 3339, UTC
    case EvalValue::Kind::kIp:
      return FormatValue(value);
    case EvalValue::Kind::kEnum:
      return value.s;
    case EvalValue::Kind::kSet: {
      nlohmann::json out = nlohmann::json::array();
      for (const EvalValue& element : value.elements) out.push_back(ValueJson(element));
      return out;
    }
    case EvalValue::Kind::kRecord: {
      nlohmann::json out = nlohmann::json::object();
      for (size_t k = 0; k < value.elements.size(); ++k)
        out[value.names[k]] = ValueJson(value.elements[k]);
      return out;
    }
  }
  return nullptr;
}

EvalValue FromConstant(const Value& value) {
  switch (value.kind) {
    case TypeKind::kBool:
      return EvalValue::Bool(value.bool_value);
    case TypeKind::kInt:
      return EvalValue::Int(value.int_value);
    case TypeKind::kDecimal:
      return EvalValue::Decimal(value.int_value);
    case TypeKind::kString:
      return EvalValue::String(value.string_value);
    case TypeKind::kDuration:
      return EvalValue::Duration(value.int_value);
    case TypeKind::kTimestamp:
      return EvalValue::Timestamp(value.int_value);
    case TypeKind::kIp:
      return EvalValue::Ip(value.ip);
    case TypeKind::kEnum: {
      std::string name = value.string_value;
      if (name.empty() && value.type != nullptr && value.type->enumeration != nullptr &&
          value.int_value >= 0 &&
          static_cast<size_t>(value.int_value) < value.type->enumeration->members.size()) {
        name = value.type->enumeration->members[value.int_value];
      }
      return EvalValue::Enum(static_cast<int>(value.int_value), name);
    }
    case TypeKind::kSet: {
      std::vector<EvalValue> elements;
      for (const Value& element : value.elements) elements.push_back(FromConstant(element));
      return EvalValue::Set(std::move(elements));
    }
    case TypeKind::kRecord:
    case TypeKind::kError:
      break;
  }
  return EvalValue::Bool(false);
}

// ---------------------------------------------------------------- JSON text

namespace {

using json = nlohmann::json;
using JKind = ast::JsonValue::Kind;

// Builds an ast::JsonValue from nlohmann's SAX events, so that numbers keep
// their exact text and the depth is bounded while parsing.
class JsonBuilder : public nlohmann::json_sax<json> {
 public:
  JsonBuilder(const RequestOptions& options, RequestError* error)
      : options_(options), error_(error) {}

  ast::JsonValue root;

  bool null() override { return Add(ast::JsonValue{}); }
  bool boolean(bool value) override {
    ast::JsonValue v;
    v.kind = JKind::kBool;
    v.bool_value = value;
    return Add(std::move(v));
  }
  bool number_integer(number_integer_t value) override {
    ast::JsonValue v;
    v.kind = JKind::kInt;
    v.int_value = value;
    v.text = absl::StrCat(value);
    return Add(std::move(v));
  }
  bool number_unsigned(number_unsigned_t value) override {
    if (value > static_cast<number_unsigned_t>(INT64_MAX)) {
      return Fail(absl::StrCat("the number ", value, " is out of range"));
    }
    return number_integer(static_cast<int64_t>(value));
  }
  bool number_float(number_float_t, const string_t& text) override {
    ast::JsonValue v;
    v.kind = JKind::kDecimal;
    v.text = text;
    if (text.find_first_not_of("-0123456789") == std::string::npos) {
      return Fail(absl::StrCat("the number `", text, "` is out of range"));
    }
    if (values::Error e = values::ParseDecimal(text, &v.int_value); e != values::Error::kNone) {
      return Fail(absl::StrCat(
          "the number `", text, "` ",
          e == values::Error::kSyntax ? "is not a decimal number" : values::ErrorText(e),
          " (decimals have at most 4 fractional digits and no exponent)"));
    }
    return Add(std::move(v));
  }
  bool string(string_t& value) override {
    ast::JsonValue v;
    v.kind = JKind::kString;
    v.text = value;
    return Add(std::move(v));
  }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t) override {
    ast::JsonValue v;
    v.kind = JKind::kObject;
    return Open(std::move(v));
  }
  bool key(string_t& name) override {
    ast::JsonValue* object = stack_.back();
    for (const auto& member : object->members) {
      if (member.key.text == name) {
        std::string path = Path();
        return Fail(absl::StrCat("`", path.empty() ? name : absl::StrCat(path, ".", name),
                                 "` is given twice"));
      }
    }
    pending_key_ = name;
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    ast::JsonValue v;
    v.kind = JKind::kArray;
    return Open(std::move(v));
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    if (error_->message.empty()) {
      std::string what = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> the part after
      // "parse error".
      size_t colon = what.find("parse error");
      error_->message = absl::StrCat("malformed JSON at byte ", position, ": ",
                                     colon == std::string::npos ? what : what.substr(colon));
    }
    return false;
  }

 private:
  std::string Path() const {
    std::string path;
    for (size_t k = 1; k < stack_.size(); ++k) {
      const ast::JsonValue* parent = stack_[k - 1];
      if (parent->kind == JKind::kObject) {
        absl::StrAppend(&path, path.empty() ? "" : ".", parent->members.back().key.text);
      } else {
        absl::StrAppend(&path, "[", parent->items.size() - 1, "]");
      }
    }
    return path;
  }

  bool Fail(std::string message) {
    if (error_->message.empty()) {
      error_->code = "bad_request";
      error_->message = std::move(message);
    }
    return false;
  }

  // Places `value` in the current container; returns it.
  ast::JsonValue* Place(ast::JsonValue value) {
    if (stack_.empty()) {
      if (placed_root_) return nullptr;
      placed_root_ = true;
      root = std::move(value);
      return &root;
    }
    ast::JsonValue* parent = stack_.back();
    if (parent->kind == JKind::kArray) {
      if (parent->items.size() >= options_.max_set_elements) return nullptr;
      parent->items.push_back(std::move(value));
      return &parent->items.back();
    }
    ast::JsonValue::Member member;
    member.key.text = std::move(pending_key_);
    member.value = std::move(value);
    parent->members.push_back(std::move(member));
    return &parent->members.back().value;
  }

  bool Add(ast::JsonValue value) {
    if (Place(std::move(value)) == nullptr) return TooMany();
    return true;
  }

  bool Open(ast::JsonValue value) {
    if (static_cast<int>(stack_.size()) >= options_.max_depth) {
      return Fail(absl::StrCat("the request nests deeper than ", options_.max_depth, " levels"));
    }
    ast::JsonValue* placed = Place(std::move(value));
    if (placed == nullptr) return TooMany();
    stack_.push_back(placed);
    return true;
  }

  bool TooMany() {
    return Fail(
        absl::StrCat("`", Path(), "` has more than ", options_.max_set_elements, " elements"));
  }

  const RequestOptions& options_;
  RequestError* error_;
  std::vector<ast::JsonValue*> stack_;
  std::string pending_key_;
  bool placed_root_ = false;
};

}  // namespace

bool ParseJsonText(std::string_view text, const RequestOptions& options, ast::JsonValue* out,
                   RequestError* error) {
  *error = RequestError{"bad_request", "", "", Span{}};
  if (text.size() > options.max_bytes) {
    error->message =
        absl::StrCat("the request is ", text.size(), " bytes; the limit is ", options.max_bytes);
    return false;
  }
  JsonBuilder builder(options, error);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                         /*strict=*/true);
  } catch (const std::exception& e) {
    if (error->message.empty()) error->message = absl::StrCat("malformed JSON: ", e.what());
    ok = false;
  }
  if (!ok) {
    if (error->message.empty()) error->message = "malformed JSON";
    return false;
  }
  *out = std::move(builder.root);
  return true;
}

// ---------------------------------------------------------------- decoding

namespace {

// Attributes that a request never needs to give: the fail-safe defaults of
// docs/language.md. `subject.id`, `resource.id` and `resource.type` have none.
std::optional<EvalValue> BuiltinDefault(const Attribute& attribute, int64_t now_millis) {
  if (!attribute.builtin || attribute.optional) return std::nullopt;
  const std::string& path = attribute.path;
  bool resource = path.rfind("resource.", 0) == 0;
  if (path == "subject.id" || (resource && (path.ends_with(".id") || path.ends_with(".type")))) {
    return std::nullopt;
  }
  switch (attribute.type->kind) {
    case TypeKind::kBool:
      return EvalValue::Bool(false);
    case TypeKind::kInt:
      return EvalValue::Int(0);
    case TypeKind::kSet:
      return EvalValue::Set({});
    case TypeKind::kString:
      return EvalValue::String("");  // subject.auth.acr
    case TypeKind::kDuration:
      return EvalValue::Duration(INT64_MAX);
    case TypeKind::kTimestamp:
      return EvalValue::Timestamp(now_millis);  // context.time
    case TypeKind::kEnum:                       // subject.auth.kind: none
      return EvalValue::Enum(0, attribute.type->enumeration->members.empty()
                                    ? std::string()
                                    : attribute.type->enumeration->members[0]);
    case TypeKind::kRecord:
      return EvalValue::Record();
    default:
      return std::nullopt;
  }
}

class Decoder {
 public:
  Decoder(const CheckedProgram& program, const RequestOptions& options, DecodedRequest* out)
      : program_(program), options_(options), out_(out), request_(out->request) {}

  void Decode(const ast::JsonValue& given) {
    request_.attributes.assign(program_.attributes.size(), std::nullopt);
    request_.limit_counts.assign(program_.limits.size(), int64_t{0});
    request_.data.assign(program_.data.size(), std::nullopt);
    if (given.kind != JKind::kObject) return Fatal("", "a request must be a JSON object");
    std::set<std::string> seen;
    const ast::JsonValue* resource = nullptr;
    bool has_action = false;
    for (const auto& member : given.members) {
      const std::string& key = member.key.text;
      if (!seen.insert(key).second)
        return Fatal(key, absl::StrCat("`", key, "` is given twice"), member.key.span);
      if (key == "subject") {
        Record(member.value, *program_.subject, "subject", -1);
      } else if (key == "context") {
        Record(member.value, *program_.context, "context", -1);
      } else if (key == "action") {
        has_action = true;
        if (member.value.kind != JKind::kString) {
          return Fatal("action", "`action` must be a string naming an action", member.value.span);
        }
        request_.action_name = member.value.text;
        request_.action = program_.FindAction(member.value.text);
      } else if (key == "resource") {
        resource = &member.value;
      } else if (key == "jit") {
        Jit(member.value);
      } else if (key == "limits") {
        Limits(member.value);
      } else if (options_.strict) {
        Problem("unknown_attribute", key,
                absl::StrCat("a request has no part `", key,
                             "`; it has subject, action, resource, context, jit and limits"),
                member.key.span);
      }
    }
    if (!has_action) return Fatal("action", "the request names no `action`", given.span);
    if (resource == nullptr) return Fatal("resource", "the request has no `resource`", given.span);
    Resource(*resource);
  }

  void Data(const ast::JsonValue& data, bool require_all) {
    if (data.kind != JKind::kObject) return Fatal("data", "data must be a JSON object");
    std::vector<bool> given(program_.data.size(), false);
    for (const auto& member : data.members) {
      int index = -1;
      for (size_t k = 0; k < program_.data.size(); ++k) {
        if (program_.data[k].name == member.key.text) index = static_cast<int>(k);
      }
      std::string path = absl::StrCat("data.", member.key.text);
      if (index < 0) {
        Problem("unknown_attribute", path,
                absl::StrCat("no data named `", member.key.text, "` is declared"), member.key.span);
        continue;
      }
      given[index] = true;
      in_data_ = true;
      request_.data[index] = Value(member.value, program_.data[index].type, path);
      in_data_ = false;
    }
    if (!require_all) return;
    for (size_t k = 0; k < program_.data.size(); ++k) {
      if (!given[k]) {
        out_->errors.push_back({"missing_data", absl::StrCat("data.", program_.data[k].name),
                                absl::StrCat("data `", program_.data[k].name, "` is not given"),
                                Span{}});
        out_->ok = false;
      }
    }
  }

  // Data a test does not give: an empty set, "", 0 or false.
  void DefaultData() {
    for (size_t k = 0; k < program_.data.size(); ++k) {
      if (request_.data[k]) continue;
      switch (program_.data[k].type->kind) {
        case TypeKind::kSet:
          request_.data[k] = EvalValue::Set({});
          break;
        case TypeKind::kString:
          request_.data[k] = EvalValue::String("");
          break;
        case TypeKind::kInt:
          request_.data[k] = EvalValue::Int(0);
          break;
        case TypeKind::kBool:
          request_.data[k] = EvalValue::Bool(false);
          break;
        default:
          break;
      }
    }
  }

  void Defaults() {
    int64_t now = options_.now_millis ? *options_.now_millis : absl::ToUnixMillis(absl::Now());
    for (const Attribute& attribute : program_.attributes) {
      if (request_.attributes[attribute.id]) continue;
      if (attribute.resource_type >= 0 && attribute.resource_type != request_.resource_type)
        continue;
      // Built-in records (subject.auth, context.geo, ...) are always present.
      if (attribute.parent >= 0 && !request_.attributes[attribute.parent] &&
          !program_.attributes[attribute.parent].builtin) {
        continue;
      }
      request_.attributes[attribute.id] = BuiltinDefault(attribute, now);
    }
  }

 private:
  void Fatal(const std::string& path, std::string message, Span span = {}) {
    out_->errors.push_back({"bad_request", path, std::move(message), span});
    out_->ok = false;
    fatal_ = true;
  }

 public:
  bool fatal() const { return fatal_; }

 private:
  // A tolerated problem in lenient mode; an error in strict mode.
  void Problem(const char* code, const std::string& path, std::string message, Span span) {
    out_->errors.push_back({code, path, std::move(message), span});
    if (options_.strict) out_->ok = false;
  }

  void Resource(const ast::JsonValue& value) {
    if (value.kind != JKind::kObject)
      return Fatal("resource", "`resource` must be an object with a `type`", value.span);
    const ast::JsonValue* type = nullptr;
    for (const auto& member : value.members) {
      if (member.key.text == "type") type = &member.value;
    }
    if (type == nullptr || type->kind != JKind::kString) {
      return Fatal("resource.type", "`resource` needs a `type` string", value.span);
    }
    request_.resource_type_name = type->text;
    request_.resource_type = program_.FindResourceType(type->text);
    const RecordType* record = request_.resource_type >= 0
                                   ? program_.resource_types[request_.resource_type].record
                                   : program_.any_resource;
    Record(value, *record, "resource", request_.resource_type);
    // `on *` policies read the fields every resource has through their own attributes.
    if (request_.resource_type >= 0) {
      for (const Field& field : program_.any_resource->fields) {
        const Field* specific = record->Find(field.name);
        if (specific != nullptr)
          request_.attributes[field.attribute] = request_.attributes[specific->attribute];
      }
    }
  }

  void Record(const ast::JsonValue& value, const RecordType& record, const std::string& path,
              int resource_type) {
    if (value.kind != JKind::kObject) {
      Problem("wrong_type", path, absl::StrCat("`", path, "` must be an object"), value.span);
      return;
    }
    for (const auto& member : value.members) {
      std::string child = absl::StrCat(path, ".", member.key.text);
      const Field* field = record.Find(member.key.text);
      if (field == nullptr) {
        if (options_.strict) {
          Problem("unknown_attribute", child,
                  absl::StrCat("`", path, "` has no attribute `", member.key.text, "`"),
                  member.key.span);
        }
        continue;
      }
      if (field->type->kind == TypeKind::kRecord) {
        if (member.value.kind == JKind::kNull && field->optional) continue;
        if (member.value.kind != JKind::kObject) {
          Problem("wrong_type", child, absl::StrCat("`", child, "` must be an object"),
                  member.value.span);
          continue;
        }
        request_.attributes[field->attribute] = EvalValue::Record();
        Record(member.value, *field->type->record, child, resource_type);
        continue;
      }
      if (member.value.kind == JKind::kNull && field->optional) continue;
      request_.attributes[field->attribute] = Value(member.value, field->type, child);
    }
  }

  void Jit(const ast::JsonValue& value) {
    if (value.kind != JKind::kArray)
      return Fatal("jit", "`jit` must be an array of JIT profile names", value.span);
    for (size_t k = 0; k < value.items.size(); ++k) {
      const ast::JsonValue& item = value.items[k];
      int index = -1;
      for (size_t p = 0; p < program_.jit_profiles.size(); ++p) {
        if (item.kind == JKind::kString && program_.jit_profiles[p].name == item.text)
          index = static_cast<int>(p);
      }
      if (index < 0) {
        Problem("unknown_jit_profile", absl::StrCat("jit[", k, "]"),
                absl::StrCat("`", item.text, "` is not a jit profile"), item.span);
        continue;
      }
      if (std::find(request_.jit_grants.begin(), request_.jit_grants.end(), index) ==
          request_.jit_grants.end()) {
        request_.jit_grants.push_back(index);
      }
    }
  }

  void Limits(const ast::JsonValue& value) {
    if (value.kind != JKind::kObject) {
      return Fatal("limits",
                   "`limits` must map limit names to the number of requests already counted",
                   value.span);
    }
    for (const auto& member : value.members) {
      std::string path = absl::StrCat("limits.", member.key.text);
      int index = -1;
      for (size_t k = 0; k < program_.limits.size(); ++k) {
        if (program_.limits[k].name == member.key.text) index = static_cast<int>(k);
      }
      if (index < 0) {
        Problem("unknown_limit", path,
                absl::StrCat("no limit named `", member.key.text, "` is declared"),
                member.key.span);
        continue;
      }
      if (member.value.kind == JKind::kNull) {  // the counter store could not be read
        request_.limit_counts[index] = std::nullopt;
      } else if (member.value.kind == JKind::kInt && member.value.int_value >= 0) {
        request_.limit_counts[index] = member.value.int_value;
      } else {
        Fatal(path, "a limit count must be a non-negative integer (or null: unavailable)",
              member.value.span);
      }
    }
  }

  std::optional<EvalValue> Mismatch(const ast::JsonValue& value, const std::string& path,
                                    const std::string& expected) {
    Problem("wrong_type", path, absl::StrCat("`", path, "` must be ", expected), value.span);
    return std::nullopt;
  }

  // A value of `type`; nullopt (and a problem reported) when it does not fit.
  std::optional<EvalValue> Value(const ast::JsonValue& value, const Type* type,
                                 const std::string& path) {
    switch (type->kind) {
      case TypeKind::kBool:
        if (value.kind != JKind::kBool) return Mismatch(value, path, "true or false");
        return EvalValue::Bool(value.bool_value);
      case TypeKind::kInt:
        if (value.kind != JKind::kInt) return Mismatch(value, path, "an integer");
        return EvalValue::Int(value.int_value);
      case TypeKind::kDecimal: {
        if (value.kind == JKind::kDecimal) return EvalValue::Decimal(value.int_value);
        int64_t scaled = 0;
        // `data` may also write a decimal as a string ("10.50"), as the engine reads it.
        if (in_data_ && value.kind == JKind::kString &&
            values::ParseDecimal(value.text, &scaled) == values::Error::kNone)
          return EvalValue::Decimal(scaled);
        if (value.kind != JKind::kInt ||
            __builtin_mul_overflow(value.int_value, ast::kDecimalScale, &scaled)) {
          return Mismatch(value, path, "a decimal number within range");
        }
        return EvalValue::Decimal(scaled);
      }
      case TypeKind::kString:
        if (value.kind != JKind::kString) return Mismatch(value, path, "a string");
        return EvalValue::String(value.text);
      case TypeKind::kDuration: {
        int64_t millis = 0;
        // `data` may give milliseconds as an integer, as the engine's DataValue does.
        if (in_data_ && value.kind == JKind::kInt) return EvalValue::Duration(value.int_value);
        if (value.kind != JKind::kString ||
            values::ParseDuration(value.text, &millis) != values::Error::kNone) {
          return Mismatch(value, path, "a duration string such as \"15m\"");
        }
        return EvalValue::Duration(millis);
      }
      case TypeKind::kTimestamp: {
        int64_t millis = 0;
        if (in_data_ && value.kind == JKind::kInt) return EvalValue::Timestamp(value.int_value);
        if (value.kind != JKind::kString ||
            values::ParseTimestamp(value.text, &millis) != values::Error::kNone) {
          return Mismatch(value, path,
                          "an RFC 3339 timestamp string such as \"2026-01-31T09:00:00Z\"");
        }
        return EvalValue::Timestamp(millis);
      }
      case TypeKind::kIp: {
        values::IpNet network;
        if (value.kind != JKind::kString ||
            values::ParseIp(value.text, &network) != values::Error::kNone)
          return Mismatch(value, path, "an IP address or CIDR network string");
        return EvalValue::Ip(network);
      }
      case TypeKind::kEnum: {
        int index = value.kind == JKind::kString ? type->enumeration->Find(value.text) : -1;
        if (index < 0) {
          return Mismatch(value, path,
                          absl::StrCat("one of ", absl::StrJoin(type->enumeration->members, ", ")));
        }
        return EvalValue::Enum(index, value.text);
      }
      case TypeKind::kSet: {
        if (value.kind != JKind::kArray || type->element == nullptr)
          return Mismatch(value, path, "an array");
        if (value.items.size() > options_.max_set_elements) {
          return Mismatch(
              value, path,
              absl::StrCat("an array of at most ", options_.max_set_elements, " elements"));
        }
        std::vector<EvalValue> elements;
        for (size_t k = 0; k < value.items.size(); ++k) {
          std::optional<EvalValue> element =
              Value(value.items[k], type->element, absl::StrCat(path, "[", k, "]"));
          if (!element)
            return std::nullopt;  // a set missing an element would be wrong, not smaller
          elements.push_back(std::move(*element));
        }
        return EvalValue::Set(std::move(elements));
      }
      case TypeKind::kRecord: {
        if (value.kind != JKind::kObject) return Mismatch(value, path, "an object");
        EvalValue record = EvalValue::Record();
        for (const Field& field : type->record->fields) {
          const ast::JsonValue* member = nullptr;
          for (const auto& candidate : value.members) {
            if (candidate.key.text == field.name) member = &candidate.value;
          }
          if (member == nullptr || (member->kind == JKind::kNull && field.optional)) continue;
          std::optional<EvalValue> field_value =
              Value(*member, field.type, absl::StrCat(path, ".", field.name));
          if (!field_value) return std::nullopt;
          record.names.push_back(field.name);
          record.elements.push_back(std::move(*field_value));
        }
        for (const auto& candidate : value.members) {
          if (type->record->Find(candidate.key.text) == nullptr && options_.strict) {
            return Mismatch(candidate.value, absl::StrCat(path, ".", candidate.key.text),
                            "a declared attribute");
          }
        }
        return record;
      }
      case TypeKind::kError:
        break;
    }
    return Mismatch(value, path, "a value of a known type");
  }

  const CheckedProgram& program_;
  const RequestOptions& options_;
  bool in_data_ = false;  // decoding `data`, which also takes the engine's DataValue spellings
  DecodedRequest* out_;
  Request& request_;
  bool fatal_ = false;
};

}  // namespace

DecodedRequest DecodeRequestJson(const CheckedProgram& program, std::string_view text,
                                 const RequestOptions& options) {
  DecodedRequest out;
  out.ok = true;
  ast::JsonValue given;
  RequestError error;
  if (!ParseJsonText(text, options, &given, &error)) {
    out.ok = false;
    out.errors.push_back(std::move(error));
    return out;
  }
  Decoder decoder(program, options, &out);
  decoder.Decode(given);
  if (!decoder.fatal()) decoder.Defaults();
  return out;
}

DecodedRequest DecodeTestRequest(const CheckedProgram& program, const ast::JsonValue& given,
                                 const ast::JsonValue* data, const RequestOptions& options) {
  RequestOptions strict = options;
  strict.strict = true;
  DecodedRequest out;
  out.ok = true;
  Decoder decoder(program, strict, &out);
  decoder.Decode(given);
  if (decoder.fatal()) return out;
  if (data != nullptr) decoder.Data(*data, /*require_all=*/false);
  decoder.DefaultData();
  decoder.Defaults();
  return out;
}

bool DecodeDataJson(const CheckedProgram& program, std::string_view text,
                    const RequestOptions& options, std::vector<std::optional<EvalValue>>* data,
                    std::vector<RequestError>* errors) {
  RequestOptions strict = options;
  strict.strict = true;
  DecodedRequest out;
  out.ok = true;
  out.request.data.assign(program.data.size(), std::nullopt);
  ast::JsonValue value;
  RequestError error;
  if (!ParseJsonText(text, strict, &value, &error)) {
    errors->push_back(std::move(error));
    return false;
  }
  Decoder decoder(program, strict, &out);
  decoder.Data(value, /*require_all=*/true);
  *errors = std::move(out.errors);
  *data = std::move(out.request.data);
  return out.ok;
}

}  // namespace warden
