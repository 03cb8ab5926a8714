#include "runtime/auth/state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace warden::auth {
namespace {

// Every statement the store runs, as named constants: the statement cache is
// keyed by these pointers.
constexpr char kBegin[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kQuickCheck[] = "PRAGMA quick_check";
constexpr char kApplicationId[] = "PRAGMA application_id";
constexpr char kUserVersion[] = "PRAGMA user_version";
constexpr char kDataVersion[] = "PRAGMA data_version";
constexpr char kJournalModeQuery[] = "PRAGMA journal_mode";
constexpr char kJournalModeWal[] = "PRAGMA journal_mode=WAL";
constexpr char kCountTables[] = "SELECT count(*) FROM sqlite_schema";
constexpr char kTableNames[] = "SELECT name FROM sqlite_schema WHERE type = 'table'";

// Version 1. Times are Unix microseconds; lists are newline-separated (their
// items never contain control characters, see ValidateApiKeyRecord).
constexpr char kSchema[] = R"sql(
CREATE TABLE revoked_jti (
  jti        TEXT PRIMARY KEY,
  forget_at  INTEGER NOT NULL,  -- the token's exp, or revocation + retention
  revoked_at INTEGER NOT NULL,
  reason     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE revoked_subject (
  issuer        TEXT NOT NULL,  -- '' = every issuer
  subject       TEXT NOT NULL,
  issued_before INTEGER NOT NULL,
  revoked_at    INTEGER NOT NULL,
  reason        TEXT NOT NULL,
  PRIMARY KEY (issuer, subject)
) WITHOUT ROWID;
CREATE TABLE api_key (
  id             TEXT PRIMARY KEY,
  salt           BLOB NOT NULL,
  hash           BLOB NOT NULL,  -- HMAC-SHA256(salt, secret); the secret is never stored
  subject        TEXT NOT NULL,
  roles          TEXT NOT NULL,
  tenant         TEXT NOT NULL,
  actions        TEXT NOT NULL,
  resource_types TEXT NOT NULL,
  created        INTEGER NOT NULL,
  expires        INTEGER,
  revoked        INTEGER,
  description    TEXT NOT NULL,
  rotated_from   TEXT NOT NULL
);
CREATE TABLE signal_row (
  kind  TEXT NOT NULL,
  key   BLOB NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
)sql";
// The tables of kSchema, which a database of this version must hold.
constexpr const char* kTables[] = {"revoked_jti", "revoked_subject", "api_key", "signal_row"};

constexpr char kRevokeJti[] =
    "INSERT INTO revoked_jti (jti, forget_at, revoked_at, reason) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (jti) DO UPDATE SET forget_at = max(forget_at, excluded.forget_at)";
constexpr char kRevokeSubject[] =
    "INSERT INTO revoked_subject (issuer, subject, issued_before, revoked_at, reason) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (issuer, subject) DO UPDATE SET "
    "issued_before = max(issued_before, excluded.issued_before), "
    "revoked_at = excluded.revoked_at, reason = excluded.reason";
constexpr char kSelectJtis[] = "SELECT jti, forget_at FROM revoked_jti";
constexpr char kDeleteJtis[] = "DELETE FROM revoked_jti WHERE forget_at <= ?1";
constexpr char kSelectSubjects[] = "SELECT issuer, subject, issued_before FROM revoked_subject";
constexpr char kPutKey[] =
    "INSERT OR REPLACE INTO api_key (id, salt, hash, subject, roles, tenant, actions, "
    "resource_types, created, expires, revoked, description, rotated_from) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr char kKeyColumns[] =
    "SELECT id, salt, hash, subject, roles, tenant, actions, resource_types, created, expires, "
    "revoked, description, rotated_from FROM api_key ORDER BY created, id";
constexpr char kGetKey[] =
    "SELECT id, salt, hash, subject, roles, tenant, actions, resource_types, created, expires, "
    "revoked, description, rotated_from FROM api_key WHERE id = ?1";
constexpr char kRevokeKey[] = "UPDATE api_key SET revoked = coalesce(revoked, ?2) WHERE id = ?1";
constexpr char kUpsertRow[] =
    "INSERT INTO signal_row (kind, key, value) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value";
constexpr char kDeleteRow[] = "DELETE FROM signal_row WHERE kind = ?1 AND key = ?2";
constexpr char kSelectRows[] = "SELECT key, value FROM signal_row WHERE kind = ?1 ORDER BY key";
constexpr char kCountKeys[] = "SELECT count(*) FROM api_key";
constexpr char kCountActiveKeys[] =
    "SELECT count(*) FROM api_key WHERE revoked IS NULL AND (expires IS NULL OR expires > ?1)";
constexpr char kCountJtis[] = "SELECT count(*) FROM revoked_jti";
constexpr char kCountSubjects[] = "SELECT count(*) FROM revoked_subject";
constexpr char kCountRows[] = "SELECT kind, count(*) FROM signal_row GROUP BY kind ORDER BY kind";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string_view ColumnBytes(sqlite3_stmt* s, int i) {
  const void* data = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  if (data == nullptr || n <= 0) return {};
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(n));
}

std::optional<absl::Time> ColumnOptionalTime(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return FromMicros(sqlite3_column_int64(s, i));
}

std::string JoinList(const std::vector<std::string>& items) { return absl::StrJoin(items, "\n"); }

std::vector<std::string> SplitList(std::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(absl::string_view(text.data(), text.size()), '\n');
}

std::string InitHint(const std::string& path) {
  return absl::StrCat("`warden state init --state ", path, "`");
}

std::string RecreateHint(const std::string& path) {
  return absl::StrCat("restore it from a backup, or move it away and run ", InitHint(path),
                      " (its revocations and API keys are then lost)");
}

bool ValidKind(std::string_view kind) {
  return !kind.empty() && kind.size() <= 64 && std::all_of(kind.begin(), kind.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Checks what can be checked before SQLite sees the path, so that the common
// mistakes get a precise message instead of "unable to open database file".
absl::Status CheckPath(const std::string& path, bool create_if_missing) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      if (!create_if_missing) {
        return absl::NotFoundError(
            absl::StrCat(path, ": no such file; create it with ", InitHint(path)));
      }
      std::filesystem::path parent = std::filesystem::path(path).parent_path();
      if (parent.empty()) parent = ".";
      std::error_code ec;
      if (!std::filesystem::is_directory(parent, ec)) {
        return absl::NotFoundError(absl::StrCat(
            path, ": cannot create the state database: ", parent.string(), " is not a directory"));
      }
      return absl::OkStatus();
    }
    if (err == EACCES) {
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": permission denied; the user running warden needs to reach it"));
    }
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", std::strerror(err)));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory; give the path of the state database file (e.g. ",
                     (std::filesystem::path(path) / "warden-state.db").string(), ")"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file; give the path of the state database file"));
  }
  if (st.st_size == 0) {
    // SQLite takes a 0-byte file for a new database; here it is a lost one
    // (truncated, or restored from a failed copy), and treating it as new
    // would silently drop every revocation and API key.
    return absl::DataLossError(absl::StrCat(
        path,
        ": the state database is empty (0 bytes): it was truncated or not copied, and is "
        "not taken for a new one; ",
        RecreateHint(path)));
  }
  if (::access(path.c_str(), R_OK | W_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        path, ": cannot open for reading and writing (", std::strerror(errno),
        "); the user running warden needs read and write access to the file and its directory"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string RevokedSubjectKey(std::string_view issuer, std::string_view subject) {
  return absl::StrCat(std::string(issuer), "\n", std::string(subject));
}

// A cached statement in use: bindings on the way in, reset on the way out
// (an unreset SELECT would keep its read transaction, and with it an old
// snapshot, open).
class StateStore::Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  // Bind* collect the first error in rc(); SQLITE_STATIC: the values outlive
  // the statement's use.
  void Text(int i, std::string_view v) {
    Note(sqlite3_bind_text64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC,
                             SQLITE_UTF8));
  }
  void Blob(int i, std::string_view v) {
    Note(sqlite3_bind_blob64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC));
  }
  void Int(int i, int64_t v) { Note(sqlite3_bind_int64(stmt_, i, v)); }
  void OptionalTime(int i, const std::optional<absl::Time>& t) {
    Note(t.has_value() ? sqlite3_bind_int64(stmt_, i, Micros(*t)) : sqlite3_bind_null(stmt_, i));
  }
  int rc() const { return rc_; }
  // Steps once; SQLITE_ROW, SQLITE_DONE or an error (a binding error first).
  int Step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(stmt_); }

 private:
  void Note(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
  }
  sqlite3_stmt* stmt_;
  int rc_ = SQLITE_OK;
};

