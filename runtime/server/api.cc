// The HTTP API's routes and handlers (see api.h and docs/api.md).
#include "runtime/server/api.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <optional>
#include <random>

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/audit/audit_log.h"
#include "runtime/auth/check_service.h"
#include "runtime/decision_json.h"
#include "runtime/server/audit_health.h"
#include "runtime/server/authzen.h"
#include "runtime/server/log.h"
#include "runtime/server/sources.h"
#include "runtime/strict_json.h"
#include "runtime/values/timestamp.h"
#include "warden/engine.h"

namespace warden::server {
namespace {

using nlohmann::json;
constexpr std::string_view kJson = "application/json";

// Debian's Abseil has its own string_view type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

std::string_view PathOf(std::string_view target) {
  const size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

// application/json, with or without parameters; a missing Content-Type is
// accepted (curl --data-binary without -H still sends one, though).
bool IsJson(std::string_view content_type) {
  if (content_type.empty()) return true;
  const size_t semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != kJson.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  }
  return true;
}

// The routes that decide, and so are audited.
bool IsDecisionPath(std::string_view path) {
  return path == "/v1/decide" || path == "/v1/decide/batch" || path == "/v1/check" ||
         path == "/access/v1/evaluation" || path == "/access/v1/evaluations";
}

std::string TimeText(absl::Time t) { return values::TimestampMillisString(absl::ToUnixMillis(t)); }

}  // namespace

void HttpResponse::Reset() {
  status = 200;
  content_type = kJson;
  allow = {};
  request_id.clear();
  decision_id.clear();
  body.clear();
  close = false;
  audit_ticket = 0;
}

void WriteError(unsigned status, std::string_view code, std::string_view message,
                HttpResponse* response) {
  response->status = status;
  response->content_type = kJson;
  response->body.clear();
  AppendRefusalJson(code, message, /*path=*/"", {}, &response->body);
}

struct ApiWorker::State {
  explicit State(ServerContext& c) : context(c), metrics(c.metrics->AddWorker()) {
    std::random_device seed;
    id_prefix = (static_cast<uint64_t>(seed()) << 32) ^ seed();
    sampler.seed(seed());
  }

  ServerContext& context;
  WorkerMetrics& metrics;
  std::shared_ptr<const LoadedPolicies> policies;
  uint64_t generation = 0;
  std::optional<JsonSession> session;
  Decision decision;
  simdjson::ondemand::parser batch_parser;
  std::string batch_text;                     // the batch body, padded for simdjson
  std::vector<std::string_view> batch_items;  // its requests, validated
  uint64_t id_prefix = 0;
  uint64_t id_counter = 0;
  std::minstd_rand sampler;
  std::optional<audit::RequestMasker> masker;                // for the current policies
  std::optional<auth::CheckService::Session> check_session;  // made on the first check
  uint64_t audit_ticket = 0;   // the last audit entry the current request queued
  bool audit_dropped = false;  // an entry of the current request was not queued

  // Picks up a newly published policy set between requests.
  void Refresh() {
    const uint64_t current = context.store->generation();
    if (current == generation && policies != nullptr) return;
    policies = context.store->current();
    generation = policies ? policies->generation : 0;
    session.reset();
    if (policies) {
      rt::DecoderOptions options;
      options.strict = context.config->strict_requests;
      options.max_bytes = context.config->limits.max_body_bytes;
      session.emplace(*policies->engine, options);
      masker.reset();
      if (context.audit != nullptr) masker.emplace(policies->engine->program());
    }
  }

  // 128 bits: this worker's random prefix and a counter. Written into
  // `out`, whose capacity is reused across requests.
  void NextDecisionId(std::string* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    const uint64_t parts[2] = {id_prefix, ++id_counter};
    out->resize(32);
    for (int p = 0; p < 2; ++p) {
      for (int i = 0; i < 16; ++i) (*out)[p * 16 + i] = kHex[(parts[p] >> (60 - 4 * i)) & 0xF];
    }
  }

