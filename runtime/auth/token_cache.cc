#include "runtime/auth/token_cache.h"

#include <openssl/sha.h>

#include <algorithm>

namespace warden::auth {

TokenCache::TokenCache(size_t max_entries)
    : per_shard_(max_entries == 0 ? 0
                                  : std::max<size_t>(1, (max_entries + kShards - 1) / kShards)) {}

TokenCache::Digest TokenCache::Hash(std::string_view token) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

std::shared_ptr<const VerifiedToken> TokenCache::Find(std::string_view token,
                                                      absl::Time now) const {
  if (per_shard_ == 0) return nullptr;
  Digest digest = Hash(token);
  Shard& shard = ShardOf(digest);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(digest);
  if (it == shard.entries.end()) return nullptr;
  // Strict: no leeway for cached tokens, and none for a withdrawn key.
  if (now >= it->second.expires_at || it->second.token->KeyWithdrawn()) {
    shard.entries.erase(it);
    return nullptr;
  }
  return it->second.token;
}

void TokenCache::Compact(Shard& shard) {
  std::deque<std::pair<Digest, uint64_t>> live;
  for (const auto& record : shard.order) {
    auto it = shard.entries.find(record.first);
    if (it != shard.entries.end() && it->second.sequence == record.second) live.push_back(record);
  }
  shard.order.swap(live);
}

void TokenCache::Insert(std::string_view token, std::shared_ptr<const VerifiedToken> verified,
                        absl::Time now) {
  if (per_shard_ == 0 || verified == nullptr || now >= verified->expires_at) return;
  Digest digest = Hash(token);
  Shard& shard = ShardOf(digest);
  absl::MutexLock lock(&shard.mu);
  auto existing = shard.entries.find(digest);
  if (existing == shard.entries.end()) {
    // Full: drop the oldest live entry.
    while (shard.entries.size() >= per_shard_ && !shard.order.empty()) {
      auto [oldest, sequence] = shard.order.front();
      shard.order.pop_front();
      auto it = shard.entries.find(oldest);
      if (it != shard.entries.end() && it->second.sequence == sequence) shard.entries.erase(it);
    }
  }
  uint64_t sequence = shard.next_sequence++;
  absl::Time expires_at = verified->expires_at;
  shard.entries.insert_or_assign(digest, Entry{std::move(verified), expires_at, sequence});
  shard.order.emplace_back(digest, sequence);
  // Stale records (replaced or expired entries) must not grow without bound.
  if (shard.order.size() > 2 * per_shard_ + 16) Compact(shard);
}

void TokenCache::Clear() {
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    shard.entries.clear();
    shard.order.clear();
  }
}

size_t TokenCache::size() const {
  size_t total = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace warden::auth
