// Failed attempts: counting, lockout at the threshold, exponential backoff
// doubling up to the cap, the sliding (streak) window, reset on success,
// bounds, persistence, garbage rows and threads.
#include "runtime/auth/signals/attempts.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace warden::auth {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST_CASE("failures count; lockout at the threshold") {
  FailedAttempts attempts;  // 5 in 15 min, 1 min doubling to 1 h
  AttemptState state = attempts.Get("s:alice", kT0);
  CHECK(state.failures == 0);
  CHECK_FALSE(state.locked);
  for (int i = 1; i <= 4; ++i) {
    state = attempts.RecordFailure("s:alice", kT0 + absl::Seconds(i));
    CHECK(state.failures == i);
    CHECK_FALSE(state.locked);
  }
  state = attempts.RecordFailure("s:alice", kT0 + absl::Seconds(5));
  CHECK(state.failures == 5);
  CHECK(state.locked);
  CHECK(state.locked_until == kT0 + absl::Seconds(5) + absl::Minutes(1));
  CHECK(attempts.Get("s:alice", kT0 + absl::Seconds(64)).locked);
  state = attempts.Get("s:alice", kT0 + absl::Seconds(65));
  CHECK_FALSE(state.locked);
  CHECK(state.failures == 5);  // still in the window
  // Other keys are independent.
  CHECK(attempts.Get("ip:192.0.2.1", kT0).failures == 0);
  CHECK(attempts.Get("s:bob", kT0 + absl::Seconds(6)).failures == 0);
}

TEST_CASE("backoff doubles and is capped") {
  FailedAttempts attempts;
  CHECK(attempts.LockoutFor(4) == absl::ZeroDuration());
  CHECK(attempts.LockoutFor(5) == absl::Minutes(1));
  CHECK(attempts.LockoutFor(6) == absl::Minutes(2));
  CHECK(attempts.LockoutFor(7) == absl::Minutes(4));
  CHECK(attempts.LockoutFor(10) == absl::Minutes(32));
  CHECK(attempts.LockoutFor(11) == absl::Hours(1));  // 64 min capped
  CHECK(attempts.LockoutFor(1'000'000) == absl::Hours(1));
  CHECK(attempts.LockoutFor(std::numeric_limits<int>::max()) == absl::Hours(1));

  // An attacker who waits out each lockout: each next one doubles, even
  // past the 15-minute window (measured from the end of the lockout).
  absl::Time now = kT0;
  for (int i = 0; i < 5; ++i) (void)attempts.RecordFailure("ip:203.0.113.5", now);
  absl::Duration expected = absl::Minutes(1);
  for (int round = 0; round < 8; ++round) {
    AttemptState state = attempts.Get("ip:203.0.113.5", now);
    REQUIRE(state.locked);
    CHECK(state.locked_until - now == expected);
    now = state.locked_until;  // lockout over
    CHECK_FALSE(attempts.Get("ip:203.0.113.5", now).locked);
    (void)attempts.RecordFailure("ip:203.0.113.5", now);
    expected = std::min(expected * 2, absl::Hours(1));
  }
  CHECK(attempts.Get("ip:203.0.113.5", now).locked_until - now == absl::Hours(1));
}

TEST_CASE("failures while locked extend the lockout") {
  FailedAttempts attempts;
  for (int i = 0; i < 5; ++i) (void)attempts.RecordFailure("s:alice", kT0);
  AttemptState state = attempts.RecordFailure("s:alice", kT0 + absl::Seconds(10));
  CHECK(state.failures == 6);
  CHECK(state.locked_until == kT0 + absl::Seconds(10) + absl::Minutes(2));
}

TEST_CASE("the window: a quiet window forgets the streak") {
  AttemptPolicy policy;
  policy.lockout_after = 3;
  policy.window = absl::Minutes(10);
  policy.base_lockout = absl::Minutes(1);
  policy.max_lockout = absl::Minutes(30);
  FailedAttempts attempts(policy);
  (void)attempts.RecordFailure("s:a", kT0);
  (void)attempts.RecordFailure("s:a", kT0 + absl::Minutes(9));  // within 10 min of the previous
  CHECK(attempts.Get("s:a", kT0 + absl::Minutes(18)).failures == 2);
  CHECK(attempts.Get("s:a", kT0 + absl::Minutes(19)).failures == 0);  // 10 min quiet
  AttemptState state = attempts.RecordFailure("s:a", kT0 + absl::Minutes(19));
  CHECK(state.failures == 1);  // a new streak
  CHECK_FALSE(state.locked);

  // A slow attacker (one failure every 9 minutes) still reaches the lockout.
  absl::Time now = kT0 + absl::Hours(5);
  for (int i = 0; i < 3; ++i) state = attempts.RecordFailure("s:slow", now + absl::Minutes(9 * i));
  CHECK(state.failures == 3);
  CHECK(state.locked);

  // After a lockout, the window counts from its end.
  now = kT0 + absl::Hours(10);
  for (int i = 0; i < 3; ++i) (void)attempts.RecordFailure("s:b", now);
  attempts.RecordFailure("s:b", now + absl::Seconds(30));  // 4: locked 2 min from +30 s
  absl::Time lock_end = now + absl::Seconds(30) + absl::Minutes(2);
  CHECK(attempts.Get("s:b", lock_end + absl::Minutes(9)).failures == 4);
  CHECK(attempts.Get("s:b", lock_end + absl::Minutes(10)).failures == 0);
  CHECK(attempts.Sweep(lock_end + absl::Minutes(10)) >= 1);
  CHECK(attempts.Get("s:b", lock_end).failures == 0);  // swept: gone
}