  // Decides one JSON request into `decision`; counts and audits it. Returns
  // false for a bad request (decision: deny with bad_request). A batch's
  // items pass their index: their audit id is "ID-INDEX", built only when
  // a line is written.
  bool DecideOne(std::string_view request_json, const std::string& decision_id, int item = -1) {
    const bool ok = policies->engine->DecideJson(request_json, *session, &decision);
    if (!ok) {
      metrics.CountError("bad_request");
    } else {
      for (const DecisionError& error : decision.errors)
        metrics.CountError(rt::EvalErrorCode(error.code));
    }
    metrics.CountDecision(decision.outcome, decision.rules.empty()
                                                ? absl::string_view()
                                                : Av(decision.rules.front().policy));
    Audit(request_json, ok, decision_id, item);
    return ok;
  }

  // POST /v1/check: the credential is verified and the risk signals are
  // computed before deciding (runtime/auth/check_service.h).
  void Check(const HttpRequest& request, HttpResponse* response) {
    if (context.auth == nullptr) {
      metrics.CountError("not_found");
      return WriteError(404, "not_found",
                        "/v1/check needs an \"auth\" section in the configuration "
                        "(docs/authentication.md)",
                        response);
    }
    if (!check_session) check_session.emplace();
    NextDecisionId(&response->decision_id);
    const auth::CheckOutcome outcome =
        context.auth->Check(request.body, *policies->engine, *session, *check_session, &decision,
                            absl::Now(), &response->body);
    response->status = outcome.http_status;
    if (outcome.http_status != 200) {
      metrics.CountError(Av(outcome.bad_request));
      return;
    }
    if (outcome.auth_error != auth::AuthError::kNone)
      metrics.CountError(auth::AuthErrorCode(outcome.auth_error));
    for (const DecisionError& error : decision.errors)
      metrics.CountError(rt::EvalErrorCode(error.code));
    metrics.CountDecision(decision.outcome, decision.rules.empty()
                                                ? absl::string_view()
                                                : Av(decision.rules.front().policy));
    // The audit line holds the decision request Warden built (never the
    // credential); a refused credential is audited with its reason.
    Audit(outcome.decided ? check_session->decision_request() : std::string_view("{}"), true,
          response->decision_id, -1,
          outcome.auth_error == auth::AuthError::kNone ? std::string_view()
                                                       : auth::AuthErrorCode(outcome.auth_error));
  }

  void AppendDecision(bool ok, std::string* out) {
    if (ok) {
      AppendDecisionJson(*policies->engine, decision, session->errors(), out);
    } else {
      AppendBadRequestJson(session->errors(), out);
    }
  }

  void Audit(std::string_view request_json, bool ok, const std::string& decision_id, int item,
             std::string_view error_code = {}) {
    audit::AuditLog* log = context.audit;
    if (log == nullptr) return;
    const AuditConfig& config = context.config->audit;
    const std::string_view effect = rt::OutcomeName(decision.outcome);
    if (!config.effects.empty()) {
      bool wanted = false;
      for (const std::string& e : config.effects) wanted = wanted || e == effect;
      if (!wanted) return;
    }
    if (config.sample < 1.0 &&
        std::uniform_real_distribution<double>(0.0, 1.0)(sampler) >= config.sample)
      return;
    audit::AuditEntry entry;
    entry.decision_id = item < 0 ? decision_id : absl::StrCat(decision_id, "-", item);
    entry.time = absl::Now();
    entry.effect = std::string(effect);
    entry.challenge = std::string(decision.challenge);
    for (const DecidingRule& rule : decision.rules)
      entry.rules.push_back(absl::StrCat(Av(rule.name), " (", Av(rule.file), ":", rule.line, ")"));
    for (std::string_view reason : decision.reasons) entry.reasons.emplace_back(reason);
    if (!ok) entry.error_code = "bad_request";
    if (!error_code.empty()) entry.error_code = std::string(error_code);
    entry.request = masker->Mask(request_json);
    entry.bundle_hash = policies->engine->bundle_hash();
    const uint64_t ticket = log->Append(std::move(entry));
    if (ticket == 0) audit_dropped = true;
    audit_ticket = std::max(audit_ticket, ticket);
    context.metrics->audit_lines.fetch_add(1, std::memory_order_relaxed);
  }

