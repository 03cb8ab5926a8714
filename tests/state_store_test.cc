// The SQLite state store (runtime/auth/state_store.h): opening and refusing
// files, pragmas, revocations, API key rows, signal rows, data_version.
#include "runtime/auth/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/auth/api_keys.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

using testing::Contains;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::unique_ptr<StateStore> MustOpen(const std::string& path, bool create = true) {
  StateStoreOptions options;
  options.create_if_missing = create;
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path, options);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return *std::move(store);
}

absl::Status OpenStatus(const std::string& path, bool create = false) {
  StateStoreOptions options;
  options.create_if_missing = create;
  return StateStore::Open(path, options).status();
}

// Runs SQL on a connection of its own (another process, as far as SQLite is
// concerned).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
          SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
}

std::vector<std::pair<std::string, std::string>> Rows(StateStore& store, std::string_view kind) {
  std::vector<std::pair<std::string, std::string>> rows;
  absl::Status s = store.LoadRows(kind, [&](std::string_view key, std::string_view value) {
    rows.emplace_back(std::string(key), std::string(value));
  });
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return rows;
}

ApiKeyRecord SampleKey(const std::string& id) {
  ApiKeyRecord r;
  r.id = id;
  r.salt = std::string(kApiKeySaltBytes, 's');
  r.hash = std::string(kApiKeyHashBytes, 'h');
  r.subject = "svc-reports";
  r.roles = {"reader", "exporter"};
  r.tenant = "acme";
  r.actions = {"read"};
  r.resource_types = {"document", "report"};
  r.created = absl::FromUnixSeconds(1790000000);
  r.expires = absl::FromUnixSeconds(1790000000 + 86400);
  r.description = "nightly export";
  return r;
}

// A database of several pages, closed (so its WAL is checkpointed).
std::string MakeBigDatabase(const TempDir& dir) {
  const std::string path = dir / "big.db";
  auto store = MustOpen(path);
  StateRows rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back({absl::StrCat("device-", i), std::string(200, static_cast<char>('a' + i % 26))});
  }
  REQUIRE(store->SaveRows("devices", rows).ok());
  return path;
}

TEST_CASE("a missing file is NotFound with the command that creates it") {
  TempDir dir;
  const std::string path = dir / "state.db";
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(Contains(std::string(s.message()), path + ": no such file"));
  CHECK(Contains(std::string(s.message()), "warden state init --state " + path));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("create_if_missing makes a WAL database marked as Warden's") {
  TempDir dir;
  const std::string path = dir / "state.db";
  {
    auto store = MustOpen(path);
    CHECK(store->path() == path);
    absl::StatusOr<StateStats> stats = store->Stats(absl::Now());
    REQUIRE(stats.ok());
    CHECK(stats->journal_mode == "wal");
    CHECK(stats->schema_version == kStateSchemaVersion);
    CHECK(stats->api_keys == 0);
    REQUIRE(store->RevokeJti("j", std::nullopt, "").ok());
    CHECK(std::filesystem::exists(path + "-wal"));  // WAL while open
    // Owner-only, the WAL file too.
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((path + "-wal").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  // The -wal file is gone after a clean close (checkpointed).
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  // The marks are in the file, visible to any SQLite client.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::string value(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    return value;
  };
  CHECK(pragma("PRAGMA journal_mode") == "wal");
  CHECK(pragma("PRAGMA application_id") == std::to_string(kStateApplicationId));
  CHECK(pragma("PRAGMA user_version") == std::to_string(kStateSchemaVersion));
  sqlite3_close(db);
  // Reopening without create works and keeps the data.
  auto store = MustOpen(path, false);
  absl::StatusOr<Revocations> revoked = store->LoadRevocations(absl::Now());
  REQUIRE(revoked.ok());
  CHECK(revoked->jtis.contains("j"));
}

// Issue 12, finding 1: a 0-byte file is a lost database (every revocation
// gone), never a new one, whether or not a missing file may be created.
TEST_CASE("an empty (0-byte) file is DataLoss, with or without create, and stays 0 bytes") {
  TempDir dir;
  const std::string path = dir.Write("state.db", "");
  for (bool create : {false, true}) {
    CAPTURE(create);
    absl::Status s = OpenStatus(path, create);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(Contains(std::string(s.message()), path + ": the state database is empty (0 bytes)"));
    CHECK(std::filesystem::file_size(path) == 0);
    CHECK_FALSE(std::filesystem::exists(path + "-wal"));
    CHECK_FALSE(std::filesystem::exists(path + "-journal"));
  }
}

TEST_CASE("a SQLite file without tables is not taken for a new database") {
  TempDir dir;
  const std::string path = dir / "state.db";
  RawExec(path, "PRAGMA user_version=0; CREATE TABLE t(x); DROP TABLE t;");
  REQUIRE(std::filesystem::file_size(path) > 0);
  absl::Status s = OpenStatus(path, true);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(s.message()), "a SQLite database without tables"));
}

