// `warden state`, `warden keys` and `warden tokens`, run as the real binary
// (WARDEN_BINARY) on state databases in a fresh temporary directory; what
// they write is read back through the library, as the server would.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "runtime/auth/api_keys.h"
#include "runtime/auth/state_store.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

using nlohmann::json;
using testing::Contains;
using testing::ReadFile;
using testing::Run;
using testing::RunResult;
using testing::TempDir;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::unique_ptr<StateStore> OpenExisting(const std::string& path) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return *std::move(store);
}

std::vector<ApiKeyRecord> Keys(const std::string& path) {
  absl::StatusOr<std::vector<ApiKeyRecord>> keys = OpenExisting(path)->ListApiKeys();
  REQUIRE(keys.ok());
  return *keys;
}

// Creates a key with `args` added; returns the parsed JSON output.
json CreateKey(const std::string& state, std::vector<std::string> args) {
  std::vector<std::string> all = {"keys", "create", "--state", state, "--format", "json"};
  all.insert(all.end(), args.begin(), args.end());
  RunResult r = Run(all);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return json::parse(r.out);
}

TEST_CASE("state init creates a database; again is fine; foreign files are refused") {
  TempDir dir;
  const std::string state = dir / "state.db";
  RunResult r = Run({"state", "init", "--state", state});
  CHECK(r.exit_code == 0);
  CHECK(r.out == state + ": ready (Warden state database, schema version 1)\n");
  CHECK(std::filesystem::exists(state));
  CHECK(Run({"state", "init", "--state", state}).exit_code == 0);

  const std::string garbage = dir.Write("garbage.db", std::string(3000, 'g'));
  r = Run({"state", "init", "--state", garbage});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "warden: " + garbage + ": not a SQLite database"));
  CHECK(ReadFile(garbage) == std::string(3000, 'g'));  // untouched

  r = Run({"state", "init", "--state", dir.path()});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "is a directory"));
  CHECK(Run({"state", "init"}).exit_code == 2);  // --state is required
}

TEST_CASE("state check: counts, and exit codes for missing and corrupt files") {
  TempDir dir;
  const std::string state = dir / "state.db";
  RunResult r = Run({"state", "check", "--state", state});
  CHECK(r.exit_code == 2);
  CHECK(Contains(
      r.err, state + ": no such file; create it with `warden state init --state " + state + "`"));
  CHECK_FALSE(std::filesystem::exists(state));

  CreateKey(state, {"--subject", "svc"});
  {
    auto store = OpenExisting(state);
    REQUIRE(store->RevokeJti("j", std::nullopt, "").ok());
    REQUIRE(store->SaveRows("devices", {{"a", "1"}, {"b", "2"}}).ok());
  }
  r = Run({"state", "check", "--state", state});
  CHECK(r.exit_code == 0);
  CHECK(r.out == state +
                     ": ok (schema version 1, journal wal)\n"
                     "  api keys:          1 (1 active)\n"
                     "  revoked tokens:    1\n"
                     "  revoked subjects:  0\n"
                     "  signal rows:       2 devices\n");
  r = Run({"state", "check", "--state", state, "--format", "json"});
  CHECK(r.exit_code == 0);
  json out = json::parse(r.out);
  CHECK(out["ok"] == true);
  CHECK(out["api_keys"] == 1);
  CHECK(out["rows"]["devices"] == 2);

  // Damaged: exit 1 with the reason.
  std::string bytes = ReadFile(state);
  std::filesystem::resize_file(state, 1000);
  r = Run({"state", "check", "--state", state});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, state));
  const std::string garbage = dir.Write("garbage.db", "SQLite format 2\n" + std::string(200, 'x'));
  r = Run({"state", "check", "--state", garbage});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "not a SQLite database"));
}