  // ------------------------------------------------------------ audit outages

  bool AuditDurable() const {
    return context.audit != nullptr && context.config->audit.mode == AuditMode::kDurable;
  }
  bool AuditDenies() const {
    return context.audit != nullptr && context.config->audit.on_failure == AuditFailure::kDeny;
  }

  // Answers deny `audit_unavailable` (decision id already set) and queues
  // a line saying so, which the writer keeps until it can write it.
  void RefuseForAudit(HttpResponse* response) {
    metrics.CountError("audit_unavailable");
    WriteError(503, "audit_unavailable",
               "the audit log cannot be written, and audit.on_failure is deny: decisions are "
               "refused until it can",
               response);
    audit::AuditEntry entry;
    entry.decision_id = response->decision_id;
    entry.time = absl::Now();
    entry.effect = "deny";
    entry.error_code = "audit_unavailable";
    entry.request = "{}";
    if (policies != nullptr) entry.bundle_hash = policies->engine->bundle_hash();
    context.audit->Append(std::move(entry));
  }

  // Durable mode: the request's lines did not reach the disk. Deny replaces
  // the answer (its decision id stays; the new line supersedes the lines of
  // that id); serve keeps it and counts it.
  void AuditNotDurable(HttpResponse* response) {
    if (!AuditDenies()) {
      metrics.CountError("audit_unconfirmed");
      return;
    }
    std::string decision_id = std::move(response->decision_id);
    std::string request_id = std::move(response->request_id);
    response->Reset();
    response->decision_id = std::move(decision_id);
    response->request_id = std::move(request_id);
    RefuseForAudit(response);
  }

  // ------------------------------------------------------------ routes

  void Decide(const HttpRequest& request, HttpResponse* response) {
    NextDecisionId(&response->decision_id);
    const bool ok = DecideOne(request.body, response->decision_id);
    response->status = ok ? 200 : 400;
    AppendDecision(ok, &response->body);
  }

  // Reads the batch body into batch_items, validating the whole batch before
  // deciding (and auditing) any of it; false when it wrote a refusal.
  bool ReadBatch(std::string_view body, HttpResponse* response) {
    auto malformed = [&](std::string_view message) {
      metrics.CountError("malformed_batch");
      WriteError(400, "malformed_batch", message, response);
      return false;
    };
    constexpr std::string_view kShape =
        "the body must be a JSON object {\"requests\": [request, …]}";
    // simdjson reads up to SIMDJSON_PADDING bytes past the text: copy it
    // into a buffer with room to spare (its capacity is reused).
    batch_text.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    batch_text.assign(body);
    simdjson::padded_string_view padded(batch_text.data(), batch_text.size(),
                                        batch_text.capacity());
    simdjson::ondemand::document document;
    simdjson::ondemand::object root;
    if (batch_parser.iterate(padded).get(document) != simdjson::SUCCESS ||
        document.get_object().get(root) != simdjson::SUCCESS)
      return malformed(kShape);
    batch_items.clear();
    // Every member is read, so a second "requests" (or any repeated key)
    // is refused as /v1/decide refuses one, not silently ignored.
    ObjectKeys keys;
    bool has_requests = false;
    for (auto field : root) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return malformed(kShape);
      if (!keys.Add(key)) {
        metrics.CountError("bad_request");
        WriteError(400, "bad_request", absl::StrCat("`", Av(key), "` is given twice"), response);
        return false;
      }
      if (key != "requests") continue;
      simdjson::ondemand::array requests;
      if (field.value().get_array().get(requests) != simdjson::SUCCESS) return malformed(kShape);
      has_requests = true;
      if (!ReadBatchItems(requests, response)) return false;
    }
    return has_requests || malformed(kShape);
  }

