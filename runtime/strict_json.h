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
#include <vector>

#include "absl/container/flat_hash_set.h"
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

// The keys of one object, for readers that walk objects themselves (the
// simdjson readers of /v1/check bodies and batches). Linear while small, then
// hashed, so an object of 100,000 keys costs no more than its size. The views
// must outlive the set (simdjson keeps unescaped keys for the document).
class ObjectKeys {
 public:
  // False when `key` was added before.
  bool Add(std::string_view key) {
    if (set_.empty() && small_.size() < kLinear) {
      for (std::string_view seen : small_) {
        if (seen == key) return false;
      }
      small_.push_back(key);
      return true;
    }
    if (set_.empty()) set_.insert(small_.begin(), small_.end());
    return set_.insert(key).second;
  }

 private:
  static constexpr size_t kLinear = 16;
  std::vector<std::string_view> small_;
  absl::flat_hash_set<std::string_view> set_;
};

}  // namespace warden

#endif  // WARDEN_RUNTIME_STRICT_JSON_H_
