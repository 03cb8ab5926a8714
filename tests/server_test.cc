// Integration tests of `warden serve` (cli/serve_command.cc, runtime/server):
// the real binary (WARDEN_BINARY) on Unix sockets in a fresh temporary
// directory, driven by a raw HTTP/1.1 client so that malformed bytes can be
// sent too. Policies: examples/payments with its data.json, copied.
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/auth_test_support.h"
#include "tests/server_helpers.h"

namespace warden::server_test {
namespace {

using nlohmann::json;

json Json(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  INFO("body: " << text);
  CHECK_FALSE(parsed.is_discarded());
  return parsed;
}

std::string Example(const std::string& name) {
  return ReadFile(SourcePath("examples/payments/requests/" + name));
}

// A copy of the payments example: DIR/pol/payments.warden and DIR/data.json.
struct Payments {
  explicit Payments(const TempDir& dir)
      : policies(dir / "pol"), source(dir / "pol/payments.warden"), data(dir / "data.json") {
    WriteFile(source, ReadFile(SourcePath("examples/payments/payments.warden")));
    WriteFile(data, ReadFile(SourcePath("examples/payments/data.json")));
  }
  std::string policies, source, data;
};

// A temporary directory, the payments policies and a running server on
// DIR/d.sock (decisions) and DIR/a.sock (admin).
struct Fixture {
  explicit Fixture(const std::string& config_json = "", std::vector<std::string> extra = {},
                   bool ready_on_admin = false)
      : payments(dir), socket(dir / "d.sock"), admin(dir / "a.sock") {
    std::vector<std::string> args = {
        "--socket",        socket,   "--admin-socket", admin,          "--policies",
        payments.policies, "--data", payments.data,    "--log-format", "json"};
    if (!config_json.empty()) {
      args.push_back("--config");
      args.push_back(dir.Write("config.json", config_json));
    }
    for (std::string& arg : extra) {
      if (arg.rfind("@DIR@", 0) == 0) arg = dir.path() + arg.substr(5);
      args.push_back(arg);
    }
    server.emplace(dir, args);
    const bool ready = server->WaitReady(ready_on_admin ? admin : socket);
    INFO("server stderr: " << server->Stderr());
    REQUIRE(ready);
  }

  // A normal decision still works (after some abuse).
  void ExpectServing() {
    Response r = Post(socket, "/v1/decide", Example("permit.json"));
    INFO("server stderr: " << server->Stderr());
    REQUIRE(r.status == 200);
    CHECK(Json(r.body)["decision"] == "permit");
    CHECK(server->WaitExit(0) == std::nullopt);
  }

  std::string BundleHash() {
    Response r = Get(socket, "/ready");
    REQUIRE(r.status == 200);
    return Json(r.body)["bundle"].get<std::string>();
  }

  TempDir dir;
  Payments payments;
  std::string socket, admin;
  std::optional<ServerProcess> server;
};

// The count of `name` (a full series, labels included) in a Prometheus text.
long Metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtol(text.c_str() + at + name.size() + 2, nullptr, 10);
}

constexpr char kLimits[] = R"({
  // small limits so that the tests reach them quickly
  "limits": {"max_batch": 3, "max_body_bytes": 8192, "max_header_bytes": 2048,
             "header_timeout_ms": 300, "body_timeout_ms": 300, "idle_timeout_ms": 700},
  "socket": {"mode": "0640"},
  "watch": false
})";

// An AuthZEN subject/action/resource for the payments example.
json AuthzenPermit() {
  return json::parse(R"({
    "subject": {"type": "user", "id": "anna",
                "properties": {"roles": ["payment_approver"], "department": "ops",
                               "auth": {"auth_age": "10m"}}},
    "action": {"name": "approve"},
    "resource": {"type": "payment", "id": "p-5",
                 "properties": {"amount": 800.00, "department": "ops", "created_by": "carl",
                                "status": "pending", "beneficiary_country": "FR",
                                "beneficiary_iban": "FR7630006000011234567890189"}},
    "context": {"ip": "198.51.100.20", "device": {"known": true}}
  })");
}
json MakerCheckerResource() {
  return json::parse(R"({"type": "payment", "id": "p-9",
    "properties": {"amount": 50.00, "department": "ops", "created_by": "anna",
                   "status": "pending", "beneficiary_country": "FR",
                   "beneficiary_iban": "FR7630006000011234567890189"}})");
}

TEST_CASE("serve: /v1/decide answers permit, deny and step_up; keep-alive; metrics") {
  Fixture f(kLimits);
  Response before = Get(f.socket, "/metrics");
  REQUIRE(before.status == 200);
  CHECK(before.Header("content-type").find("text/plain") == 0);
  const long permits_before = Metric(before.body, "warden_decisions_total{effect=\"permit\"}");
  CHECK(permits_before == 0);

  // Several requests on one connection, X-Request-ID echoed.
  Client client(f.socket);
  REQUIRE(client.connected());
  Response permit = client.Call(Http("POST", "/v1/decide", Example("permit.json"),
                                     {"Content-Type: application/json", "X-Request-ID: req-1"}));
  REQUIRE(permit.status == 200);
  CHECK(permit.Header("x-request-id") == "req-1");
  CHECK(permit.Header("x-decision-id").size() == 32);
  CHECK(permit.Header("connection").empty());
  json p = Json(permit.body);
  CHECK(p["decision"] == "permit");
  CHECK(p["challenge"].is_null());
  REQUIRE(p["rules"].size() == 1);
  CHECK(p["rules"][0]["name"] == "approve_within_limit");
  CHECK(p["rules"][0]["policy"] == "acme.payments.payment_access");
  CHECK(p["obligations"][0]["name"] == "audit");
  CHECK(p["errors"].empty());

  Response deny = client.Call(Http("POST", "/v1/decide", Example("deny.json")));
  REQUIRE(deny.status == 200);
  CHECK(deny.Header("x-request-id").empty());
  json d = Json(deny.body);
  CHECK(d["decision"] == "deny");
  CHECK(d["rules"][0]["name"] == "sanctioned_beneficiary");
  REQUIRE(d["reasons"].size() == 1);
  CHECK(d["reasons"][0] == "the beneficiary country is under sanctions");

  Response step_up = client.Call(Http("POST", "/v1/decide?explain=0", Example("step_up.json"),
                                      {"Content-Type: application/json; charset=utf-8"}));
  REQUIRE(step_up.status == 200);
  json s = Json(step_up.body);
  CHECK(s["decision"] == "step_up");
  CHECK(s["challenge"] == "mfa");
  CHECK(s["rules"][0]["name"] == "large_needs_mfa");
  CHECK(s["reasons"][0] == "approving 5,000.00 or more requires multi-factor authentication");

  // Two pipelined requests in one write.
  REQUIRE(client.Send(Http("GET", "/health", "", {}) +
                      Http("POST", "/v1/decide", Example("permit.json"))));
  Response health = client.Read();
  CHECK(health.status == 200);
  CHECK(Json(health.body)["status"] == "ok");
  Response second = client.Read();
  CHECK(second.status == 200);
  CHECK(Json(second.body)["decision"] == "permit");

  // Expect: 100-continue, as curl sends for larger bodies.
  const std::string body = Example("permit.json");
  REQUIRE(
      client.Send("POST /v1/decide HTTP/1.1\r\nHost: w\r\nContent-Type: application/json\r\n"
                  "Expect: 100-continue\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n"));
  CHECK(client.Read().status == 100);
  REQUIRE(client.Send(body));
  Response continued = client.Read();
  CHECK(continued.status == 200);
  CHECK(Json(continued.body)["decision"] == "permit");

  // Connection: close from the client: answered, then closed.
  Client closing(f.socket);
  Response closed = closing.Call(Http("GET", "/health", "", {"Connection: close"}));
  CHECK(closed.status == 200);
  CHECK(closed.Header("connection") == "close");
  CHECK(closing.WaitClosed(5000));

  // HTTP/1.0 without keep-alive: answered, then closed.
  Client old(f.socket);
  Response r10 = old.Call(Http("GET", "/health", "", {}, "HTTP/1.0"));
  CHECK(r10.status == 200);
  CHECK(old.WaitClosed(5000));

  Response after = Get(f.socket, "/metrics");
  REQUIRE(after.status == 200);
  CHECK(Metric(after.body, "warden_decisions_total{effect=\"permit\"}") == permits_before + 3);
  CHECK(Metric(after.body, "warden_decisions_total{effect=\"deny\"}") >= 1);
  CHECK(Metric(after.body, "warden_decisions_total{effect=\"step_up\"}") == 1);
  CHECK(after.body.find("warden_bundle_info{hash=\"") != std::string::npos);
}