  bool ReadBatchItems(simdjson::ondemand::array& requests, HttpResponse* response) {
    for (auto element : requests) {
      if (batch_items.size() == context.config->limits.max_batch) {
        metrics.CountError("batch_too_large");
        WriteError(
            413, "batch_too_large",
            absl::StrCat("a batch holds at most ", context.config->limits.max_batch, " requests"),
            response);
        return false;
      }
      simdjson::ondemand::object object;
      std::string_view raw;
      if (element.get_object().get(object) != simdjson::SUCCESS ||
          object.raw_json().get(raw) != simdjson::SUCCESS) {
        metrics.CountError("malformed_batch");
        WriteError(
            400, "malformed_batch",
            absl::StrCat("request ", batch_items.size(), " of the batch is not a JSON object"),
            response);
        return false;
      }
      batch_items.push_back(raw);
    }
    return true;
  }

  void DecideBatch(const HttpRequest& request, HttpResponse* response) {
    if (!ReadBatch(request.body, response)) return;
    NextDecisionId(&response->decision_id);
    std::string& out = response->body;
    out.append("{\"decisions\":[");
    for (size_t i = 0; i < batch_items.size(); ++i) {
      if (i > 0) out.push_back(',');
      const bool ok = DecideOne(batch_items[i], response->decision_id, static_cast<int>(i));
      AppendDecision(ok, &out);
    }
    out.append("]}");
  }

  // One AuthZEN evaluation's answer: {"decision": bool, "context": {…}}.
  void AppendAuthzenDecision(bool ok, const std::string& decision_id, std::string* out) {
    out->append("{\"decision\":");
    out->append(ok && decision.outcome == rt::Outcome::kPermit ? "true" : "false");
    out->append(",\"context\":{\"id\":");
    AppendJsonString(decision_id, out);
    out->append(",\"warden\":");
    AppendDecision(ok, out);
    out->append("}}");
  }

  void Authzen(const HttpRequest& request, bool plural, HttpResponse* response) {
    json body;
    StrictJsonError error;
    // Depth is left to the request decoder's limit (max_depth).
    if (!ParseStrictJson(request.body, {.max_depth = std::numeric_limits<int>::max()}, &body,
                         &error)) {
      // A duplicate key is the decoder's bad_request, as on /v1/decide.
      const bool duplicate = error.kind == StrictJsonError::Kind::kDuplicateKey;
      const std::string_view code = duplicate ? "bad_request" : "malformed_json";
      metrics.CountError(Av(code));
      return WriteError(400, code,
                        duplicate
                            ? absl::StrCat("`", error.path, "` is given twice")
                            : absl::StrCat("the body is not valid JSON (", error.message, ")"),
                        response);
    }
    absl::StatusOr<AuthzenBatch> batch =
        plural ? AuthzenEvaluations(body, context.config->limits.max_batch)
               : absl::StatusOr<AuthzenBatch>(AuthzenBatch{{std::move(body)}, {}, true});
    if (!batch.ok()) {
      const bool too_many = batch.status().code() == absl::StatusCode::kOutOfRange;
      metrics.CountError(too_many ? "batch_too_large" : "bad_request");
      return WriteError(too_many ? 413 : 400, too_many ? "batch_too_large" : "bad_request",
                        Sv(batch.status().message()), response);
    }
    // Map every evaluation before deciding (and auditing) any of them.
    std::vector<std::string> warden_requests;
    for (size_t i = 0; i < batch->evaluations.size(); ++i) {
      absl::StatusOr<std::string> warden_request = AuthzenToWardenRequest(batch->evaluations[i]);
      if (!warden_request.ok()) {
        metrics.CountError("bad_request");
        return WriteError(400, "bad_request",
                          batch->single ? std::string(warden_request.status().message())
                                        : absl::StrCat("evaluations[", i,
                                                       "]: ", warden_request.status().message()),
                          response);
      }
      warden_requests.push_back(*std::move(warden_request));
    }
    NextDecisionId(&response->decision_id);
    std::string& out = response->body;
    if (!batch->single) out.append("{\"evaluations\":[");
    for (size_t i = 0; i < warden_requests.size(); ++i) {
      const std::string id =
          batch->single ? response->decision_id : absl::StrCat(response->decision_id, "-", i);
      const bool ok = DecideOne(warden_requests[i], id);
      if (i > 0) out.push_back(',');
      AppendAuthzenDecision(ok, id, &out);
      const bool permit = ok && decision.outcome == rt::Outcome::kPermit;
      if ((batch->semantic == AuthzenBatch::Semantic::kDenyOnFirstDeny && !permit) ||
          (batch->semantic == AuthzenBatch::Semantic::kPermitOnFirstPermit && permit))
        break;
    }
    if (!batch->single) out.append("]}");
  }