// Issue 12, finding 1: `state check` used to report `ok` for a 0-byte file
// and write a schema into it.
TEST_CASE("state check and state init on a 0-byte file: refused, nothing written") {
  TempDir dir;
  const std::string state = dir.Write("state.db", "");
  for (const char* command : {"check", "init"}) {
    CAPTURE(command);
    RunResult r = Run({"state", command, "--state", state});
    CHECK(r.exit_code != 0);
    CHECK(Contains(r.err, state + ": the state database is empty (0 bytes)"));
    CHECK(r.out.empty());
    CHECK(std::filesystem::file_size(state) == 0);
    for (const char* suffix : {"-journal", "-wal", "-shm"}) {
      CHECK_FALSE(std::filesystem::exists(state + suffix));
    }
  }
  CHECK(Run({"state", "check", "--state", state}).exit_code == 1);  // a finding
}

TEST_CASE("keys create prints the key once; the database holds no secret") {
  TempDir dir;
  const std::string state = dir / "state.db";  // created by `keys create`
  RunResult r = Run(
      {"keys",         "create", "--state",       state,           "--subject",       "svc-reports",
       "--role",       "reader", "--role",        "exporter",      "--tenant",        "acme",
       "--action",     "read",   "--action",      "list",          "--resource-type", "document",
       "--expires-in", "90d",    "--description", "nightly export"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const size_t at = r.out.find("wdk_");
  REQUIRE(at != std::string::npos);
  const std::string key = r.out.substr(at, kApiKeyChars);
  CHECK(Count(r.out, key) == 1);
  CHECK(Count(r.out, "wdk_") == 1);
  CHECK(Contains(r.err, "shown only this once"));
  std::string id, secret;
  REQUIRE(ParseApiKey(key, &id, &secret));
  CHECK(Contains(r.out, "id:             " + id + "\n"));
  CHECK(Contains(r.out, "subject:        svc-reports\n"));
  CHECK(Contains(r.out, "actions:        read,list\n"));
  CHECK(Contains(r.out, "resource types: document\n"));

  std::vector<ApiKeyRecord> keys = Keys(state);
  REQUIRE(keys.size() == 1);
  const ApiKeyRecord& k = keys[0];
  CHECK(k.id == id);
  CHECK(k.subject == "svc-reports");
  CHECK(k.roles == std::vector<std::string>{"reader", "exporter"});
  CHECK(k.tenant == "acme");
  CHECK(k.actions == std::vector<std::string>{"read", "list"});
  CHECK(k.resource_types == std::vector<std::string>{"document"});
  CHECK(k.description == "nightly export");
  REQUIRE(k.expires.has_value());
  CHECK(*k.expires - k.created == absl::Hours(24 * 90));
  CHECK(Contains(r.out, "expires:        " + absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *k.expires,
                                                              absl::UTCTimeZone())));

  // The file (and any WAL beside it) holds neither the key nor the secret.
  for (const std::string& file : {state, state + "-wal"}) {
    const std::string bytes = ReadFile(file);
    CHECK_FALSE(Contains(bytes, key));
    CHECK_FALSE(Contains(bytes, key.substr(21)));
    CHECK_FALSE(Contains(bytes, secret));
  }

  // The server's path: the key verifies against what the store holds.
  ApiKeyTable table;
  table.Replace(Keys(state));
  ApiKeyRecord out;
  CHECK(table.Verify(key, absl::Now(), &out) == AuthError::kNone);
  CHECK(out.subject == "svc-reports");
  CHECK(CheckApiKeyScope(out, "read", "document") == AuthError::kNone);
  CHECK(CheckApiKeyScope(out, "delete", "document") == AuthError::kApiKeyScope);
}

TEST_CASE("keys create --format json; bad flags are usage errors") {
  TempDir dir;
  const std::string state = dir / "state.db";
  json made = CreateKey(state, {"--subject", "svc"});
  CHECK(made["key"].get<std::string>().substr(0, 4) == "wdk_");
  CHECK(made["id"].get<std::string>().size() == 16);
  CHECK(made["expires"].is_null());
  CHECK_FALSE(made.contains("hash"));
  CHECK_FALSE(made.contains("salt"));

  RunResult r = Run({"keys", "create", "--state", state, "--subject", "svc", "--expires-in", "3x"});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "--expires-in: `3x`"));
  CHECK(Run({"keys", "create", "--state", state, "--subject", "svc", "--expires-in", "0s"})
            .exit_code == 2);
  CHECK(Run({"keys", "create", "--state", state}).exit_code == 2);  // --subject is required
  CHECK(
      Run({"keys", "create", "--state", state, "--subject", "svc", "--format", "xml"}).exit_code ==
      2);
  CHECK(Keys(state).size() == 1);
  // A garbage file is not replaced by a new database.
  const std::string garbage = dir.Write("garbage.db", std::string(3000, 'g'));
  r = Run({"keys", "create", "--state", garbage, "--subject", "svc"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(Contains(r.out, "wdk_"));
}

TEST_CASE("keys list never shows secrets, salts or hashes") {
  TempDir dir;
  const std::string state = dir / "state.db";
  CHECK(Run({"state", "init", "--state", state}).exit_code == 0);
  RunResult r = Run({"keys", "list", "--state", state});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "no API keys in " + state + "\n");
  CHECK(json::parse(Run({"keys", "list", "--state", state, "--format", "json"}).out) ==
        json::array());

  json a = CreateKey(state, {"--subject", "svc-a", "--action", "read", "--description", "first"});
  json b = CreateKey(state, {"--subject", "svc-b", "--expires-in", "1h"});
  std::vector<std::string> forbidden;
  for (const json* made : {&a, &b}) {
    const std::string key = (*made)["key"];
    forbidden.push_back(key);
    forbidden.push_back(key.substr(21));
  }
  for (const ApiKeyRecord& k : Keys(state)) {
    forbidden.push_back(absl::BytesToHexString(k.hash));
    forbidden.push_back(absl::BytesToHexString(k.salt));
    std::string b64;
    absl::Base64Escape(k.hash, &b64);
    forbidden.push_back(b64);
    absl::WebSafeBase64Escape(k.hash, &b64);
    forbidden.push_back(b64);
  }

  r = Run({"keys", "list", "--state", state});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "ID "));
  CHECK(Contains(r.out, a["id"].get<std::string>() + "  svc-a  "));
  CHECK(Contains(r.out, "actions=read types=any"));
  CHECK(Contains(r.out, "first"));
  CHECK(Count(r.out, "active") == 2);
  for (const std::string& secret : forbidden) CHECK_FALSE(Contains(r.out, secret));

  r = Run({"keys", "list", "--state", state, "--format", "json"});
  CHECK(r.exit_code == 0);
  json list = json::parse(r.out);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == a["id"]);
  CHECK(list[0]["status"] == "active");
  CHECK(list[0]["actions"] == json::array({"read"}));
  CHECK(list[1]["expires"].is_string());
  for (const json& k : list) {
    CHECK_FALSE(k.contains("hash"));
    CHECK_FALSE(k.contains("salt"));
    CHECK_FALSE(k.contains("key"));
  }
  for (const std::string& secret : forbidden) CHECK_FALSE(Contains(r.out, secret));

  CHECK(Run({"keys", "list", "--state", dir / "missing.db"}).exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));
}

