#include "runtime/auth/signals/rate_limiter.h"

#include <openssl/sha.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

using signals_internal::After;
__extension__ using Int128 = __int128;

int64_t WindowNs(absl::Duration window) {
  if (window <= absl::ZeroDuration()) return 1;
  return std::max<int64_t>(1, absl::ToInt64Nanoseconds(window));  // saturates when huge
}

// Long keys are replaced by their limit name and a hash (see the header).
std::string_view BucketKey(std::string_view key, std::string* storage) {
  if (key.size() <= RateLimiter::kMaxKeyBytes) return key;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  size_t bar = key.find('|');
  std::string_view name = bar != std::string_view::npos && bar <= 128 ? key.substr(0, bar) : "";
  static constexpr char kHex[] = "0123456789abcdef";
  storage->assign(name.data(), name.size());
  storage->append("|#");
  for (unsigned char byte : digest) {
    storage->push_back(kHex[byte >> 4]);
    storage->push_back(kHex[byte & 15]);
  }
  return *storage;
}

std::string Int128Text(Int128 value) {
  if (value == 0) return "0";
  bool negative = value < 0;
  std::string digits;
  while (value != 0) {
    int digit = static_cast<int>(value % 10);
    digits.push_back(static_cast<char>('0' + (negative ? -digit : digit)));
    value /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Non-negative decimal only.
bool ParseInt128(std::string_view text, Int128* out) {
  if (text.empty() || text.size() > 38) return false;  // 10^38 − 1 < 2^127
  Int128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

RateLimiter::RateLimiter(size_t max_buckets) : table_(max_buckets) {}

void RateLimiter::Refill(Bucket& bucket, int64_t capacity, int64_t window_ns, absl::Time now) {
  if (bucket.capacity != capacity || bucket.window_ns != window_ns) {
    // The policy changed: keep the requests already counted.
    Int128 counted = bucket.capacity - bucket.scaled / bucket.window_ns;
    Int128 tokens = std::max<Int128>(0, capacity - counted);
    bucket.capacity = capacity;
    bucket.window_ns = window_ns;
    bucket.scaled = std::min<Int128>(tokens, capacity) * window_ns;
  }
  if (now <= bucket.updated) return;  // out of order: no refill, no going back
  Int128 full = Int128{capacity} * window_ns;
  int64_t elapsed_ns = absl::ToInt64Nanoseconds(now - bucket.updated);  // saturates
  if (elapsed_ns >= window_ns) {
    bucket.scaled = full;
    bucket.updated = now;
    return;
  }
  // elapsed < window ≤ 2^63 and capacity < 2^63: the product fits in 126 bits.
  bucket.scaled = std::min(full, bucket.scaled + Int128{elapsed_ns} * capacity);
  // Advance by whole nanoseconds only, so truncation never loses refill.
  bucket.updated += absl::Nanoseconds(elapsed_ns);
}

RateLimiter::Peek RateLimiter::PeekOf(const Bucket& bucket) {
  Peek peek;
  Int128 tokens = bucket.scaled / bucket.window_ns;  // ≤ capacity
  peek.counted = static_cast<int64_t>(bucket.capacity - tokens);
  peek.exceeded = peek.counted >= bucket.capacity;
  peek.remaining = std::max<int64_t>(0, bucket.capacity - peek.counted);
  if (tokens < 1) {
    // Scaled units still missing for one token, refilled at `capacity` a ns.
    Int128 missing = bucket.window_ns - bucket.scaled;
    Int128 ns = (missing + bucket.capacity - 1) / bucket.capacity;
    peek.retry_after = absl::Nanoseconds(static_cast<int64_t>(ns));
  }
  return peek;
}

RateLimiter::Peek RateLimiter::Look(int64_t capacity, absl::Duration window, std::string_view key,
                                    absl::Time now) const {
  if (capacity <= 0) return Peek{0, true, 0, absl::InfiniteDuration()};
  int64_t window_ns = WindowNs(window);
  std::string storage;
  key = BucketKey(key, &storage);
  return table_.Read(key, [&](const Bucket* stored) {
    if (stored == nullptr) return Peek{0, false, capacity, absl::ZeroDuration()};
    Bucket bucket = *stored;
    Refill(bucket, capacity, window_ns, now);
    return PeekOf(bucket);
  });
}

void RateLimiter::Consume(int64_t capacity, absl::Duration window, std::string_view key,
                          absl::Time now) {
  if (capacity <= 0) return;
  int64_t window_ns = WindowNs(window);
  std::string storage;
  key = BucketKey(key, &storage);
  table_.Update(key, [&](Bucket& bucket, bool existed) {
    if (!existed) {
      bucket.capacity = capacity;
      bucket.window_ns = window_ns;
      bucket.scaled = Int128{capacity} * window_ns;
      bucket.updated = now;
    } else {
      Refill(bucket, capacity, window_ns, now);
    }
    bucket.scaled = std::max<Int128>(0, bucket.scaled - window_ns);
    return After::kKeep;
  });
}

size_t RateLimiter::Sweep(absl::Time now) {
  return table_.EraseIf([&](const Bucket& stored) {
    Bucket bucket = stored;
    Refill(bucket, bucket.capacity, bucket.window_ns, now);
    return bucket.scaled == Int128{bucket.capacity} * bucket.window_ns;
  });
}

std::string RateLimiter::Encode(const Bucket& bucket) {
  return absl::StrCat("1|", bucket.capacity, "|", bucket.window_ns, "|", Int128Text(bucket.scaled),
                      "|", absl::ToUnixNanos(bucket.updated));
}

void RateLimiter::Import(std::string_view key, std::string_view value) {
  std::vector<std::string_view> fields = signals_internal::SplitFields(value);
  Bucket bucket;
  int64_t updated_ns = 0;
  bool ok = !key.empty() && key.size() <= kMaxKeyBytes && fields.size() == 5 && fields[0] == "1" &&
            signals_internal::ParseInt64(fields[1], &bucket.capacity) && bucket.capacity >= 1 &&
            signals_internal::ParseInt64(fields[2], &bucket.window_ns) && bucket.window_ns >= 1 &&
            ParseInt128(fields[3], &bucket.scaled) &&
            bucket.scaled <= Int128{bucket.capacity} * bucket.window_ns &&
            signals_internal::ParseInt64(fields[4], &updated_ns);
  if (!ok) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bucket.updated = absl::FromUnixNanos(updated_ns);
  table_.Put(key, bucket);
}

StateRows RateLimiter::TakeDirty() { return table_.TakeDirty(&RateLimiter::Encode); }
StateRows RateLimiter::Snapshot() const { return table_.Snapshot(&RateLimiter::Encode); }

}  // namespace warden::auth