StateStore::StateStore(std::string path, StateStoreOptions options, sqlite3* db)
    : path_(std::move(path)), options_(options), db_(db) {}

StateStore::~StateStore() {
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  statements_.clear();
  sqlite3_close_v2(db_);  // the last connection checkpoints and removes the -wal file
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                             StateStoreOptions options) {
  if (path.empty()) return absl::InvalidArgumentError("the state database path is empty");
  if (options.read_only) options.create_if_missing = false;
  if (absl::Status s = CheckPath(path, options.create_if_missing); !s.ok()) return s;
  bool created = false;  // only a file this call created may be given the schema
  if (options.create_if_missing) {
    // The file holds who signed in from where: readable by its owner only.
    // SQLite gives the -wal and -shm files the same mode.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      created = true;
    } else if (errno != EEXIST) {
      return absl::PermissionDeniedError(
          absl::StrCat(path, ": cannot create the state database: ", std::strerror(errno)));
    }
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
                    (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(absl::StrCat(path, ": cannot open: ", message));
  }
  std::unique_ptr<StateStore> store(new StateStore(path, options, db));
  absl::Status status;
  {
    absl::MutexLock lock(&store->mu_);
    status = store->Initialize(created);
  }
  if (!status.ok()) return status;
  return store;
}

absl::Status StateStore::Error(int rc, std::string_view doing) const {
  const std::string message =
      absl::StrCat(path_, ": ", std::string(doing), ": ", sqlite3_errmsg(db_));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat(message, " (another process held the database for longer than ",
                       absl::FormatDuration(options_.busy_timeout), ")"));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(absl::StrCat(message, "; ", RecreateHint(path_)));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(absl::StrCat(
          message, "; the user running warden needs write access to the file and its directory"));
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(
          absl::StrCat(message, "; WAL needs to create ", path_, "-wal and ", path_,
                       "-shm beside it, so the directory must be writable"));
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return absl::InvalidArgumentError(message);
    case SQLITE_IOERR:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