TEST_CASE("success resets") {
  FailedAttempts attempts;
  for (int i = 0; i < 7; ++i) (void)attempts.RecordFailure("s:alice", kT0);
  CHECK(attempts.Get("s:alice", kT0).locked);
  (void)attempts.TakeDirty();
  attempts.RecordSuccess("s:alice", kT0 + absl::Seconds(1));
  AttemptState state = attempts.Get("s:alice", kT0 + absl::Seconds(1));
  CHECK(state.failures == 0);
  CHECK_FALSE(state.locked);
  StateRows rows = attempts.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].key == "s:alice");
  CHECK(rows[0].value.empty());
  // The next failure starts over.
  CHECK(attempts.RecordFailure("s:alice", kT0 + absl::Seconds(2)).failures == 1);
  attempts.RecordSuccess("s:nobody", kT0);  // harmless
  CHECK(attempts.TakeDirty().size() == 1);
}

TEST_CASE("odd policies") {
  AttemptPolicy policy;
  policy.lockout_after = 0;  // acts as 1
  policy.base_lockout = absl::Seconds(10);
  policy.max_lockout = absl::Seconds(15);
  FailedAttempts attempts(policy);
  AttemptState state = attempts.RecordFailure("k", kT0);
  CHECK(state.locked);
  CHECK(state.locked_until == kT0 + absl::Seconds(10));
  state = attempts.RecordFailure("k", kT0);
  CHECK(state.locked_until == kT0 + absl::Seconds(15));
}

TEST_CASE("bounded") {
  FailedAttempts attempts(AttemptPolicy{}, 16);
  for (int i = 0; i < 1000; ++i) (void)attempts.RecordFailure("ip:" + std::to_string(i), kT0);
  CHECK(attempts.size() <= 16);
  CHECK(attempts.Get("ip:999", kT0).failures == 1);
}

TEST_CASE("persistence round trip and garbage") {
  FailedAttempts attempts;
  for (int i = 0; i < 6; ++i) (void)attempts.RecordFailure("s:alice", kT0 + absl::Seconds(i));
  (void)attempts.RecordFailure("ip:2001:db8::1", kT0);
  StateRows rows = attempts.TakeDirty();
  CHECK(rows.size() == 2);
  FailedAttempts fresh;
  for (const StateRow& row : rows) {
    CHECK(row.value.rfind("1|", 0) == 0);
    fresh.Import(row.key, row.value);
  }
  CHECK(fresh.rejected_rows() == 0);
  for (absl::Duration later : {absl::ZeroDuration(), absl::Minutes(1), absl::Minutes(3)}) {
    AttemptState a = attempts.Get("s:alice", kT0 + later);
    AttemptState b = fresh.Get("s:alice", kT0 + later);
    CHECK(a.failures == b.failures);
    CHECK(a.locked == b.locked);
    CHECK(a.locked_until == b.locked_until);
  }
  AttemptState ip = fresh.Get("ip:2001:db8::1", kT0);
  CHECK(ip.failures == 1);
  CHECK(ip.locked_until == absl::InfinitePast());
  CHECK(fresh.TakeDirty().empty());

  for (const char* garbage : {"", "1", "1|0|0|0", "1|-3|0|0", "1|2000000|0|0", "1|x|0|0", "1|1|0",
                              "2|1|0|0", "1|1|0|0|0", "1|1|99999999999999999999|0", "1|1|+5|0"}) {
    fresh.Import("s:mallory", garbage);
  }
  CHECK(fresh.rejected_rows() == 11);
  CHECK(fresh.Get("s:mallory", kT0).failures == 0);

  // A stored lockout longer than the current cap is cut to it.
  AttemptPolicy short_cap;
  short_cap.max_lockout = absl::Minutes(5);
  FailedAttempts capped(short_cap);
  capped.Import("s:x", "1|20|" + std::to_string(absl::ToUnixMicros(kT0)) + "|" +
                           std::to_string(absl::ToUnixMicros(kT0 + absl::Hours(10))));
  CHECK(capped.Get("s:x", kT0).locked_until == kT0 + absl::Minutes(5));
}

TEST_CASE("threads") {
  FailedAttempts attempts(AttemptPolicy{}, 256);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&attempts, t] {
      for (int i = 0; i < 3000; ++i) {
        std::string key = "s:" + std::to_string(i % 300);
        if ((i + t) % 11 == 0) {
          attempts.RecordSuccess(key, kT0);
        } else {
          (void)attempts.RecordFailure(key, kT0 + absl::Milliseconds(i));
        }
        (void)attempts.Get(key, kT0);
        if (i % 500 == 0) {
          (void)attempts.TakeDirty();
          (void)attempts.Sweep(kT0 + absl::Hours(3));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(attempts.size() <= 256);

  // Eight threads on one key: every failure is counted.
  FailedAttempts shared;
  std::vector<std::thread> hammer;
  for (int t = 0; t < 8; ++t) {
    hammer.emplace_back([&shared] {
      for (int i = 0; i < 500; ++i) (void)shared.RecordFailure("ip:shared", kT0);
    });
  }
  for (std::thread& thread : hammer) thread.join();
  CHECK(shared.Get("ip:shared", kT0).failures == 4000);
}

}  // namespace
}  // namespace warden::auth
