// libFuzzer target: stage 1 of /v1/check, the body parser
// (runtime/auth/check/check_body.h), one BodyParser reused across inputs as
// the server reuses it per thread.
//
// Oracles: no crash or sanitizer report; parsing twice gives the same
// answer; an accepted body has an action, a typed resource and at most one
// credential, and its raw resource view points into the parser's storage;
// when nlohmann's strict reader also accepts the text, it holds at most one
// credential member and the same action and resource type (both readers
// agree on what was asked).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "runtime/auth/check/check_body.h"
#include "runtime/strict_json.h"

namespace {

constexpr std::string_view kComputed[] = {"time",     "geo",          "network",
                                          "attempts", "unusual_hour", "known_network"};

void Require(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view view, const std::string& storage) {
  return view.empty() || (view.data() >= storage.data() &&
                          view.data() + view.size() <= storage.data() + storage.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static warden::auth::BodyParser* const parser = new warden::auth::BodyParser();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  warden::auth::CheckBody body;
  const std::optional<warden::auth::BadRequest> bad =
      warden::auth::ParseCheckBody(text, kComputed, *parser, &body);
  warden::auth::CheckBody again;
  const std::optional<warden::auth::BadRequest> bad_again =
      warden::auth::ParseCheckBody(text, kComputed, *parser, &again);
  Require(bad.has_value() == bad_again.has_value());
  if (bad) {
    Require(bad->code == bad_again->code && bad->message == bad_again->message);
    Require(bad->code == "bad_request" || bad->code == "malformed_json" ||
            bad->code == "ambiguous_credentials");
    return 0;
  }
  Require(!again.action_name.empty() && !again.resource.empty() && !again.resource_type.empty());
  Require(again.token.empty() || again.api_key.empty());
  Require(Inside(again.resource, parser->padded));  // raw; strings are unescaped elsewhere
  Require(again.context_rest.empty() || Inside(again.context_rest, parser->context_rest));

  nlohmann::json json;
  if (!warden::ParseStrictJson(text, {.max_depth = 1 << 20}, &json, nullptr)) return 0;
  Require(json.is_object());
  Require(json.contains("token") + json.contains("api_key") + json.contains("authorization") <= 1);
  Require(json["action"].is_string() && json["action"].get<std::string>() == again.action_name);
  Require(json["resource"]["type"].is_string() &&
          json["resource"]["type"].get<std::string>() == again.resource_type);
  return 0;
}