sqlite3_stmt* StateStore::Prepare(const char* sql, absl::Status* status) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    *status = Error(rc, "preparing a statement");
    return nullptr;
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

absl::Status StateStore::Exec(const char* sql) {
  absl::Status status;
  sqlite3_stmt* raw = Prepare(sql, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return Error(rc, sql);
  return absl::OkStatus();
}

absl::Status StateStore::PragmaInt(const char* sql, int64_t* value) {
  absl::Status status;
  sqlite3_stmt* raw = Prepare(sql, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  const int rc = stmt.Step();
  if (rc != SQLITE_ROW) return Error(rc == SQLITE_DONE ? SQLITE_INTERNAL : rc, sql);
  *value = sqlite3_column_int64(raw, 0);
  return absl::OkStatus();
}

absl::Status StateStore::InTransaction(const std::function<absl::Status()>& body) {
  if (absl::Status s = Exec(kBegin); !s.ok()) return s;
  absl::Status status = body();
  if (status.ok()) status = Exec(kCommit);
  if (!status.ok() && !sqlite3_get_autocommit(db_)) (void)Exec(kRollback);
  return status;
}

absl::Status StateStore::QuickCheck() {
  // quick_check first: it reads every page's structure, and a file that is
  // not SQLite fails here (SQLITE_NOTADB) before anything is written to it.
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kQuickCheck, &status);
  if (raw == nullptr) {
    if ((sqlite3_errcode(db_) & 0xff) == SQLITE_NOTADB) {
      return absl::DataLossError(
          absl::StrCat(path_, ": not a SQLite database (", sqlite3_errmsg(db_),
                       "); if the path is wrong, fix it; otherwise ", RecreateHint(path_)));
    }
    if (status.code() == absl::StatusCode::kDataLoss) {
      return absl::DataLossError(absl::StrCat(path_, ": the database is corrupt (",
                                              sqlite3_errmsg(db_), "); ", RecreateHint(path_)));
    }
    return status;
  }
  Statement stmt(raw);
  std::vector<std::string> problems;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    std::string line(ColumnBytes(raw, 0));
    if (line != "ok" && problems.size() < 3) problems.push_back(std::move(line));
  }
  if (rc != SQLITE_DONE) {
    absl::Status s = Error(rc, "checking the database (PRAGMA quick_check)");
    if (s.code() == absl::StatusCode::kDataLoss) {
      return absl::DataLossError(absl::StrCat(path_, ": the database is corrupt (",
                                              sqlite3_errmsg(db_), "); ", RecreateHint(path_)));
    }
    return s;
  }
  if (!problems.empty()) {
    return absl::DataLossError(absl::StrCat(
        path_, ": the database is corrupt (quick_check: ", absl::StrJoin(problems, "; "), "); ",
        RecreateHint(path_)));
  }
  return absl::OkStatus();
}

