// The authentication front-end's durable state in one embedded SQLite file:
// token revocations, API key records (salted hashes only), and the rows the
// in-memory signal tables persist (known devices, last sign-ins, failed
// attempts, hour baselines, rate-limit buckets).
//
// One file, shared by the server and the CLI: `warden keys create` or
// `warden tokens revoke` commits from another process, and the server sees
// the change through DataVersion() and reloads. Hence WAL journaling
// (readers never block the writer), synchronous=NORMAL (a commit survives a
// crash of the process; a power loss may lose the last commits, never the
// file's integrity) and a busy timeout for the short write transactions.
//
// The file is marked as Warden's with `PRAGMA application_id` and carries its
// schema version in `PRAGMA user_version`. Open refuses, with a Status that
// names the path and says what to do, a missing file (unless asked to
// create it), a directory, an unreadable file, a file that is not SQLite, a
// SQLite database that is not Warden's, a newer schema, an empty (0-byte)
// file, a Warden database missing its tables, and a file that fails
// `PRAGMA quick_check`. Times are stored to the microsecond.
#ifndef WARDEN_RUNTIME_AUTH_STATE_STORE_H_
#define WARDEN_RUNTIME_AUTH_STATE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "runtime/auth/api_keys.h"
#include "runtime/auth/state_rows.h"

struct sqlite3;
struct sqlite3_stmt;

namespace warden::auth {

// The schema this build writes and reads (`PRAGMA user_version`).
inline constexpr int kStateSchemaVersion = 1;
// `PRAGMA application_id`: "WRDN", so `file(1)` and Open can tell Warden's
// databases from other SQLite files.
inline constexpr int32_t kStateApplicationId = 0x5752444e;

struct StateStoreOptions {
  // Creates a MISSING file only: an existing file, even an empty one, must
  // already be a Warden state database (a 0-byte file is a lost database, and
  // taking it as fresh would silently drop every revocation).
  bool create_if_missing = false;
  // Checks without writing: never creates tables or changes the journal mode
  // (`warden state check`). Ignores create_if_missing.
  bool read_only = false;
  absl::Duration busy_timeout = absl::Seconds(5);  // waiting for another writer
  // How long a revoked jti of unknown expiry is remembered.
  absl::Duration jti_retention_without_expiry = absl::Hours(24 * 30);
  // A verifier accepts a token up to its clock leeway past exp, so a revoked
  // jti is kept (and loaded) this long past its forget time.
  absl::Duration jti_kept_past_forget = absl::Minutes(5);
  // Bounds on inputs; a larger one is InvalidArgument.
  size_t max_id_bytes = 1024;       // jti, subject, issuer
  size_t max_reason_bytes = 1024;   // revocation reasons
  size_t max_row_key_bytes = 4096;  // SaveRows keys
  size_t max_row_value_bytes = 1 << 20;
  size_t max_rows_per_save = 1 << 20;
};

struct Revocations {
  // Revoked jti -> when the row may be forgotten (the token's exp, or the
  // revocation time + jti_retention_without_expiry when the exp is unknown).
  absl::flat_hash_map<std::string, absl::Time> jtis;
  // issuer + '\n' + subject (issuer "" = every issuer) -> tokens issued
  // before this time are revoked.
  absl::flat_hash_map<std::string, absl::Time> subjects;
};

// The key of Revocations::subjects.
std::string RevokedSubjectKey(std::string_view issuer, std::string_view subject);

// What `warden state check` prints.
struct StateStats {
  int schema_version = 0;
  std::string journal_mode;
  int64_t api_keys = 0;
  int64_t api_keys_active = 0;
  int64_t revoked_jtis = 0;
  int64_t revoked_subjects = 0;
  std::map<std::string, int64_t> rows;  // signal rows per kind
};

class StateStore {  // thread-safe: one connection behind a mutex
 public:
  // Opens (or, with create_if_missing, creates) the database at `path`, sets
  // the pragmas, runs `PRAGMA quick_check` and creates the tables of a new
  // file. Errors name the path and say what to do: NotFound (missing),
  // InvalidArgument (a directory or another non-file), FailedPrecondition
  // (not Warden's, a newer schema, WAL unavailable),
  // PermissionDenied (unreadable or read-only), DataLoss (empty, not SQLite,
  // missing tables, or corrupt), Unavailable (locked by another process past busy_timeout).
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& path,
                                                          StateStoreOptions options = {});
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // ---- Revocations
  // Revoking again keeps the later forget time (or issued_before): a
  // revocation is never shortened.
  absl::Status RevokeJti(std::string_view jti, std::optional<absl::Time> token_expiry,
                         std::string_view reason);
  absl::Status RevokeSubject(std::string_view issuer, std::string_view subject,
                             absl::Time issued_before, std::string_view reason);
  // Everything revoked, without the jti rows whose forget time +
  // jti_kept_past_forget is <= now (those are deleted from the file too).
  absl::StatusOr<Revocations> LoadRevocations(absl::Time now);

  // ---- API keys
  absl::Status PutApiKey(const ApiKeyRecord& record);  // insert or replace
  // Several in one transaction (rotation: the new key and the old key's
  // shortened expiry commit together or not at all).
  absl::Status PutApiKeys(const std::vector<ApiKeyRecord>& records);
  // Oldest first. A row that fails ValidateApiKeyRecord is DataLoss.
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys();
  absl::StatusOr<std::optional<ApiKeyRecord>> GetApiKey(std::string_view id);
  // false: no such key. Revoking a revoked key keeps the first time.
  absl::StatusOr<bool> RevokeApiKey(std::string_view id, absl::Time when);

  // ---- Opaque rows of the in-memory signal tables
  // kind: "devices", "last_signin", "attempts", "hours", "buckets", ...
  // (1-64 characters of [a-z0-9_]). Upserts every row in ONE transaction; a
  // row with an empty value is deleted.
  absl::Status SaveRows(std::string_view kind, const StateRows& rows);
  // Visits the rows of `kind` in key order. `visit` runs under the store's
  // lock: it must not call back into the store.
  absl::Status LoadRows(
      std::string_view kind,
      const std::function<void(std::string_view key, std::string_view value)>& visit);

  // Changes whenever another connection (e.g. the CLI) committed (`PRAGMA
  // data_version`); the server polls it to reload revocations and keys. The
  // store's own commits do not change it.
  absl::StatusOr<int64_t> DataVersion();

  absl::StatusOr<StateStats> Stats(absl::Time now);

  const std::string& path() const { return path_; }

 private:
  class Statement;
  StateStore(std::string path, StateStoreOptions options, sqlite3* db);

  absl::Status Initialize(bool created) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status QuickCheck() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckTables() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UseWal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CreateSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The cached prepared statement for `sql` (a string literal), reset and
  // with its bindings cleared; null with `*status` set on failure.
  sqlite3_stmt* Prepare(const char* sql, absl::Status* status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(int rc, std::string_view doing) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PragmaInt(const char* sql, int64_t* value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PutApiKeyLocked(const ApiKeyRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InTransaction(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckId(std::string_view what, std::string_view value, bool allow_empty) const;

  const std::string path_;
  const StateStoreOptions options_;
  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const char*, sqlite3_stmt*> statements_ ABSL_GUARDED_BY(mu_);
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_STATE_STORE_H_
