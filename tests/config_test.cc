// The server configuration reader (runtime/server/config.cc).
#include "runtime/server/config.h"

#include <doctest/doctest.h>

#include <string>

namespace warden::server {
namespace {

// Issue 12, finding 8: a second "audit" object silently replaced the first,
// and the server ran with no audit log.
TEST_CASE("a duplicated key anywhere in the config is an error naming it") {
  const std::string base = R"({"socket": {"path": "/tmp/w.sock"}, "policies": "p.warden",)";
  absl::StatusOr<ServerConfig> config =
      ParseServerConfig(base + "\n \"audit\": {\"path\": \"/tmp/a.log\"},\n \"audit\": {}}");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message() == "config: duplicate key `audit` (line 3)");
  config = ParseServerConfig(base + R"( "limits": {"max_batch": 3, "max_batch": 4}})");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message() == "config: duplicate key `limits.max_batch` (line 1)");
  CHECK(ParseServerConfig(base + R"( "audit": {"path": "/tmp/a.log"}})").ok());
}

}  // namespace
}  // namespace warden::server