// A Warden database of the current version has every table of kSchema; one
// without them lost its contents (or was emptied by hand).
absl::Status StateStore::CheckTables() {
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kTableNames, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  std::vector<std::string> missing(std::begin(kTables), std::end(kTables));
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    const std::string name(ColumnBytes(raw, 0));
    missing.erase(std::remove(missing.begin(), missing.end(), name), missing.end());
  }
  if (rc != SQLITE_DONE) return Error(rc, "listing the tables");
  if (missing.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(path_, ": a Warden state database without its tables (",
                                          absl::StrJoin(missing, ", "), " missing); ",
                                          RecreateHint(path_)));
}

// journal_mode=WAL is persistent (stored in the file); the others are per
// connection.
absl::Status StateStore::UseWal() {
  {
    absl::Status status;
    sqlite3_stmt* raw = Prepare(kJournalModeWal, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    const int rc = stmt.Step();
    if (rc != SQLITE_ROW) return Error(rc, "switching to WAL journaling");
    const std::string mode(ColumnBytes(raw, 0));
    if (mode != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, ": could not switch to WAL journaling (the mode is ", mode,
                       "); put the state database on a local file system"));
    }
  }
  if (absl::Status s = Exec("PRAGMA synchronous=NORMAL"); !s.ok()) return s;
  return Exec("PRAGMA foreign_keys=ON");
}

// `created`: this Open made the file, so a database without tables is new.
// Any other file without them is refused: SQLite also calls a 0-byte or
// emptied file a valid, empty database.
absl::Status StateStore::Initialize(bool created) {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(std::clamp<int64_t>(
                                absl::ToInt64Milliseconds(options_.busy_timeout), 0, INT32_MAX)));
  if (absl::Status s = QuickCheck(); !s.ok()) return s;

  int64_t app_id = 0, version = 0, tables = 0;
  if (absl::Status s = PragmaInt(kApplicationId, &app_id); !s.ok()) return s;
  if (absl::Status s = PragmaInt(kUserVersion, &version); !s.ok()) return s;
  if (absl::Status s = PragmaInt(kCountTables, &tables); !s.ok()) return s;
  const bool fresh = app_id == 0 && tables == 0;
  if (fresh && !created) {
    return absl::DataLossError(
        absl::StrCat(path_,
                     ": a SQLite database without tables, not a Warden state database (an empty or "
                     "emptied file is not taken for a new one); ",
                     RecreateHint(path_)));
  }
  if (!fresh && app_id != kStateApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": a SQLite database, but not a Warden state database (application_id ",
                     app_id, ", ", tables,
                     " schema objects); give the path of a Warden state database, or a new "
                     "path to ",
                     InitHint("PATH")));
  }
  if (version > kStateSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, ": the state database has schema version ", version, ", newer than the ",
        kStateSchemaVersion, " this warden understands; upgrade warden"));
  }
  if (options_.read_only && version < kStateSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": the state database has schema version ", version, ", older than ",
                     kStateSchemaVersion, "; ", InitHint(path_), " upgrades it"));
  }
  if (version == kStateSchemaVersion) {
    if (absl::Status s = CheckTables(); !s.ok()) return s;
  }
  if (options_.read_only) return absl::OkStatus();
  if (absl::Status s = UseWal(); !s.ok()) return s;
  if (fresh || version < kStateSchemaVersion) return CreateSchema();
  return absl::OkStatus();
}

