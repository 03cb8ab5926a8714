// Stage 1 of /v1/check: parse the body (docs/authentication.md, "The
// check"). Validates its shape and keeps views into the body; reads no
// credential and no state.
#ifndef WARDEN_RUNTIME_AUTH_CHECK_CHECK_BODY_H_
#define WARDEN_RUNTIME_AUTH_CHECK_CHECK_BODY_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "runtime/bytecode/program.h"

namespace warden::auth {

// The parsed body: views into BodyParser::padded.
struct CheckBody {
  std::string_view token;    // a JWT, or ""
  std::string_view api_key;  // a Warden API key, or ""
  std::string_view action_name;
  std::string_view resource;  // raw JSON object
  std::string_view resource_type;
  std::optional<std::string_view> ip;  // context.ip, a valid address
  bc::IpNet ip_net{};                  // its value
  std::optional<std::string_view> device_id;
  // The caller's other context members, raw: "name":value,…
  std::string_view context_rest;
};

// A body refused with 400: a stable code ("malformed_json", "bad_request",
// "ambiguous_credentials") and a message.
struct BadRequest {
  std::string_view code;
  std::string message;
};

// Per-thread scratch memory, reused across checks.
struct BodyParser {
  simdjson::ondemand::parser parser;
  std::string padded;        // the body, padded for simdjson
  std::string context_rest;  // CheckBody::context_rest's storage
};

// Parses `body` into *out. `computed_keys`: the context members Warden
// computes, which a check may not send.
std::optional<BadRequest> ParseCheckBody(std::string_view body,
                                         std::span<const std::string_view> computed_keys,
                                         BodyParser& parser, CheckBody* out);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_CHECK_BODY_H_