TEST_CASE("a Warden database that lost its tables is DataLoss naming them") {
  TempDir dir;
  const std::string path = dir / "state.db";
  MustOpen(path);
  RawExec(path, "DROP TABLE revoked_jti; DROP TABLE api_key;");
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(s.message()), "(revoked_jti, api_key missing)"));
}

TEST_CASE("read_only opens a healthy database and never writes a schema") {
  TempDir dir;
  const std::string path = dir / "state.db";
  MustOpen(path);
  StateStoreOptions options;
  options.read_only = true;
  options.create_if_missing = true;  // ignored
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path, options);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK((*store)->Stats(absl::Now())->schema_version == kStateSchemaVersion);
  store->reset();
  // A missing file stays missing.
  CHECK(StateStore::Open(dir / "missing.db", options).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));
}

TEST_CASE("a directory is refused with a hint") {
  TempDir dir;
  absl::Status s = OpenStatus(dir.path(), true);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(std::string(s.message()), dir.path() + ": is a directory"));
}

TEST_CASE("a missing parent directory is refused") {
  TempDir dir;
  absl::Status s = OpenStatus(dir / "no/such/dir/state.db", true);
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(Contains(std::string(s.message()), "is not a directory"));
}

TEST_CASE("an unreadable file is PermissionDenied") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root reads any file");
    return;
  }
  TempDir dir;
  const std::string path = dir / "state.db";
  MustOpen(path).reset();
  REQUIRE(::chmod(path.c_str(), 0) == 0);
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(Contains(std::string(s.message()), path));
}

TEST_CASE("a file that is not SQLite is DataLoss, and is left alone") {
  TempDir dir;
  const std::string garbage(5000, 'x');
  const std::string path = dir.Write("state.db", garbage);
  absl::Status s = OpenStatus(path, true);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(s.message()), path + ": not a SQLite database"));
  CHECK(Contains(std::string(s.message()), "warden state init"));
  CHECK(ReadFile(path) == garbage);
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));

  // A short file with a text header, too.
  const std::string small = dir.Write("small.db", "{\"not\": \"sqlite\"}\n");
  CHECK(OpenStatus(small).code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("the shared deliberately corrupt file is refused cleanly") {
  const std::string shared = std::string(WARDEN_SOURCE_DIR) +
                             "/../shared/data/geoip/GeoIP2-City-Test-Broken-Double-Format.mmdb";
  if (!std::filesystem::exists(shared)) {
    MESSAGE("skipped: ../shared/data is not beside the checkout");
    return;
  }
  TempDir dir;
  const std::string path = dir.Write("state.db", ReadFile(shared));  // shared/ is read-only
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(s.message()), path));
}

TEST_CASE("a database truncated in the middle of a page is DataLoss") {
  TempDir dir;
  const std::string path = MakeBigDatabase(dir);
  const auto size = std::filesystem::file_size(path);
  REQUIRE(size > 4096 * 20);
  // Keep the header page intact, cut the rest mid-page.
  std::filesystem::resize_file(path, size / 2 + 1000);
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(s.message()), path + ": the database is corrupt"));
  CHECK(Contains(std::string(s.message()), "restore it from a backup"));
}

