// What the JSON request decoder reports (RequestError and its stable codes)
// and its limits (DecoderOptions): part of the embedding API, apart from the
// decoder itself.
#ifndef WARDEN_RUNTIME_REQUEST_ERRORS_H_
#define WARDEN_RUNTIME_REQUEST_ERRORS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace warden::rt {

// Stable codes. Each belongs to one of the request-error codes of
// docs/decisions.md (RequestErrorCategory): the fatal ones are `bad_request`
// (the request is not evaluated: deny).
enum class RequestErrorCode : uint8_t {
  kMalformedJson,        // not JSON (syntax, invalid UTF-8, a control character in a string)
  kTooLarge,             // more than max_bytes
  kTooDeep,              // objects and arrays nested deeper than max_depth
  kTooManyElements,      // an array of more than max_set_elements
  kDuplicateKey,         // an object gives a key twice
  kBadNumber,            // out of the 64-bit range, an exponent, more than 4 fractional digits
  kNotAnObject,          // the request (or `resource`) is not a JSON object
  kMissingAction,        // no `action`, or not a string
  kMissingResourceType,  // no `resource`, or no `resource.type` string
  kBadJit,               // `jit` is not an array
  kBadLimits,            // `limits` is not an object, or a count is not a non-negative integer
  kWrongType,            // a value does not fit its declared type
  kUnknownAttribute,     // an attribute or request part the schema does not declare
  kUnknownJitProfile,    // a `jit` entry that is not a declared profile
  kUnknownLimit,         // a `limits` key that is not a declared limit
};
// "malformed_json", "too_large", … (stable, for logs and tests).
const char* RequestErrorCodeName(RequestErrorCode code);
// The code of docs/decisions.md: "bad_request", "wrong_type",
// "unknown_attribute", "unknown_jit_profile", "unknown_limit".
const char* RequestErrorCategory(RequestErrorCode code);
// A fatal error: the request cannot be evaluated (in any mode).
bool IsFatal(RequestErrorCode code);

struct RequestError {
  RequestErrorCode code = RequestErrorCode::kMalformedJson;
  std::string json_path;  // "subject.auth.mfa", "resource.tags[2]", "" for the whole request
  std::string message;
};

struct DecoderOptions {
  static constexpr size_t kDefaultMaxBytes = size_t{1} << 20;
  static constexpr int kDefaultMaxDepth = 32;
  static constexpr size_t kDefaultMaxSetElements = 10000;
  size_t max_bytes = kDefaultMaxBytes;               // JSON text size
  int max_depth = kDefaultMaxDepth;                  // nesting of JSON objects and arrays
  size_t max_set_elements = kDefaultMaxSetElements;  // per array
  // Unknown attributes, JIT profiles and limits and wrongly typed values are
  // errors; else (lenient, the default for live requests) unknown attributes
  // are ignored, and unknown JIT profiles or limits and wrongly typed values
  // (treated as absent) are reported in errors().
  bool strict = false;
  // context.time's default (ms since the epoch); unset: the clock at decode.
  std::optional<int64_t> now_millis;
};

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_REQUEST_ERRORS_H_
