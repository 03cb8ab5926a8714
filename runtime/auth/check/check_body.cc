#include "runtime/auth/check/check_body.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/ip_list.h"
#include "runtime/decision_json.h"
#include "runtime/strict_json.h"

namespace warden::auth {
namespace {

namespace od = simdjson::ondemand;

// Debian's Abseil has its own string_view type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::optional<BadRequest> Bad(std::string_view code, std::string message) {
  return BadRequest{code, std::move(message)};
}
std::optional<BadRequest> Malformed() {
  return Bad("malformed_json", "the body is not valid JSON");
}

// The keys of one object so far. A repeated key is refused with the code
// and message /v1/decide's decoder uses: with last-wins, the check and a
// reader of the audit log could disagree on what was asked.
class Keys {
 public:
  explicit Keys(std::string_view prefix) : prefix_(prefix) {}
  std::optional<BadRequest> Add(std::string_view key) {
    if (!keys_.Add(key))
      return Bad("bad_request", absl::StrCat("`", Av(prefix_), Av(key), "` is given twice"));
    return std::nullopt;
  }

 private:
  std::string_view prefix_;
  ObjectKeys keys_;
};

// A value's JSON text as written (objects and arrays whole).
std::string_view RawJson(od::value& value) {
  std::string_view raw;
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return {};
  if (type == od::json_type::object) {
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS ||
        object.raw_json().get(raw) != simdjson::SUCCESS)
      return {};
    return raw;
  }
  if (type == od::json_type::array) {
    od::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS ||
        array.raw_json().get(raw) != simdjson::SUCCESS)
      return {};
    return raw;
  }
  raw = value.raw_json_token();
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
    raw.remove_suffix(1);
  return raw;
}

// The body as one JSON object, nothing after it.
std::optional<BadRequest> ParseRoot(std::string_view body, BodyParser& p, od::document* document,
                                    od::object* root) {
  p.padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  p.padded.assign(body);
  simdjson::padded_string_view padded(p.padded.data(), p.padded.size(), p.padded.capacity());
  if (p.parser.iterate(padded).get(*document) != simdjson::SUCCESS ||
      document->get_object().get(*root) != simdjson::SUCCESS)
    return Bad("malformed_json", "the body must be a JSON object");
  // On-demand parsing stops at the object's end: refuse trailing text.
  std::string_view whole;
  if (root->raw_json().get(whole) != simdjson::SUCCESS ||
      root->reset().error() != simdjson::SUCCESS)
    return Malformed();
  const size_t end = static_cast<size_t>(whole.data() + whole.size() - p.padded.data());
  if (std::any_of(p.padded.begin() + static_cast<ptrdiff_t>(end), p.padded.end(),
                  [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; }))
    return Bad("malformed_json", "text follows the JSON object");
  return std::nullopt;
}

// token, api_key or authorization ("Bearer <token or API key>").
std::optional<BadRequest> ParseCredential(std::string_view key, od::value& value, CheckBody* out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS)
    return Bad("bad_request", absl::StrCat(Av(key), " must be a string"));
  if (key == "token") {
    out->token = text;
  } else if (key == "api_key") {
    out->api_key = text;
  } else {
    // As an enforcement point forwards the header.
    if (text.size() < 7 || !(text.substr(0, 7) == "Bearer " || text.substr(0, 7) == "bearer "))
      return Bad("bad_request", "authorization must be \"Bearer <credential>\"");
    text.remove_prefix(7);
    (text.substr(0, 4) == "wdk_" ? out->api_key : out->token) = text;
  }
  return std::nullopt;
}

std::optional<BadRequest> ParseResource(od::value& value, CheckBody* out) {
  od::object resource;
  if (value.get_object().get(resource) != simdjson::SUCCESS)
    return Bad("bad_request", "resource must be an object");
  Keys keys("resource.");
  for (auto member : resource) {
    std::string_view name;
    if (member.unescaped_key().get(name) != simdjson::SUCCESS) return Malformed();
    if (std::optional<BadRequest> bad = keys.Add(name)) return bad;
    if (name == "type" && member.value().get_string().get(out->resource_type) != simdjson::SUCCESS)
      return Bad("bad_request", "resource.type must be a string");
  }
  if (resource.reset().error() != simdjson::SUCCESS ||
      resource.raw_json().get(out->resource) != simdjson::SUCCESS)
    return Malformed();
  return std::nullopt;
}

