// Known devices: known/new, hashing (never raw ids), the per-subject bound
// with least-recently-seen eviction, the subject bound, persistence, garbage
// rows and threads.
#include "runtime/auth/signals/devices.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

namespace warden::auth {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST_CASE("new, then known; per subject") {
  KnownDevices devices(100, 20);
  CHECK_FALSE(devices.Known("alice", "laptop-1"));
  CHECK_FALSE(devices.HasAny("alice"));
  devices.Remember("alice", "laptop-1", kT0);
  CHECK(devices.Known("alice", "laptop-1"));
  CHECK(devices.HasAny("alice"));
  CHECK_FALSE(devices.HasAny("bob"));
  CHECK_FALSE(devices.Known("alice", "laptop-2"));
  CHECK_FALSE(devices.Known("bob", "laptop-1"));
  CHECK_FALSE(devices.Known("alice", ""));
  devices.Remember("alice", "", kT0);  // ignored
  CHECK(devices.Devices("alice").size() == 1);
  devices.Forget("alice");
  CHECK_FALSE(devices.Known("alice", "laptop-1"));
  CHECK_FALSE(devices.HasAny("alice"));
}

TEST_CASE("device ids are stored hashed") {
  KnownDevices devices(100, 20);
  const std::string raw = "fp:Mozilla/5.0 secret-fingerprint";
  devices.Remember("alice", raw, kT0);
  std::string hash = devices.DeviceHash(raw);
  CHECK(hash.size() == 32);
  CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  // SHA-256("abc") begins ba7816bf8f01cfea414140de5dae2223.
  CHECK(devices.DeviceHash("abc") == "ba7816bf8f01cfea414140de5dae2223");
  StateRows rows = devices.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].value.find("secret") == std::string::npos);
  CHECK(rows[0].value.find(hash) != std::string::npos);
  CHECK(devices.Devices("alice")[0].hash == hash);

  // A keyed hash differs from the plain one and between keys.
  KnownDevices keyed(100, 20, "pepper");
  CHECK(keyed.DeviceHash("abc") != devices.DeviceHash("abc"));
  CHECK(keyed.DeviceHash("abc") != KnownDevices(100, 20, "other").DeviceHash("abc"));
  keyed.Remember("alice", "abc", kT0);
  CHECK(keyed.Known("alice", "abc"));
}

TEST_CASE("at most max_per_subject devices; the least recently seen goes") {
  KnownDevices devices(100, 3);
  devices.Remember("alice", "d1", kT0 + absl::Minutes(1));
  devices.Remember("alice", "d2", kT0 + absl::Minutes(2));
  devices.Remember("alice", "d3", kT0 + absl::Minutes(3));
  devices.Remember("alice", "d1", kT0 + absl::Minutes(4));  // d1 seen again: d2 is the oldest
  devices.Remember("alice", "d4", kT0 + absl::Minutes(5));
  CHECK(devices.Known("alice", "d1"));
  CHECK_FALSE(devices.Known("alice", "d2"));
  CHECK(devices.Known("alice", "d3"));
  CHECK(devices.Known("alice", "d4"));
  std::vector<KnownDevices::Device> list = devices.Devices("alice");
  REQUIRE(list.size() == 3);
  CHECK(list[0].hash == devices.DeviceHash("d4"));  // most recent first
  CHECK(list[0].last_seen == kT0 + absl::Minutes(5));
  CHECK(list[2].hash == devices.DeviceHash("d3"));
  // A late, older sighting does not move last_seen backwards.
  devices.Remember("alice", "d4", kT0);
  CHECK(devices.Devices("alice")[0].last_seen == kT0 + absl::Minutes(5));
}

TEST_CASE("subjects are bounded") {
  KnownDevices devices(8, 2);
  for (int i = 0; i < 200; ++i) devices.Remember("user" + std::to_string(i), "phone", kT0);
  CHECK(devices.size() <= 8);
  CHECK(devices.Known("user199", "phone"));
}

TEST_CASE("persistence round trip into a fresh table") {
  KnownDevices devices(100, 20);
  devices.Remember("alice", "d1", kT0 + absl::Microseconds(1));
  devices.Remember("alice", "d2", kT0 + absl::Seconds(2));
  devices.Remember("bob", "d1", kT0);
  StateRows rows = devices.TakeDirty();
  CHECK(rows.size() == 2);
  CHECK(devices.TakeDirty().empty());

  KnownDevices fresh(100, 20);
  for (const StateRow& row : rows) {
    CHECK(row.value.rfind("1|", 0) == 0);
    fresh.Import(row.key, row.value);
  }
  CHECK(fresh.rejected_rows() == 0);
  CHECK(fresh.Known("alice", "d1"));
  CHECK(fresh.Known("alice", "d2"));
  CHECK(fresh.Known("bob", "d1"));
  CHECK_FALSE(fresh.Known("bob", "d2"));
  CHECK(fresh.Devices("alice") == devices.Devices("alice"));
  CHECK(fresh.TakeDirty().empty());

  // Importing into a smaller per-subject bound keeps the most recent.
  KnownDevices small(100, 1);
  for (const StateRow& row : rows) small.Import(row.key, row.value);
  CHECK(small.Known("alice", "d2"));
  CHECK_FALSE(small.Known("alice", "d1"));

  devices.Forget("alice");
  rows = devices.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].key == "alice");
  CHECK(rows[0].value.empty());
}

TEST_CASE("garbage rows are ignored and counted") {
  KnownDevices devices(100, 20);
  const std::string good_hash = devices.DeviceHash("d1");
  const std::string good = "1|" + good_hash + ":1800000000000000";
  devices.Import("alice", good);
  CHECK(devices.Known("alice", "d1"));
  int garbage = 0;
  for (const std::string& value :
       {std::string(), std::string("1|"), std::string("2|") + good_hash + ":1", "1|" + good_hash,
        "1|" + good_hash + ":x", "1|" + good_hash.substr(1) + ":1",
        "1|" + std::string(32, 'G') + ":1", "1|" + good_hash + ":1,", "1|" + good_hash + ":1:2",
        std::string("garbage"), "1|" + good_hash + ":1|x"}) {
    devices.Import("mallory", value);
    ++garbage;
  }
  CHECK(devices.rejected_rows() == static_cast<size_t>(garbage));
  CHECK(devices.Devices("mallory").empty());
  devices.Import("", good);
  CHECK(devices.rejected_rows() == static_cast<size_t>(garbage + 1));
  // Duplicates within a row collapse.
  devices.Import("dup", good + "," + good_hash + ":5");
  CHECK(devices.Devices("dup").size() == 1);
}

TEST_CASE("threads") {
  KnownDevices devices(500, 5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&devices, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string subject = "u" + std::to_string(i % 700);
        std::string device = "d" + std::to_string((i + t) % 9);
        devices.Remember(subject, device, kT0 + absl::Seconds(i));
        (void)devices.Known(subject, device);
        if (i % 250 == 0) (void)devices.TakeDirty();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(devices.size() <= 500);
  for (const StateRow& row : devices.Snapshot()) CHECK(devices.Devices(row.key).size() <= 5);
}

}  // namespace
}  // namespace warden::auth