TEST_CASE("a database with damaged pages is DataLoss") {
  TempDir dir;
  const std::string path = MakeBigDatabase(dir);
  std::string bytes = ReadFile(path);
  // Overwrite pages 3-6 (b-tree pages of the row table) with noise.
  for (size_t i = 4096 * 2; i < 4096 * 6 && i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(i * 131 % 251);
  }
  WriteFile(path, bytes);
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(s.message()), path));
}

TEST_CASE("another application's SQLite database is refused") {
  TempDir dir;
  const std::string path = dir / "other.db";
  RawExec(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  absl::Status s = OpenStatus(path, true);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(std::string(s.message()), "not a Warden state database"));
}

TEST_CASE("a newer schema version is refused") {
  TempDir dir;
  const std::string path = dir / "state.db";
  MustOpen(path).reset();
  RawExec(path, "PRAGMA user_version = 99");
  absl::Status s = OpenStatus(path);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(std::string(s.message()), "schema version 99"));
  CHECK(Contains(std::string(s.message()), "upgrade warden"));
}

TEST_CASE("an empty path is InvalidArgument") {
  CHECK(OpenStatus("", true).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("rows: round trip, update, delete, binary-safe, per kind") {
  TempDir dir;
  auto store = MustOpen(dir / "state.db");
  const std::string binary_key("k\0ey", 4), binary_value("\0\x01\xff", 3);
  REQUIRE(store->SaveRows("devices", {{"b", "2"}, {"a", "1"}, {binary_key, binary_value}}).ok());
  REQUIRE(store->SaveRows("attempts", {{"a", "other kind"}}).ok());
  CHECK(Rows(*store, "devices") == std::vector<std::pair<std::string, std::string>>{
                                       {"a", "1"}, {"b", "2"}, {binary_key, binary_value}});
  REQUIRE(store->SaveRows("devices", {{"a", "1b"}, {"b", ""}, {"missing", ""}}).ok());
  CHECK(Rows(*store, "devices") ==
        std::vector<std::pair<std::string, std::string>>{{"a", "1b"}, {binary_key, binary_value}});
  CHECK(Rows(*store, "attempts").size() == 1);
  CHECK(Rows(*store, "hours").empty());
  absl::StatusOr<StateStats> stats = store->Stats(absl::Now());
  REQUIRE(stats.ok());
  CHECK(stats->rows == std::map<std::string, int64_t>{{"attempts", 1}, {"devices", 2}});
}

TEST_CASE("rows survive a reopen") {
  TempDir dir;
  const std::string path = dir / "state.db";
  REQUIRE(MustOpen(path)->SaveRows("last_signin", {{"alice", "v1"}}).ok());
  CHECK(Rows(*MustOpen(path, false), "last_signin").size() == 1);
}

TEST_CASE("rows: a batch is one transaction") {
  TempDir dir;
  const std::string path = dir / "state.db";
  auto store = MustOpen(path);
  REQUIRE(store->SaveRows("devices", {{"kept", "1"}}).ok());
  // A trigger (from another connection) makes the third insert fail.
  RawExec(path,
          "CREATE TRIGGER poison BEFORE INSERT ON signal_row WHEN NEW.key = CAST('poison' AS BLOB) "
          "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;");
  absl::Status s = store->SaveRows("devices", {{"a", "1"}, {"kept", ""}, {"poison", "x"}});
  CHECK_FALSE(s.ok());
  CHECK(Contains(std::string(s.message()), "poisoned row"));
  // Neither the insert before it nor the delete happened.
  CHECK(Rows(*store, "devices") == std::vector<std::pair<std::string, std::string>>{{"kept", "1"}});

  // Many rows in one save are quick: one commit, not one per row.
  StateRows many;
  for (int i = 0; i < 20000; ++i) many.push_back({absl::StrCat("k", i), "v"});
  const absl::Time start = absl::Now();
  REQUIRE(store->SaveRows("buckets", many).ok());
  CHECK(absl::Now() - start < absl::Seconds(20));
  CHECK(Rows(*store, "buckets").size() == 20000);
}

TEST_CASE("rows: bounds and kinds are checked before anything is written") {
  TempDir dir;
  StateStoreOptions options;
  options.create_if_missing = true;
  options.max_row_key_bytes = 8;
  options.max_row_value_bytes = 16;
  options.max_rows_per_save = 3;
  auto store = *StateStore::Open(dir / "state.db", options);
  CHECK(store->SaveRows("devices", {{"ok", "1"}, {"123456789", "x"}}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(store->SaveRows("devices", {{"ok", std::string(17, 'v')}}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(store->SaveRows("devices", {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Rows(*store, "devices").empty());
  for (std::string_view kind :
       std::vector<std::string_view>{"", "Devices", "a b", "x;drop", std::string_view("x\0y", 3)}) {
    CHECK(store->SaveRows(kind, {{"a", "1"}}).code() == absl::StatusCode::kInvalidArgument);
    CHECK(store->LoadRows(kind, [](std::string_view, std::string_view) {}).code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK(store->SaveRows(std::string(65, 'a'), {}).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("revocations: jtis with forget times, subjects per issuer") {
  TempDir dir;
  const std::string path = dir / "state.db";
  auto store = MustOpen(path);
  const absl::Time now = absl::Now();
  const absl::Time exp = absl::FromUnixMicros(absl::ToUnixMicros(now + absl::Hours(1)));
  REQUIRE(store->RevokeJti("jti-1", exp, "laptop stolen").ok());
  REQUIRE(store->RevokeJti("jti-2", std::nullopt, "").ok());
  REQUIRE(store->RevokeSubject("", "alice", now, "left the company").ok());
  REQUIRE(store->RevokeSubject("https://id.example.com", "bob", now - absl::Hours(1), "").ok());

  absl::StatusOr<Revocations> r = store->LoadRevocations(now);
  REQUIRE(r.ok());
  CHECK(r->jtis.size() == 2);
  CHECK(r->jtis.at("jti-1") == exp);
  // Unknown expiry: kept 30 days from the revocation.
  CHECK(r->jtis.at("jti-2") > now + absl::Hours(24 * 30) - absl::Minutes(1));
  CHECK(r->jtis.at("jti-2") < absl::Now() + absl::Hours(24 * 30) + absl::Minutes(1));
  CHECK(r->subjects.size() == 2);
  CHECK(r->subjects.at("\nalice") == absl::FromUnixMicros(absl::ToUnixMicros(now)));
  CHECK(r->subjects.at(RevokedSubjectKey("https://id.example.com", "bob")) ==
        absl::FromUnixMicros(absl::ToUnixMicros(now - absl::Hours(1))));

  // Still there within the leeway margin past exp.
  CHECK(store->LoadRevocations(exp + absl::Minutes(1))->jtis.contains("jti-1"));
  // Forgotten after it, and deleted from the file.
  r = store->LoadRevocations(exp + absl::Hours(1));
  REQUIRE(r.ok());
  CHECK_FALSE(r->jtis.contains("jti-1"));
  CHECK(r->jtis.contains("jti-2"));
  CHECK(r->subjects.size() == 2);  // subjects are not forgotten
  CHECK_FALSE(store->LoadRevocations(now)->jtis.contains("jti-1"));
  CHECK(store->Stats(now)->revoked_jtis == 1);
}

TEST_CASE("revocations: revoking again never shortens") {
  TempDir dir;
  auto store = MustOpen(dir / "state.db");
  const absl::Time t = absl::FromUnixSeconds(1800000000);
  REQUIRE(store->RevokeJti("j", t, "").ok());
  REQUIRE(store->RevokeJti("j", t - absl::Hours(5), "").ok());
  REQUIRE(store->RevokeSubject("iss", "s", t, "").ok());
  REQUIRE(store->RevokeSubject("iss", "s", t - absl::Hours(5), "").ok());
  absl::StatusOr<Revocations> r = store->LoadRevocations(t - absl::Hours(10));
  REQUIRE(r.ok());
  CHECK(r->jtis.at("j") == t);
  CHECK(r->subjects.at("iss\ns") == t);
  REQUIRE(store->RevokeJti("j", t + absl::Hours(5), "").ok());
  REQUIRE(store->RevokeSubject("iss", "s", t + absl::Hours(5), "").ok());
  r = store->LoadRevocations(t - absl::Hours(10));
  CHECK(r->jtis.at("j") == t + absl::Hours(5));
  CHECK(r->subjects.at("iss\ns") == t + absl::Hours(5));
}

TEST_CASE("revocations: inputs are bounded") {
  TempDir dir;
  auto store = MustOpen(dir / "state.db");
  const std::string big(1025, 'x');
  CHECK(store->RevokeJti("", std::nullopt, "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->RevokeJti(big, std::nullopt, "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->RevokeJti(std::string(1024, 'x'), std::nullopt, "").ok());
  CHECK(store->RevokeJti("j", std::nullopt, big).code() == absl::StatusCode::kInvalidArgument);
  const absl::Time t = absl::Now();
  CHECK(store->RevokeSubject("", "", t, "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->RevokeSubject("", big, t, "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->RevokeSubject(big, "s", t, "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->RevokeSubject("a\nb", "s", t, "").code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->RevokeSubject("", "s", t, big).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("api keys: put, list, get, replace, revoke") {
  TempDir dir;
  const std::string path = dir / "state.db";
  auto store = MustOpen(path);
  ApiKeyRecord a = SampleKey("00112233445566aa");
  ApiKeyRecord b = SampleKey("00112233445566bb");
  b.created = a.created + absl::Seconds(1);
  b.expires.reset();
  b.roles.clear();
  b.actions.clear();
  b.resource_types.clear();
  b.tenant.clear();
  b.rotated_from = a.id;
  b.salt = std::string("\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7", 16);  // binary-safe
  REQUIRE(store->PutApiKey(b).ok());
  REQUIRE(store->PutApiKey(a).ok());

  auto check_equal = [](const ApiKeyRecord& x, const ApiKeyRecord& y) {
    CHECK(x.id == y.id);
    CHECK(x.salt == y.salt);
    CHECK(x.hash == y.hash);
    CHECK(x.subject == y.subject);
    CHECK(x.roles == y.roles);
    CHECK(x.tenant == y.tenant);
    CHECK(x.actions == y.actions);
    CHECK(x.resource_types == y.resource_types);
    CHECK(x.created == y.created);
    CHECK(x.expires == y.expires);
    CHECK(x.revoked == y.revoked);
    CHECK(x.description == y.description);
    CHECK(x.rotated_from == y.rotated_from);
  };
  absl::StatusOr<std::vector<ApiKeyRecord>> keys = MustOpen(path, false)->ListApiKeys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  check_equal((*keys)[0], a);  // oldest first
  check_equal((*keys)[1], b);

  absl::StatusOr<std::optional<ApiKeyRecord>> got = store->GetApiKey(b.id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  check_equal(**got, b);
  CHECK_FALSE(store->GetApiKey("ffffffffffffffff")->has_value());

  a.description = "replaced";
  REQUIRE(store->PutApiKey(a).ok());
  CHECK(store->ListApiKeys()->at(0).description == "replaced");
  CHECK(store->ListApiKeys()->size() == 2);

  const absl::Time when = absl::FromUnixSeconds(1790001000);
  CHECK(*store->RevokeApiKey(a.id, when) == true);
  CHECK(*store->RevokeApiKey(a.id, when + absl::Hours(1)) == true);  // keeps the first time
  CHECK(*store->RevokeApiKey("ffffffffffffffff", when) == false);
  CHECK(store->GetApiKey(a.id)->value().revoked == when);
  CHECK(store->Stats(when)->api_keys == 2);
  CHECK(store->Stats(when)->api_keys_active == 1);
}

TEST_CASE("api keys: invalid records are refused; PutApiKeys is all or nothing") {
  TempDir dir;
  auto store = MustOpen(dir / "state.db");
  ApiKeyRecord bad = SampleKey("not-hex-id-00000");
  CHECK(store->PutApiKey(bad).code() == absl::StatusCode::kInvalidArgument);
  ApiKeyRecord good = SampleKey("0000000000000001");
  ApiKeyRecord short_hash = SampleKey("0000000000000002");
  short_hash.hash = "x";
  CHECK(store->PutApiKeys({good, short_hash}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(store->ListApiKeys()->empty());
  CHECK(store->PutApiKeys({good, SampleKey("0000000000000003")}).ok());
  CHECK(store->ListApiKeys()->size() == 2);
}

TEST_CASE("api keys: a damaged row is DataLoss, not a crash") {
  TempDir dir;
  const std::string path = dir / "state.db";
  REQUIRE(MustOpen(path)->PutApiKey(SampleKey("00112233445566aa")).ok());
  RawExec(path, "UPDATE api_key SET hash = x'00'");
  absl::StatusOr<std::vector<ApiKeyRecord>> keys = MustOpen(path, false)->ListApiKeys();
  CHECK(keys.status().code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(std::string(keys.status().message()), "00112233445566aa"));
}

TEST_CASE("data_version changes when another connection commits, not on our own") {
  TempDir dir;
  const std::string path = dir / "state.db";
  auto server = MustOpen(path);
  auto cli = MustOpen(path, false);
  const int64_t v1 = *server->DataVersion();
  CHECK(*server->DataVersion() == v1);
  REQUIRE(server->RevokeJti("own", std::nullopt, "").ok());
  CHECK(*server->DataVersion() == v1);
  REQUIRE(cli->RevokeJti("other", std::nullopt, "").ok());
  const int64_t v2 = *server->DataVersion();
  CHECK(v2 != v1);
  CHECK(server->LoadRevocations(absl::Now())->jtis.contains("other"));
  REQUIRE(cli->PutApiKey(SampleKey("00112233445566aa")).ok());
  CHECK(*server->DataVersion() != v2);
  CHECK(server->ListApiKeys()->size() == 1);
  // A raw sqlite3 client counts as another connection too.
  const int64_t v3 = *server->DataVersion();
  RawExec(path, "DELETE FROM revoked_jti WHERE jti = 'other'");
  CHECK(*server->DataVersion() != v3);
}

TEST_CASE("a writer that holds the lock past the busy timeout gives Unavailable") {
  TempDir dir;
  const std::string path = dir / "state.db";
  MustOpen(path).reset();
  StateStoreOptions options;
  options.busy_timeout = absl::Milliseconds(100);
  auto store = *StateStore::Open(path, options);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  absl::Status s = store->RevokeJti("j", std::nullopt, "");
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(Contains(std::string(s.message()), path));
  // Readers are not blocked by the writer (WAL).
  CHECK(store->LoadRevocations(absl::Now()).ok());
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(store->RevokeJti("j", std::nullopt, "").ok());
}

TEST_CASE("one store is safe to use from several threads") {
  TempDir dir;
  auto store = MustOpen(dir / "state.db");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (!store->SaveRows("attempts", {{absl::StrCat("t", t, "-", i), "1"}}).ok()) ++failures;
        if (!store->LoadRevocations(absl::Now()).ok()) ++failures;
        if (!store->DataVersion().ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(Rows(*store, "attempts").size() == 200);
}

// Issue 12, finding 7: a write on a database damaged while it is open is an
// error the caller can report (DataLoss), not a silent success or a crash.
TEST_CASE("a write on a database corrupted while open fails with a status") {
  TempDir dir;
  const std::string path = dir / "state.db";
  auto store = MustOpen(path);
  REQUIRE(store->SaveRows("devices", {{"a", "1"}}).ok());
  WriteFile(path, std::string(std::filesystem::file_size(path), '\x5a'));
  for (const char* suffix : {"-wal", "-shm"}) {
    if (std::filesystem::exists(path + suffix)) {
      WriteFile(path + suffix, std::string(std::filesystem::file_size(path + suffix), '\0'));
    }
  }
  absl::Status s = store->SaveRows("devices", {{"b", "2"}});
  CHECK_FALSE(s.ok());
  CHECK(Contains(std::string(s.message()), path));
}

}  // namespace
}  // namespace warden::auth
