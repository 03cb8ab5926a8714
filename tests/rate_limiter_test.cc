// Token buckets for `limit` declarations (docs/language.md, "Limits"):
// counted / exceeded / remaining, continuous refill arithmetic, huge N and
// tiny windows without overflow, policy changes, full buckets not stored,
// bounds, persistence, garbage rows and threads.
#include "runtime/auth/signals/rate_limiter.h"

#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace warden::auth {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST_CASE("a fresh key: nothing counted") {
  RateLimiter limiter(100);
  RateLimiter::Peek peek = limiter.Look(10, absl::Minutes(1), "logins|s5:alice", kT0);
  CHECK(peek.counted == 0);
  CHECK_FALSE(peek.exceeded);
  CHECK(peek.remaining == 10);
  CHECK(peek.retry_after == absl::ZeroDuration());
  CHECK(limiter.size() == 0);  // Look stores nothing
}

TEST_CASE("N requests exhaust the bucket; refill is continuous") {
  RateLimiter limiter(100);
  const std::string key = "logins|s5:alice";
  for (int i = 1; i <= 10; ++i) {
    limiter.Consume(10, absl::Minutes(1), key, kT0);
    RateLimiter::Peek peek = limiter.Look(10, absl::Minutes(1), key, kT0);
    CHECK(peek.counted == i);
    CHECK(peek.remaining == 10 - i);
    CHECK(peek.exceeded == (i == 10));
  }
  RateLimiter::Peek peek = limiter.Look(10, absl::Minutes(1), key, kT0);
  CHECK(peek.retry_after == absl::Seconds(6));
  // Consuming an empty bucket keeps it at zero (no debt).
  limiter.Consume(10, absl::Minutes(1), key, kT0);
  CHECK(limiter.Look(10, absl::Minutes(1), key, kT0).counted == 10);
  // 10 per minute: one token every 6 s. At 5.999 s still exceeded.
  peek = limiter.Look(10, absl::Minutes(1), key, kT0 + absl::Milliseconds(5999));
  CHECK(peek.exceeded);
  CHECK(peek.retry_after == absl::Milliseconds(1));
  peek = limiter.Look(10, absl::Minutes(1), key, kT0 + absl::Seconds(6));
  CHECK(peek.counted == 9);
  CHECK_FALSE(peek.exceeded);
  CHECK(peek.remaining == 1);
  peek = limiter.Look(10, absl::Minutes(1), key, kT0 + absl::Seconds(30));
  CHECK(peek.counted == 5);
  peek = limiter.Look(10, absl::Minutes(1), key, kT0 + absl::Seconds(59));
  CHECK(peek.counted == 1);  // 9.83 tokens: floor 9
  peek = limiter.Look(10, absl::Minutes(1), key, kT0 + absl::Minutes(1));
  CHECK(peek.counted == 0);
  peek = limiter.Look(10, absl::Minutes(1), key, kT0 + absl::Hours(100));
  CHECK(peek.counted == 0);
  // Different keys are different buckets.
  CHECK(limiter.Look(10, absl::Minutes(1), "logins|s3:bob", kT0).counted == 0);
}

