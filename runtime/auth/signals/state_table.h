// Internal to runtime/auth/signals: the bounded, sharded, dirty-tracking map
// every stateful signal table is built on, and the small text codec their
// persisted values share. Not part of the signals' public API.
//
// Shape: N shards (N = min(16, max_entries)), each an absl::Mutex over a hash
// map into a recency list. Writes move an entry to the front; when a shard is
// full the back entry (least recently updated) is evicted in O(1). Reads take
// a reader lock and do not change recency, so lookups on the hot path never
// contend with each other. Capacities add up to exactly max_entries, so the
// bound is global; eviction order is LRU per shard (approximately global).
//
// Persistence: every changed key (updated, erased, evicted) is remembered as
// dirty; TakeDirty() encodes the live ones and reports the others as deleted
// (value ""), so the store mirrors memory and stays bounded too. Pending
// deletions are capped per shard (a flood of unique keys between two flushes
// cannot grow memory); deletions beyond the cap are dropped and counted
// (the store then keeps a stale row, which the next Import bounds again).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_STATE_TABLE_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_STATE_TABLE_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "runtime/auth/state_rows.h"

namespace warden::auth::signals_internal {

// Debian's absl::string_view is not std::string_view.
inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// What an update callback wants done with the entry afterwards.
enum class After { kKeep, kErase };

template <typename V>
class StateTable {
 public:
  static constexpr size_t kMaxShards = 16;

  explicit StateTable(size_t max_entries) {
    if (max_entries == 0) max_entries = 1;
    size_t shards = std::min(kMaxShards, max_entries);
    shards_.reserve(shards);
    for (size_t i = 0; i < shards; ++i) {
      // Spread the remainder so the capacities sum to max_entries exactly.
      size_t capacity = max_entries / shards + (i < max_entries % shards ? 1 : 0);
      shards_.push_back(std::make_unique<Shard>(capacity));
    }
    max_entries_ = max_entries;
  }

  StateTable(const StateTable&) = delete;
  StateTable& operator=(const StateTable&) = delete;

  size_t max_entries() const { return max_entries_; }

  // Calls fn(const V*) under a reader lock; nullptr when the key is absent.
  template <typename F>
  auto Read(std::string_view key, F&& fn) const {
    const Shard& shard = ShardFor(key);
    absl::ReaderMutexLock lock(&shard.mu);
    auto it = shard.index.find(Av(key));
    return fn(it == shard.index.end() ? static_cast<const V*>(nullptr) : &it->second->value);
  }

  // Calls fn(V& value, bool existed) under the writer lock, with a
  // default-constructed value when the key is new; fn returns After (or a
  // pair<After, R> to pass R back). Marks the key dirty, makes it the most
  // recently updated, and evicts the shard's least recently updated entry
  // when the shard is over capacity.
  template <typename F>
  void Update(std::string_view key, F&& fn) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.index.find(Av(key));
    bool existed = it != shard.index.end();
    if (!existed) {
      shard.order.push_front(Node{std::string(key), V{}});
      it = shard.index.emplace(absl::string_view(shard.order.front().key), shard.order.begin())
               .first;
    } else {
      shard.order.splice(shard.order.begin(), shard.order, it->second);
    }
    After after = fn(it->second->value, existed);
    if (after == After::kErase) {
      if (existed) shard.MarkDeleted(std::string(key), &dropped_deletions_);
      EraseLocked(shard, it);
      return;
    }
    shard.dirty.insert(std::string(key));
    EvictLocked(shard);
  }