TEST_CASE("keys revoke") {
  TempDir dir;
  const std::string state = dir / "state.db";
  json made = CreateKey(state, {"--subject", "svc"});
  const std::string id = made["id"];
  RunResult r = Run({"keys", "revoke", "--state", state, id});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "revoked API key " + id + " (subject svc)\n");
  std::vector<ApiKeyRecord> keys = Keys(state);
  REQUIRE(keys[0].revoked.has_value());
  const absl::Time when = *keys[0].revoked;

  r = Run({"keys", "revoke", "--state", state, id});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "already revoked"));
  CHECK(Keys(state)[0].revoked == when);

  r = Run({"keys", "revoke", "--state", state, "0123456789abcdef"});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "no API key `0123456789abcdef`"));
  CHECK(Run({"keys", "revoke", "--state", state}).exit_code == 2);

  r = Run({"keys", "list", "--state", state, "--format", "json"});
  CHECK(json::parse(r.out)[0]["status"] == "revoked");

  ApiKeyTable table;
  table.Replace(Keys(state));
  CHECK(table.Verify(made["key"].get<std::string>(), absl::Now(), nullptr) ==
        AuthError::kApiKeyRevoked);
}

TEST_CASE("keys rotate: same subject and scope, the old key expires after the grace") {
  TempDir dir;
  const std::string state = dir / "state.db";
  json old = CreateKey(
      state, {"--subject", "svc", "--role", "reader", "--tenant", "acme", "--action", "read",
              "--resource-type", "document", "--expires-in", "90d", "--description", "ci"});
  const std::string old_id = old["id"];
  const absl::Time before = absl::Now();
  RunResult r = Run({"keys", "rotate", "--state", state, old_id, "--format", "json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json made = json::parse(r.out);
  const std::string new_id = made["id"];
  CHECK(new_id != old_id);
  CHECK(made["rotated_from"] == old_id);
  CHECK(made["subject"] == "svc");
  CHECK(made["old_key_expires"].is_string());
  CHECK(Contains(r.err, "shown only this once"));

  std::vector<ApiKeyRecord> keys = Keys(state);
  REQUIRE(keys.size() == 2);
  const ApiKeyRecord& o = keys[0].id == old_id ? keys[0] : keys[1];
  const ApiKeyRecord& n = keys[0].id == old_id ? keys[1] : keys[0];
  CHECK(n.subject == o.subject);
  CHECK(n.roles == o.roles);
  CHECK(n.tenant == o.tenant);
  CHECK(n.actions == o.actions);
  CHECK(n.resource_types == o.resource_types);
  CHECK(n.description == o.description);
  CHECK(n.rotated_from == old_id);
  REQUIRE(n.expires.has_value());
  CHECK(*n.expires - n.created == absl::Hours(24 * 90));  // the old key's lifetime
  REQUIRE(o.expires.has_value());
  CHECK(*o.expires >= before + absl::Hours(24) - absl::Seconds(1));  // default grace 24h
  CHECK(*o.expires <= absl::Now() + absl::Hours(24));
  CHECK_FALSE(o.revoked.has_value());

  // Both keys work during the grace period; after it only the new one.
  ApiKeyTable table;
  table.Replace(keys);
  CHECK(table.Verify(old["key"].get<std::string>(), absl::Now(), nullptr) == AuthError::kNone);
  CHECK(table.Verify(made["key"].get<std::string>(), absl::Now(), nullptr) == AuthError::kNone);
  const absl::Time later = absl::Now() + absl::Hours(25);
  CHECK(table.Verify(old["key"].get<std::string>(), later, nullptr) == AuthError::kApiKeyExpired);
  CHECK(table.Verify(made["key"].get<std::string>(), later, nullptr) == AuthError::kNone);

  // A second rotation of the old key is refused while its successor lives.
  r = Run({"keys", "rotate", "--state", state, old_id});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "already rotated to " + new_id));

  // --grace 0s: the old key stops at once; text output shows the new key once.
  r = Run({"keys", "rotate", "--state", state, new_id, "--grace", "0s"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(Count(r.out, "wdk_") == 1);
  CHECK(Contains(r.out, "replaces:       " + new_id + "\n"));
  CHECK(Contains(r.out, "old key expires: "));
  for (const ApiKeyRecord& k : Keys(state)) {
    if (k.id == new_id) CHECK(StatusOfApiKey(k, absl::Now()) == ApiKeyStatus::kExpired);
    if (k.rotated_from == new_id) CHECK(*k.expires - k.created == absl::Hours(24 * 90));
  }

  // Unknown and revoked keys can't be rotated.
  CHECK(Run({"keys", "rotate", "--state", state, "0123456789abcdef"}).exit_code == 1);
  CHECK(Run({"keys", "revoke", "--state", state, old_id}).exit_code == 0);
  r = Run({"keys", "rotate", "--state", state, old_id});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "is revoked"));
  CHECK(Run({"keys", "rotate", "--state", state, new_id, "--grace", "soon"}).exit_code == 2);
}