TEST_CASE("fractional tokens carry over between consumes") {
  RateLimiter limiter(100);
  const std::string key = "k";
  // 3 per 10 s: a token every 3.333 s.
  for (int i = 0; i < 3; ++i) limiter.Consume(3, absl::Seconds(10), key, kT0);
  // At 2 s: 0.6 tokens; consume takes it to 0 (never below).
  limiter.Consume(3, absl::Seconds(10), key, kT0 + absl::Seconds(2));
  CHECK(limiter.Look(3, absl::Seconds(10), key, kT0 + absl::Seconds(2)).counted == 3);
  // From 0 at 2 s, one token at 2 + 3.333 s.
  CHECK(limiter.Look(3, absl::Seconds(10), key, kT0 + absl::Milliseconds(5333)).counted == 3);
  CHECK(limiter.Look(3, absl::Seconds(10), key, kT0 + absl::Milliseconds(5334)).counted == 2);
  // Many small consumes vs. one refill: exact, no drift (1 per 3 ns).
  RateLimiter exact(10);
  for (int i = 0; i < 1000; ++i) {
    exact.Consume(1, absl::Nanoseconds(3), "e", kT0 + absl::Nanoseconds(3 * i));
    CHECK(exact.Look(1, absl::Nanoseconds(3), "e", kT0 + absl::Nanoseconds(3 * i)).exceeded);
    CHECK_FALSE(
        exact.Look(1, absl::Nanoseconds(3), "e", kT0 + absl::Nanoseconds(3 * i + 3)).exceeded);
  }
}

TEST_CASE("huge N and tiny or huge windows do not overflow") {
  RateLimiter limiter(100);
  // N = INT64_MAX per nanosecond.
  limiter.Consume(kMax, absl::Nanoseconds(1), "a", kT0);
  RateLimiter::Peek peek = limiter.Look(kMax, absl::Nanoseconds(1), "a", kT0);
  CHECK(peek.counted == 1);
  CHECK(peek.remaining == kMax - 1);
  CHECK_FALSE(peek.exceeded);
  CHECK(limiter.Look(kMax, absl::Nanoseconds(1), "a", kT0 + absl::Nanoseconds(1)).counted == 0);
  // N = INT64_MAX per INT64_MAX ns (an infinite window saturates): one token a
  // nanosecond, the largest product the arithmetic meets.
  for (int i = 0; i < 5; ++i) limiter.Consume(kMax, absl::InfiniteDuration(), "b", kT0);
  CHECK(limiter.Look(kMax, absl::InfiniteDuration(), "b", kT0).counted == 5);
  CHECK(limiter.Look(kMax, absl::InfiniteDuration(), "b", kT0 + absl::Nanoseconds(2)).counted == 3);
  CHECK(limiter.Look(kMax, absl::InfiniteDuration(), "b", absl::InfiniteFuture()).counted == 0);
  // 5 per "forever": a year refills almost nothing.
  for (int i = 0; i < 5; ++i) limiter.Consume(5, absl::InfiniteDuration(), "b5", kT0);
  peek = limiter.Look(5, absl::InfiniteDuration(), "b5", kT0 + absl::Hours(24 * 365));
  CHECK(peek.counted == 5);
  CHECK(peek.exceeded);
  // Sub-nanosecond and zero or negative windows act as 1 ns.
  limiter.Consume(1, absl::ZeroDuration(), "c", kT0);
  CHECK(limiter.Look(1, absl::ZeroDuration(), "c", kT0).exceeded);
  CHECK_FALSE(limiter.Look(1, absl::ZeroDuration(), "c", kT0 + absl::Nanoseconds(1)).exceeded);
  limiter.Consume(1, -absl::Hours(1), "d", kT0);
  CHECK(limiter.Look(1, absl::Nanoseconds(1) / 4, "d", kT0).exceeded);
  // N = 1 per huge window: retry_after is finite and sane.
  limiter.Consume(1, absl::Hours(24 * 365 * 200), "e", kT0);
  peek = limiter.Look(1, absl::Hours(24 * 365 * 200), "e", kT0);
  CHECK(peek.exceeded);
  CHECK(peek.retry_after == absl::Hours(24 * 365 * 200));
  // N ≤ 0 is always exceeded; Consume does nothing.
  peek = limiter.Look(0, absl::Minutes(1), "f", kT0);
  CHECK(peek.exceeded);
  CHECK(peek.counted == 0);
  CHECK(peek.remaining == 0);
  limiter.Consume(-5, absl::Minutes(1), "f", kT0);
  CHECK(limiter.Look(-5, absl::Minutes(1), "f", kT0).exceeded);
}