  // Removes the key (a deletion row on the next TakeDirty).
  void Erase(std::string_view key) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.index.find(Av(key));
    if (it == shard.index.end()) return;
    shard.MarkDeleted(std::string(key), &dropped_deletions_);
    EraseLocked(shard, it);
  }

  // Inserts or replaces an entry read from the store: not dirty (the store
  // already holds it), most recently updated (evicting if full).
  void Put(std::string_view key, V value) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.index.find(Av(key));
    if (it != shard.index.end()) {
      it->second->value = std::move(value);
      shard.order.splice(shard.order.begin(), shard.order, it->second);
    } else {
      shard.order.push_front(Node{std::string(key), std::move(value)});
      shard.index.emplace(absl::string_view(shard.order.front().key), shard.order.begin());
    }
    EvictLocked(shard);
  }

  // Erases every entry for which pred(const V&) is true; returns how many.
  template <typename P>
  size_t EraseIf(P&& pred) {
    size_t erased = 0;
    for (auto& shard_ptr : shards_) {
      Shard& shard = *shard_ptr;
      absl::MutexLock lock(&shard.mu);
      for (auto node = shard.order.begin(); node != shard.order.end();) {
        auto next = std::next(node);
        if (pred(static_cast<const V&>(node->value))) {
          shard.MarkDeleted(node->key, &dropped_deletions_);
          EraseLocked(shard, shard.index.find(absl::string_view(node->key)));
          ++erased;
        }
        node = next;
      }
    }
    return erased;
  }

  // Rows changed since the last call; encode(const V&) gives a live value.
  template <typename E>
  StateRows TakeDirty(E&& encode) {
    StateRows rows;
    for (auto& shard_ptr : shards_) {
      Shard& shard = *shard_ptr;
      absl::MutexLock lock(&shard.mu);
      for (const std::string& key : shard.dirty) {
        auto it = shard.index.find(absl::string_view(key));
        rows.push_back(
            StateRow{key, it == shard.index.end() ? std::string() : encode(it->second->value)});
      }
      shard.dirty.clear();
      shard.pending_deletions = 0;
    }
    return rows;
  }

  // Every live entry (for a full rewrite of the store).
  template <typename E>
  StateRows Snapshot(E&& encode) const {
    StateRows rows;
    for (const auto& shard_ptr : shards_) {
      const Shard& shard = *shard_ptr;
      absl::ReaderMutexLock lock(&shard.mu);
      for (const Node& node : shard.order) rows.push_back(StateRow{node.key, encode(node.value)});
    }
    return rows;
  }

  size_t size() const {
    size_t total = 0;
    for (const auto& shard_ptr : shards_) {
      absl::ReaderMutexLock lock(&shard_ptr->mu);
      total += shard_ptr->index.size();
    }
    return total;
  }

  // Deletions that could not be recorded for TakeDirty (see above).
  size_t dropped_deletions() const { return dropped_deletions_.load(std::memory_order_relaxed); }

 private:
  struct Node {
    std::string key;
    V value;
  };
  using List = std::list<Node>;

  struct Shard {
    explicit Shard(size_t capacity) : capacity(capacity) {}
    const size_t capacity;
    mutable absl::Mutex mu;
    List order ABSL_GUARDED_BY(mu);  // front: most recently updated
    // Keys view the list nodes' strings (std::list nodes never move).
    absl::flat_hash_map<absl::string_view, typename List::iterator> index ABSL_GUARDED_BY(mu);
    absl::flat_hash_set<std::string> dirty ABSL_GUARDED_BY(mu);
    size_t pending_deletions ABSL_GUARDED_BY(mu) = 0;

    void MarkDeleted(std::string key, std::atomic<size_t>* dropped)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      // A key already dirty as a live row becomes a pending deletion too:
      // without the cap here, churned keys would pile up in `dirty`.
      if (pending_deletions >= std::max<size_t>(capacity, 64)) {
        dirty.erase(absl::string_view(key));
        dropped->fetch_add(1, std::memory_order_relaxed);
        return;
      }
      ++pending_deletions;
      dirty.insert(std::move(key));
    }
  };

  using IndexIt =
      typename absl::flat_hash_map<absl::string_view, typename List::iterator>::iterator;

  static void EraseLocked(Shard& shard, IndexIt it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    auto node = it->second;
    shard.index.erase(it);  // before the node: the index key views its string
    shard.order.erase(node);
  }

  void EvictLocked(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    while (shard.index.size() > shard.capacity) {
      Node& victim = shard.order.back();
      shard.MarkDeleted(victim.key, &dropped_deletions_);
      EraseLocked(shard, shard.index.find(absl::string_view(victim.key)));
    }
  }

  Shard& ShardFor(std::string_view key) const {
    size_t hash = absl::HashOf(Av(key));
    return *shards_[hash % shards_.size()];
  }

  std::vector<std::unique_ptr<Shard>> shards_;
  size_t max_entries_ = 1;
  std::atomic<size_t> dropped_deletions_{0};
};

// ------------------------------------------------------------------ codec
// Persisted values are '|'-separated text fields, the first being the
// format version ("1"). Decoders accept exactly the fields they expect.

std::vector<std::string_view> SplitFields(std::string_view value, char separator = '|');
bool ParseInt64(std::string_view text, int64_t* out);
// Finite doubles only.
bool ParseDouble(std::string_view text, double* out);
// Times travel as Unix microseconds.
std::string TimeText(absl::Time time);
bool ParseTime(std::string_view text, absl::Time* out);
// Shortest text that reads back as the same double ("%.17g" trimmed).
std::string DoubleText(double value);

}  // namespace warden::auth::signals_internal

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_STATE_TABLE_H_
