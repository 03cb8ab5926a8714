// The IP lists and GeoIP databases as the signals read them: loaded whole,
// reloaded when a file changes, and a bad update keeps what is in use.
#include <doctest/doctest.h>

#include <string>

#include "runtime/auth/signals/network_files.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

bool Listed(const NetworkFiles& files, const char* address) {
  bc::IpNet ip;
  REQUIRE(ParseIpAddress(address, &ip));
  const std::shared_ptr<const NetworkSnapshot> snapshot = files.Current();
  REQUIRE(snapshot != nullptr);
  REQUIRE(snapshot->ip_lists.size() == 1);
  return snapshot->ip_lists[0].second->Contains(ip);
}

TEST_CASE("a list loads at start-up; a change is picked up; a bad change keeps the old list") {
  warden::testing::TempDir dir;
  AuthConfig config;
  config.ip_lists = {IpListSettings{"blocked", dir.Write("blocked.txt", "203.0.113.0/24\n")}};
  NetworkFiles files(config);
  REQUIRE(files.Reload(/*initial=*/true).ok());
  CHECK(files.Current()->ip_lists[0].first == "blocked");
  CHECK(Listed(files, "203.0.113.9"));
  CHECK(files.Current()->geo_city == nullptr);

  // A snapshot taken before a reload stays as it was.
  const std::shared_ptr<const NetworkSnapshot> before = files.Current();
  dir.Write("blocked.txt", "198.51.100.0/24\n# a longer file: a new stamp\n");
  REQUIRE(files.Reload(/*initial=*/false).ok());
  CHECK(Listed(files, "198.51.100.9"));
  CHECK_FALSE(Listed(files, "203.0.113.9"));
  bc::IpNet old_address;
  REQUIRE(ParseIpAddress("203.0.113.9", &old_address));
  CHECK(before->ip_lists[0].second->Contains(old_address));

  dir.Write("blocked.txt", "not a network\n");
  CHECK_FALSE(files.Reload(/*initial=*/false).ok());
  CHECK(Listed(files, "198.51.100.9"));
}

TEST_CASE("at start-up a missing file is an error") {
  warden::testing::TempDir dir;
  AuthConfig config;
  config.ip_lists = {IpListSettings{"blocked", dir / "missing.txt"}};
  NetworkFiles files(config);
  CHECK_FALSE(files.Reload(/*initial=*/true).ok());
  CHECK(files.Current() == nullptr);
  AuthConfig no_geo;
  no_geo.geoip_city = dir / "missing.mmdb";
  NetworkFiles geo(no_geo);
  CHECK_FALSE(geo.Reload(/*initial=*/true).ok());
}

}  // namespace
}  // namespace warden::auth