TEST_CASE("time going backwards neither refills nor breaks") {
  RateLimiter limiter(100);
  limiter.Consume(2, absl::Minutes(1), "k", kT0);
  limiter.Consume(2, absl::Minutes(1), "k", kT0 - absl::Hours(1));  // late request
  CHECK(limiter.Look(2, absl::Minutes(1), "k", kT0).counted == 2);
  CHECK(limiter.Look(2, absl::Minutes(1), "k", kT0 - absl::Hours(2)).counted == 2);
  CHECK(limiter.Look(2, absl::Minutes(1), "k", absl::InfinitePast()).counted == 2);
}

TEST_CASE("a changed limit keeps the requests already counted") {
  RateLimiter limiter(100);
  for (int i = 0; i < 4; ++i) limiter.Consume(10, absl::Minutes(1), "k", kT0);
  // Raised to 100: 4 counted, 96 remaining.
  RateLimiter::Peek peek = limiter.Look(100, absl::Minutes(1), "k", kT0);
  CHECK(peek.counted == 4);
  CHECK(peek.remaining == 96);
  // Lowered to 3: exceeded.
  peek = limiter.Look(3, absl::Minutes(1), "k", kT0);
  CHECK(peek.counted == 3);
  CHECK(peek.exceeded);
  // A new window: the count stays, the refill rate follows the new window.
  peek = limiter.Look(10, absl::Hours(1), "k", kT0);
  CHECK(peek.counted == 4);
}

TEST_CASE("full buckets are not kept") {
  RateLimiter limiter(100);
  limiter.Consume(5, absl::Minutes(1), "a", kT0);
  limiter.Consume(5, absl::Hours(1), "b", kT0);
  CHECK(limiter.size() == 2);
  (void)limiter.TakeDirty();
  CHECK(limiter.Sweep(kT0 + absl::Seconds(5)) == 0);
  CHECK(limiter.Sweep(kT0 + absl::Minutes(1)) == 1);  // a refilled after 12 s, b needs 12 min
  CHECK(limiter.size() == 1);
  StateRows rows = limiter.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].key == "a");
  CHECK(rows[0].value.empty());
}

TEST_CASE("bounded: the least recently consumed bucket is evicted") {
  RateLimiter limiter(32);
  for (int i = 0; i < 10'000; ++i)
    limiter.Consume(1, absl::Hours(1), "k|" + std::to_string(i), kT0);
  CHECK(limiter.size() <= 32);
  CHECK(limiter.Look(1, absl::Hours(1), "k|9999", kT0).exceeded);
  // Evictions were deletions; the dirty rows stay bounded too.
  CHECK(limiter.TakeDirty().size() <= 32 + 16 * 64);
}

TEST_CASE("long keys are hashed, keeping the limit name") {
  RateLimiter limiter(100);
  const std::string long_a = "model_calls|s2000:" + std::string(2000, 'a');
  const std::string long_b = "model_calls|s2000:" + std::string(1999, 'a') + "b";
  limiter.Consume(1, absl::Hours(1), long_a, kT0);
  CHECK(limiter.Look(1, absl::Hours(1), long_a, kT0).exceeded);
  CHECK_FALSE(limiter.Look(1, absl::Hours(1), long_b, kT0).exceeded);
  StateRows rows = limiter.TakeDirty();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].key.rfind("model_calls|#", 0) == 0);
  CHECK(rows[0].key.size() == std::string("model_calls|#").size() + 64);
  RateLimiter fresh(100);
  fresh.Import(rows[0].key, rows[0].value);
  CHECK(fresh.Look(1, absl::Hours(1), long_a, kT0).exceeded);
}