TEST_CASE("serve: /v1/decide/batch answers each item; over max_batch is 413") {
  Fixture f(kLimits);
  const std::string batch = "{\"requests\": [" + Example("permit.json") +
                            ", {\"subject\": {\"id\": 5}, \"action\": \"read\"}, " +
                            Example("step_up.json") + "]}";
  Response r = Post(f.socket, "/v1/decide/batch", batch);
  REQUIRE(r.status == 200);
  CHECK(r.Header("x-decision-id").size() == 32);
  json b = Json(r.body);
  REQUIRE(b["decisions"].size() == 3);
  CHECK(b["decisions"][0]["decision"] == "permit");
  CHECK(b["decisions"][1]["decision"] == "deny");
  CHECK(b["decisions"][1]["error"]["code"] == "bad_request");
  CHECK(b["decisions"][1]["error"]["path"] == "subject.id");
  CHECK(b["decisions"][2]["decision"] == "step_up");
  CHECK(b["decisions"][2]["challenge"] == "mfa");

  // An empty batch is fine.
  Response empty = Post(f.socket, "/v1/decide/batch", R"({"requests": []})");
  CHECK(empty.status == 200);
  CHECK(Json(empty.body)["decisions"].empty());

  // Four requests with max_batch 3.
  const std::string small = R"({"action": "read"})";
  Response big = Post(f.socket, "/v1/decide/batch",
                      "{\"requests\": [" + small + "," + small + "," + small + "," + small + "]}");
  CHECK(big.status == 413);
  CHECK(Json(big.body)["error"]["code"] == "batch_too_large");

  // Not a batch at all, and an item that is not an object.
  for (const char* bad : {R"([1, 2])", R"({"requests": 7})", R"({"requests": [{}, 5]})", "nope"}) {
    Response m = Post(f.socket, "/v1/decide/batch", bad);
    CAPTURE(bad);
    CHECK(m.status == 400);
    CHECK(Json(m.body)["error"]["code"] == "malformed_batch");
  }
  // "requests" twice used to decide the first array (issue 12, 10).
  Response twice =
      Post(f.socket, "/v1/decide/batch",
           "{\"requests\": [" + small + "], \"requests\": [" + small + "," + small + "]}");
  CHECK(twice.status == 400);
  CHECK(Json(twice.body)["error"]["code"] == "bad_request");
  CHECK(Json(twice.body)["error"]["message"] == "`requests` is given twice");
  f.ExpectServing();
}

TEST_CASE("serve: AuthZEN evaluation and evaluations") {
  Fixture f(kLimits);
  Response yes = Call(f.socket, Http("POST", "/access/v1/evaluation", AuthzenPermit().dump(),
                                     {"Content-Type: application/json", "X-Request-ID: az-7"}));
  REQUIRE(yes.status == 200);
  CHECK(yes.Header("x-request-id") == "az-7");
  json y = Json(yes.body);
  CHECK(y["decision"] == true);
  CHECK(y["context"]["id"] == yes.Header("x-decision-id"));
  CHECK(y["context"]["warden"]["decision"] == "permit");

  json denied = AuthzenPermit();
  denied["resource"] = MakerCheckerResource();
  Response no = Post(f.socket, "/access/v1/evaluation", denied.dump());
  REQUIRE(no.status == 200);
  json n = Json(no.body);
  CHECK(n["decision"] == false);
  CHECK(n["context"]["warden"]["decision"] == "deny");
  CHECK(n["context"]["warden"]["reasons"][0] == "the creator of a payment cannot approve it");

  // A step-up is not a permit: decision false, the challenge in the context.
  json step_up = AuthzenPermit();
  step_up["resource"]["properties"]["amount"] = 8000.00;
  Response su = Post(f.socket, "/access/v1/evaluation", step_up.dump());
  REQUIRE(su.status == 200);
  json s = Json(su.body);
  CHECK(s["decision"] == false);
  CHECK(s["context"]["warden"]["decision"] == "step_up");
  CHECK(s["context"]["warden"]["challenge"] == "mfa");

  // A missing member is a bad request.
  json missing = AuthzenPermit();
  missing.erase("action");
  Response bad = Post(f.socket, "/access/v1/evaluation", missing.dump());
  CHECK(bad.status == 400);
  CHECK(Json(bad.body)["error"]["code"] == "bad_request");
  CHECK(Json(bad.body)["error"]["message"].get<std::string>().find("action") != std::string::npos);
  Response malformed = Post(f.socket, "/access/v1/evaluation", "{\"subject\":");
  CHECK(malformed.status == 400);
  CHECK(Json(malformed.body)["error"]["code"] == "malformed_json");
  // A repeated key is /v1/decide's bad_request, not last-wins (issue 12, 10).
  std::string twice = AuthzenPermit().dump();
  twice.insert(1, R"("action":{"name":"delete"},)");
  Response dup = Post(f.socket, "/access/v1/evaluation", twice);
  CHECK(dup.status == 400);
  CHECK(Json(dup.body)["error"]["code"] == "bad_request");
  CHECK(Json(dup.body)["error"]["message"] == "`action` is given twice");

  // Evaluations: top-level defaults, per-item overrides (replacing a member whole).
  json batch = AuthzenPermit();
  batch["evaluations"] = json::array();
  batch["evaluations"].push_back(json::object());                          // permit
  batch["evaluations"].push_back({{"resource", MakerCheckerResource()}});  // deny
  batch["evaluations"].push_back({{"action", {{"name", "cancel"}}}});      // not_applicable
  Response all = Post(f.socket, "/access/v1/evaluations", batch.dump());
  REQUIRE(all.status == 200);
  json a = Json(all.body);
  REQUIRE(a["evaluations"].size() == 3);
  CHECK(a["evaluations"][0]["decision"] == true);
  CHECK(a["evaluations"][1]["decision"] == false);
  CHECK(a["evaluations"][1]["context"]["warden"]["rules"][0]["name"] == "maker_checker");
  CHECK(a["evaluations"][2]["decision"] == false);
  CHECK(a["evaluations"][2]["context"]["warden"]["decision"] == "not_applicable");
  const std::string id = all.Header("x-decision-id");
  CHECK(a["evaluations"][1]["context"]["id"] == id + "-1");

  batch["options"] = {{"evaluations_semantic", "deny_on_first_deny"}};
  Response dofd = Post(f.socket, "/access/v1/evaluations", batch.dump());
  REQUIRE(dofd.status == 200);
  json d = Json(dofd.body);
  REQUIRE(d["evaluations"].size() == 2);  // stops at the first deny
  CHECK(d["evaluations"][1]["decision"] == false);

  batch["options"] = {{"evaluations_semantic", "permit_on_first_permit"}};
  Response pofp = Post(f.socket, "/access/v1/evaluations", batch.dump());
  REQUIRE(pofp.status == 200);
  json p = Json(pofp.body);
  REQUIRE(p["evaluations"].size() == 1);  // stops at the first permit
  CHECK(p["evaluations"][0]["decision"] == true);
  json later = batch;
  later["evaluations"] = {
      {{"resource", MakerCheckerResource()}}, json::object(), {{"action", {{"name", "cancel"}}}}};
  Response pofp2 = Post(f.socket, "/access/v1/evaluations", later.dump());
  REQUIRE(pofp2.status == 200);
  json p2 = Json(pofp2.body);
  REQUIRE(p2["evaluations"].size() == 2);
  CHECK(p2["evaluations"][0]["decision"] == false);
  CHECK(p2["evaluations"][1]["decision"] == true);

  batch["options"] = {{"evaluations_semantic", "whatever"}};
  CHECK(Post(f.socket, "/access/v1/evaluations", batch.dump()).status == 400);

  // Without "evaluations": answered like /access/v1/evaluation.
  Response single = Post(f.socket, "/access/v1/evaluations", AuthzenPermit().dump());
  REQUIRE(single.status == 200);
  CHECK(Json(single.body)["decision"] == true);

  // More than max_batch (3).
  batch.erase("options");
  batch["evaluations"].push_back(json::object());
  Response too_many = Post(f.socket, "/access/v1/evaluations", batch.dump());
  CHECK(too_many.status == 413);
  CHECK(Json(too_many.body)["error"]["code"] == "batch_too_large");

  // A bad item names its index.
  json bad_item = AuthzenPermit();
  bad_item["evaluations"] = {json::object(), {{"subject", {{"id", "x"}}}}};
  Response bi = Post(f.socket, "/access/v1/evaluations", bad_item.dump());
  CHECK(bi.status == 400);
  CHECK(Json(bi.body)["error"]["message"].get<std::string>().find("evaluations[1]") == 0);
  f.ExpectServing();
}

