// Impossible travel: great-circle distances, the speed threshold, the jitter
// threshold, zero and negative elapsed time, and the LastSignIns table
// (newest wins, bounds, persistence, garbage rows, threads).
#include "runtime/auth/signals/travel.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace warden::auth {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr double kLondonLat = 51.5142, kLondonLon = -0.0931;
constexpr double kParisLat = 48.8566, kParisLon = 2.3522;
constexpr double kTokyoLat = 35.6854, kTokyoLon = 139.7531;

LastSignIn London(absl::Time time) { return LastSignIn{time, kLondonLat, kLondonLon, "GB"}; }

TEST_CASE("HaversineKm") {
  CHECK(HaversineKm(kLondonLat, kLondonLon, kLondonLat, kLondonLon) == 0);
  CHECK(HaversineKm(kLondonLat, kLondonLon, kParisLat, kParisLon) ==
        doctest::Approx(344).epsilon(0.01));
  CHECK(HaversineKm(kLondonLat, kLondonLon, kTokyoLat, kTokyoLon) ==
        doctest::Approx(9560).epsilon(0.01));
  // Symmetric; across the antimeridian; antipodes are half the circumference.
  CHECK(HaversineKm(kParisLat, kParisLon, kLondonLat, kLondonLon) ==
        doctest::Approx(HaversineKm(kLondonLat, kLondonLon, kParisLat, kParisLon)));
  CHECK(HaversineKm(0, 179.5, 0, -179.5) == doctest::Approx(111.2).epsilon(0.01));
  CHECK(HaversineKm(0, 0, 0, 180) == doctest::Approx(M_PI * 6371.0088));
  CHECK(HaversineKm(90, 0, -90, 0) == doctest::Approx(M_PI * 6371.0088));
  CHECK(std::isnan(HaversineKm(NAN, 0, 0, 0)));
}

TEST_CASE("CheckTravel: plausible and impossible speeds") {
  LastSignIn last = London(kT0);
  // London → Tokyo (~9560 km) in 12 h: ~797 km/h, an airliner: fine.
  TravelCheck check = CheckTravel(last, kT0 + absl::Hours(12), kTokyoLat, kTokyoLon, 1000, 100);
  CHECK_FALSE(check.impossible);
  CHECK(check.speed_kmh == doctest::Approx(797).epsilon(0.01));
  // In 2 h: ~4780 km/h.
  check = CheckTravel(last, kT0 + absl::Hours(2), kTokyoLat, kTokyoLon, 1000, 100);
  CHECK(check.impossible);
  CHECK(check.speed_kmh == doctest::Approx(4780).epsilon(0.01));
  // Just under the limit, and just over it.
  double km = HaversineKm(kLondonLat, kLondonLon, kTokyoLat, kTokyoLon);
  check = CheckTravel(last, kT0 + absl::Seconds(km / 1000 * 3600) + absl::Seconds(60), kTokyoLat,
                      kTokyoLon, 1000, 100);
  CHECK_FALSE(check.impossible);
  check = CheckTravel(last, kT0 + absl::Seconds(km / 1000 * 3600) - absl::Seconds(60), kTokyoLat,
                      kTokyoLon, 1000, 100);
  CHECK(check.impossible);
}

TEST_CASE("CheckTravel: below the minimum distance is never suspicious") {
  LastSignIn last = London(kT0);
  // London → Paris (~344 km) one second later, with a 500 km jitter floor.
  TravelCheck check = CheckTravel(last, kT0 + absl::Seconds(1), kParisLat, kParisLon, 1000, 500);
  CHECK_FALSE(check.impossible);
  CHECK(check.speed_kmh == 0);
  // Same place, same instant.
  check = CheckTravel(last, kT0, kLondonLat, kLondonLon, 1000, 100);
  CHECK_FALSE(check.impossible);
  CHECK(check.speed_kmh == 0);
  // With a 100 km floor, Paris a second later is impossible.
  check = CheckTravel(last, kT0 + absl::Seconds(1), kParisLat, kParisLon, 1000, 100);
  CHECK(check.impossible);
  CHECK(check.speed_kmh > 1'000'000);
}

TEST_CASE("CheckTravel: zero and negative elapsed time") {
  LastSignIn last = London(kT0);
  TravelCheck check = CheckTravel(last, kT0, kTokyoLat, kTokyoLon, 1000, 100);
  CHECK(check.impossible);
  CHECK(check.speed_kmh == std::numeric_limits<int64_t>::max());
  // Even with an absurd speed limit.
  check = CheckTravel(last, kT0, kTokyoLat, kTokyoLon, 1e300, 100);
  CHECK(check.impossible);
  // A nanosecond: a finite speed that still fits.
  check = CheckTravel(last, kT0 + absl::Nanoseconds(1), kTokyoLat, kTokyoLon, 1000, 100);
  CHECK(check.impossible);
  CHECK(check.speed_kmh > 0);
  // Clock skew: `now` before the last sign-in uses the absolute difference.
  check = CheckTravel(last, kT0 - absl::Hours(12), kTokyoLat, kTokyoLon, 1000, 100);
  CHECK_FALSE(check.impossible);
  CHECK(check.speed_kmh == doctest::Approx(797).epsilon(0.01));
  check = CheckTravel(last, kT0 - absl::Minutes(5), kTokyoLat, kTokyoLon, 1000, 100);
  CHECK(check.impossible);
  // Infinite times do not crash either.
  check = CheckTravel(last, absl::InfiniteFuture(), kTokyoLat, kTokyoLon, 1000, 100);
  CHECK_FALSE(check.impossible);
}