TEST_CASE("tokens revoke --jti and --subject reach LoadRevocations") {
  TempDir dir;
  const std::string state = dir / "state.db";
  CHECK(Run({"state", "init", "--state", state}).exit_code == 0);
  auto server = OpenExisting(state);  // a running server's connection
  const int64_t version = *server->DataVersion();

  RunResult r = Run({"tokens", "revoke", "--state", state, "--jti", "tok-1", "--expires-at",
                     "2030-01-02T03:04:05Z", "--reason", "laptop stolen"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "revoked token jti tok-1 (remembered until it expires at 2030-01-02T03:04:05Z)\n");
  r = Run({"tokens", "revoke", "--state", state, "--jti", "tok-2"});
  CHECK(r.exit_code == 0);
  r = Run({"tokens", "revoke", "--state", state, "--subject", "alice", "--issuer",
           "https://id.example.com", "--before", "2026-11-01T00:00:00+01:00"});
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "revoked the tokens of subject alice from issuer https://id.example.com issued before "
        "2026-10-31T23:00:00Z\n");
  const absl::Time before_bob = absl::Now();
  r = Run({"tokens", "revoke", "--state", state, "--subject", "bob", "--reason", "left"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "bob from every issuer"));

  CHECK(*server->DataVersion() != version);  // the server notices
  absl::StatusOr<Revocations> revoked = server->LoadRevocations(absl::Now());
  REQUIRE(revoked.ok());
  CHECK(revoked->jtis.at("tok-1") == absl::FromUnixSeconds(1893553445));
  CHECK(revoked->jtis.at("tok-2") > absl::Now() + absl::Hours(24 * 29));
  absl::Time t;
  std::string err;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, "2026-10-31T23:00:00Z", &t, &err));
  CHECK(revoked->subjects.at("https://id.example.com\nalice") == t);
  const absl::Time bob = revoked->subjects.at("\nbob");
  CHECK(bob >= before_bob - absl::Seconds(1));
  CHECK(bob <= absl::Now());
}