TEST_CASE("serve: routes, methods, media types; admin socket") {
  Fixture f(kLimits);
  CHECK(Get(f.socket, "/health").status == 200);
  Response ready = Get(f.socket, "/ready");
  REQUIRE(ready.status == 200);
  json rj = Json(ready.body);
  CHECK(rj["status"] == "ready");
  CHECK(rj["bundle"].get<std::string>().size() == 64);
  CHECK(rj["generation"] == 1);

  // Each socket has its own routes.
  for (const char* path :
       {"/v1/decide", "/v1/decide/batch", "/access/v1/evaluation", "/access/v1/evaluations"}) {
    CAPTURE(path);
    Response r = Post(f.admin, path, Example("permit.json"));
    CHECK(r.status == 404);
    CHECK(Json(r.body)["error"]["code"] == "not_found");
  }
  CHECK(Get(f.socket, "/v1/status").status == 404);
  CHECK(Get(f.socket, "/v1/bundle").status == 404);
  CHECK(Post(f.socket, "/v1/reload", "").status == 404);
  CHECK(Get(f.socket, "/nope").status == 404);
  CHECK(Get(f.admin, "/health").status == 200);
  CHECK(Get(f.admin, "/ready").status == 200);
  CHECK(Get(f.admin, "/metrics").status == 200);

  // Wrong methods: 405 with Allow.
  Response get_decide = Get(f.socket, "/v1/decide");
  CHECK(get_decide.status == 405);
  CHECK(get_decide.Header("allow") == "POST");
  CHECK(Json(get_decide.body)["error"]["code"] == "method_not_allowed");
  Response post_health = Post(f.socket, "/health", "{}");
  CHECK(post_health.status == 405);
  CHECK(post_health.Header("allow") == "GET, HEAD");
  CHECK(Call(f.socket, Http("DELETE", "/v1/decide/batch", "", {})).Header("allow") == "POST");
  CHECK(Call(f.socket, Http("PUT", "/access/v1/evaluation", "{}")).status == 405);
  CHECK(Get(f.admin, "/v1/reload").Header("allow") == "POST");
  CHECK(Post(f.admin, "/v1/status", "").Header("allow") == "GET, HEAD");

  // HEAD: the headers of GET, no body; the connection goes on.
  {
    Client client(f.socket);
    REQUIRE(client.Send(Http("HEAD", "/ready", "", {})));
    Response head = client.Read(20000, /*head=*/true);
    CHECK(head.status == 200);
    CHECK(std::stoul(head.Header("content-length")) > 0);
    Response next = client.Call(Http("GET", "/health", "", {}));
    CHECK(next.status == 200);
    CHECK(next.body == "{\"status\":\"ok\"}");
  }

  // Non-JSON bodies: 415.
  for (const char* type : {"Content-Type: text/plain", "Content-Type: application/jsonx",
                           "Content-Type: application/x-www-form-urlencoded"}) {
    CAPTURE(type);
    Response r = Call(f.socket, Http("POST", "/v1/decide", Example("permit.json"), {type}));
    CHECK(r.status == 415);
    CHECK(Json(r.body)["error"]["code"] == "unsupported_media_type");
  }
  CHECK(Call(f.socket, Http("POST", "/access/v1/evaluation", "{}", {"Content-Type: text/json"}))
            .status == 415);
  // No Content-Type at all is accepted.
  CHECK(Call(f.socket, Http("POST", "/v1/decide", Example("permit.json"), {})).status == 200);
  CHECK(Call(f.socket, Http("POST", "/v1/decide", Example("permit.json"),
                            {"Content-Type: Application/JSON ; charset=utf-8"}))
            .status == 200);

  // An unsafe X-Request-ID is not echoed.
  Response unsafe =
      Call(f.socket, Http("GET", "/health", "", {"X-Request-ID: " + std::string(200, 'a')}));
  CHECK(unsafe.status == 200);
  CHECK(unsafe.Header("x-request-id").empty());

  // Admin: status, bundle, reload.
  Response status = Get(f.admin, "/v1/status");
  REQUIRE(status.status == 200);
  json st = Json(status.body);
  CHECK(st["ready"] == true);
  CHECK(st["policies"] == f.payments.policies);
  CHECK(st["bundle"]["hash"] == rj["bundle"]);
  CHECK(st["bundle"]["trigger"] == "start");
  CHECK(st["bundle"]["rules"].get<int>() > 0);
  CHECK(st["reloads"]["succeeded"] == 1);
  CHECK(st["last_reload"]["ok"] == true);

  Response bundle = Get(f.admin, "/v1/bundle");
  REQUIRE(bundle.status == 200);
  CHECK(bundle.Header("content-type") == "application/octet-stream");
  CHECK(bundle.body.compare(0, 4, "WDNB") == 0);
  CHECK(bundle.body.size() == st["bundle"]["bytes"].get<size_t>());

  Response reload = Post(f.admin, "/v1/reload", "");
  REQUIRE(reload.status == 200);
  json rl = Json(reload.body);
  CHECK(rl["ok"] == true);
  CHECK(rl["bundle"] == rj["bundle"]);  // the same sources: the same bundle
  CHECK(rl["generation"] == 2);
  CHECK(Json(Get(f.socket, "/ready").body)["generation"] == 2);
  CHECK(Json(Get(f.admin, "/v1/status").body)["bundle"]["trigger"] == "admin");

  // Socket files have the configured modes (decision 0640 from the config;
  // admin 0600 by default).
  struct stat info {};
  REQUIRE(::stat(f.socket.c_str(), &info) == 0);
  CHECK(S_ISSOCK(info.st_mode));
  CHECK((info.st_mode & 07777) == 0640);
  REQUIRE(::stat(f.admin.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0600);
  f.ExpectServing();
}

TEST_CASE("serve: malformed and abusive input never stops the server") {
  Fixture f(kLimits);

  {  // Garbage (a TLS ClientHello): 400 malformed_http, then closed.
    Client c(f.socket);
    const char hello[] = {'\x16', '\x03', '\x01', '\x02', '\x00', '\x01', '\x00', '\x01', '\xfc'};
    REQUIRE(c.Send(std::string(hello, sizeof hello) + "garbage\r\n\r\n"));
    Response r = c.Read();
    CHECK(r.status == 400);
    CHECK(Json(r.body)["error"]["code"] == "malformed_http");
    CHECK(r.Header("connection") == "close");
    CHECK(c.WaitClosed(5000));
  }
  f.ExpectServing();
  {  // A bad request line.
    Client c(f.socket);
    Response r = c.Call("GET /health HTTP/9.9 extra\r\n\r\n");
    CHECK(r.status == 400);
    CHECK(c.WaitClosed(5000));
  }
  {  // A conflicting Content-Length.
    Client c(f.socket);
    Response r =
        c.Call("POST /v1/decide HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
    CHECK(r.status == 400);
  }
  f.ExpectServing();
  // RFC 9112, 6.1: a Transfer-Encoding that does not end in chunked gives
  // no reliable length: 400, even beside a Content-Length (issue 12, 11).
  for (const std::string coding : {"identity", "gzip", "chunked, identity", "gzip, chunked"}) {
    CAPTURE(coding);
    Client c(f.socket);
    Response r = c.Call(
        "POST /v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: " +
        coding + "\r\nContent-Length: 2\r\n\r\n{}");
    CHECK(r.status == 400);
    CHECK(Json(r.body)["error"]["code"] == "malformed_http");
    CHECK(c.WaitClosed(5000));
  }
  {  // Two Transfer-Encoding fields.
    Client c(f.socket);
    Response r = c.Call(
        "POST /v1/decide HTTP/1.1\r\nTransfer-Encoding: identity\r\n"
        "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    CHECK(r.status == 400);
  }
  {  // A single chunked is served.
    Client c(f.socket);
    Response r = c.Call(
        "POST /v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: Chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    CHECK(r.body.find("malformed_http") == std::string::npos);
  }
  f.ExpectServing();
  {  // Truncated body: Content-Length larger than sent, then the write side closed.
    Client c(f.socket);
    REQUIRE(
        c.Send("POST /v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
               "Content-Length: 500\r\n\r\n{\"subject\":"));
    c.ShutdownWrite();
    Response r = c.Read(5000);
    CHECK((r.status == 0 || r.status == 400));
    CHECK(c.WaitClosed(5000));
  }
  {  // The same, with the connection dropped entirely.
    Client c(f.socket);
    REQUIRE(c.Send("POST /v1/decide HTTP/1.1\r\nContent-Length: 500\r\n\r\n{\"subject\":"));
  }
  f.ExpectServing();
  {  // Body over max_body_bytes (8192): 413 from the header alone.
    Client c(f.socket);
    Response r = c.Call(
        "POST /v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n");
    CHECK(r.status == 413);
    CHECK(Json(r.body)["error"]["code"] == "body_too_large");
    CHECK(c.WaitClosed(5000));
  }
  {  // The same, chunked: the limit applies as the chunks arrive.
    Client c(f.socket);
    std::string request =
        "POST /v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; ++i) request += "400\r\n" + std::string(1024, ' ') + "\r\n";
    request += "0\r\n\r\n";
    c.Send(request);  // the server may close before it has read everything
    Response r = c.Read();
    CHECK(r.status == 413);
  }
  {  // A small chunked body is fine.
    Client c(f.socket);
    const std::string body = Example("permit.json");
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    Response r = c.Call(
        "POST /v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n" +
        std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
    CHECK(r.status == 200);
    CHECK(Json(r.body)["decision"] == "permit");
  }
  f.ExpectServing();
  {  // Header over max_header_bytes (2048): 431.
    Client c(f.socket);
    Response r = c.Call(Http("GET", "/health", "", {"X-Padding: " + std::string(4000, 'p')}));
    CHECK(r.status == 431);
    CHECK(Json(r.body)["error"]["code"] == "header_too_large");
    CHECK(c.WaitClosed(5000));
  }
  {  // A very long target.
    Client c(f.socket);
    Response r = c.Call(Http("GET", "/" + std::string(5000, 'x'), "", {}));
    CHECK(r.status == 431);
  }
  f.ExpectServing();
  {  // Deeply nested JSON: a structured 400, not a crash.
    const std::string deep = "{\"subject\": {\"id\": \"a\", \"x\": " + std::string(3000, '[') +
                             std::string(3000, ']') + "}, \"action\": \"read\"}";
    Response r = Post(f.socket, "/v1/decide", deep);
    CHECK(r.status == 400);
    json j = Json(r.body);
    CHECK(j["error"]["code"] == "bad_request");
    CHECK(j["decision"] == "deny");
    CHECK(j["errors"].size() >= 1);
    std::string nested;
    for (int i = 0; i < 1000; ++i) nested += "{\"a\":";
    nested += "1" + std::string(1000, '}');
    Response r2 = Post(f.socket, "/v1/decide", nested);
    CHECK(r2.status == 400);
    Response r3 = Post(f.socket, "/v1/decide/batch", "{\"requests\": [" + deep + "]}");
    CHECK((r3.status == 200 || r3.status == 400));
    Json(r3.body);
    Response r4 = Post(f.socket, "/access/v1/evaluation",
                       "{\"context\": " + std::string(3000, '[') + std::string(3000, ']') + "}");
    CHECK(r4.status == 400);
    Json(r4.body);
  }
  f.ExpectServing();
  {  // Wrong types: lenient decoding decides and reports them.
    Response r = Post(f.socket, "/v1/decide",
                      R"({"subject": {"id": "anna", "roles": "payment_approver", "department": 7},
                          "action": "read",
                          "resource": {"type": "payment", "id": "p", "amount": "lots"}})");
    REQUIRE(r.status == 200);
    json j = Json(r.body);
    CHECK(j["decision"] == "not_applicable");
    REQUIRE(j["errors"].size() >= 2);
    CHECK(j["errors"][0]["code"] == "wrong_type");
    CHECK(j["errors"][0]["path"] == "subject.roles");
  }
  {  // Invalid UTF-8, in a value and in a key.
    for (const std::string& body :
         {std::string("{\"subject\": {\"id\": \"\xff\xfe\"}, \"action\": \"read\"}"),
          std::string("{\"subject\": {\"\xc3\x28\": \"a\"}, \"action\": \"read\"}")}) {
      Response r = Post(f.socket, "/v1/decide", body);
      CHECK(r.status == 400);
      CHECK(Json(r.body)["error"]["code"] == "bad_request");
      Response a = Post(f.socket, "/access/v1/evaluation", body);
      CHECK(a.status == 400);
      Json(a.body);
    }
  }
  {  // Not JSON, empty bodies.
    CHECK(Post(f.socket, "/v1/decide", "").status == 400);
    CHECK(Post(f.socket, "/v1/decide", "null").status == 400);
    CHECK(Post(f.socket, "/v1/decide", std::string("{\0}", 3)).status == 400);
    CHECK(Post(f.socket, "/access/v1/evaluations", "").status == 400);
    CHECK(Post(f.socket, "/v1/decide/batch", "").status == 400);
  }
  f.ExpectServing();
  {  // A slow client: half a header, then nothing. Another client is served
     // meanwhile; the slow one gets 408 (or is closed) after header_timeout.
    Client slow(f.socket);
    REQUIRE(slow.Send("POST /v1/decide HTTP/1.1\r\nHost: w\r\nContent-Le"));
    f.ExpectServing();
    Response r = slow.Read(5000);
    CHECK((r.status == 408 || r.status == 0));
    if (r.status == 408) CHECK(Json(r.body)["error"]["code"] == "request_timeout");
    CHECK(slow.WaitClosed(5000));
  }
  {  // A slow body: the header, then half the body.
    Client slow(f.socket);
    REQUIRE(slow.Send("POST /v1/decide HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"a\":"));
    f.ExpectServing();
    Response r = slow.Read(5000);
    CHECK((r.status == 408 || r.status == 0));
    CHECK(slow.WaitClosed(5000));
  }
  {  // Idle keep-alive connections are closed after idle_timeout (700 ms):
     // one that never sent anything, one after a request.
    Client silent(f.socket);
    Client used(f.socket);
    CHECK(used.Call(Http("GET", "/health", "", {})).status == 200);
    CHECK(silent.WaitClosed(5000));
    CHECK(used.WaitClosed(5000));
  }
  Response metrics = Get(f.socket, "/metrics");
  CHECK(Metric(metrics.body, "warden_timeouts_total") >= 4);
  // Errors the transport answered itself are counted by code too.
  for (const char* code :
       {"malformed_http", "body_too_large", "header_too_large", "request_timeout"}) {
    CAPTURE(code);
    CHECK(Metric(metrics.body, "warden_errors_total{code=\"" + std::string(code) + "\"}") >= 1);
  }
  f.ExpectServing();
}

TEST_CASE("serve: --strict-requests turns wrong types into 400") {
  Fixture f(kLimits, {"--strict-requests"});
  Response r = Post(f.socket, "/v1/decide",
                    R"({"subject": {"id": "anna", "roles": "payment_approver"},
                        "action": "read", "resource": {"type": "payment", "id": "p"}})");
  CHECK(r.status == 400);
  json j = Json(r.body);
  CHECK(j["error"]["code"] == "bad_request");
  CHECK(j["decision"] == "deny");
  Response unknown = Post(f.socket, "/v1/decide",
                          R"({"subject": {"id": "anna", "no_such_attribute": 1},
                              "action": "read", "resource": {"type": "payment", "id": "p"}})");
  CHECK(unknown.status == 400);
  f.ExpectServing();
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Whether `text` names `file` with a line and a column: "file:12:7".
bool HasFileLineCol(const std::string& text, const std::string& file) {
  for (size_t at = text.find(file + ":"); at != std::string::npos;
       at = text.find(file + ":", at + 1)) {
    size_t i = at + file.size() + 1;
    const size_t line_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == line_start || i >= text.size() || text[i] != ':') continue;
    const size_t col_start = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i > col_start) return true;
  }
  return false;
}

// The maker-checker request: anna approves her own payment.
std::string MakerCheckerRequest() {
  json request = json::parse(Example("permit.json"));
  request["resource"]["created_by"] = "anna";
  return request.dump();
}

std::string FirstReason(Fixture& f) {
  Response r = Post(f.socket, "/v1/decide", MakerCheckerRequest());
  REQUIRE(r.status == 200);
  json j = Json(r.body);
  REQUIRE(j["reasons"].size() >= 1);
  return j["reasons"][0].get<std::string>();
}

// Polls the admin status until `done` holds (or 30 s pass).
json WaitStatus(Fixture& f, const std::function<bool(const json&)>& done) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  json status;
  while (Clock::now() < deadline) {
    Response r = Get(f.admin, "/v1/status");
    if (r.status == 200) {
      status = json::parse(r.body, nullptr, false);
      if (!status.is_discarded() && done(status)) return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

constexpr char kBroken[] = "\npolicy broken on payment {\n  rule r: permit read if (\n}\n";
constexpr char kMakerReason[] = "the creator of a payment cannot approve it";

TEST_CASE("serve: peer credentials decide who may connect") {
  {  // Not our uid: refused with 403 (the admin socket still serves us).
    Fixture f(R"({"socket": {"allowed_uids": [4242]}, "watch": false})", {},
              /*ready_on_admin=*/true);
    Client c(f.socket);
    REQUIRE(c.connected());
    Response r = c.Read();  // refused at once, before any request
    CHECK(r.status == 403);
    CHECK(Json(r.body)["error"]["code"] == "forbidden");
    CHECK(c.WaitClosed(5000));
    Response metrics = Get(f.admin, "/metrics");
    CHECK(Metric(metrics.body, "warden_connections_refused_total{reason=\"peer\"}") == 1);
    CHECK(Metric(metrics.body, "warden_errors_total{code=\"forbidden\"}") == 1);
    CHECK(f.server->Stderr().find("peer not allowed") != std::string::npos);
  }
  {  // Our uid listed: served.
    Fixture f("{\"socket\": {\"allowed_uids\": [4242, " + std::to_string(::getuid()) +
              "]}, \"watch\": false}");
    f.ExpectServing();
  }
  {  // Our gid listed: a peer is allowed by uid OR gid.
    Fixture f("{\"socket\": {\"allowed_uids\": [4242], \"allowed_gids\": [" +
              std::to_string(::getgid()) + "]}, \"watch\": false}");
    f.ExpectServing();
  }
  {  // The admin socket restricted to someone else.
    Fixture f(R"({"admin_socket": {"allowed_uids": [4242], "mode": "0620"}, "watch": false})");
    Client c(f.admin);
    REQUIRE(c.connected());
    CHECK(c.Read().status == 403);
    struct stat info {};
    REQUIRE(::stat(f.admin.c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0620);
    f.ExpectServing();
  }
}

TEST_CASE("serve: connections over max_connections get 503 until a slot frees up") {
  Fixture f(R"({"limits": {"max_connections": 2}, "watch": false})");
  // A served keep-alive connection (retrying while closed ones still count).
  auto hold = [&]() {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto client = std::make_unique<Client>(f.socket);
      if (client->Call(Http("GET", "/health", "", {})).status == 200) return client;
      REQUIRE(Clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  std::unique_ptr<Client> a = hold();
  std::unique_ptr<Client> b = hold();
  Client c(f.socket);
  REQUIRE(c.connected());
  Response refused = c.Read();  // refused at once
  CHECK(refused.status == 503);
  CHECK(Json(refused.body)["error"]["code"] == "too_many_connections");
  c.Close();
  a.reset();
  std::unique_ptr<Client> d = hold();  // served again
  CHECK(d->Call(Http("POST", "/v1/decide", Example("permit.json"))).status == 200);
}

TEST_CASE("serve: a broken policy is rejected on reload; the old bundle keeps serving") {
  Fixture f("", {"--no-watch"});
  const std::string original = ReadFile(f.payments.source);
  const std::string hash = f.BundleHash();
  CHECK(FirstReason(f) == kMakerReason);

  WriteFile(f.payments.source, original + kBroken);
  Response failed = Post(f.admin, "/v1/reload", "");
  CHECK(failed.status == 422);
  json fj = Json(failed.body);
  CHECK(fj["error"]["code"] == "reload_failed");
  const std::string message = fj["error"]["message"].get<std::string>();
  CAPTURE(message);
  CHECK(HasFileLineCol(message, "payments.warden"));
  CHECK(f.BundleHash() == hash);
  CHECK(FirstReason(f) == kMakerReason);
  f.ExpectServing();
  json st = Json(Get(f.admin, "/v1/status").body);
  CHECK(st["last_reload"]["ok"] == false);
  CHECK(st["last_reload"]["trigger"] == "admin");
  CHECK(HasFileLineCol(st["last_reload"]["error"].get<std::string>(), "payments.warden"));
  CHECK(st["reloads"]["failed"] == 1);
  CHECK(st["bundle"]["hash"] == hash);
  CHECK(st["bundle"]["trigger"] == "start");
  CHECK(Metric(Get(f.socket, "/metrics").body, "warden_reloads_total{result=\"failed\"}") == 1);

  // Fixed (and changed): the reload publishes a new bundle.
  WriteFile(f.payments.source, Replace(original, kMakerReason, "makers never check"));
  Response fixed = Post(f.admin, "/v1/reload", "");
  REQUIRE(fixed.status == 200);
  json xj = Json(fixed.body);
  CHECK(xj["ok"] == true);
  const std::string fixed_hash = xj["bundle"].get<std::string>();
  CHECK(fixed_hash != hash);
  CHECK(f.BundleHash() == fixed_hash);
  CHECK(FirstReason(f) == "makers never check");
  st = Json(Get(f.admin, "/v1/status").body);
  CHECK(st["last_reload"]["ok"] == true);
  CHECK(st["last_reload"]["error"] == "");

  // SIGHUP reloads too.
  WriteFile(f.payments.source, Replace(original, kMakerReason, "four eyes, please"));
  f.server->Signal(SIGHUP);
  st = WaitStatus(f, [](const json& s) { return s["bundle"]["trigger"] == "sighup"; });
  CHECK(st["bundle"]["trigger"] == "sighup");
  CHECK(st["last_reload"]["trigger"] == "sighup");
  CHECK(st["bundle"]["hash"] != fixed_hash);
  CHECK(FirstReason(f) == "four eyes, please");

  // A broken file on SIGHUP: rejected, the server keeps serving.
  const std::string sighup_hash = st["bundle"]["hash"].get<std::string>();
  WriteFile(f.payments.source, original + kBroken);
  f.server->Signal(SIGHUP);
  st = WaitStatus(f, [](const json& s) { return s["reloads"]["failed"] == 2; });
  CHECK(st["reloads"]["failed"] == 2);
  CHECK(st["last_reload"]["ok"] == false);
  CHECK(f.BundleHash() == sighup_hash);
  CHECK(FirstReason(f) == "four eyes, please");
  CHECK(f.server->Stderr().find("reload rejected") != std::string::npos);

  // Broken data is rejected the same way.
  WriteFile(f.payments.source, original);
  WriteFile(f.payments.data, "{\"sanctioned_countries\": ");
  Response bad_data = Post(f.admin, "/v1/reload", "");
  CHECK(bad_data.status == 422);
  CHECK(Json(bad_data.body)["error"]["message"].get<std::string>().find("data.json") !=
        std::string::npos);
  f.ExpectServing();
}

TEST_CASE("serve: watching the policy files reloads a valid change") {
  Fixture f(R"({"watch_interval_ms": 50})");
  const std::string original = ReadFile(f.payments.source);
  const std::string hash = f.BundleHash();
  WriteFile(f.payments.source, Replace(original, kMakerReason, "watched and reloaded"));
  json st = WaitStatus(f, [&](const json& s) { return s["bundle"]["hash"] != hash; });
  CHECK(st["bundle"]["hash"] != hash);
  CHECK(st["bundle"]["trigger"] == "watch");
  CHECK(FirstReason(f) == "watched and reloaded");

  // A broken save is rejected; the last good bundle keeps serving.
  const std::string watched_hash = st["bundle"]["hash"].get<std::string>();
  WriteFile(f.payments.source, original + kBroken);
  st = WaitStatus(f, [](const json& s) { return s["reloads"]["failed"] == 1; });
  CHECK(st["reloads"]["failed"] == 1);
  CHECK(st["last_reload"]["trigger"] == "watch");
  CHECK(f.BundleHash() == watched_hash);
  f.ExpectServing();
}

TEST_CASE("serve: configuration and start-up errors") {
  TempDir dir;
  Payments payments(dir);
  const std::string socket = dir / "d.sock";
  auto serve = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "serve");
    return Run(dir, args);
  };

  // An unknown key, nested or at the top: exit 2, naming the key.
  RunResult nested =
      serve({"--config", dir.Write("c1.json", R"({"limits": {"max_bodybytes": 5}})"), "--socket",
             socket, "--policies", payments.policies, "--data", payments.data});
  CHECK(nested.exit_code == 2);
  CHECK(nested.err.find("limits.max_bodybytes") != std::string::npos);
  CHECK(nested.err.find("unknown key") != std::string::npos);
  RunResult top = serve({"--config", dir.Write("c2.json", "// comment\n{\"polices\": \"x\"}"),
                         "--socket", socket, "--policies", payments.policies});
  CHECK(top.exit_code == 2);
  CHECK(top.err.find("polices") != std::string::npos);
  RunResult wrong_type = serve({"--config", dir.Write("c3.json", R"({"socket": {"mode": 660}})"),
                                "--socket", socket, "--policies", payments.policies});
  CHECK(wrong_type.exit_code == 2);
  CHECK(wrong_type.err.find("socket.mode") != std::string::npos);
  RunResult not_json = serve(
      {"--config", dir.Write("c4.json", "{"), "--socket", socket, "--policies", payments.policies});
  CHECK(not_json.exit_code == 2);
  RunResult no_file =
      serve({"--config", dir / "nope.json", "--socket", socket, "--policies", payments.policies});
  CHECK(no_file.exit_code == 2);
  RunResult no_socket = serve({"--policies", payments.policies});
  CHECK(no_socket.exit_code == 2);
  RunResult no_policies = serve({"--socket", socket});
  CHECK(no_policies.exit_code == 2);
  RunResult long_path = serve({"--socket", dir / std::string(120, 's'), "--policies",
                               payments.policies, "--data", payments.data});
  CHECK(long_path.exit_code == 2);
  CHECK(long_path.err.find("too long") != std::string::npos);
  RunResult same = serve({"--socket", socket, "--admin-socket", socket, "--policies",
                          payments.policies, "--data", payments.data});
  CHECK(same.exit_code == 2);
  // A 0-byte state database (issue 12, finding 1): not started, even with
  // create_state, and the file stays empty.
  const std::string empty_state = dir.Write("state.db", "");
  for (const char* create : {"false", "true"}) {
    CAPTURE(create);
    RunResult empty =
        serve({"--config",
               dir.Write("c5.json", std::string(R"({"auth": {"state": ")") + empty_state +
                                        R"(", "create_state": )" + create + "}}"),
               "--socket", socket, "--policies", payments.policies, "--data", payments.data});
    CHECK(empty.exit_code != 0);
    CHECK(empty.err.find(empty_state + ": the state database is empty (0 bytes)") !=
          std::string::npos);
    CHECK(std::filesystem::file_size(empty_state) == 0);
  }

  // Policies that do not load: exit 1 with the diagnostics on stderr.
  RunResult missing =
      serve({"--socket", socket, "--policies", dir / "no-such-dir", "--data", payments.data});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no-such-dir") != std::string::npos);
  WriteFile(payments.source, ReadFile(payments.source) + kBroken);
  RunResult broken =
      serve({"--socket", socket, "--policies", payments.policies, "--data", payments.data});
  CHECK(broken.exit_code == 1);
  CAPTURE(broken.err);
  CHECK(HasFileLineCol(broken.err, "payments.warden"));
  CHECK(broken.err.find("cannot load the policies") != std::string::npos);
  RunResult no_data = serve({"--socket", socket, "--policies", SourcePath("examples/payments"),
                             "--data", dir / "no-data.json"});
  CHECK(no_data.exit_code == 1);
  // No start-up failure leaves a socket file behind.
  CHECK_FALSE(std::filesystem::exists(socket));
}

TEST_CASE("serve: SIGTERM drains idle keep-alive connections and removes the sockets") {
  // A long idle timeout and drain timeout: only the drain can close the
  // idle connections in time for the exit to be seen.
  Fixture f(R"({"limits": {"idle_timeout_ms": 60000, "drain_timeout_ms": 60000}, "watch": false})");

  // A second server on the same socket refuses to start.
  RunResult second = Run(f.dir, {"serve", "--socket", f.socket, "--policies", f.payments.policies,
                                 "--data", f.payments.data});
  CHECK(second.exit_code == 2);
  CHECK(second.err.find("in use") != std::string::npos);
  f.ExpectServing();

  Client idle(f.socket);
  CHECK(idle.Call(Http("GET", "/health", "", {})).status == 200);
  Client idle_admin(f.admin);
  CHECK(idle_admin.Call(Http("GET", "/v1/status", "", {})).status == 200);
  Client silent(f.socket);
  REQUIRE(silent.connected());
  // The silent connection has been accepted (it is counted) before SIGTERM.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline &&
         Metric(Get(f.admin, "/metrics").body, "warden_connections_open") < 4)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  f.server->Signal(SIGTERM);
  const std::optional<int> code = f.server->WaitExit(20000);
  INFO("server stderr: " << f.server->Stderr());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(idle.WaitClosed(2000));
  CHECK(idle_admin.WaitClosed(2000));
  CHECK(silent.WaitClosed(2000));
  CHECK_FALSE(std::filesystem::exists(f.socket));
  CHECK_FALSE(std::filesystem::exists(f.admin));
  const std::string log = f.server->Stderr();
  CHECK(log.find("\"msg\":\"draining\"") != std::string::npos);
  CHECK(log.find("\"msg\":\"stopped\"") != std::string::npos);

  // A server killed hard leaves its socket file; the next one takes it over.
  f.server.emplace(f.dir,
                   std::vector<std::string>{"--socket", f.socket, "--policies", f.payments.policies,
                                            "--data", f.payments.data},
                   "second");
  REQUIRE(f.server->WaitReady(f.socket));
  f.server->Signal(SIGKILL);
  CHECK(f.server->WaitExit(10000) == 128 + SIGKILL);
  CHECK(std::filesystem::exists(f.socket));
  f.server.emplace(f.dir,
                   std::vector<std::string>{"--socket", f.socket, "--policies", f.payments.policies,
                                            "--data", f.payments.data},
                   "third");
  REQUIRE(f.server->WaitReady(f.socket));
  f.ExpectServing();
}

TEST_CASE("serve: the audit log holds every decision and verifies") {
  TempDir probe;
  const RunResult help = Run(probe, {"serve", "--help"});
  const RunResult audit_help = Run(probe, {"audit", "--help"});
  if (help.out.find("--audit-log") == std::string::npos || audit_help.exit_code != 0) {
    MESSAGE("skipped: this warden has no audit log");
    return;
  }
  Fixture f(R"({"watch": false, "audit": {"fsync": "every_line"}})",
            {"--audit-log", "@DIR@/audit.log"});
  const std::string log = f.dir / "audit.log";
  int decisions = 0;
  for (const char* name : {"permit.json", "deny.json", "step_up.json"}) {
    CHECK(Post(f.socket, "/v1/decide", Example(name)).status == 200);
    ++decisions;
  }
  CHECK(Post(f.socket, "/v1/decide", "{\"action\": 5}").status == 400);  // audited as bad_request
  ++decisions;
  CHECK(Post(f.socket, "/v1/decide/batch",
             "{\"requests\": [" + Example("permit.json") + "," + Example("deny.json") + "]}")
            .status == 200);
  decisions += 2;
  CHECK(Post(f.socket, "/access/v1/evaluation", AuthzenPermit().dump()).status == 200);
  ++decisions;
  CHECK(Get(f.socket, "/health").status == 200);  // not a decision
  CHECK(Metric(Get(f.socket, "/metrics").body, "warden_audit_lines_total") == decisions);

  f.server->Signal(SIGTERM);
  REQUIRE(f.server->WaitExit(20000) == 0);
  const std::string text = ReadFile(log);
  CHECK(std::count(text.begin(), text.end(), '\n') == decisions);
  CHECK(text.find("\"error\":\"bad_request\"") != std::string::npos);
  // The IBAN is sensitive: masked in the log.
  CHECK(text.find("FR7630006000011234567890189") == std::string::npos);
  RunResult verify = Run(f.dir, {"audit", "verify", log});
  CAPTURE(verify.out);
  CAPTURE(verify.err);
  CHECK(verify.exit_code == 0);

  // One edited byte breaks the chain.
  std::string edited = text;
  const size_t at = edited.find("\"effect\":\"permit\"");
  REQUIRE(at != std::string::npos);
  edited.replace(at, 17, "\"effect\":\"deny\"  ");
  WriteFile(log, edited);
  CHECK(Run(f.dir, {"audit", "verify", log}).exit_code != 0);
}
// A batch the server rejects as a whole (413 batch_too_large, or 400 for a
// bad item) answers no decision, so none may be in the audit log or the
// decision counts.
TEST_CASE("serve: rejected batches leave no decisions in the audit log") {
  TempDir probe;
  if (Run(probe, {"audit", "--help"}).exit_code != 0) {
    MESSAGE("skipped: this warden has no audit log");
    return;
  }
  Fixture f(R"({"watch": false, "limits": {"max_batch": 3}})", {"--audit-log", "@DIR@/audit.log"});
  const std::string permit = Example("permit.json");
  Response too_large =
      Post(f.socket, "/v1/decide/batch",
           "{\"requests\": [" + permit + "," + permit + "," + permit + "," + permit + "]}");
  CHECK(too_large.status == 413);
  Response bad_item = Post(f.socket, "/v1/decide/batch", "{\"requests\": [" + permit + ", 5]}");
  CHECK(bad_item.status == 400);
  json evaluations = AuthzenPermit();
  evaluations["evaluations"] = {json::object(), {{"action", "approve"}}};  // item 1: not an object
  CHECK(Post(f.socket, "/access/v1/evaluations", evaluations.dump()).status == 400);

  const std::string metrics = Get(f.socket, "/metrics").body;
  CHECK(Metric(metrics, "warden_audit_lines_total") == 0);
  CHECK(Metric(metrics, "warden_decisions_total{effect=\"permit\"}") == 0);
  f.server->Signal(SIGTERM);
  REQUIRE(f.server->WaitExit(20000) == 0);
  const std::string text = ReadFile(f.dir / "audit.log");
  CHECK(std::count(text.begin(), text.end(), '\n') == 0);
}

TEST_CASE("serve: /v1/check verifies the token, sees CLI revocations, and is 404 without auth") {
  {
    Fixture plain;
    CHECK(Post(plain.socket, "/v1/check", "{}").status == 404);
  }
  warden::testing::TempDir state_dir;
  const std::string state = state_dir / "state.db";
  REQUIRE(Run({"state", "init", "--state", state}).exit_code == 0);
  const std::string secret = "0123456789abcdef0123456789abcdef-server-test";
  const std::string secret_file = state_dir.Write("hs.secret", secret);
  Fixture f(R"({"auth": {"state": ")" + state + R"(", "poll_interval_ms": 100,
      "issuers": [{"issuer": "https://id.test", "audiences": ["payments"], "algorithms": ["HS256"],
                   "hmac_keys": [{"kid": "k1", "secret_file": ")" +
            secret_file + R"("}],
                   "claims": {"attributes": {"department": "dept"}}}]}})");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  json claims = {{"iss", "https://id.test"},
                 {"aud", "payments"},
                 {"sub", "anna"},
                 {"iat", now - 10},
                 {"exp", now + 600},
                 {"jti", "t-1"},
                 {"roles", {"payment_approver"}},
                 {"dept", "ops"}};
  const std::string token =
      warden::auth::testing::MintHs256({{"alg", "HS256"}, {"kid", "k1"}}, claims, secret);
  json body = {{"token", token},
               {"action", "approve"},
               {"resource",
                {{"type", "payment"},
                 {"id", "p-5"},
                 {"amount", 800.00},
                 {"department", "ops"},
                 {"created_by", "carl"},
                 {"status", "pending"},
                 {"beneficiary_country", "FR"},
                 {"beneficiary_iban", "FR7630006000011234567890189"}}},
               {"context", {{"ip", "198.51.100.20"}, {"device", {{"id", "laptop-4471"}}}}}};
  Response first = Post(f.socket, "/v1/check", body.dump());
  INFO("server stderr: " << f.server->Stderr());
  REQUIRE(first.status == 200);
  json answer = Json(first.body);
  CHECK(answer["identity"]["subject"] == "anna");
  CHECK(answer["auth_error"].is_null());
  CHECK(answer["decision"] != "permit");  // a new device and no MFA: the payments policy objects

  json forged = body;
  // A changed character inside the signature (not its last one, whose low
  // bits must be zero in canonical base64url): a well-formed, wrong signature.
  std::string tampered = token;
  char& c = tampered[tampered.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  forged["token"] = tampered;
  CHECK(Json(Post(f.socket, "/v1/check", forged.dump()).body)["auth_error"]["code"] ==
        "token_bad_signature");

  REQUIRE(Run({"tokens", "revoke", "--state", state, "--jti", "t-1"}).exit_code == 0);
  std::string code;
  for (int i = 0; i < 50 && code != "token_revoked"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    json again = Json(Post(f.socket, "/v1/check", body.dump()).body);
    code = again["auth_error"].is_object() ? again["auth_error"]["code"].get<std::string>() : "";
  }
  CHECK(code == "token_revoked");
  f.ExpectServing();
}

