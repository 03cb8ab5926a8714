// Strict JSON for every document Warden reads with nlohmann (the server
// config, JWKS and token parts, AuthZEN bodies): nlohmann's parser plus a
// refusal of duplicate object keys and of deep nesting. nlohmann keeps the
// last of two equal keys, so two readers of one text (or an operator and the
// server) could disagree on what it says; a duplicate is an error naming the
// key's path and line.
#ifndef WARDEN_RUNTIME_STRICT_JSON_H_
#define WARDEN_RUNTIME_STRICT_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace warden {

struct StrictJsonOptions {
  int max_depth = 64;            // objects and arrays nested deeper are refused
  bool ignore_comments = false;  // the config allows /* */ and // comments
};

struct StrictJsonError {
  enum class Kind { kNone, kSyntax, kTooDeep, kDuplicateKey };
  Kind kind = Kind::kNone;
  std::string path;     // kDuplicateKey: the key's path, `audit` or `auth.issuers[0].jwks`
  size_t line = 0;      // kDuplicateKey: 1-based line of the second occurrence
  std::string message;  // "duplicate key `audit` (line 7)", "not valid JSON", …
};

// Parses `text` into *out (a null json on failure). Never throws.
bool ParseStrictJson(std::string_view text, const StrictJsonOptions& options, nlohmann::json* out,
                     StrictJsonError* error);

}  // namespace warden

#endif  // WARDEN_RUNTIME_STRICT_JSON_H_
