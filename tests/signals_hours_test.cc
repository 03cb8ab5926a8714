// Unusual hour: learning (never unusual below min_samples), then unusual
// hours, the ±1 h neighbourhood wrapping at midnight, time zones, decay,
// bounds, persistence, garbage rows and threads.
#include "runtime/auth/signals/hour_baseline.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

namespace warden::auth {
namespace {

// 2027-01-15 00:00:00 UTC.
const absl::Time kDay0 = absl::FromCivil(absl::CivilDay(2027, 1, 15), absl::UTCTimeZone());
const absl::TimeZone kUtc = absl::UTCTimeZone();

absl::Time At(int day, int hour, int minute = 0) {
  return kDay0 + absl::Hours(24 * day + hour) + absl::Minutes(minute);
}

TEST_CASE("learning, then unusual hours") {
  HourBaselines hours;  // 20 samples, 2 %, 0.98/day
  // A nine-to-five worker: 19 sign-ins, still learning.
  for (int day = 0; day < 19; ++day) hours.Record("alice", At(day, 9 + day % 8), kUtc);
  CHECK(hours.Samples("alice") == 19);
  CHECK_FALSE(hours.Unusual("alice", At(20, 3), kUtc));
  CHECK_FALSE(hours.Share("alice", At(20, 3), kUtc).has_value());
  hours.Record("alice", At(19, 10), kUtc);         // the 20th
  CHECK(hours.Unusual("alice", At(20, 3), kUtc));  // 03:00: never seen
  CHECK_FALSE(hours.Unusual("alice", At(20, 10), kUtc));
  CHECK_FALSE(hours.Unusual("alice", At(20, 8), kUtc));   // next to 9:00
  CHECK(hours.Unusual("alice", At(20, 7), kUtc));         // two hours off
  CHECK_FALSE(hours.Unusual("alice", At(20, 17), kUtc));  // next to 16:00
  CHECK(hours.Unusual("alice", At(20, 18), kUtc));
  REQUIRE(hours.Share("alice", At(20, 10), kUtc).has_value());
  CHECK(*hours.Share("alice", At(20, 3), kUtc) == 0);
  // Unknown subjects are learning.
  CHECK_FALSE(hours.Unusual("bob", At(20, 3), kUtc));
  CHECK(hours.Samples("bob") == 0);
}

TEST_CASE("the neighbourhood wraps at midnight") {
  HourBaselines hours(HourPolicy{5, 0.02, 1.0});
  for (int i = 0; i < 10; ++i) hours.Record("owl", At(i, 23, 30), kUtc);
  CHECK_FALSE(hours.Unusual("owl", At(20, 0, 10), kUtc));  // 00 is next to 23
  CHECK_FALSE(hours.Unusual("owl", At(20, 22), kUtc));
  CHECK(hours.Unusual("owl", At(20, 1), kUtc));
  for (int i = 0; i < 10; ++i) hours.Record("lark", At(i, 0, 5), kUtc);
  CHECK_FALSE(hours.Unusual("lark", At(20, 23), kUtc));
  CHECK(hours.Unusual("lark", At(20, 22), kUtc));
}

TEST_CASE("the zone decides the hour") {
  absl::TimeZone tokyo;
  REQUIRE(absl::LoadTimeZone("Asia/Tokyo", &tokyo));
  HourBaselines hours(HourPolicy{5, 0.02, 1.0});
  // 00:00 UTC is 09:00 in Tokyo.
  for (int i = 0; i < 10; ++i) hours.Record("kenji", At(i, 0), tokyo);
  CHECK_FALSE(hours.Unusual("kenji", At(20, 0), tokyo));
  CHECK(hours.Unusual("kenji", At(20, 9), tokyo));  // 18:00 in Tokyo
  CHECK(hours.Unusual("kenji", At(20, 0), absl::FixedTimeZone(-6 * 3600)));
}

TEST_CASE("decay lets habits change") {
  HourBaselines hours(HourPolicy{20, 0.02, 0.9});
  for (int day = 0; day < 30; ++day) hours.Record("shift", At(day, 9), kUtc);
  CHECK(hours.Unusual("shift", At(31, 21), kUtc));
  // A move to night shifts: after a few weeks, nights are normal and
  // mornings have faded below 2 %.
  for (int day = 31; day < 80; ++day) hours.Record("shift", At(day, 21), kUtc);
  CHECK_FALSE(hours.Unusual("shift", At(81, 21), kUtc));
  CHECK(hours.Unusual("shift", At(81, 9), kUtc));
  // Without decay the old habit stays.
  HourBaselines forever(HourPolicy{20, 0.02, 1.0});
  for (int day = 0; day < 30; ++day) forever.Record("shift", At(day, 9), kUtc);
  for (int day = 31; day < 80; ++day) forever.Record("shift", At(day, 21), kUtc);
  CHECK_FALSE(forever.Unusual("shift", At(81, 9), kUtc));
  // Out-of-range decay acts as none.
  HourBaselines odd(HourPolicy{1, 0.02, -3});
  CHECK(odd.policy().decay_per_day == 1);
}

TEST_CASE("bounded") {
  HourBaselines hours(HourPolicy{}, 10);
  for (int i = 0; i < 300; ++i) hours.Record("u" + std::to_string(i), At(0, 9), kUtc);
  CHECK(hours.size() <= 10);
  CHECK(hours.Samples("u299") == 1);
}

TEST_CASE("persistence round trip and garbage") {
  HourBaselines hours(HourPolicy{5, 0.02, 0.98});
  for (int day = 0; day < 12; ++day) hours.Record("alice", At(day, 9 + day % 3), kUtc);
  hours.Record("bob", At(0, 22), kUtc);
  StateRows rows = hours.TakeDirty();
  CHECK(rows.size() == 2);
  HourBaselines fresh(HourPolicy{5, 0.02, 0.98});
  for (const StateRow& row : rows) {
    CHECK(row.value.rfind("1|", 0) == 0);
    fresh.Import(row.key, row.value);
  }
  CHECK(fresh.rejected_rows() == 0);
  CHECK(fresh.Samples("alice") == 12);
  for (int hour = 0; hour < 24; ++hour) {
    CHECK(fresh.Unusual("alice", At(30, hour), kUtc) == hours.Unusual("alice", At(30, hour), kUtc));
    CHECK(*fresh.Share("alice", At(30, hour), kUtc) ==
          doctest::Approx(*hours.Share("alice", At(30, hour), kUtc)).epsilon(1e-5));
  }
  CHECK(fresh.TakeDirty().empty());

  const std::string bins23 = "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0";
  for (const std::string& garbage :
       {std::string(), std::string("1"), "1|5|0|" + bins23, "1|5|0|" + bins23 + ",0,0",
        "1|5|0|" + bins23 + ",-1", "1|5|0|" + bins23 + ",nan", "1|5|0|" + bins23 + ",inf",
        "1|-1|0|" + bins23 + ",0", "1|x|0|" + bins23 + ",0", "1|5|y|" + bins23 + ",0",
        "2|5|0|" + bins23 + ",0", "1|5|0|" + bins23 + ",1e999"}) {
    fresh.Import("mallory", garbage);
  }
  CHECK(fresh.rejected_rows() == 12);
  CHECK(fresh.Samples("mallory") == 0);
  fresh.Import("ok", "1|5|0|" + bins23 + ",5");
  CHECK(fresh.rejected_rows() == 12);
  CHECK(fresh.Samples("ok") == 5);
  CHECK(fresh.Unusual("ok", At(0, 12), kUtc));
  CHECK_FALSE(fresh.Unusual("ok", At(0, 23), kUtc));

  hours.Forget("bob");
  rows = hours.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].value.empty());
}

TEST_CASE("threads") {
  HourBaselines hours(HourPolicy{}, 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&hours, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string subject = "u" + std::to_string(i % 150);
        hours.Record(subject, At(i / 50, (i + t) % 24), kUtc);
        (void)hours.Unusual(subject, At(i / 50, t), kUtc);
        if (i % 300 == 0) (void)hours.TakeDirty();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(hours.size() <= 100);
  HourBaselines one(HourPolicy{}, 10);
  std::vector<std::thread> same;
  for (int t = 0; t < 4; ++t) {
    same.emplace_back([&one] {
      for (int i = 0; i < 1000; ++i) one.Record("x", At(0, 9), kUtc);
    });
  }
  for (std::thread& thread : same) thread.join();
  CHECK(one.Samples("x") == 4000);
}

}  // namespace
}  // namespace warden::auth