absl::Status StateStore::CreateSchema() {
  return InTransaction([&]() -> absl::Status {
    // Another process may have created it while we waited for the lock.
    int64_t app_id = 0, version = 0;
    if (absl::Status s = PragmaInt(kApplicationId, &app_id); !s.ok()) return s;
    if (absl::Status s = PragmaInt(kUserVersion, &version); !s.ok()) return s;
    if (app_id == kStateApplicationId && version == kStateSchemaVersion) return absl::OkStatus();
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, kSchema, nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) return Error(rc, "creating the tables");
    const std::string pragmas = absl::StrCat("PRAGMA application_id=", kStateApplicationId,
                                             "; PRAGMA user_version=", kStateSchemaVersion);
    if (const int prc = sqlite3_exec(db_, pragmas.c_str(), nullptr, nullptr, nullptr);
        prc != SQLITE_OK) {
      return Error(prc, "setting the schema version");
    }
    return absl::OkStatus();
  });
}

absl::Status StateStore::CheckId(std::string_view what, std::string_view value,
                                 bool allow_empty) const {
  if (value.empty() && !allow_empty) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is empty"));
  }
  if (value.size() > options_.max_id_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " is longer than ", options_.max_id_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status StateStore::RevokeJti(std::string_view jti, std::optional<absl::Time> token_expiry,
                                   std::string_view reason) {
  if (absl::Status s = CheckId("jti", jti, false); !s.ok()) return s;
  if (reason.size() > options_.max_reason_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the reason is longer than ", options_.max_reason_bytes, " bytes"));
  }
  const absl::Time now = absl::Now();
  const absl::Time forget = token_expiry.value_or(now + options_.jti_retention_without_expiry);
  absl::MutexLock lock(&mu_);
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kRevokeJti, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  stmt.Text(1, jti);
  stmt.Int(2, Micros(forget));
  stmt.Int(3, Micros(now));
  stmt.Text(4, reason);
  if (const int rc = stmt.Step(); rc != SQLITE_DONE) return Error(rc, "revoking a token");
  return absl::OkStatus();
}

absl::Status StateStore::RevokeSubject(std::string_view issuer, std::string_view subject,
                                       absl::Time issued_before, std::string_view reason) {
  if (absl::Status s = CheckId("issuer", issuer, true); !s.ok()) return s;
  if (absl::Status s = CheckId("subject", subject, false); !s.ok()) return s;
  if (issuer.find('\n') != std::string_view::npos) {
    return absl::InvalidArgumentError("the issuer contains a newline");
  }
  if (reason.size() > options_.max_reason_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the reason is longer than ", options_.max_reason_bytes, " bytes"));
  }
  absl::MutexLock lock(&mu_);
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kRevokeSubject, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  stmt.Text(1, issuer);
  stmt.Text(2, subject);
  stmt.Int(3, Micros(issued_before));
  stmt.Int(4, Micros(absl::Now()));
  stmt.Text(5, reason);
  if (const int rc = stmt.Step(); rc != SQLITE_DONE) return Error(rc, "revoking a subject");
  return absl::OkStatus();
}

absl::StatusOr<Revocations> StateStore::LoadRevocations(absl::Time now) {
  absl::MutexLock lock(&mu_);
  Revocations out;
  absl::Status status;
  bool any_forgotten = false;
  {
    sqlite3_stmt* raw = Prepare(kSelectJtis, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      const absl::Time forget = FromMicros(sqlite3_column_int64(raw, 1));
      if (forget + options_.jti_kept_past_forget <= now) {
        any_forgotten = true;
        continue;
      }
      out.jtis[std::string(ColumnBytes(raw, 0))] = forget;
    }
    if (rc != SQLITE_DONE) return Error(rc, "reading revoked tokens");
  }
  {
    sqlite3_stmt* raw = Prepare(kSelectSubjects, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      out.subjects[RevokedSubjectKey(ColumnBytes(raw, 0), ColumnBytes(raw, 1))] =
          FromMicros(sqlite3_column_int64(raw, 2));
    }
    if (rc != SQLITE_DONE) return Error(rc, "reading revoked subjects");
  }
  // Only write when there is something to forget: a reload must not take the
  // write lock every time.
  if (any_forgotten) {
    sqlite3_stmt* raw = Prepare(kDeleteJtis, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    stmt.Int(1, Micros(now - options_.jti_kept_past_forget));
    if (const int rc = stmt.Step(); rc != SQLITE_DONE) {
      return Error(rc, "forgetting expired token revocations");
    }
  }
  return out;
}

absl::Status StateStore::PutApiKeyLocked(const ApiKeyRecord& r) {
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kPutKey, &status);
  if (raw == nullptr) return status;
  const std::string roles = JoinList(r.roles), actions = JoinList(r.actions),
                    types = JoinList(r.resource_types);
  Statement stmt(raw);
  stmt.Text(1, r.id);
  stmt.Blob(2, r.salt);
  stmt.Blob(3, r.hash);
  stmt.Text(4, r.subject);
  stmt.Text(5, roles);
  stmt.Text(6, r.tenant);
  stmt.Text(7, actions);
  stmt.Text(8, types);
  stmt.Int(9, Micros(r.created));
  stmt.OptionalTime(10, r.expires);
  stmt.OptionalTime(11, r.revoked);
  stmt.Text(12, r.description);
  stmt.Text(13, r.rotated_from);
  if (const int rc = stmt.Step(); rc != SQLITE_DONE) return Error(rc, "writing an API key");
  return absl::OkStatus();
}

absl::Status StateStore::PutApiKey(const ApiKeyRecord& record) { return PutApiKeys({record}); }

absl::Status StateStore::PutApiKeys(const std::vector<ApiKeyRecord>& records) {
  for (const ApiKeyRecord& r : records) {
    if (absl::Status s = ValidateApiKeyRecord(r); !s.ok()) return s;
  }
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    for (const ApiKeyRecord& r : records) {
      if (absl::Status s = PutApiKeyLocked(r); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

namespace {

absl::StatusOr<ApiKeyRecord> ReadKeyRow(sqlite3_stmt* s, const std::string& path) {
  ApiKeyRecord r;
  r.id = std::string(ColumnBytes(s, 0));
  r.salt = std::string(ColumnBytes(s, 1));
  r.hash = std::string(ColumnBytes(s, 2));
  r.subject = std::string(ColumnBytes(s, 3));
  r.roles = SplitList(ColumnBytes(s, 4));
  r.tenant = std::string(ColumnBytes(s, 5));
  r.actions = SplitList(ColumnBytes(s, 6));
  r.resource_types = SplitList(ColumnBytes(s, 7));
  r.created = FromMicros(sqlite3_column_int64(s, 8));
  r.expires = ColumnOptionalTime(s, 9);
  r.revoked = ColumnOptionalTime(s, 10);
  r.description = std::string(ColumnBytes(s, 11));
  r.rotated_from = std::string(ColumnBytes(s, 12));
  if (absl::Status v = ValidateApiKeyRecord(r); !v.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": API key `", r.id.substr(0, 64), "` is damaged: ", v.message()));
  }
  return r;
}

}  // namespace

absl::StatusOr<std::vector<ApiKeyRecord>> StateStore::ListApiKeys() {
  absl::MutexLock lock(&mu_);
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kKeyColumns, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  std::vector<ApiKeyRecord> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    absl::StatusOr<ApiKeyRecord> r = ReadKeyRow(raw, path_);
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  if (rc != SQLITE_DONE) return Error(rc, "reading API keys");
  return out;
}

absl::StatusOr<std::optional<ApiKeyRecord>> StateStore::GetApiKey(std::string_view id) {
  if (absl::Status s = CheckId("key id", id, false); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kGetKey, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  stmt.Text(1, id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) return std::optional<ApiKeyRecord>();
  if (rc != SQLITE_ROW) return Error(rc, "reading an API key");
  absl::StatusOr<ApiKeyRecord> r = ReadKeyRow(raw, path_);
  if (!r.ok()) return r.status();
  return std::optional<ApiKeyRecord>(*std::move(r));
}

absl::StatusOr<bool> StateStore::RevokeApiKey(std::string_view id, absl::Time when) {
  if (absl::Status s = CheckId("key id", id, false); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kRevokeKey, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  stmt.Text(1, id);
  stmt.Int(2, Micros(when));
  if (const int rc = stmt.Step(); rc != SQLITE_DONE) return Error(rc, "revoking an API key");
  return sqlite3_changes(db_) > 0;
}

absl::Status StateStore::SaveRows(std::string_view kind, const StateRows& rows) {
  if (!ValidKind(kind)) {
    return absl::InvalidArgumentError(absl::StrCat("row kind `", std::string(kind.substr(0, 64)),
                                                   "` must be 1-64 characters of a-z, 0-9 and _"));
  }
  if (rows.size() > options_.max_rows_per_save) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", options_.max_rows_per_save, " rows in one save"));
  }
  for (const StateRow& row : rows) {
    if (row.key.size() > options_.max_row_key_bytes ||
        row.value.size() > options_.max_row_value_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a `", std::string(kind), "` row is larger than the limit (key ",
          options_.max_row_key_bytes, " bytes, value ", options_.max_row_value_bytes, " bytes)"));
    }
  }
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    absl::Status status;
    sqlite3_stmt* upsert = Prepare(kUpsertRow, &status);
    if (upsert == nullptr) return status;
    sqlite3_stmt* remove = Prepare(kDeleteRow, &status);
    if (remove == nullptr) return status;
    for (const StateRow& row : rows) {
      Statement stmt(row.value.empty() ? remove : upsert);
      stmt.Text(1, kind);
      stmt.Blob(2, row.key);
      if (!row.value.empty()) stmt.Blob(3, row.value);
      if (const int rc = stmt.Step(); rc != SQLITE_DONE) return Error(rc, "saving state rows");
    }
    return absl::OkStatus();
  });
}