std::optional<BadRequest> ParseDevice(od::value& value, CheckBody* out) {
  od::object device;
  if (value.get_object().get(device) != simdjson::SUCCESS)
    return Bad("bad_request", "context.device must be {\"id\": \"…\"}");
  Keys keys("context.device.");
  for (auto member : device) {
    std::string_view key;
    std::string_view id;
    if (member.unescaped_key().get(key) != simdjson::SUCCESS) return Malformed();
    if (std::optional<BadRequest> bad = keys.Add(key)) return bad;
    if (key != "id" || member.value().get_string().get(id) != simdjson::SUCCESS)
      return Bad("bad_request",
                 "context.device may only carry \"id\", a string (Warden computes \"known\")");
    out->device_id = id;
  }
  return std::nullopt;
}

std::optional<BadRequest> ParseContext(od::value& value, std::span<const std::string_view> computed,
                                       std::string* rest, CheckBody* out) {
  od::object context;
  if (value.get_object().get(context) != simdjson::SUCCESS)
    return Bad("bad_request", "context must be an object");
  Keys keys("context.");
  for (auto member : context) {
    std::string_view name;
    od::value member_value;
    if (member.unescaped_key().get(name) != simdjson::SUCCESS) return Malformed();
    if (std::optional<BadRequest> bad = keys.Add(name)) return bad;
    if (member.value().get(member_value) != simdjson::SUCCESS) return Malformed();
    if (std::find(computed.begin(), computed.end(), name) != computed.end())
      return Bad("bad_request", absl::StrCat("context.", Av(name),
                                             " is computed by Warden; a check may not send it"));
    if (name == "ip") {
      std::string_view ip;
      if (member_value.get_string().get(ip) != simdjson::SUCCESS)
        return Bad("bad_request", "context.ip must be a string");
      out->ip = ip;
    } else if (name == "device") {
      if (std::optional<BadRequest> bad = ParseDevice(member_value, out)) return bad;
    } else {
      std::string_view raw = RawJson(member_value);
      if (raw.empty()) return Malformed();
      if (!rest->empty()) rest->push_back(',');
      AppendJsonString(name, rest);
      rest->push_back(':');
      rest->append(raw);
    }
  }
  return std::nullopt;
}

std::optional<BadRequest> ParseMember(std::string_view key, od::value& value,
                                      std::span<const std::string_view> computed, BodyParser& p,
                                      CheckBody* out) {
  if (key == "token" || key == "api_key" || key == "authorization")
    return ParseCredential(key, value, out);
  if (key == "action") {
    if (value.get_string().get(out->action_name) != simdjson::SUCCESS)
      return Bad("bad_request", "action must be a string");
    return std::nullopt;
  }
  if (key == "resource") return ParseResource(value, out);
  if (key == "context") return ParseContext(value, computed, &p.context_rest, out);
  if (key == "subject")
    return Bad("bad_request",
               "a check may not send subject: it comes from the verified credential");
  if (key == "jit" || key == "limits")
    return Bad("bad_request",
               absl::StrCat(Av(key), " is computed by Warden; a check may not send it"));
  return Bad("bad_request", absl::StrCat("unknown member ", Av(key),
                                         " (a check has token, api_key or authorization, action, "
                                         "resource and context)"));
}

// What every check must have, once every member is read.
std::optional<BadRequest> CheckComplete(CheckBody* out) {
  if (out->action_name.empty()) return Bad("bad_request", "action is required");
  if (out->resource.empty() || out->resource_type.empty())
    return Bad("bad_request", "resource with a type is required");
  if (out->ip && !ParseIpAddress(*out->ip, &out->ip_net))
    return Bad("bad_request", "context.ip is not an IP address");
  return std::nullopt;
}

}  // namespace

std::optional<BadRequest> ParseCheckBody(std::string_view body,
                                         std::span<const std::string_view> computed_keys,
                                         BodyParser& parser, CheckBody* out) {
  *out = CheckBody{};
  parser.context_rest.clear();
  od::document document;
  od::object root;
  if (std::optional<BadRequest> bad = ParseRoot(body, parser, &document, &root)) return bad;
  Keys keys("");
  bool has_credential = false;
  for (auto field : root) {
    std::string_view key;
    od::value value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Malformed();
    // Two credentials (or one twice) would leave which one is checked to
    // the order of the members: refused, whichever they are.
    const bool credential = key == "token" || key == "api_key" || key == "authorization";
    if (credential && has_credential)
      return Bad("ambiguous_credentials",
                 "send one credential: token, api_key or authorization, once");
    has_credential = has_credential || credential;
    if (std::optional<BadRequest> bad = keys.Add(key)) return bad;
    if (field.value().get(value) != simdjson::SUCCESS) return Malformed();
    if (std::optional<BadRequest> bad = ParseMember(key, value, computed_keys, parser, out))
      return bad;
  }
  out->context_rest = parser.context_rest;
  return CheckComplete(out);
}

}  // namespace warden::auth
