// Token buckets for the policies' `limit NAME: N per WINDOW by KEY`
// declarations (docs/language.md, "Limits"). Feeds limits.NAME.exceeded and
// limits.NAME.remaining through Frame::SetLimitCount(counted).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_RATE_LIMITER_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_RATE_LIMITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "runtime/auth/signals/state_table.h"
#include "runtime/auth/state_rows.h"

namespace warden::auth {

// A bucket holds N tokens and refills continuously at N per WINDOW; a new
// key starts full. Look reports counted = N − floor(tokens) (the requests
// "already counted"), exceeded = counted ≥ N, remaining = max(0, N −
// counted). Consume takes one token (never below 0); the language counts a
// request only when its decision is a permit, so callers Look before
// deciding and Consume after.
//
// Bucket identity is the `key` string alone: pass rt::AppendLimitKey's
// output, which begins with the limit's name ("model_calls|s5:alice"), so
// persisted rows name their limit and survive a policy reload that renumbers
// limits. `limit` (the index) is not part of the identity. Keys longer than
// 512 bytes are replaced by "NAME|#" + SHA-256 hex of the whole key, so an
// attacker-chosen key component cannot blow up memory.
//
// Exact integer arithmetic: tokens are kept scaled by the window in
// nanoseconds (128-bit), so any N up to INT64_MAX and any window down to 1
// ns refill without overflow or rounding drift. A window below 1 ns acts as
// 1 ns; N ≤ 0 is always exceeded (and Consume does nothing). When N or the
// window of a limit changes, a bucket keeps its count of requests already
// counted.
//
// A full bucket is the same as no bucket: Look never stores anything, and
// Sweep drops buckets that have refilled. Thread-safe, bounded (least
// recently consumed buckets are evicted first, which are the likeliest to be
// full). Persisted value (key as above):
// "1|N|WINDOW_NS|SCALED_TOKENS|UPDATED_UNIX_NANOS".
class RateLimiter final : public PersistedTable {
 public:
  struct Peek {
    int64_t counted = 0;
    bool exceeded = false;
    int64_t remaining = 0;
    // Until the next token (zero when one is available now).
    absl::Duration retry_after = absl::ZeroDuration();
  };

  explicit RateLimiter(size_t max_buckets = 1'000'000);

  // `key` names the limit and its bucket (rt::AppendLimitKey), so buckets
  // survive a reload that renumbers the limits.
  Peek Look(int64_t capacity, absl::Duration window, std::string_view key, absl::Time now) const;
  void Consume(int64_t capacity, absl::Duration window, std::string_view key, absl::Time now);
  // Removes buckets that have refilled by `now`; returns how many.
  size_t Sweep(absl::Time now);

  // Persistence: the PersistedTable surface (state_rows.h).
  void Import(std::string_view key, std::string_view value) override;
  StateRows TakeDirty() override;
  StateRows Snapshot() const override;
  size_t rejected_rows() const override { return rejected_.load(std::memory_order_relaxed); }
  size_t size() const override { return table_.size(); }
  size_t dropped_deletions() const override { return table_.dropped_deletions(); }

  static constexpr size_t kMaxKeyBytes = 512;

 private:
  __extension__ using Int128 = __int128;
  struct Bucket {
    int64_t capacity = 0;
    int64_t window_ns = 1;
    Int128 scaled = 0;  // tokens × window_ns, in [0, capacity × window_ns]
    absl::Time updated = absl::InfinitePast();
  };
  static void Refill(Bucket& bucket, int64_t capacity, int64_t window_ns, absl::Time now);
  static Peek PeekOf(const Bucket& bucket);
  static std::string Encode(const Bucket& bucket);

  signals_internal::StateTable<Bucket> table_;
  std::atomic<size_t> rejected_{0};
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_RATE_LIMITER_H_