  void Ready(HttpResponse* response) {
    if (AuditDenies() && !context.audit->writable()) {
      return WriteError(503, "audit_unavailable",
                        "the audit log cannot be written; decision requests are denied", response);
    }
    if (context.draining.load() || policies == nullptr) {
      return WriteError(
          503, "not_ready",
          context.draining.load() ? "the server is shutting down" : "no policies are loaded",
          response);
    }
    response->body =
        absl::StrCat("{\"status\":\"ready\",\"bundle\":\"", policies->engine->bundle_hash(),
                     "\",\"generation\":", policies->generation, "}");
  }

  void MetricsText(HttpResponse* response) {
    response->content_type = "text/plain; version=0.0.4; charset=utf-8";
    std::optional<audit::AuditStats> audit_stats;
    if (context.audit != nullptr) audit_stats = context.audit->stats();
    response->body = context.metrics->Render(policies.get(), context.store->status(),
                                             audit_stats ? &*audit_stats : nullptr);
    if (context.auth != nullptr) AppendSourceMetrics(context.auth->reports(), &response->body);
  }

  // ------------------------------------------------------------ admin routes

  void Reload(HttpResponse* response) {
    absl::Status status = context.store->Reload("admin");
    if (!status.ok()) {
      metrics.CountError("reload_failed");
      Log("error", "reload rejected; the last good policies keep serving",
          {{"trigger", "admin"}, {"diagnostics", Sv(status.message())}});
      return WriteError(422, "reload_failed", Sv(status.message()), response);
    }
    Refresh();
    Log("info", "policies reloaded",
        {{"trigger", "admin"}, {"bundle", policies->engine->bundle_hash()}});
    response->body = absl::StrCat("{\"ok\":true,\"bundle\":\"", policies->engine->bundle_hash(),
                                  "\",\"generation\":", policies->generation, "}");
  }