TEST_CASE("tokens revoke: usage errors") {
  TempDir dir;
  const std::string state = dir / "state.db";
  CHECK(Run({"state", "init", "--state", state}).exit_code == 0);
  const std::vector<std::vector<std::string>> bad = {
      {},                                // neither
      {"--jti", "a", "--subject", "b"},  // both
      {"--subject", "b", "--expires-at", "2030-01-01T00:00:00Z"},
      {"--jti", "a", "--issuer", "x"},
      {"--jti", "a", "--before", "2030-01-01T00:00:00Z"},
      {"--jti", "a", "--expires-at", "tomorrow"},
      {"--subject", "b", "--before", "2030-01-01"},
      {"--jti", std::string(2000, 'j')},  // over the bound
  };
  for (const auto& args : bad) {
    std::vector<std::string> all = {"tokens", "revoke", "--state", state};
    all.insert(all.end(), args.begin(), args.end());
    CAPTURE(absl::StrJoin(args, " "));
    RunResult r = Run(all);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  CHECK(OpenExisting(state)->LoadRevocations(absl::Now())->jtis.empty());
  // A missing database is not created: the revocation would go nowhere.
  RunResult r = Run({"tokens", "revoke", "--state", dir / "typo.db", "--jti", "a"});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "no such file"));
  CHECK_FALSE(std::filesystem::exists(dir / "typo.db"));
}

TEST_CASE("WARDEN_STATE stands in for --state") {
  TempDir dir;
  const std::string state = dir / "state.db";
  ::setenv("WARDEN_STATE", state.c_str(), 1);
  RunResult r = Run({"state", "init"});
  ::unsetenv("WARDEN_STATE");
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(state));
}

}  // namespace
}  // namespace warden::auth
