// /v1/check end to end without the transport: credentials, claim mapping,
// computed context, revocation, API key scope, devices, limits, lockout.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "nlohmann/json.hpp"
#include "runtime/auth/api_keys.h"
#include "runtime/auth/check_service.h"
#include "runtime/auth/state_store.h"
#include "tests/auth_test_support.h"
#include "tests/test_support.h"
#include "warden/engine.h"

namespace warden::auth {
namespace {

using nlohmann::json;
using testing::TestKeys;

constexpr char kPolicy[] = R"(package t

schema {
  subject { team: string? }
  resource model { tier: string }
  context { channel: string? }
  actions { invoke, admin }
}

role user
role operator

limit calls: 2 per 1h by subject.id

policy models on model {
  rule limited: deny invoke if limits.calls.exceeded because "call limit reached"
  rule new_device_mfa: step_up mfa admin if not context.device.known and not subject.auth.mfa
      obligation step_up { max_auth_age: 5m }
  rule users_invoke: permit invoke if subject has role user
  rule operators_admin: permit admin if subject has role operator
  rule locked: deny * if context.attempts.locked because "locked"
}
)";

std::unique_ptr<Engine> CompileEngine() {
  BuildOptions options;
  options.compile.run_lints = false;
  EngineBuild build = CompileToEngine(PolicySources::Texts({{"t.warden", kPolicy}}), options);
  REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
  return *std::move(build.engine);
}

struct Fixture {
  warden::testing::TempDir dir;
  TestKeys keys;
  std::unique_ptr<Engine> engine = CompileEngine();
  // Revocations are stamped with the real clock, so the checks run near it.
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  AuthConfig config;
  std::unique_ptr<CheckService> service;
  std::unique_ptr<JsonSession> json_session;
  CheckService::Session session;
  Decision decision;

  Fixture() {
    config.enabled = true;
    config.state = dir / "state.db";
    config.create_state = true;
    IssuerSettings issuer;
    issuer.verify.issuer = "https://id.test";
    issuer.verify.audiences = {"api"};
    issuer.verify.algorithms = {"ES256", "HS256"};
    issuer.verify.jwks_file = dir.Write("jwks.json", keys.Jwks());
    issuer.hmac_key_sources = {
        HmacKeySource{"hs-1", "", dir.Write("hs.secret", keys.hmac_secret + "\n")}};
    issuer.claims.attributes = {{"team", "org.team"}};
    config.issuers.push_back(issuer);
    config.lockout_after = 3;
    Start();
  }

  void Start() {
    auto created = CheckService::Create(config, now);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    service = *std::move(created);
    json_session = std::make_unique<JsonSession>(*engine);
  }

  json Claims(const std::string& sub, json roles = json::array({"user"})) const {
    json claims = testing::Claims("https://id.test", "api", sub, absl::ToUnixSeconds(now));
    claims["roles"] = roles;
    claims["org"] = {{"team", "blue"}};
    return claims;
  }

  json Check(const json& body, unsigned want_status = 200) {
    std::string out;
    const CheckOutcome outcome =
        service->Check(body.dump(), *engine, *json_session, session, &decision, now, &out);
    CHECK_MESSAGE(outcome.http_status == want_status, out);
    json parsed = json::parse(out, nullptr, false);
    REQUIRE_MESSAGE(!parsed.is_discarded(), out);
    return parsed;
  }

