// The verification cache (issue 5, item 5): verified tokens by the SHA-256
// of the token text, so a repeated bearer token skips parsing and the
// signature check. The token itself is never stored. Bounded (the oldest
// entry of a shard goes first) and strict about time: an entry is never
// returned at or after its token's expires_at, with no leeway, nor once a
// JWKS reload has withdrawn the key that verified it (issue 12, item 6:
// VerifiedToken::KeyWithdrawn). Revocation is not cached here: the caller
// checks it on every hit.
#ifndef WARDEN_RUNTIME_AUTH_TOKEN_CACHE_H_
#define WARDEN_RUNTIME_AUTH_TOKEN_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "runtime/auth/jwt_verifier.h"

namespace warden::auth {

class TokenCache {
 public:
  // max_entries is spread over the shards (at least one entry each); 0
  // makes a cache that never stores anything.
  explicit TokenCache(size_t max_entries = 100000);
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The verified token, or nullptr when absent, expired at `now` or
  // verified by a withdrawn key.
  std::shared_ptr<const VerifiedToken> Find(std::string_view token, absl::Time now) const;
  // Stores `verified` (ignored when null or already expired at `now`),
  // replacing an entry for the same token.
  void Insert(std::string_view token, std::shared_ptr<const VerifiedToken> verified,
              absl::Time now);
  void Clear();
  size_t size() const;

  static constexpr size_t kShards = 16;

 private:
  using Digest = std::array<uint8_t, 32>;
  struct Entry {
    std::shared_ptr<const VerifiedToken> token;
    absl::Time expires_at;
    uint64_t sequence;  // matches the entry's record in `order`
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<Digest, Entry> entries ABSL_GUARDED_BY(mu);
    // Insertion order for eviction; records of replaced or dropped entries
    // are skipped (their sequence no longer matches) and compacted away.
    std::deque<std::pair<Digest, uint64_t>> order ABSL_GUARDED_BY(mu);
    uint64_t next_sequence ABSL_GUARDED_BY(mu) = 0;
  };

  static Digest Hash(std::string_view token);
  Shard& ShardOf(const Digest& digest) const { return shards_[digest[0] % kShards]; }
  static void Compact(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  size_t per_shard_;
  // Mutable: Find drops the expired entries it meets.
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_TOKEN_CACHE_H_
