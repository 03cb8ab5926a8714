// `data` values from JSON (see data_json.h).
#include "runtime/data_json.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace warden {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;  // records nest as deep as their schema

absl::StatusOr<DataValue> Convert(const json& v, int depth) {
  if (depth > kMaxDepth) return absl::InvalidArgumentError("data: values nest too deeply");
  if (v.is_null()) return DataValue::Null();
  if (v.is_boolean()) return DataValue::Bool(v.get<bool>());
  if (v.is_number_integer()) return DataValue::Int(v.get<int64_t>());
  if (v.is_number()) return DataValue::String(v.dump());
  if (v.is_string()) return DataValue::String(v.get<std::string>());
  if (v.is_object()) {
    std::vector<DataField> fields;
    for (const auto& [name, item] : v.items()) {
      absl::StatusOr<DataValue> field = Convert(item, depth + 1);
      if (!field.ok()) return field.status();
      fields.push_back(DataField{name, *std::move(field)});
    }
    return DataValue::Object(std::move(fields));
  }
  if (!v.is_array()) return absl::InvalidArgumentError("data: a value of an unknown JSON type");
  std::vector<DataValue> list;
  for (const json& item : v) {
    absl::StatusOr<DataValue> element = Convert(item, depth + 1);
    if (!element.ok()) return element.status();
    list.push_back(*std::move(element));
  }
  return DataValue::List(std::move(list));
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> ParseDataJson(
    std::string_view text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return absl::InvalidArgumentError("data must be a JSON object");
  std::vector<std::pair<std::string, DataValue>> out;
  for (const auto& [name, value] : parsed.items()) {
    absl::StatusOr<DataValue> converted = Convert(value, 0);
    if (!converted.ok()) return converted.status();
    out.emplace_back(name, *std::move(converted));
  }
  return out;
}

}  // namespace warden
