// Data conversion: `data` values given at load (DataValue) checked against
// their declared types and turned into VM values.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/engine/engine_impl.h"
#include "runtime/record_value.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"

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

namespace {

absl::Status DataError(const std::string& name, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("data `", name, "`: ", message));
}

}  // namespace

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
        if (__builtin_mul_overflow(value.i, values::kDecimalScale, &out->i))
          return DataError(name, "decimal out of range");
        return absl::OkStatus();
      }
      if (value.kind != K::kString ||
          values::ParseDecimal(value.s, &out->i) != values::Error::kNone)
        return DataError(name, "expected a decimal");
      return absl::OkStatus();
    case TypeCode::kDuration:
      if (value.kind == K::kInt) {
        out->i = value.i;
        return absl::OkStatus();
      }
      if (value.kind != K::kString ||
          values::ParseDuration(value.s, &out->i) != values::Error::kNone)
        return DataError(name, "expected a duration");
      return absl::OkStatus();
    case TypeCode::kTimestamp: {
      if (value.kind == K::kInt) {
        out->i = value.i;
        return absl::OkStatus();
      }
      if (value.kind != K::kString ||
          values::ParseTimestamp(value.s, &out->i) != values::Error::kNone)
        return DataError(name, "expected an RFC 3339 timestamp");
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
      if (value.kind != K::kString || values::ParseIp(value.s, &ip) != values::Error::kNone)
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

}  // namespace warden