// Issue 12, finding 7: refused JWKS, IP list and GeoIP updates used to be
// silent (no log line, metric or status). Each is now all three, and the
// last good version keeps serving.
TEST_CASE("serve: refused JWKS, IP list and GeoIP updates are logged, counted and in /v1/status") {
  const std::string geo = SourcePath("../shared/data/geoip/GeoLite2-City-Test.mmdb");
  REQUIRE(std::filesystem::exists(geo));
  warden::testing::TempDir files;
  const std::string state = files / "state.db";
  REQUIRE(Run({"state", "init", "--state", state}).exit_code == 0);
  const auto key = warden::auth::testing::GenerateEcP256Key();
  const std::string jwks = files.Write(
      "jwks.json",
      warden::auth::testing::JwksJson({warden::auth::testing::PublicJwk(key, "ec-1", "ES256")}));
  const std::string list = files.Write("blocked.txt", "203.0.113.0/24\n");
  const std::string city = files / "city.mmdb";
  std::filesystem::copy_file(geo, city);
  Fixture f(R"({"auth": {"state": ")" + state + R"(", "poll_interval_ms": 100,
      "issuers": [{"issuer": "https://id.test", "audiences": ["payments"],
                   "algorithms": ["ES256"], "jwks_file": ")" +
            jwks + R"("}],
      "ip_lists": [{"name": "blocked", "file": ")" +
            list + R"("}],
      "geoip": {"city": ")" +
            city + R"("}}})");
  json status = Json(Get(f.admin, "/v1/status").body);
  INFO("status: " << status.dump());
  REQUIRE(status["sources"]["jwks"].size() == 1);
  CHECK(status["sources"]["jwks"][0]["path"] == jwks);
  CHECK(status["sources"]["jwks"][0]["refused"] == 0);
  CHECK(status["sources"]["jwks"][0]["last_error"].is_null());

  // Two kids alike, a half-written list, a truncated database.
  const json dup = warden::auth::testing::PublicJwk(key, "ec-1", "ES256");
  files.Write("jwks.json", warden::auth::testing::JwksJson({dup, dup}));
  files.Write("blocked.txt", "203.0.113.0/2");
  std::filesystem::resize_file(city, 0);
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    metrics = Get(f.admin, "/metrics").body;
    if (Metric(metrics, R"(warden_refused_updates_total{source="jwks"})") == 1 &&
        Metric(metrics, R"(warden_refused_updates_total{source="ip_list"})") == 1 &&
        Metric(metrics, R"(warden_refused_updates_total{source="geoip"})") == 1)
      break;
  }
  INFO("metrics: " << metrics);
  CHECK(Metric(metrics, R"(warden_refused_updates_total{source="jwks"})") == 1);
  CHECK(Metric(metrics, R"(warden_refused_updates_total{source="ip_list"})") == 1);
  CHECK(Metric(metrics, R"(warden_refused_updates_total{source="geoip"})") == 1);
  CHECK(Metric(metrics, R"(warden_refused_updates_total{source="state"})") == 0);
  CHECK(Metric(metrics, "warden_state_write_errors_total") == 0);

  status = Json(Get(f.admin, "/v1/status").body);
  for (const char* source : {"jwks", "ip_list", "geoip"}) {
    CAPTURE(source);
    REQUIRE(status["sources"][source].size() == 1);
    const json& entry = status["sources"][source][0];
    CHECK(entry["refused"] == 1);
    CHECK(entry["last_error"].is_string());
    CHECK(entry["last_error_at"].is_string());
    CHECK(entry["last_ok"].is_string());
  }
  CHECK(warden::testing::Contains(status["sources"]["jwks"][0]["last_error"].get<std::string>(),
                                  "duplicates the kid"));

  // One log line per refusal, naming the source and the file.
  const std::string log = f.server->Stderr();
  for (const std::string& path : {jwks, list, city}) {
    CAPTURE(path);
    CHECK(warden::testing::Contains(log, "update refused; the last good version keeps serving"));
    CHECK(warden::testing::Contains(log, "\"path\":\"" + path + "\""));
  }
  // A check with an address looks it up in the truncated database (SIGBUS
  // before): answered from the last good copy, by the last good keys.
  namespace at = warden::auth::testing;
  const std::string token = at::MintToken(
      at::Header("ES256", "ec-1"),
      at::Claims("https://id.test", "payments", "anna", absl::ToUnixSeconds(absl::Now())), key);
  json body = {{"token", token},
               {"action", "approve"},
               {"resource", {{"type", "payment"}, {"id", "p-5"}, {"amount", 10.0}}},
               {"context", {{"ip", "81.2.69.142"}}}};
  Response checked = Post(f.socket, "/v1/check", body.dump());
  CHECK(checked.status == 200);
  CHECK(Json(checked.body)["auth_error"].is_null());
  f.ExpectServing();
}

}  // namespace
}  // namespace warden::server_test