absl::Status StateStore::LoadRows(
    std::string_view kind,
    const std::function<void(std::string_view key, std::string_view value)>& visit) {
  if (!ValidKind(kind)) {
    return absl::InvalidArgumentError(absl::StrCat("row kind `", std::string(kind.substr(0, 64)),
                                                   "` must be 1-64 characters of a-z, 0-9 and _"));
  }
  absl::MutexLock lock(&mu_);
  absl::Status status;
  sqlite3_stmt* raw = Prepare(kSelectRows, &status);
  if (raw == nullptr) return status;
  Statement stmt(raw);
  stmt.Text(1, kind);
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) visit(ColumnBytes(raw, 0), ColumnBytes(raw, 1));
  if (rc != SQLITE_DONE) return Error(rc, "loading state rows");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StateStore::DataVersion() {
  absl::MutexLock lock(&mu_);
  int64_t version = 0;
  if (absl::Status s = PragmaInt(kDataVersion, &version); !s.ok()) return s;
  return version;
}

absl::StatusOr<StateStats> StateStore::Stats(absl::Time now) {
  absl::MutexLock lock(&mu_);
  StateStats stats;
  int64_t version = 0;
  if (absl::Status s = PragmaInt(kUserVersion, &version); !s.ok()) return s;
  stats.schema_version = static_cast<int>(version);
  if (absl::Status s = PragmaInt(kCountKeys, &stats.api_keys); !s.ok()) return s;
  if (absl::Status s = PragmaInt(kCountJtis, &stats.revoked_jtis); !s.ok()) return s;
  if (absl::Status s = PragmaInt(kCountSubjects, &stats.revoked_subjects); !s.ok()) return s;
  absl::Status status;
  {
    sqlite3_stmt* raw = Prepare(kJournalModeQuery, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    if (const int rc = stmt.Step(); rc != SQLITE_ROW) return Error(rc, "reading the journal mode");
    stats.journal_mode = std::string(ColumnBytes(raw, 0));
  }
  {
    sqlite3_stmt* raw = Prepare(kCountActiveKeys, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    stmt.Int(1, Micros(now));
    if (const int rc = stmt.Step(); rc != SQLITE_ROW) return Error(rc, "counting API keys");
    stats.api_keys_active = sqlite3_column_int64(raw, 0);
  }
  {
    sqlite3_stmt* raw = Prepare(kCountRows, &status);
    if (raw == nullptr) return status;
    Statement stmt(raw);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      stats.rows[std::string(ColumnBytes(raw, 0))] = sqlite3_column_int64(raw, 1);
    }
    if (rc != SQLITE_DONE) return Error(rc, "counting state rows");
  }
  return stats;
}

}  // namespace warden::auth
