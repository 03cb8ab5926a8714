// The unit the state store persists for the in-memory signal tables (known
// devices, last sign-ins, failed attempts, hour baselines, rate-limit
// buckets): a key and an opaque value each table encodes itself; and
// PersistedTable, the one persistence surface all of those tables share.
#ifndef WARDEN_RUNTIME_AUTH_STATE_ROWS_H_
#define WARDEN_RUNTIME_AUTH_STATE_ROWS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace warden::auth {

struct StateRow {
  std::string key;
  std::string value;  // empty: the row is deleted
};

using StateRows = std::vector<StateRow>;

// What the check service persists of a stateful signal table, under the
// table's kind in the state store (StateStore::SaveRows / LoadRows).
class PersistedTable {
 public:
  virtual ~PersistedTable() = default;
  // A row read from the store at start-up; undecodable rows are ignored and
  // counted in rejected_rows().
  virtual void Import(std::string_view key, std::string_view value) = 0;
  // The rows changed since the last call (value "" = deleted, evictions too).
  virtual StateRows TakeDirty() = 0;
  // Every live row, for a full rewrite of the store.
  virtual StateRows Snapshot() const = 0;
  virtual size_t rejected_rows() const = 0;
  virtual size_t size() const = 0;
  // Deletions (evictions) TakeDirty could not report: rewrite from Snapshot().
  virtual size_t dropped_deletions() const = 0;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_STATE_ROWS_H_