namespace warden::server_test {
namespace {

// Issue 12, finding 9: every refusal of a decision route, whichever stage
// refuses it (transport, route, body parser, decoder), is one shape: a bare
// deny with an "error" member, the shape /v1/decide's bad_request has.
void CheckRefusal(const Response& r, unsigned status, const std::string& code,
                  const std::vector<std::string>& decide_keys) {
  INFO("body: " << r.body);
  CHECK(r.status == status);
  json body = Json(r.body);
  CHECK(body["error"]["code"] == code);
  CHECK(body["error"]["path"].is_string());
  CHECK(body["error"]["message"].is_string());
  CHECK(body["decision"] == "deny");
  CHECK(body["rules"] == json::array());
  CHECK(body["reasons"] == json::array());
  std::vector<std::string> keys;
  for (auto& item : body.items()) keys.push_back(item.key());
  CHECK(keys == decide_keys);
}

TEST_CASE("serve: every refusal of every decision route is a deny decision with an error") {
  warden::testing::TempDir state_dir;
  const std::string state = state_dir / "state.db";
  REQUIRE(Run({"state", "init", "--state", state}).exit_code == 0);
  const std::string secret_file =
      state_dir.Write("hs.secret", "0123456789abcdef0123456789abcdef-server-test");
  Fixture f(R"({"limits": {"max_batch": 1, "max_body_bytes": 4096, "max_header_bytes": 2048},
      "watch": false, "auth": {"state": ")" +
            state + R"(", "issuers": [{"issuer": "https://id.test", "audiences": ["payments"],
      "algorithms": ["HS256"], "hmac_keys": [{"kid": "k1", "secret_file": ")" +
            secret_file + R"("}]}]}})");
  const Response decide_bad = Post(f.socket, "/v1/decide", R"({"resource": {"type": "payment"}})");
  REQUIRE(decide_bad.status == 400);
  std::vector<std::string> decide_keys;
  const json decide_json = Json(decide_bad.body);
  for (auto& item : decide_json.items()) decide_keys.push_back(item.key());
  CHECK(decide_json["error"]["path"] == "action");