  static json Request(const std::string& credential_key, const std::string& credential,
                      const std::string& action = "invoke") {
    return {{credential_key, credential},
            {"action", action},
            {"resource", {{"type", "model"}, {"id", "m1"}, {"tier", "small"}}},
            {"context", {{"ip", "192.0.2.10"}, {"device", {{"id", "laptop-1"}}}}}};
  }
};

TEST_CASE("a verified token permits, with its claims mapped to the subject") {
  Fixture f;
  const json answer = f.Check(Fixture::Request("token", f.keys.Mint("ES256", f.Claims("ann"))));
  CHECK(answer["decision"] == "permit");
  CHECK(answer["identity"]["subject"] == "ann");
  CHECK(answer["identity"]["kind"] == "token");
  const std::string built(f.session.decision_request());
  CHECK(warden::testing::Contains(built, "\"team\":\"blue\""));
  CHECK(warden::testing::Contains(built, "\"kind\":\"token\""));
  CHECK_FALSE(warden::testing::Contains(built, "eyJ"));  // the credential is never in it
  // HS256 with the secret read from a file, and the Bearer form.
  const json bearer =
      f.Check(Fixture::Request("authorization", "Bearer " + f.keys.Mint("HS256", f.Claims("bo"))));
  CHECK(bearer["decision"] == "permit");
}

TEST_CASE("refused tokens are denies with a reason code") {
  Fixture f;
  int address = 0;
  auto code_of = [&](const std::string& token) {
    json body = Fixture::Request("token", token);
    body["context"]["ip"] = "203.0.113." + std::to_string(++address);  // no lockout here
    const json answer = f.Check(body);
    CHECK(answer["decision"] == "deny");
    return answer["auth_error"]["code"].get<std::string>();
  };
  std::string token = f.keys.Mint("ES256", f.Claims("ann"));
  CHECK(code_of(token.substr(0, token.size() - 4) + "AAAA") == "token_bad_signature");
  CHECK(code_of("not.a.token") == "token_bad_base64");
  json expired = f.Claims("ann");
  expired["exp"] = absl::ToUnixSeconds(f.now) - 3600;
  expired["iat"] = absl::ToUnixSeconds(f.now) - 7200;
  expired["nbf"] = expired["iat"];
  CHECK(code_of(f.keys.Mint("ES256", expired)) == "token_expired");
  json wrong_audience = f.Claims("ann");
  wrong_audience["aud"] = "other";
  CHECK(code_of(f.keys.Mint("ES256", wrong_audience)) == "token_wrong_audience");
  CHECK(code_of(testing::MintRaw(R"({"alg":"none"})", f.Claims("ann").dump(), "HS256", nullptr,
                                 "x")) == "token_alg_none");
  const json none = f.Check({{"action", "invoke"}, {"resource", {{"type", "model"}, {"id", "m"}}}});
  CHECK(none["auth_error"]["code"] == "credential_missing");
}

TEST_CASE("a check may not supply the subject or the computed context") {
  Fixture f;
  const std::string token = f.keys.Mint("ES256", f.Claims("ann"));
  json with_subject = Fixture::Request("token", token);
  with_subject["subject"] = {{"id", "root"}};
  CHECK(f.Check(with_subject, 400)["error"]["code"] == "bad_request");
  for (const char* computed : {"geo", "network", "attempts", "unusual_hour", "time"}) {
    json body = Fixture::Request("token", token);
    body["context"][computed] = true;
    CHECK(f.Check(body, 400)["error"]["code"] == "bad_request");
  }
  json known = Fixture::Request("token", token);
  known["context"]["device"]["known"] = true;
  f.Check(known, 400);
  CHECK(f.Check(json::parse("[1]"), 400)["error"]["code"] == "malformed_json");
  // A custom context attribute passes through.
  json custom = Fixture::Request("token", token);
  custom["context"]["channel"] = "web";
  CHECK(f.Check(custom)["decision"] == "permit");
  CHECK(
      warden::testing::Contains(std::string(f.session.decision_request()), "\"channel\":\"web\""));
}

TEST_CASE("revoked tokens and subjects are refused, also from the cache") {
  Fixture f;
  const json claims = f.Claims("ann");
  const std::string token = f.keys.Mint("ES256", claims);
  CHECK(f.Check(Fixture::Request("token", token))["decision"] == "permit");  // now cached
  {
    auto store = StateStore::Open(f.config.state);
    REQUIRE(store.ok());
    REQUIRE((*store)->RevokeJti(claims["jti"].get<std::string>(), std::nullopt, "stolen").ok());
  }
  f.now += absl::Seconds(2);
  f.service->Tick(f.now);
  CHECK(f.Check(Fixture::Request("token", token))["auth_error"]["code"] == "token_revoked");
  const std::string other = f.keys.Mint("ES256", f.Claims("cy"));
  {
    auto store = StateStore::Open(f.config.state);
    REQUIRE(store.ok());
    REQUIRE((*store)->RevokeSubject("", "cy", f.now, "left the company").ok());
  }
  f.now += absl::Seconds(2);
  f.service->Tick(f.now);
  CHECK(f.Check(Fixture::Request("token", other))["auth_error"]["code"] == "subject_revoked");
}

TEST_CASE("API keys: verified, scoped, and mapped to the subject") {
  Fixture f;
  ApiKeySpec spec;
  spec.subject = "svc-batch";
  spec.roles = {"user"};
  spec.actions = {"invoke"};
  auto key = GenerateApiKey(spec, f.now);
  REQUIRE(key.ok());
  {
    auto store = StateStore::Open(f.config.state);
    REQUIRE(store.ok());
    REQUIRE((*store)->PutApiKey(key->record).ok());
  }
  f.now += absl::Seconds(2);
  f.service->Tick(f.now);
  const json permit = f.Check(Fixture::Request("api_key", key->key));
  CHECK(permit["decision"] == "permit");
  CHECK(permit["identity"]["key_id"] == key->record.id);
  CHECK(
      warden::testing::Contains(std::string(f.session.decision_request()), "\"kind\":\"api_key\""));
  CHECK(f.Check(Fixture::Request("api_key", key->key, "admin"))["auth_error"]["code"] ==
        "api_key_out_of_scope");
  // A wrong secret, still canonical base64url: a character before the last
  // (whose low bits must be zero) changes.
  std::string wrong = key->key;
  char& c = wrong[wrong.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  CHECK(f.Check(Fixture::Request("api_key", wrong))["auth_error"]["code"] == "api_key_unknown");
}

TEST_CASE("a new device steps up with what to ask for; after a permit it is known") {
  Fixture f;
  const std::string operator_token =
      f.keys.Mint("ES256", f.Claims("ops", json::array({"operator"})));
  const json step_up = f.Check(Fixture::Request("token", operator_token, "admin"));
  CHECK(step_up["decision"] == "step_up");
  CHECK(step_up["step_up"]["challenge"] == "mfa");
  CHECK(step_up["step_up"]["max_auth_age"] == "5m");
  CHECK(step_up["signals"] == json::array({"new_device"}));
  // A permit from the device (invoke needs role user: give both) teaches it.
  const std::string both = f.keys.Mint("ES256", f.Claims("ops", json::array({"operator", "user"})));
  CHECK(f.Check(Fixture::Request("token", both))["decision"] == "permit");
  const json again = f.Check(Fixture::Request("token", both, "admin"));
  CHECK(again["decision"] == "permit");
  CHECK(again["signals"].empty());
}

TEST_CASE("limits count permitted requests per key and survive a restart") {
  Fixture f;
  const std::string token = f.keys.Mint("ES256", f.Claims("ann"));
  CHECK(f.Check(Fixture::Request("token", token))["decision"] == "permit");
  CHECK(f.Check(Fixture::Request("token", token))["decision"] == "permit");
  REQUIRE(f.service->Flush().ok());
  f.Start();  // a clean restart reads the buckets back
  const json third = f.Check(Fixture::Request("token", token));
  CHECK(third["decision"] == "deny");
  CHECK(third["reasons"] == json::array({"call limit reached"}));
  CHECK(third["signals"] == json::array({"rate_limited:calls"}));
  // Another subject has its own bucket.
  CHECK(f.Check(Fixture::Request("token", f.keys.Mint("ES256", f.Claims("bo"))))["decision"] ==
        "permit");
}

TEST_CASE("failed attempts lock the address out without verifying") {
  Fixture f;
  const std::string good = f.keys.Mint("ES256", f.Claims("ann"));
  const std::string bad = good.substr(0, good.size() - 4) + "AAAA";
  for (int i = 0; i < 3; ++i) f.Check(Fixture::Request("token", bad));
  const json locked = f.Check(Fixture::Request("token", good));
  CHECK(locked["decision"] == "deny");
  CHECK(locked["auth_error"]["code"] == "locked_out");
  // Other spellings of the address are the address (issue 12, item 5).
  for (const char* spelling :
       {"::ffff:192.0.2.10", "::FFFF:c000:20a", "0:0:0:0:0:ffff:192.0.2.10"}) {
    json respelled = Fixture::Request("token", good);
    respelled["context"]["ip"] = spelling;
    CHECK_MESSAGE(f.Check(respelled)["auth_error"]["code"] == "locked_out", spelling);
  }
  // Another address is not affected.
  json elsewhere = Fixture::Request("token", good);
  elsewhere["context"]["ip"] = "198.51.100.7";
  CHECK(f.Check(elsewhere)["decision"] == "permit");

  // The streak is saved; once it has expired, the periodic sweep drops it
  // from memory and from the state file.
  auto attempt_rows = [&] {
    auto store = StateStore::Open(f.dir / "state.db");
    REQUIRE(store.ok());
    int rows = 0;
    REQUIRE(
        (*store)->LoadRows("attempts", [&](std::string_view, std::string_view) { ++rows; }).ok());
    return rows;
  };
  f.now += absl::Seconds(10);
  f.service->Tick(f.now);
  CHECK(attempt_rows() == 1);
  f.now += absl::Hours(2);  // past the lockout and the 15-minute window
  f.service->Tick(f.now);
  CHECK(attempt_rows() == 0);
}

// Issue 12, item 5: known networks (and limits by context.ip, limit_key_test)
// key on the address, so a respelled address is the same network.
TEST_CASE("a known network is known under every spelling of its address") {
  Fixture f;
  // `admin` reads no limit, so the checks are not rate limited.
  const std::string token =
      f.keys.Mint("ES256", f.Claims("ops", json::array({"operator", "user"})));
  auto signals_from = [&](const char* ip, const char* action = "admin") {
    json body = Fixture::Request("token", token, action);
    body["context"]["ip"] = ip;
    const json answer = f.Check(body);
    CHECK(answer["decision"] == "permit");
    return answer["signals"];
  };
  // The first network (nothing to compare with); the permit also makes the
  // device known, so `admin` needs no step-up after it.
  CHECK(signals_from("2001:db8:1::7", "invoke") == json::array({"new_device"}));
  CHECK(signals_from("192.0.2.10") == json::array({"new_network"}));
  for (const char* spelling : {"::ffff:192.0.2.10", "::FFFF:c000:20a", "2001:DB8:1::7",
                               "2001:0db8:0001:0000:0000:0000:0000:0007"})
    CHECK_MESSAGE(signals_from(spelling).empty(), spelling);
}

TEST_CASE("geolocation fills context.geo; a corrupt GeoIP database refuses, never permits") {
  const std::string geoip = WARDEN_SOURCE_DIR "/../shared/data/geoip";
  if (!std::filesystem::exists(geoip + "/GeoLite2-City-Test.mmdb")) {
    MESSAGE("skipped: no ../shared/data/geoip");
    return;
  }
  Fixture f;
  f.config.geoip_city = geoip + "/GeoLite2-City-Test.mmdb";
  f.Start();
  json body = Fixture::Request("token", f.keys.Mint("ES256", f.Claims("ann")));
  body["context"]["ip"] = "81.2.69.142";
  CHECK(f.Check(body)["decision"] == "permit");
  const std::string built(f.session.decision_request());
  CHECK(warden::testing::Contains(built, "\"country\":\"GB\""));
  CHECK(warden::testing::Contains(built, "\"latitude\":51.5142"));

  f.config.geoip_city = geoip + "/GeoIP2-City-Test-Broken-Double-Format.mmdb";
  f.Start();
  const json refused = f.Check(body);
  CHECK(refused["decision"] == "deny");
  CHECK(refused["auth_error"]["code"] == "geoip_unavailable");
}

TEST_CASE("IP lists and GeoIP databases reload when their files change; a bad file keeps the old") {
  Fixture f;
  const std::string list = f.dir.Write("blocked.txt", "203.0.113.0/24\n");
  f.config.ip_lists = {IpListSettings{"blocked", list}};
  f.Start();
  auto listed = [&](const std::string& ip) {
    json body = Fixture::Request("token", f.keys.Mint("ES256", f.Claims("ann")));
    body["context"]["ip"] = ip;
    const json answer = f.Check(body);
    for (const json& signal : answer["signals"]) {
      if (signal == "listed_ip:blocked") return true;
    }
    return false;
  };
  CHECK(listed("203.0.113.9"));
  CHECK(!listed("198.51.100.9"));

  f.dir.Write("blocked.txt", "198.51.100.0/24\n2001:db8::/32\n");
  f.now += absl::Seconds(2);  // past the poll interval
  f.service->Tick(f.now);
  CHECK(!listed("203.0.113.9"));
  CHECK(listed("198.51.100.9"));

  // A malformed update is refused: the list in use stays.
  f.dir.Write("blocked.txt", "not a network\n");
  f.now += absl::Seconds(2);
  f.service->Tick(f.now);
  CHECK(listed("198.51.100.9"));

  const std::string geoip = WARDEN_SOURCE_DIR "/../shared/data/geoip";
  if (!std::filesystem::exists(geoip + "/GeoLite2-City-Test.mmdb")) return;
  // A database replaced by renaming a new file over it (as updaters do).
  const std::string city = f.dir / "city.mmdb";
  std::filesystem::copy_file(geoip + "/GeoLite2-City-Test.mmdb", city);
  f.config.geoip_city = city;
  f.config.ip_lists.clear();  // at start-up a malformed list is an error, not kept
  f.Start();
  json body = Fixture::Request("token", f.keys.Mint("ES256", f.Claims("ann")));
  body["context"]["ip"] = "81.2.69.142";
  CHECK(f.Check(body)["decision"] == "permit");
  std::filesystem::copy_file(geoip + "/GeoIP2-City-Test-Broken-Double-Format.mmdb",
                             f.dir / "broken.mmdb");
  std::filesystem::rename(f.dir / "broken.mmdb", city);
  f.now += absl::Seconds(2);
  f.service->Tick(f.now);
  // The broken database opens (its damage shows on lookup): it replaces the
  // old one, and lookups then refuse rather than permit.
  CHECK(f.Check(body)["auth_error"]["code"] == "geoip_unavailable");
}

TEST_CASE("a missing or corrupt state database is a start-up error") {
  Fixture f;
  AuthConfig missing = f.config;
  missing.state = f.dir / "nope.db";
  missing.create_state = false;
  CHECK_FALSE(CheckService::Create(missing, f.now).ok());
  AuthConfig corrupt = f.config;
  corrupt.state = f.dir.Write("corrupt.db", std::string(8192, 'x'));
  CHECK_FALSE(CheckService::Create(corrupt, f.now).ok());
  // Issue 12, finding 1: an emptied file is not a new database, even with
  // create_state (it used to start with every revocation gone).
  for (bool create : {false, true}) {
    AuthConfig empty = f.config;
    empty.state = f.dir.Write("empty.db", "");
    empty.create_state = create;
    absl::StatusOr<std::unique_ptr<CheckService>> started = CheckService::Create(empty, f.now);
    REQUIRE_FALSE(started.ok());
    CHECK(warden::testing::Contains(std::string(started.status().message()),
                                    empty.state + ": the state database is empty (0 bytes)"));
    CHECK(std::filesystem::file_size(empty.state) == 0);
  }
}

// Issue 12, finding 7: a flush that fails on a database corrupted while the
// service runs used to be dropped without a word.
TEST_CASE("a state write that fails on a database corrupted while running is reported") {
  Fixture f;
  const std::string good = f.keys.Mint("ES256", f.Claims("ann"));
  f.Check(Fixture::Request("token", good.substr(0, good.size() - 4) + "AAAA"));  // a row to save
  const std::string path = f.config.state;
  const uintmax_t size = std::filesystem::file_size(path);
  warden::testing::WriteFile(path, std::string(size, '\x5a'));
  for (const char* suffix : {"-wal", "-shm"}) {
    if (std::filesystem::exists(path + suffix)) {
      const uintmax_t n = std::filesystem::file_size(path + suffix);
      warden::testing::WriteFile(path + suffix, std::string(n, '\0'));
    }
  }
  f.now += absl::Seconds(10);  // past flush_interval
  f.service->Tick(f.now);
  SourceReports& reports = f.service->reports();
  CHECK(reports.state_write_errors() == 1);
  CHECK(reports.RefusedBySource()[static_cast<size_t>(UpdateSource::kState)] >= 1);
  bool logged = false;
  for (const SourceEvent& event : reports.TakeEvents()) {
    logged = logged || (event.source == UpdateSource::kState && event.path == path);
  }
  CHECK(logged);
  // The check service keeps deciding from memory.
  CHECK(f.Check(Fixture::Request("token", good))["decision"] == "permit");
}

}  // namespace
}  // namespace warden::auth