TEST_CASE("persistence round trip into a fresh limiter") {
  RateLimiter limiter(100);
  for (int i = 0; i < 7; ++i)
    limiter.Consume(10, absl::Minutes(1), "logins|p10.0.0.7", kT0 + absl::Nanoseconds(i));
  limiter.Consume(kMax, absl::Nanoseconds(1), "huge|x", kT0);
  limiter.Consume(3, absl::Milliseconds(1500), "model_calls|s5:alice|k", kT0);
  StateRows rows = limiter.TakeDirty();
  CHECK(rows.size() == 3);
  CHECK(limiter.TakeDirty().empty());
  RateLimiter fresh(100);
  for (const StateRow& row : rows) {
    CHECK(row.value.rfind("1|", 0) == 0);
    fresh.Import(row.key, row.value);
  }
  CHECK(fresh.rejected_rows() == 0);
  CHECK(fresh.TakeDirty().empty());
  for (absl::Duration later : {absl::ZeroDuration(), absl::Nanoseconds(1), absl::Seconds(7),
                               absl::Seconds(31), absl::Minutes(2)}) {
    for (const auto& [key, n, window] : {std::tuple<std::string, int64_t, absl::Duration>{
                                             "logins|p10.0.0.7", 10, absl::Minutes(1)},
                                         {"huge|x", kMax, absl::Nanoseconds(1)},
                                         {"model_calls|s5:alice|k", 3, absl::Milliseconds(1500)}}) {
      RateLimiter::Peek a = limiter.Look(n, window, key, kT0 + later);
      RateLimiter::Peek b = fresh.Look(n, window, key, kT0 + later);
      CHECK(a.counted == b.counted);
      CHECK(a.exceeded == b.exceeded);
      CHECK(a.remaining == b.remaining);
      CHECK(a.retry_after == b.retry_after);
    }
  }
}

TEST_CASE("garbage rows are ignored and counted") {
  RateLimiter limiter(100);
  const std::vector<std::string> garbage = {
      "",
      "1",
      "1|10|60000000000|0",
      "2|10|60000000000|0|0",
      "1|0|60000000000|0|0",
      "1|10|0|0|0",
      "1|10|60000000000|-1|0",
      "1|10|60000000000|600000000001|0",  // > N×W
      "1|10|60000000000|x|0",
      "1|10|60000000000|0|x",
      "1|10|60000000000|0|0|0",
      "1|10|60000000000|999999999999999999999999999999999999999|0",
      "1|+10|60000000000|0|0",
      "1| 10|60000000000|0|0"};
  for (const std::string& value : garbage) limiter.Import("k|x", value);
  CHECK(limiter.rejected_rows() == garbage.size());
  CHECK(limiter.size() == 0);
  limiter.Import("", "1|10|60000000000|0|0");
  limiter.Import(std::string(RateLimiter::kMaxKeyBytes + 1, 'k'), "1|10|60000000000|0|0");
  CHECK(limiter.rejected_rows() == garbage.size() + 2);
  limiter.Import("k|x", "1|10|60000000000|0|" + std::to_string(absl::ToUnixNanos(kT0)));
  CHECK(limiter.rejected_rows() == garbage.size() + 2);
  CHECK(limiter.Look(10, absl::Minutes(1), "k|x", kT0).exceeded);
}

TEST_CASE("threads: every consume is counted once") {
  RateLimiter limiter(10'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&limiter, t] {
      for (int i = 0; i < 1000; ++i) {
        limiter.Consume(1'000'000, absl::Hours(1), "shared", kT0);
        std::string key = "k|" + std::to_string((i * 13 + t) % 500);
        (void)limiter.Look(5, absl::Minutes(1), key, kT0);
        limiter.Consume(5, absl::Minutes(1), key, kT0 + absl::Milliseconds(i));
        if (i % 200 == 0) {
          (void)limiter.TakeDirty();
          (void)limiter.Sweep(kT0);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(limiter.Look(1'000'000, absl::Hours(1), "shared", kT0).counted == 8000);
  CHECK(limiter.size() <= 10'000);
}

}  // namespace
}  // namespace warden::auth
