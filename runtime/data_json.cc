// `data` values from JSON (see data_json.h).
#include "runtime/data_json.h"

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden {
namespace {

using nlohmann::json;

constexpr size_t kMaxDepth = 32;  // records nest as deep as their schema

// Builds DataValues straight from the parser's events, so that a number
// that is not an int64 reaches the engine as the text it was written in
// ("10.50", "1e2"): runtime/values then reads it with the one decimal
// grammar (a DOM would have re-printed 1e2 as "100.0" and accepted it).
class Builder : public nlohmann::json_sax<json> {
 public:
  bool null() override { return Add(DataValue::Null()); }
  bool boolean(bool v) override { return Add(DataValue::Bool(v)); }
  bool number_integer(number_integer_t v) override { return Add(DataValue::Int(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    if (v > static_cast<number_unsigned_t>(INT64_MAX))
      return Add(DataValue::String(absl::StrCat(v)));
    return Add(DataValue::Int(static_cast<int64_t>(v)));
  }
  bool number_float(number_float_t, const string_t& text) override {
    return Add(DataValue::String(text));
  }
  bool string(string_t& v) override { return Add(DataValue::String(std::move(v))); }
  bool binary(binary_t&) override { return Fail("data: binary values are not JSON"); }
  bool start_object(std::size_t) override { return Open(DataValue::Object({})); }
  bool key(string_t& name) override {
    // A repeated key is refused, as every JSON reader of Warden refuses one
    // (runtime/strict_json.h): two readers of the file could disagree.
    if (!seen_.back().insert(name).second) {
      keys_.back() = std::move(name);
      if (error_.ok())
        error_ = absl::InvalidArgumentError(absl::StrCat("data: duplicate key `", Path(), "`"));
      return false;
    }
    keys_.back() = std::move(name);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(DataValue::List({})); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return Fail("data must be a JSON object");
  }

  absl::StatusOr<DataValue> Take() {
    if (!error_.ok()) return error_;
    if (!done_ || root_.kind != DataValue::Kind::kObject)
      return absl::InvalidArgumentError("data must be a JSON object");
    return std::move(root_);
  }

 private:
  bool Fail(const char* message) {
    if (error_.ok()) error_ = absl::InvalidArgumentError(message);
    return false;
  }
  bool Add(DataValue value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      done_ = true;
    } else if (stack_.back().kind == DataValue::Kind::kObject) {
      stack_.back().fields.push_back(DataField{std::move(keys_.back()), std::move(value)});
    } else {
      stack_.back().list.push_back(std::move(value));
    }
    return true;
  }
  bool Open(DataValue container) {
    if (stack_.size() > kMaxDepth) return Fail("data: values nest too deeply");
    stack_.push_back(std::move(container));
    keys_.emplace_back();
    seen_.emplace_back();
    return true;
  }
  bool Close() {
    DataValue value = std::move(stack_.back());
    stack_.pop_back();
    keys_.pop_back();
    seen_.pop_back();
    return Add(std::move(value));
  }
  // The open objects' current keys, dotted (arrays as [i]).
  std::string Path() const {
    std::string path;
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].kind == DataValue::Kind::kObject) {
        if (!path.empty()) path.push_back('.');
        path.append(keys_[i]);
      } else {
        absl::StrAppend(&path, "[", stack_[i].list.size(), "]");
      }
    }
    return path;
  }

  std::vector<DataValue> stack_;
  std::vector<std::string> keys_;
  std::vector<absl::flat_hash_set<std::string>> seen_;  // each open object's keys
  DataValue root_;
  bool done_ = false;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> ParseDataJson(
    std::string_view text) {
  Builder builder;
  json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true,
                  /*ignore_comments=*/false);
  absl::StatusOr<DataValue> root = builder.Take();
  if (!root.ok()) return root.status();
  std::vector<std::pair<std::string, DataValue>> out;
  for (DataField& field : root->fields)
    out.emplace_back(std::move(field.name), std::move(field.value));
  return out;
}

}  // namespace warden