  struct Route {
    std::string path;
    std::string bad_body;  // a body the route refuses with 400 `bad_code`
    std::string bad_code;
  };
  const std::string item = R"({"action": "read"})";
  const Route routes[] = {
      {"/v1/decide", "nope", "bad_request"},
      {"/v1/decide/batch", "nope", "malformed_batch"},
      {"/v1/check", "nope", "malformed_json"},
      {"/v1/check", R"({"action": 1})", "bad_request"},
      {"/v1/check", R"({"api_key": "wdk_a", "authorization": "Bearer wdk_b"})",
       "ambiguous_credentials"},
      {"/access/v1/evaluation", "nope", "malformed_json"},
      {"/access/v1/evaluation", R"({"action": {"name": "a"}})", "bad_request"},
      {"/access/v1/evaluations", "nope", "malformed_json"},
  };
  for (const Route& route : routes) {
    CAPTURE(route.path);
    CAPTURE(route.bad_body);
    CheckRefusal(Post(f.socket, route.path, route.bad_body), 400, route.bad_code, decide_keys);
    CheckRefusal(Get(f.socket, route.path), 405, "method_not_allowed", decide_keys);
    CheckRefusal(Call(f.socket, Http("POST", route.path, "{}", {"Content-Type: text/plain"})), 415,
                 "unsupported_media_type", decide_keys);
    // The transport's refusals, before any route sees the request.
    CheckRefusal(Post(f.socket, route.path, std::string(5000, ' ')), 413, "body_too_large",
                 decide_keys);
    CheckRefusal(Call(f.socket,
                      Http("POST", route.path, "{}",
                           {"Content-Type: application/json", "X-Big: " + std::string(3000, 'x')})),
                 431, "header_too_large", decide_keys);
    CheckRefusal(
        Call(f.socket, Http("POST", route.path, "{}",
                            {"Content-Type: application/json", "Transfer-Encoding: identity"})),
        400, "malformed_http", decide_keys);
  }
  CheckRefusal(Post(f.socket, "/v1/decide/batch", "{\"requests\": [" + item + "," + item + "]}"),
               413, "batch_too_large", decide_keys);
  CheckRefusal(Post(f.socket, "/v1/decide/batch", "{\"requests\": [], \"requests\": []}"), 400,
               "bad_request", decide_keys);
  CheckRefusal(Post(f.socket, "/access/v1/evaluations",
                    R"({"evaluations": [{"action": {"name": "a"}}, {"action": {"name": "b"}}]})"),
               413, "batch_too_large", decide_keys);
  CheckRefusal(Post(f.socket, "/v1/dec1de", "{}"), 404, "not_found", decide_keys);
  {
    Fixture plain;
    CheckRefusal(Post(plain.socket, "/v1/check", "{}"), 404, "not_found", decide_keys);
  }
  f.ExpectServing();
}

}  // namespace
}  // namespace warden::server_test
