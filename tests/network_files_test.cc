// The IP lists and GeoIP databases as the signals read them: loaded whole,
// reloaded when a file changes, and a bad update keeps what is in use.
#include <doctest/doctest.h>

#include <filesystem>
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

// Issue 12, findings 2 and 7: a GeoIP database damaged in place while in use
// keeps serving from its private copy; the damaged update is refused once,
// reported with its path, and retried only when the file changes again.
TEST_CASE("a damaged GeoIP update is refused and reported once; the last good one serves") {
  const std::string data = WARDEN_SOURCE_DIR "/../shared/data/geoip/GeoLite2-City-Test.mmdb";
  REQUIRE(std::filesystem::exists(data));
  warden::testing::TempDir dir;
  const std::string path = dir / "city.mmdb";
  std::filesystem::copy_file(data, path);
  AuthConfig config;
  config.geoip_city = path;
  SourceReports reports;
  NetworkFiles files(config, &reports);
  REQUIRE(files.Reload(/*initial=*/true).ok());
  auto london = [&] {
    bc::IpNet ip;
    REQUIRE(ParseIpAddress("81.2.69.142", &ip));
    absl::StatusOr<std::optional<GeoLocation>> found = files.Current()->geo_city->LookupCity(ip);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->city == "London");
  };
  london();
  std::filesystem::resize_file(path, 0);  // truncated in place
  london();
  CHECK_FALSE(files.Reload(/*initial=*/false).ok());
  CHECK_FALSE(files.Reload(/*initial=*/false).ok());  // the same version: not counted again
  london();
  warden::testing::WriteFile(path, std::string(5000, 'z'));  // garbage: a second refusal
  CHECK_FALSE(files.Reload(/*initial=*/false).ok());
  london();
  CHECK(reports.RefusedBySource()[static_cast<size_t>(UpdateSource::kGeoip)] == 2);
  std::vector<SourceEvent> events = reports.TakeEvents();
  REQUIRE(events.size() == 2);
  CHECK(events[0].path == path);
  CHECK(warden::testing::Contains(events[1].error, path));
  std::vector<SourceStatus> status = reports.Snapshot();
  REQUIRE(status.size() == 1);
  CHECK(status[0].refused == 2);
  CHECK(status[0].last_ok.has_value());
  CHECK_FALSE(status[0].last_error.empty());
  // A good file again: loaded, the error cleared.
  std::filesystem::remove(path);
  std::filesystem::copy_file(data, path);
  CHECK(files.Reload(/*initial=*/false).ok());
  CHECK(reports.Snapshot()[0].last_error.empty());
  london();
}

}  // namespace
}  // namespace warden::auth
