// GeoIP lookups on MaxMind's test databases (../shared/data/geoip, see its
// README): hits, misses, IPv6, IPv4-mapped IPv6, the anonymous-IP flags, and
// clear errors for missing, non-MaxMind and corrupt databases.
#include "runtime/auth/signals/geoip.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "runtime/auth/signals/ip_list.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

const std::string kDir = WARDEN_SOURCE_DIR "/../shared/data/geoip";

// The databases are part of the test, not optional: without them most cases
// would pass having checked nothing, so a missing folder fails every case.
void RequireData() {
  REQUIRE_MESSAGE(std::filesystem::exists(kDir + "/GeoLite2-City-Test.mmdb"),
                  "no MaxMind test databases in " << kDir << " (see its README)");
}

bc::IpNet Ip(const std::string& text) {
  bc::IpNet ip;
  REQUIRE_MESSAGE(ParseIpAddress(text, &ip), text);
  return ip;
}

std::unique_ptr<GeoIpDatabase> MustOpen(const std::string& name) {
  absl::StatusOr<std::unique_ptr<GeoIpDatabase>> db = GeoIpDatabase::Open(kDir + "/" + name);
  REQUIRE_MESSAGE(db.ok(), db.status().ToString());
  return *std::move(db);
}

TEST_CASE("City: hits in IPv4 and IPv6") {
  RequireData();
  auto db = MustOpen("GeoLite2-City-Test.mmdb");
  CHECK(db->database_type() == "GeoLite2-City");

  absl::StatusOr<std::optional<GeoLocation>> found = db->LookupCity(Ip("81.2.69.142"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  const GeoLocation& london = **found;
  CHECK(london.country == "GB");
  CHECK(london.city == "London");
  REQUIRE(london.latitude.has_value());
  REQUIRE(london.longitude.has_value());
  CHECK(*london.latitude == doctest::Approx(51.5142));
  CHECK(*london.longitude == doctest::Approx(-0.0931));
  CHECK(london.time_zone == "Europe/London");
  CHECK(london.accuracy_radius_km.has_value());

  found = db->LookupCity(Ip("2001:218::1"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->country == "JP");
  CHECK((*found)->latitude.has_value());

  // IPv4-mapped IPv6 is the IPv4 address.
  found = db->LookupCity(Ip("::ffff:81.2.69.142"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->city == "London");

  // The prefix of a network is ignored: its address is looked up.
  std::optional<bc::IpNet> network = ParseIpNet("81.2.69.142/31");
  REQUIRE(network.has_value());
  found = db->LookupCity(*network);
  REQUIRE(found.ok());
  CHECK(found->has_value());
}

TEST_CASE("City: misses are nullopt, not errors") {
  RequireData();
  auto db = MustOpen("GeoLite2-City-Test.mmdb");
  for (const char* address : {"1.1.1.1", "10.0.0.1", "::1", "2001:db8::1", "0.0.0.0"}) {
    absl::StatusOr<std::optional<GeoLocation>> found = db->LookupCity(Ip(address));
    REQUIRE_MESSAGE(found.ok(), address);
    CHECK_FALSE_MESSAGE(found->has_value(), address);
  }
}

TEST_CASE("Country database: country only") {
  RequireData();
  auto db = MustOpen("GeoLite2-Country-Test.mmdb");
  absl::StatusOr<std::optional<GeoLocation>> found = db->LookupCity(Ip("81.2.69.142"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->country == "GB");
  CHECK((*found)->city.empty());
  CHECK_FALSE((*found)->latitude.has_value());
}

TEST_CASE("Anonymous IP flags") {
  RequireData();
  auto db = MustOpen("GeoIP2-Anonymous-IP-Test.mmdb");
  CHECK(db->database_type() == "GeoIP2-Anonymous-IP");

  absl::StatusOr<std::optional<AnonymousIp>> found = db->LookupAnonymous(Ip("81.2.69.1"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->anonymous);
  CHECK((*found)->vpn);
  CHECK((*found)->hosting);
  CHECK((*found)->tor);
  CHECK((*found)->residential_proxy);
  CHECK((*found)->public_proxy);

  found = db->LookupAnonymous(Ip("1.2.0.1"));  // ::1.2.0.0/112: anonymous VPN only
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->anonymous);
  CHECK((*found)->vpn);
  CHECK_FALSE((*found)->tor);
  CHECK_FALSE((*found)->hosting);
  CHECK_FALSE((*found)->residential_proxy);

  found = db->LookupAnonymous(Ip("1.124.213.1"));  // Tor exit
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->tor);

  found = db->LookupAnonymous(Ip("71.160.223.7"));  // hosting
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->hosting);
  CHECK_FALSE((*found)->vpn);

  found = db->LookupAnonymous(Ip("6.1.0.4"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->residential_proxy);
  CHECK_FALSE((*found)->tor);

  found = db->LookupAnonymous(Ip("2001:480:3a::1"));  // IPv6, public proxy
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->public_proxy);
  CHECK_FALSE((*found)->tor);

  found = db->LookupAnonymous(Ip("::ffff:1.124.213.1"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->tor);

  // Addresses not in the list: nothing suspicious.
  for (const char* address : {"8.8.8.8", "2001:db8::1", "192.0.2.1"}) {
    found = db->LookupAnonymous(Ip(address));
    REQUIRE_MESSAGE(found.ok(), address);
    if (found->has_value()) {
      CHECK_FALSE((*found)->anonymous);
      CHECK_FALSE((*found)->tor);
    }
  }
}

TEST_CASE("a City lookup on an Anonymous-IP database finds no location") {
  RequireData();
  auto db = MustOpen("GeoIP2-Anonymous-IP-Test.mmdb");
  absl::StatusOr<std::optional<GeoLocation>> found = db->LookupCity(Ip("81.2.69.1"));
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->country.empty());
  CHECK_FALSE((*found)->latitude.has_value());
}

TEST_CASE("corrupt database: a lookup gives an error status, never a crash") {
  RequireData();
  // The file opens (its metadata is fine); the records' data is malformed
  // (London's location.latitude double, Korea's city name), which
  // libmaxminddb reports as MMDB_INVALID_DATA_ERROR. MMDB_get_value on
  // country.iso_code still succeeds, so a lookup must read every field.
  auto db = MustOpen("GeoIP2-City-Test-Broken-Double-Format.mmdb");
  for (const char* address : {"81.2.69.142", "2.125.160.216", "89.160.20.112", "2001:220::1"}) {
    absl::StatusOr<std::optional<GeoLocation>> found = db->LookupCity(Ip(address));
    REQUIRE_FALSE_MESSAGE(found.ok(), address);
    CHECK(found.status().code() == absl::StatusCode::kDataLoss);
    std::string message(found.status().message());
    CHECK(testing::Contains(message, "GeoIP2-City-Test-Broken-Double-Format.mmdb"));
    CHECK(testing::Contains(message, address));
    CHECK(testing::Contains(message, "bad data"));
  }
  // Which field is broken depends on the record; London's is its latitude.
  absl::StatusOr<std::optional<GeoLocation>> london = db->LookupCity(Ip("81.2.69.142"));
  REQUIRE_FALSE(london.ok());
  CHECK(testing::Contains(std::string(london.status().message()), "location.latitude"));
  // A City lookup is an error; the Anonymous lookup reads no double and works.
  absl::StatusOr<std::optional<AnonymousIp>> flags = db->LookupAnonymous(Ip("81.2.69.142"));
  CHECK(flags.ok());
  // A miss in a corrupt database is still just a miss.
  absl::StatusOr<std::optional<GeoLocation>> miss = db->LookupCity(Ip("10.0.0.1"));
  REQUIRE(miss.ok());
  CHECK_FALSE(miss->has_value());
}

TEST_CASE("opening what is not a MaxMind database fails cleanly") {
  absl::StatusOr<std::unique_ptr<GeoIpDatabase>> db =
      GeoIpDatabase::Open("/nonexistent/dir/GeoLite2-City.mmdb");
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().code() == absl::StatusCode::kNotFound);
  CHECK(testing::Contains(std::string(db.status().message()), "/nonexistent/dir"));

  testing::TempDir dir;
  for (const std::string& content :
       {std::string(), std::string("not a database\n"), std::string(4096, '\0'),
        std::string("\xab\xcd\xefMaxMind.com") + std::string(100, '\xff')}) {
    std::string path = dir.path() + "/fake.mmdb";
    testing::WriteFile(path, content);
    db = GeoIpDatabase::Open(path);
    REQUIRE_FALSE(db.ok());
    CHECK(testing::Contains(std::string(db.status().message()), "fake.mmdb"));
  }

  db = GeoIpDatabase::Open(dir.path());  // a directory
  CHECK_FALSE(db.ok());
}

TEST_CASE("a truncated database: open fails or lookups fail, never a crash") {
  RequireData();
  std::string bytes = testing::ReadFile(kDir + "/GeoLite2-City-Test.mmdb");
  testing::TempDir dir;
  for (size_t keep : {bytes.size() / 2, bytes.size() - 100, size_t{2000}}) {
    std::string path = dir.path() + "/cut.mmdb";
    // The metadata is at the end: cutting the head keeps it but breaks the tree.
    testing::WriteFile(path, bytes.substr(bytes.size() - keep));
    absl::StatusOr<std::unique_ptr<GeoIpDatabase>> db = GeoIpDatabase::Open(path);
    if (!db.ok()) continue;
    for (const char* address : {"81.2.69.142", "2001:218::1", "1.1.1.1", "::1"}) {
      (void)(*db)->LookupCity(Ip(address));  // any status, no crash
      (void)(*db)->LookupAnonymous(Ip(address));
    }
  }
}

// Issue 12, finding 2: the database used to be the operator's file, mapped;
// truncating it in place made the next lookup SIGBUS.
TEST_CASE("a database truncated or overwritten in place keeps answering from its copy") {
  RequireData();
  testing::TempDir dir;
  const std::string path = dir.path() + "/city.mmdb";
  std::filesystem::copy_file(kDir + "/GeoLite2-City-Test.mmdb", path);
  absl::StatusOr<std::unique_ptr<GeoIpDatabase>> opened = GeoIpDatabase::Open(path);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  std::unique_ptr<GeoIpDatabase> db = *std::move(opened);
  auto london = [&] {
    absl::StatusOr<std::optional<GeoLocation>> found = db->LookupCity(Ip("81.2.69.142"));
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->city == "London");
  };
  london();
  std::filesystem::resize_file(path, 0);  // `: > city.mmdb`
  london();
  testing::WriteFile(path, std::string(1 << 16, '\x5a'));  // rewritten with garbage
  london();
  // Reopening the damaged file is refused; the open database is untouched.
  CHECK_FALSE(GeoIpDatabase::Open(path).ok());
  london();
  CHECK(db->path() == path);
}

}  // namespace
}  // namespace warden::auth