  void Status(HttpResponse* response) {
    const ReloadStatus reloads = context.store->status();
    json out = {
        {"ready", policies != nullptr && !context.draining.load()},
        {"policies", context.config->policies},
        {"reloads", {{"succeeded", reloads.succeeded}, {"failed", reloads.failed}}},
        {"last_reload",
         {{"ok", reloads.last_ok},
          {"trigger", reloads.last_trigger},
          {"time", TimeText(reloads.last_attempt)},
          {"error", reloads.last_error}}},
        {"connections", context.metrics->connections_open.load()},
    };
    if (context.audit != nullptr)
      out["audit"] = AuditStatusJson(context.config->audit, context.audit->stats());
    if (context.auth != nullptr) out["sources"] = SourcesJson(context.auth->reports());
    if (policies != nullptr) {
      out["bundle"] = {{"hash", policies->engine->bundle_hash()},
                       {"generation", policies->generation},
                       {"loaded_at", TimeText(policies->loaded_at)},
                       {"load_ms", absl::ToDoubleMilliseconds(policies->load_duration)},
                       {"trigger", policies->trigger},
                       {"bytes", policies->bundle.size()},
                       {"rules", policies->engine->program().rules.size()}};
    }
    response->body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void Bundle(HttpResponse* response) {
    if (policies == nullptr)
      return WriteError(503, "not_ready", "no policies are loaded", response);
    response->content_type = "application/octet-stream";
    response->body = policies->bundle;
  }

  void Route(const HttpRequest& request, bool admin, HttpResponse* response) {
    const std::string_view path = PathOf(request.target);
    const bool get = request.method == "GET" || request.method == "HEAD";
    const bool post = request.method == "POST";
    auto wrong_method = [&](std::string_view allow) {
      response->allow = allow;
      metrics.CountError("method_not_allowed");
      WriteError(405, "method_not_allowed", absl::StrCat(Av(path), " accepts ", Av(allow)),
                 response);
    };
    auto json_body = [&]() {
      if (IsJson(request.content_type)) return true;
      metrics.CountError("unsupported_media_type");
      WriteError(415, "unsupported_media_type", "send the body as Content-Type: application/json",
                 response);
      return false;
    };

    if (path == "/health")
      return get ? void(response->body = "{\"status\":\"ok\"}") : wrong_method("GET, HEAD");
    if (path == "/ready") return get ? Ready(response) : wrong_method("GET, HEAD");
    if (path == "/metrics") return get ? MetricsText(response) : wrong_method("GET, HEAD");
    if (!admin && post && IsDecisionPath(path) && AuditDenies() && !context.audit->writable()) {
      NextDecisionId(&response->decision_id);
      return RefuseForAudit(response);
    }
    if (admin) {
      if (path == "/v1/reload") return post ? Reload(response) : wrong_method("POST");
      if (path == "/v1/status") return get ? Status(response) : wrong_method("GET, HEAD");
      if (path == "/v1/bundle") return get ? Bundle(response) : wrong_method("GET, HEAD");
    } else {
      if (path == "/v1/decide") {
        if (!post) return wrong_method("POST");
        return json_body() ? Decide(request, response) : void();
      }
      if (path == "/v1/decide/batch") {
        if (!post) return wrong_method("POST");
        return json_body() ? DecideBatch(request, response) : void();
      }
      if (path == "/v1/check") {
        if (!post) return wrong_method("POST");
        return json_body() ? Check(request, response) : void();
      }
      if (path == "/access/v1/evaluation" || path == "/access/v1/evaluations") {
        if (!post) return wrong_method("POST");
        return json_body() ? Authzen(request, path.back() == 's', response) : void();
      }
    }
    metrics.CountError("not_found");
    WriteError(404, "not_found",
               absl::StrCat("no endpoint ", Av(path), admin ? " on the admin socket" : ""),
               response);
  }
};

ApiWorker::ApiWorker(ServerContext& context) : state_(std::make_unique<State>(context)) {}

void ApiWorker::CountError(std::string_view code) { state_->metrics.CountError(Av(code)); }
void ApiWorker::AuditNotDurable(HttpResponse* response) { state_->AuditNotDurable(response); }
ApiWorker::~ApiWorker() = default;

void ApiWorker::Handle(const HttpRequest& request, bool admin, HttpResponse* response) noexcept {
  response->Reset();
  response->request_id = std::string(request.request_id);
  const auto started = std::chrono::steady_clock::now();
  state_->audit_ticket = 0;
  state_->audit_dropped = false;
  try {
    state_->Refresh();
    if (state_->policies == nullptr && !admin && PathOf(request.target) != "/health") {
      WriteError(503, "not_ready", "no policies are loaded", response);
    } else {
      state_->Route(request, admin, response);
    }
  } catch (const std::exception& e) {
    state_->metrics.CountError("internal");
    WriteError(500, "internal", e.what(), response);
    response->close = true;
  } catch (...) {
    state_->metrics.CountError("internal");
    WriteError(500, "internal", "internal error", response);
    response->close = true;
  }
  if (state_->AuditDurable()) {
    if (state_->audit_dropped) {
      state_->AuditNotDurable(response);
    } else {
      response->audit_ticket = state_->audit_ticket;
    }
  }
  state_->metrics.CountRequest();
  if (!response->decision_id.empty()) {
    state_->metrics.ObserveLatency(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count()));
  }
}

}  // namespace warden::server