TEST_CASE("CheckTravel: bad coordinates are not evidence") {
  LastSignIn last = London(kT0);
  CHECK_FALSE(CheckTravel(last, kT0, NAN, 0, 1000, 100).impossible);
  CHECK_FALSE(CheckTravel(last, kT0, 0, INFINITY, 1000, 100).impossible);
  CHECK_FALSE(CheckTravel(last, kT0, 91, 0, 1000, 100).impossible);
  CHECK_FALSE(CheckTravel(last, kT0, 0, -181, 1000, 100).impossible);
  LastSignIn broken{kT0, NAN, 0, ""};
  CHECK(CheckTravel(broken, kT0, kTokyoLat, kTokyoLon, 1000, 100).speed_kmh == 0);
}

TEST_CASE("LastSignIns: record, newest wins, forget") {
  LastSignIns table(100);
  CHECK_FALSE(table.Get("alice").has_value());
  table.Record("alice", London(kT0));
  REQUIRE(table.Get("alice").has_value());
  CHECK(*table.Get("alice") == London(kT0));
  table.Record("alice", LastSignIn{kT0 + absl::Hours(1), kTokyoLat, kTokyoLon, "JP"});
  CHECK(table.Get("alice")->country == "JP");
  // An older sign-in finishing late does not replace a newer one.
  table.Record("alice", London(kT0 + absl::Minutes(30)));
  CHECK(table.Get("alice")->country == "JP");
  // Bad coordinates are not recorded; a bad country is dropped.
  table.Record("bob", LastSignIn{kT0, NAN, 0, "GB"});
  CHECK_FALSE(table.Get("bob").has_value());
  table.Record("bob", LastSignIn{kT0, 1, 2, "G|B"});
  REQUIRE(table.Get("bob").has_value());
  CHECK(table.Get("bob")->country.empty());
  table.Forget("alice");
  CHECK_FALSE(table.Get("alice").has_value());
  CHECK(table.size() == 1);
}

TEST_CASE("LastSignIns: bounded, least recently updated evicted") {
  LastSignIns table(4);
  for (int i = 0; i < 100; ++i) table.Record("user" + std::to_string(i), London(kT0));
  CHECK(table.size() <= 4);
  CHECK(table.Get("user99").has_value());
  CHECK_FALSE(table.Get("user0").has_value());
}

TEST_CASE("LastSignIns: persistence round trip, deletions, garbage") {
  LastSignIns table(100);
  table.Record("alice", LastSignIn{kT0 + absl::Microseconds(123), -33.8688, 151.2093, "AU"});
  table.Record("bob", London(kT0));
  table.Record("zoë|x", London(kT0));  // keys are opaque
  StateRows rows = table.TakeDirty();
  CHECK(rows.size() == 3);
  CHECK(table.TakeDirty().empty());  // nothing changed since

  LastSignIns fresh(100);
  for (const StateRow& row : rows) {
    CHECK(row.value.rfind("1|", 0) == 0);
    fresh.Import(row.key, row.value);
  }
  CHECK(fresh.rejected_rows() == 0);
  CHECK(*fresh.Get("alice") == *table.Get("alice"));
  CHECK(*fresh.Get("bob") == London(kT0));
  CHECK(fresh.Get("zoë|x").has_value());
  CHECK(fresh.TakeDirty().empty());  // imported rows are not dirty

  table.Forget("bob");
  rows = table.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].key == "bob");
  CHECK(rows[0].value.empty());

  for (const char* garbage :
       {"", "1", "2|0|0|0|GB", "1|x|0|0|GB", "1|0|91|0|GB", "1|0|0|0|G|B", "1|0|nan|0|GB",
        "1|0|0|0", "1|0|0|0|GB|extra", "1| 5|0|0|GB", "1|0|1e999|0|GB", "\xff\xfe"}) {
    fresh.Import("carol", garbage);
  }
  CHECK(fresh.rejected_rows() == 12);
  CHECK_FALSE(fresh.Get("carol").has_value());
  fresh.Import("", LastSignIns::Encode(London(kT0)));
  CHECK(fresh.rejected_rows() == 13);

  // Snapshot holds every live row.
  CHECK(table.Snapshot().size() == 2);
}

TEST_CASE("LastSignIns: eviction is persisted as a deletion") {
  LastSignIns table(1);
  table.Record("a", London(kT0));
  (void)table.TakeDirty();
  table.Record("c", London(kT0));  // evicts "a"
  StateRows rows = table.TakeDirty();
  REQUIRE(rows.size() == 2);
  bool deleted_a = false, wrote_c = false;
  for (const StateRow& row : rows) {
    if (row.key == "a" && row.value.empty()) deleted_a = true;
    if (row.key == "c" && !row.value.empty()) wrote_c = true;
  }
  CHECK(deleted_a);
  CHECK(wrote_c);
}

TEST_CASE("LastSignIns: threads") {
  LastSignIns table(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string subject = "u" + std::to_string((i * 7 + t) % 1500);
        table.Record(subject, LastSignIn{kT0 + absl::Seconds(i), 10, 20, "DE"});
        (void)table.Get(subject);
        if (i % 100 == 0) (void)table.TakeDirty();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(table.size() <= 1000);
  CHECK(table.size() > 0);
}

}  // namespace
}  // namespace warden::auth
