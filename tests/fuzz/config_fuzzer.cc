// libFuzzer target: the server configuration reader (runtime/server/config.h)
// and the strict JSON reader under it (runtime/strict_json.h).
//
// Oracles: no crash or sanitizer report; ParseStrictJson agrees with
// nlohmann's own parser on every text it accepts (same value) and refuses
// every text nlohmann refuses; an accepted document has no duplicate key (its
// dump has as many keys as the text: re-reading the dump gives the same
// value); a config that parses parses again to the same result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "nlohmann/json.hpp"
#include "runtime/server/config.h"
#include "runtime/strict_json.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  nlohmann::json strict;
  warden::StrictJsonError error;
  const bool ok =
      warden::ParseStrictJson(text, {.max_depth = 64, .ignore_comments = true}, &strict, &error);
  const nlohmann::json plain = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false,
                                                     /*ignore_comments=*/true);
  if (plain.is_discarded()) Require(!ok && error.kind == warden::StrictJsonError::Kind::kSyntax);
  if (ok) {
    Require(error.kind == warden::StrictJsonError::Kind::kNone);
    Require(strict == plain);
    nlohmann::json again;
    Require(warden::ParseStrictJson(strict.dump(), {.max_depth = 64}, &again, nullptr));
    Require(again == strict);
  } else {
    Require(strict.is_null() && !error.message.empty());
    if (error.kind == warden::StrictJsonError::Kind::kDuplicateKey)
      Require(!error.path.empty() && error.line >= 1);
  }

  const absl::StatusOr<warden::server::ServerConfig> config =
      warden::server::ParseServerConfig(text);
  const absl::StatusOr<warden::server::ServerConfig> twice =
      warden::server::ParseServerConfig(text);
  Require(config.ok() == twice.ok());
  if (!config.ok()) Require(config.status() == twice.status());
  // A config with a duplicated key is never accepted.
  if (error.kind == warden::StrictJsonError::Kind::kDuplicateKey) Require(!config.ok());
  return 0;
}
