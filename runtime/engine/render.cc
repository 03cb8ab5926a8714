// Value rendering: obligation and advice values as text and as JSON
// (ObligationArg::value and ::json).
#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/decision_json.h"
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

namespace {

// Writes v into buffer (at least 24 bytes); returns the end.
char* IntText(char* buffer, int64_t v) { return std::to_chars(buffer, buffer + 24, v).ptr; }

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
      end = values::FormatDecimal(value.i, text);
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
      end = values::FormatDuration(value.i, json + 1);
      *end++ = '"';
      *json_size = end - json;
      return;
    case TypeCode::kTimestamp:
      *text_size = IntText(text, value.i) - text;
      json[0] = '"';
      end = values::FormatTimestamp(value.i, json + 1);
      *end++ = '"';
      *json_size = end - json;
      return;
    case TypeCode::kIp:
      *text_size = values::FormatIp(*value.ip, text) - text;
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

}  // namespace warden
