// The /v1/check pipeline (see check_service.h): parse, verify, compute the
// signals, build the decision request, decide, record.
#include "runtime/auth/check_service.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <vector>

#include <simdjson.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "runtime/auth/api_keys.h"
#include "runtime/auth/file_stamp.h"
#include "runtime/auth/jwt_verifier.h"
#include "runtime/auth/signals/attempts.h"
#include "runtime/auth/signals/devices.h"
#include "runtime/auth/signals/geoip.h"
#include "runtime/auth/signals/hour_baseline.h"
#include "runtime/auth/signals/ip_list.h"
#include "runtime/auth/signals/rate_limiter.h"
#include "runtime/auth/signals/travel.h"
#include "runtime/auth/state_store.h"
#include "runtime/auth/token_cache.h"
#include "runtime/decision_json.h"
#include "runtime/request_decoder.h"
#include "runtime/limit_key.h"

namespace warden::auth {
namespace {

using nlohmann::json;

// How often Tick drops expired attempt streaks and refilled token buckets.
constexpr absl::Duration kSweepInterval = absl::Minutes(1);

// Debian's Abseil has its own string_view type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A verified token with its claims already mapped to the subject's JSON, so
// a cache hit skips the mapping too. Only this file inserts into the cache,
// so every cached VerifiedToken is a MappedToken.
struct MappedToken : VerifiedToken {
  std::string
      subject_json;  // {"id":…,"roles":[…],…,"auth":{"mfa":…,"methods":[…],"acr":…,"kind":"token"
  bool mfa = false;
};

// Reads a secret named by the configuration: never from the file itself.
absl::StatusOr<std::string> ReadSecret(const HmacKeySource& source, std::string_view issuer) {
  if (!source.secret_env.empty()) {
    const char* value = std::getenv(source.secret_env.c_str());
    if (value == nullptr || *value == '\0')
      return absl::InvalidArgumentError(absl::StrCat("auth: issuer ", Av(issuer),
                                                     ": the environment variable ",
                                                     source.secret_env, " is not set"));
    return std::string(value);
  }
  std::ifstream in(source.secret_file, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat("auth: issuer ", Av(issuer), ": cannot read ", source.secret_file));
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

// A claim by dotted path ("realm_access.roles"); null when absent.
const json* ClaimAt(const json& claims, std::string_view path) {
  const json* node = &claims;
  while (true) {
    if (!node->is_object()) return nullptr;
    const size_t dot = path.find('.');
    auto it = node->find(std::string(path.substr(0, dot)));
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) return node;
    path.remove_prefix(dot + 1);
  }
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  for (const std::string& item : list) {
    if (item == value) return true;
  }
  return false;
}

void AppendStringArray(const std::vector<std::string>& values, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(values[i], out);
  }
  out->push_back(']');
}

void AppendMillis(absl::Duration d, std::string* out) {
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(d));
  absl::StrAppend(out, "\"", ms, "ms\"");
}

// The decimal text of a coordinate (4 places, the decimal type's precision).
void AppendCoordinate(double value, std::string* out) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.4f", value);
  out->append(buffer, n > 0 ? static_cast<size_t>(n) : 0);
}

// Context attributes Warden computes; a caller may not send them.
bool IsComputedContext(std::string_view key) {
  return key == "time" || key == "geo" || key == "network" || key == "attempts" ||
         key == "unusual_hour";
}

std::string_view RawJson(simdjson::ondemand::value& value) {
  std::string_view raw;
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return {};
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS ||
        object.raw_json().get(raw) != simdjson::SUCCESS)
      return {};
    return raw;
  }
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS ||
        array.raw_json().get(raw) != simdjson::SUCCESS)
      return {};
    return raw;
  }
  raw = value.raw_json_token();
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
    raw.remove_suffix(1);
  return raw;
}

}  // namespace

// ---------------------------------------------------------------- sessions

struct CheckService::Session::Impl {
  simdjson::ondemand::parser parser;
  std::string padded;                   // the body, padded for simdjson
  std::string request;                  // the decision request built for the engine
  std::string context_rest;             // the caller's other context members, raw
  std::vector<std::string> limit_keys;  // by limit index, for this request
  std::string signals;                  // a JSON array's members
};

CheckService::Session::Session() : impl_(std::make_unique<Impl>()) {}
CheckService::Session::~Session() = default;
std::string_view CheckService::Session::decision_request() const { return impl_->request; }

// ---------------------------------------------------------------- the service

struct CheckService::Impl {
  AuthConfig config;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<TokenVerifier> verifier;  // null: no issuers
  std::unique_ptr<TokenCache> cache;        // null: caching off
  ApiKeyTable api_keys;

  mutable absl::Mutex revocations_mutex;
  std::shared_ptr<const Revocations> revocations ABSL_GUARDED_BY(revocations_mutex);
  int64_t data_version = -1;

  // IP lists and GeoIP databases: read by every check, replaced whole when a
  // file changes (ReloadNetworkFiles, on the control thread). A check keeps
  // the snapshot it started with; a database is closed when the last check
  // using it ends.
  struct NetworkFiles {
    std::vector<std::pair<std::string, std::shared_ptr<const IpList>>> ip_lists;
    std::shared_ptr<const GeoIpDatabase> geo_city;
    std::shared_ptr<const GeoIpDatabase> geo_anonymous;
  };
  mutable absl::Mutex network_mutex;
  std::shared_ptr<const NetworkFiles> network ABSL_GUARDED_BY(network_mutex);
  // Stamps of the loaded files: IP lists in order, then city, then anonymous.
  std::vector<FileStamp> network_stamps;
  absl::TimeZone hours_zone;

  LastSignIns last_signins;
  KnownDevices devices;
  FailedAttempts attempts;
  HourBaselines hours;
  RateLimiter limiter;

  absl::Time last_flush;
  absl::Time last_poll;
  absl::Time last_sweep;

  explicit Impl(const AuthConfig& c)
      : config(c),
        last_signins(c.max_subjects),
        devices(c.max_subjects, c.devices_per_subject),
        attempts(AttemptPolicy{c.lockout_after, c.attempts_window, c.base_lockout, c.max_lockout},
                 c.max_subjects),
        hours(HourPolicy{c.hours_min_samples, c.hours_unusual_below}, c.max_subjects),
        limiter(c.max_buckets) {}

  std::shared_ptr<const NetworkFiles> CurrentNetwork() const {
    absl::ReaderMutexLock lock(&network_mutex);
    return network;
  }

  // Loads every IP list and GeoIP database whose file changed since it was
  // loaded. A file that fails to load keeps its previous content (and is
  // tried again at the next poll): a bad update never removes a list.
  // `initial`: the first load, where any failure is returned.
  absl::Status ReloadNetworkFiles(bool initial) {
    std::shared_ptr<const NetworkFiles> current = CurrentNetwork();
    auto next = std::make_shared<NetworkFiles>();
    if (current != nullptr) *next = *current;
    network_stamps.resize(config.ip_lists.size() + 2);
    next->ip_lists.resize(config.ip_lists.size());
    bool changed = initial;
    absl::Status first_error;
    auto note = [&](const absl::Status& status) {
      if (first_error.ok()) first_error = status;
    };
    for (size_t k = 0; k < config.ip_lists.size(); ++k) {
      const IpListSettings& settings = config.ip_lists[k];
      FileStamp stamp = Stamp(settings.file);
      if (!initial && stamp == network_stamps[k]) continue;
      absl::StatusOr<IpList> list = IpList::LoadFile(settings.file);
      if (!list.ok()) {
        note(list.status());
        continue;
      }
      next->ip_lists[k] = {settings.name, std::make_shared<const IpList>(*std::move(list))};
      network_stamps[k] = stamp;
      changed = true;
    }
    auto database = [&](const std::string& path, size_t index,
                        std::shared_ptr<const GeoIpDatabase>* slot) {
      if (path.empty()) return;
      FileStamp stamp = Stamp(path);
      if (!initial && stamp == network_stamps[index]) return;
      absl::StatusOr<std::unique_ptr<GeoIpDatabase>> db = GeoIpDatabase::Open(path);
      if (!db.ok()) {
        note(db.status());
        return;
      }
      *slot = *std::move(db);
      network_stamps[index] = stamp;
      changed = true;
    };
    database(config.geoip_city, config.ip_lists.size(), &next->geo_city);
    database(config.geoip_anonymous, config.ip_lists.size() + 1, &next->geo_anonymous);
    if (initial && !first_error.ok()) return first_error;
    if (changed) {
      absl::MutexLock lock(&network_mutex);
      network = std::move(next);
    }
    return first_error;
  }

  std::shared_ptr<const Revocations> CurrentRevocations() const {
    absl::MutexLock lock(&revocations_mutex);
    return revocations;
  }

  absl::Status ReloadFromStore(absl::Time now) {
    absl::StatusOr<Revocations> loaded = store->LoadRevocations(now);
    if (!loaded.ok()) return loaded.status();
    absl::StatusOr<std::vector<ApiKeyRecord>> keys = store->ListApiKeys();
    if (!keys.ok()) return keys.status();
    auto shared = std::make_shared<const Revocations>(*std::move(loaded));
    {
      absl::MutexLock lock(&revocations_mutex);
      revocations = std::move(shared);
    }
    api_keys.Replace(*std::move(keys));
    return absl::OkStatus();
  }

  const IssuerSettings* IssuerFor(std::string_view iss) const {
    for (const IssuerSettings& issuer : config.issuers) {
      if (issuer.verify.issuer == iss) return &issuer;
    }
    return nullptr;
  }

  // subject JSON (without the closing braces of auth and subject) for a
  // verified token.
  void MapToken(MappedToken& token) const {
    const IssuerSettings* issuer = IssuerFor(token.issuer);
    static const ClaimMapping kDefault;
    const ClaimMapping& mapping = issuer != nullptr ? issuer->claims : kDefault;
    std::string& out = token.subject_json;
    out = "{\"id\":";
    std::string id = token.subject;
    if (mapping.subject != "sub") {
      const json* claim = ClaimAt(token.claims, mapping.subject);
      id = claim != nullptr && claim->is_string() ? claim->get<std::string>() : "";
    }
    AppendJsonString(id, &out);
    std::vector<std::string> roles;
    for (const std::string& claim_name : mapping.roles) {
      const json* claim = ClaimAt(token.claims, claim_name);
      if (claim == nullptr) continue;
      if (claim->is_array()) {
        for (const json& role : *claim) {
          if (role.is_string()) roles.push_back(role.get<std::string>());
        }
      } else if (claim->is_string()) {  // OAuth's space-separated `scope` style
        for (std::string_view rest = claim->get_ref<const std::string&>(); !rest.empty();) {
          const size_t space = rest.find(' ');
          if (space != 0) roles.emplace_back(rest.substr(0, space));
          if (space == std::string_view::npos) break;
          rest.remove_prefix(space + 1);
        }
      }
    }
    out.append(",\"roles\":");
    AppendStringArray(roles, &out);
    if (!mapping.tenant.empty()) {
      const json* tenant = ClaimAt(token.claims, mapping.tenant);
      if (tenant != nullptr && tenant->is_string()) {
        out.append(",\"tenant\":");
        AppendJsonString(tenant->get_ref<const std::string&>(), &out);
      }
    }
    for (const auto& [attribute, claim_name] : mapping.attributes) {
      const json* claim = ClaimAt(token.claims, claim_name);
      if (claim == nullptr) continue;
      out.push_back(',');
      AppendJsonString(attribute, &out);
      out.push_back(':');
      out.append(claim->dump(-1, ' ', false, json::error_handler_t::replace));
    }
    token.mfa = false;
    for (const std::string& method : token.amr)
      token.mfa = token.mfa || Contains(mapping.mfa_methods, method);
    token.mfa = token.mfa || (!token.acr.empty() && Contains(mapping.mfa_acr_values, token.acr));
    out.append(",\"auth\":{\"mfa\":");
    out.append(token.mfa ? "true" : "false");
    out.append(",\"methods\":");
    AppendStringArray(token.amr, &out);
    out.append(",\"acr\":");
    AppendJsonString(token.acr, &out);
    out.append(",\"kind\":\"token\"");
  }

  AuthError CheckRevoked(const VerifiedToken& token) const {
    std::shared_ptr<const Revocations> revoked = CurrentRevocations();
    if (revoked == nullptr) return AuthError::kStateUnavailable;
    if (!token.jti.empty() && revoked->jtis.contains(token.jti)) return AuthError::kRevokedToken;
    if (revoked->subjects.empty()) return AuthError::kNone;
    for (std::string_view issuer : {std::string_view(token.issuer), std::string_view()}) {
      auto it = revoked->subjects.find(RevokedSubjectKey(issuer, token.subject));
      if (it != revoked->subjects.end() && token.issued_at < it->second)
        return AuthError::kRevokedSubject;
    }
    return AuthError::kNone;
  }
};

CheckService::CheckService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CheckService::~CheckService() = default;

absl::StatusOr<std::unique_ptr<CheckService>> CheckService::Create(const AuthConfig& config,
                                                                   absl::Time now) {
  auto impl = std::make_unique<Impl>(config);
  StateStoreOptions store_options;
  store_options.create_if_missing = config.create_state;
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(config.state, store_options);
  if (!store.ok()) return store.status();
  impl->store = *std::move(store);

  if (!config.issuers.empty()) {
    std::vector<IssuerConfig> issuers;
    for (const IssuerSettings& settings : config.issuers) {
      IssuerConfig issuer = settings.verify;
      for (const HmacKeySource& source : settings.hmac_key_sources) {
        absl::StatusOr<std::string> secret = ReadSecret(source, issuer.issuer);
        if (!secret.ok()) return secret.status();
        issuer.hmac_keys.push_back(HmacKey{source.kid, *std::move(secret)});
      }
      issuers.push_back(std::move(issuer));
    }
    absl::StatusOr<std::unique_ptr<TokenVerifier>> verifier =
        TokenVerifier::Create(std::move(issuers));
    if (!verifier.ok()) return verifier.status();
    impl->verifier = *std::move(verifier);
    if (config.token_cache_entries > 0)
      impl->cache = std::make_unique<TokenCache>(config.token_cache_entries);
  }
  if (absl::Status status = impl->ReloadNetworkFiles(/*initial=*/true); !status.ok()) return status;
  if (!absl::LoadTimeZone(config.hours_time_zone, &impl->hours_zone))
    return absl::InvalidArgumentError(
        absl::StrCat("auth.hours.time_zone: unknown time zone ", config.hours_time_zone));

  // State: revocations and keys, then the signal tables.
  if (absl::Status status = impl->ReloadFromStore(now); !status.ok()) return status;
  absl::StatusOr<int64_t> version = impl->store->DataVersion();
  if (!version.ok()) return version.status();
  impl->data_version = *version;
  struct Table {
    const char* kind;
    std::function<void(std::string_view, std::string_view)> import;
  };
  Impl& i = *impl;
  const Table tables[] = {
      {"last_signin", [&](std::string_view k, std::string_view v) { i.last_signins.Import(k, v); }},
      {"devices", [&](std::string_view k, std::string_view v) { i.devices.Import(k, v); }},
      {"attempts", [&](std::string_view k, std::string_view v) { i.attempts.Import(k, v); }},
      {"hours", [&](std::string_view k, std::string_view v) { i.hours.Import(k, v); }},
      {"buckets", [&](std::string_view k, std::string_view v) { i.limiter.Import(k, v); }},
  };
  for (const Table& table : tables) {
    if (absl::Status status = impl->store->LoadRows(table.kind, table.import); !status.ok())
      return status;
  }
  impl->last_flush = now;
  impl->last_poll = now;
  impl->last_sweep = now;
  return std::unique_ptr<CheckService>(new CheckService(std::move(impl)));
}

absl::Status CheckService::Flush() {
  Impl& i = *impl_;
  absl::Status first;
  auto save = [&](const char* kind, StateRows rows) {
    if (rows.empty()) return;
    absl::Status status = i.store->SaveRows(kind, rows);
    if (!status.ok() && first.ok()) first = status;
  };
  save("last_signin", i.last_signins.TakeDirty());
  save("devices", i.devices.TakeDirty());
  save("attempts", i.attempts.TakeDirty());
  save("hours", i.hours.TakeDirty());
  save("buckets", i.limiter.TakeDirty());
  return first;
}

void CheckService::Tick(absl::Time now) {
  Impl& i = *impl_;
  if (now - i.last_poll >= i.config.poll_interval) {
    i.last_poll = now;
    absl::StatusOr<int64_t> version = i.store->DataVersion();
    if (version.ok() && *version != i.data_version) {
      if (i.ReloadFromStore(now).ok()) i.data_version = *version;
    }
    if (i.verifier != nullptr) (void)i.verifier->ReloadKeys();
    (void)i.ReloadNetworkFiles(/*initial=*/false);
  }
  // Expired attempt streaks and full token buckets say nothing a missing
  // entry does not: drop them (and their rows, at the next flush), so the
  // tables and the state file hold live keys only.
  if (now - i.last_sweep >= kSweepInterval) {
    i.last_sweep = now;
    i.attempts.Sweep(now);
    i.limiter.Sweep(now);
  }
  if (now - i.last_flush >= i.config.flush_interval) {
    i.last_flush = now;
    (void)Flush();
  }
}

// ---------------------------------------------------------------- one check

namespace {

// The parsed /v1/check body.
struct CheckBody {
  std::string_view token;
  std::string_view api_key;
  std::string_view action_name;
  std::string_view resource;  // raw JSON object
  std::string_view resource_type;
  std::optional<std::string_view> ip;
  std::optional<std::string_view> device_id;
};

}  // namespace

CheckOutcome CheckService::Check(std::string_view body, const Engine& engine,
                                 JsonSession& json_session, Session& session, Decision* decision,
                                 absl::Time now, std::string* out) noexcept {
  CheckOutcome outcome;
  Impl& i = *impl_;
  Session::Impl& s = *session.impl_;
  s.request.clear();
  s.signals.clear();
  auto bad_request = [&](std::string_view code, std::string_view message) {
    outcome.http_status = 400;
    outcome.bad_request = code;
    out->append("{\"error\":{\"code\":");
    AppendJsonString(code, out);
    out->append(",\"message\":");
    AppendJsonString(message, out);
    out->append("}}");
    return outcome;
  };
  auto signal = [&](std::string_view name) {
    if (!s.signals.empty()) s.signals.push_back(',');
    AppendJsonString(name, &s.signals);
  };
  try {
    // ------------------------------------------------ parse
    s.padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    s.padded.assign(body);
    simdjson::padded_string_view padded(s.padded.data(), s.padded.size(), s.padded.capacity());
    simdjson::ondemand::document document;
    simdjson::ondemand::object root;
    if (s.parser.iterate(padded).get(document) != simdjson::SUCCESS ||
        document.get_object().get(root) != simdjson::SUCCESS)
      return bad_request("malformed_json", "the body must be a JSON object");
    // On-demand parsing stops at the object's end: refuse trailing text.
    std::string_view whole;
    if (root.raw_json().get(whole) != simdjson::SUCCESS ||
        root.reset().error() != simdjson::SUCCESS)
      return bad_request("malformed_json", "the body is not valid JSON");
    for (size_t at = static_cast<size_t>(whole.data() + whole.size() - s.padded.data());
         at < s.padded.size(); ++at) {
      const char c = s.padded[at];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
        return bad_request("malformed_json", "text follows the JSON object");
    }
    CheckBody check;
    s.context_rest.clear();
    for (auto field : root) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS)
        return bad_request("malformed_json", "the body is not valid JSON");
      simdjson::ondemand::value value;
      if (field.value().get(value) != simdjson::SUCCESS)
        return bad_request("malformed_json", "the body is not valid JSON");
      if (key == "token" || key == "api_key" || key == "authorization") {
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS)
          return bad_request("bad_request", absl::StrCat(Av(key), " must be a string"));
        if (key == "authorization") {
          // "Bearer <token or API key>", as an enforcement point forwards it.
          if (text.size() < 7 ||
              !(text.substr(0, 7) == "Bearer " || text.substr(0, 7) == "bearer "))
            return bad_request("bad_request", "authorization must be \"Bearer <credential>\"");
          text.remove_prefix(7);
          if (text.substr(0, 4) == "wdk_") {
            check.api_key = text;
          } else {
            check.token = text;
          }
        } else if (key == "token") {
          check.token = text;
        } else {
          check.api_key = text;
        }
      } else if (key == "action") {
        if (value.get_string().get(check.action_name) != simdjson::SUCCESS)
          return bad_request("bad_request", "action must be a string");
      } else if (key == "resource") {
        simdjson::ondemand::object resource;
        if (value.get_object().get(resource) != simdjson::SUCCESS)
          return bad_request("bad_request", "resource must be an object");
        for (auto member : resource) {
          std::string_view name;
          if (member.unescaped_key().get(name) != simdjson::SUCCESS)
            return bad_request("malformed_json", "the body is not valid JSON");
          if (name == "type") {
            if (member.value().get_string().get(check.resource_type) != simdjson::SUCCESS)
              return bad_request("bad_request", "resource.type must be a string");
          }
        }
        if (resource.reset().error() != simdjson::SUCCESS ||
            resource.raw_json().get(check.resource) != simdjson::SUCCESS)
          return bad_request("malformed_json", "the body is not valid JSON");
      } else if (key == "context") {
        simdjson::ondemand::object context;
        if (value.get_object().get(context) != simdjson::SUCCESS)
          return bad_request("bad_request", "context must be an object");
        for (auto member : context) {
          std::string_view name;
          if (member.unescaped_key().get(name) != simdjson::SUCCESS)
            return bad_request("malformed_json", "the body is not valid JSON");
          simdjson::ondemand::value member_value;
          if (member.value().get(member_value) != simdjson::SUCCESS)
            return bad_request("malformed_json", "the body is not valid JSON");
          if (IsComputedContext(name))
            return bad_request("bad_request",
                               absl::StrCat("context.", Av(name),
                                            " is computed by Warden; a check may not send it"));
          if (name == "ip") {
            std::string_view ip;
            if (member_value.get_string().get(ip) != simdjson::SUCCESS)
              return bad_request("bad_request", "context.ip must be a string");
            check.ip = ip;
          } else if (name == "device") {
            simdjson::ondemand::object device;
            if (member_value.get_object().get(device) != simdjson::SUCCESS)
              return bad_request("bad_request", "context.device must be {\"id\": \"…\"}");
            for (auto device_member : device) {
              std::string_view device_key;
              std::string_view id;
              if (device_member.unescaped_key().get(device_key) != simdjson::SUCCESS ||
                  device_key != "id" ||
                  device_member.value().get_string().get(id) != simdjson::SUCCESS)
                return bad_request("bad_request",
                                   "context.device may only carry \"id\", a string (Warden "
                                   "computes \"known\")");
              check.device_id = id;
            }
          } else {
            std::string_view raw = RawJson(member_value);
            if (raw.empty()) return bad_request("malformed_json", "the body is not valid JSON");
            if (!s.context_rest.empty()) s.context_rest.push_back(',');
            AppendJsonString(name, &s.context_rest);
            s.context_rest.push_back(':');
            s.context_rest.append(raw);
          }
        }
      } else if (key == "subject") {
        return bad_request("bad_request",
                           "a check may not send subject: it comes from the verified credential");
      } else if (key == "jit" || key == "limits") {
        return bad_request(
            "bad_request",
            absl::StrCat(Av(key), " is computed by Warden; a check may not send it"));
      } else {
        return bad_request("bad_request",
                           absl::StrCat("unknown member ", Av(key),
                                        " (a check has token, api_key or authorization, action, "
                                        "resource and context)"));
      }
    }
    if (check.action_name.empty()) return bad_request("bad_request", "action is required");
    if (check.resource.empty() || check.resource_type.empty())
      return bad_request("bad_request", "resource with a type is required");
    if (!check.token.empty() && !check.api_key.empty())
      return bad_request("bad_request", "send one credential: a token or an API key, not both");

    // ------------------------------------------------ the credential
    std::string ip_key;
    bc::IpNet ip{};
    bool ip_valid = false;
    if (check.ip) {
      ip_valid = ParseIpAddress(*check.ip, &ip);
      if (!ip_valid) return bad_request("bad_request", "context.ip is not an IP address");
      ip_key = absl::StrCat("ip:", Av(*check.ip));
    }
    auto refuse = [&](AuthError error, std::string_view detail, std::string_view failed_subject) {
      // Only a refused credential is a failed attempt: not our own faults,
      // and not requests refused unread during a lockout.
      const bool attempt = error != AuthError::kGeoIpUnavailable &&
                           error != AuthError::kStateUnavailable && error != AuthError::kLockedOut;
      if (attempt && !ip_key.empty()) i.attempts.RecordFailure(ip_key, now);
      if (attempt && !failed_subject.empty()) i.attempts.RecordFailure(failed_subject, now);
      outcome.auth_error = error;
      decision->Clear();
      decision->outcome = rt::Outcome::kDeny;
      out->append("{\"decision\":\"deny\",\"challenge\":null,\"rules\":[],\"reasons\":[");
      AppendJsonString(AuthErrorMeaning(error), out);
      out->append(
          "],\"obligations\":[],\"advice\":[],\"errors\":[],\"risk\":{},\"limits\":[],"
          "\"auth_error\":{\"code\":\"");
      out->append(AuthErrorCode(error));
      out->append("\",\"message\":");
      AppendJsonString(detail.empty() ? std::string_view(AuthErrorMeaning(error)) : detail, out);
      out->append("},\"signals\":[");
      out->append(s.signals);
      out->append("]}");
      return outcome;
    };
    // A locked-out address or API key gets no verification at all, so
    // guessing cannot continue, and the answer does not say whether the
    // guess was right.
    std::string key_lock;
    if (std::string key_id, secret;
        !check.api_key.empty() && ParseApiKey(check.api_key, &key_id, &secret))
      key_lock = absl::StrCat("k:", key_id);
    if ((!ip_key.empty() && i.attempts.Get(ip_key, now).locked) ||
        (!key_lock.empty() && i.attempts.Get(key_lock, now).locked)) {
      signal("locked_out");
      return refuse(AuthError::kLockedOut, "too many failed attempts: try again later", {});
    }

    std::shared_ptr<const MappedToken> token;
    std::optional<ApiKeyRecord> key_record;
    std::string subject_id;
    if (!check.token.empty()) {
      if (i.verifier == nullptr)
        return refuse(AuthError::kUnknownIssuer, "no token issuer is configured", {});
      std::shared_ptr<const VerifiedToken> cached =
          i.cache != nullptr ? i.cache->Find(check.token, now) : nullptr;
      if (cached != nullptr) {
        token = std::static_pointer_cast<const MappedToken>(cached);
      } else {
        auto mapped = std::make_shared<MappedToken>();
        std::string detail;
        const AuthError error = i.verifier->Verify(check.token, now, mapped.get(), &detail);
        if (error != AuthError::kNone) {
          // Only a verified signature makes the subject known.
          const bool signed_ok = error == AuthError::kExpired || error == AuthError::kNotYetValid ||
                                 error == AuthError::kWrongAudience ||
                                 error == AuthError::kLifetimeTooLong ||
                                 error == AuthError::kMissingClaim;
          const std::string failed_subject = signed_ok && !mapped->subject.empty()
                                                 ? absl::StrCat("s:", mapped->subject)
                                                 : std::string();
          return refuse(error, detail, failed_subject);
        }
        i.MapToken(*mapped);
        token = mapped;
        if (i.cache != nullptr) i.cache->Insert(check.token, token, now);
      }
      if (const AuthError revoked = i.CheckRevoked(*token); revoked != AuthError::kNone)
        return refuse(revoked, {}, {});
      subject_id = token->subject;
    } else if (!check.api_key.empty()) {
      if (!i.config.api_keys)
        return refuse(AuthError::kApiKeyUnknown, "API keys are not accepted here", {});
      ApiKeyRecord record;
      const AuthError error = i.api_keys.Verify(check.api_key, now, &record);
      if (error != AuthError::kNone) return refuse(error, {}, key_lock);
      if (const AuthError scope = CheckApiKeyScope(record, check.action_name, check.resource_type);
          scope != AuthError::kNone)
        return refuse(scope, {}, {});
      subject_id = record.subject;
      key_record = std::move(record);
    } else {
      return refuse(AuthError::kNoCredential, {}, {});
    }
    const std::string subject_key = absl::StrCat("s:", subject_id);

    // ------------------------------------------------ signals
    std::string& r = s.request;
    r.append("{\"subject\":");
    if (token != nullptr) {
      r.append(token->subject_json);
      if (token->auth_time) {
        r.append(",\"auth_age\":");
        AppendMillis(now - *token->auth_time, &r);
      }
      if (token->issued_at != absl::InfinitePast()) {
        r.append(",\"token_age\":");
        AppendMillis(now - token->issued_at, &r);
      }
      r.append("}}");
    } else {
      r.append("{\"id\":");
      AppendJsonString(key_record->subject, &r);
      r.append(",\"roles\":");
      AppendStringArray(key_record->roles, &r);
      if (!key_record->tenant.empty()) {
        r.append(",\"tenant\":");
        AppendJsonString(key_record->tenant, &r);
      }
      r.append(
          ",\"auth\":{\"mfa\":false,\"methods\":[],\"acr\":\"\",\"kind\":\"api_key\",\"key_id\":");
      AppendJsonString(key_record->id, &r);
      r.append(",\"token_age\":");
      AppendMillis(now - key_record->created, &r);
      r.append("}}");
    }
    r.append(",\"action\":");
    AppendJsonString(check.action_name, &r);
    r.append(",\"resource\":");
    r.append(check.resource);
    r.append(",\"context\":{");
    if (!s.context_rest.empty()) {
      r.append(s.context_rest);
      r.push_back(',');
    }
    r.append("\"time\":\"");
    r.append(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone()));
    r.push_back('"');

    // Network and place.
    bool anonymous = false, hosting = false, tor = false, listed = false;
    std::optional<GeoLocation> place;
    std::string geo_error;
    if (ip_valid) {
      r.append(",\"ip\":");
      AppendJsonString(*check.ip, &r);
      const std::shared_ptr<const Impl::NetworkFiles> network = i.CurrentNetwork();
      for (const auto& [name, list] : network->ip_lists) {
        if (list->Contains(ip)) {
          listed = true;
          signal(absl::StrCat("listed_ip:", name));
        }
      }
      if (network->geo_anonymous != nullptr) {
        absl::StatusOr<std::optional<AnonymousIp>> found =
            network->geo_anonymous->LookupAnonymous(ip);
        if (!found.ok()) {
          geo_error = std::string(found.status().message());
        } else if (*found) {
          anonymous = (*found)->anonymous || (*found)->vpn || (*found)->residential_proxy;
          hosting = (*found)->hosting;
          tor = (*found)->tor;
        }
      }
      if (network->geo_city != nullptr) {
        absl::StatusOr<std::optional<GeoLocation>> found = network->geo_city->LookupCity(ip);
        if (!found.ok()) {
          geo_error = std::string(found.status().message());
        } else {
          place = *std::move(found);
        }
      }
    }
    if (!geo_error.empty()) {
      // A database that cannot be read must not make a request look safe.
      return refuse(AuthError::kGeoIpUnavailable, geo_error, {});
    }
    if (anonymous) signal("anonymous_network");
    if (hosting) signal("hosting_network");
    if (tor) signal("tor");
    absl::StrAppend(&r, ",\"network\":{\"anonymous\":", anonymous ? "true" : "false",
                    ",\"hosting\":", hosting ? "true" : "false",
                    ",\"tor\":", tor ? "true" : "false", ",\"listed\":", listed ? "true" : "false",
                    "}");

    TravelCheck travel{false, 0};
    r.append(",\"geo\":{");
    if (place) {
      bool first = true;
      auto member = [&](std::string_view name) {
        if (!first) r.push_back(',');
        first = false;
        AppendJsonString(name, &r);
        r.push_back(':');
      };
      if (!place->country.empty()) {
        member("country");
        AppendJsonString(place->country, &r);
      }
      if (!place->city.empty()) {
        member("city");
        AppendJsonString(place->city, &r);
      }
      if (place->latitude && place->longitude) {
        member("latitude");
        AppendCoordinate(*place->latitude, &r);
        member("longitude");
        AppendCoordinate(*place->longitude, &r);
        if (std::optional<LastSignIn> last = i.last_signins.Get(subject_id)) {
          travel = CheckTravel(*last, now, *place->latitude, *place->longitude,
                               i.config.max_travel_speed_kmh, i.config.min_travel_distance_km);
        }
      }
      if (!first) r.push_back(',');
    }
    if (travel.impossible) signal("impossible_travel");
    absl::StrAppend(&r, "\"impossible_travel\":", travel.impossible ? "true" : "false",
                    ",\"travel_speed_kmh\":", travel.speed_kmh, "}");

    // Device.
    const bool device_known =
        check.device_id.has_value() && i.devices.Known(subject_id, *check.device_id);
    r.append(",\"device\":{");
    if (check.device_id) {
      r.append("\"id\":");
      AppendJsonString(*check.device_id, &r);
      r.push_back(',');
      if (!device_known) signal("new_device");
    }
    absl::StrAppend(&r, "\"known\":", device_known ? "true" : "false", "}");

    // Attempts and hours.
    const AttemptState subject_attempts = i.attempts.Get(subject_key, now);
    const AttemptState ip_attempts = ip_key.empty() ? AttemptState{} : i.attempts.Get(ip_key, now);
    const bool locked = subject_attempts.locked || ip_attempts.locked;
    if (subject_attempts.failures > 0 || ip_attempts.failures > 0) signal("failed_attempts");
    if (locked) signal("locked_out");
    absl::StrAppend(&r, ",\"attempts\":{\"failed_subject\":", subject_attempts.failures,
                    ",\"failed_ip\":", ip_attempts.failures,
                    ",\"locked\":", locked ? "true" : "false", "}");
    const bool unusual = i.hours.Unusual(subject_id, now, i.hours_zone);
    if (unusual) signal("unusual_hour");
    absl::StrAppend(&r, ",\"unusual_hour\":", unusual ? "true" : "false", "}}");

    // ------------------------------------------------ decide
    rt::Frame& frame = json_session.frame();
    if (!json_session.decoder().Decode(r, &frame)) {
      AppendBadRequestJson(json_session.errors(), out);
      outcome.http_status = 400;
      outcome.bad_request = "bad_request";
      decision->Clear();
      decision->outcome = rt::Outcome::kDeny;
      return outcome;
    }
    const bc::Program& program = engine.program();
    if (s.limit_keys.size() < program.limits.size()) s.limit_keys.resize(program.limits.size());
    for (uint32_t limit = 0; limit < program.limits.size(); ++limit) {
      rt::AppendLimitKey(program, limit, frame, &s.limit_keys[limit]);
      const bc::Limit& declared = program.limits[limit];
      const RateLimiter::Peek peek = i.limiter.Look(
          declared.count, absl::Milliseconds(declared.window_ms), s.limit_keys[limit], now);
      frame.SetLimitCount(limit, peek.counted);
    }
    engine.Decide(frame, decision);
    outcome.decided = true;

    // ------------------------------------------------ record
    if (decision->outcome == rt::Outcome::kPermit) {
      for (uint32_t limit : decision->limits_read) {
        const bc::Limit& declared = program.limits[limit];
        i.limiter.Consume(declared.count, absl::Milliseconds(declared.window_ms),
                          s.limit_keys[limit], now);
      }
      if (place && place->latitude && place->longitude)
        i.last_signins.Record(subject_id,
                              LastSignIn{now, *place->latitude, *place->longitude, place->country});
      if (check.device_id) i.devices.Remember(subject_id, *check.device_id, now);
      i.hours.Record(subject_id, now, i.hours_zone);
      i.attempts.RecordSuccess(subject_key, now);
    }
    for (uint32_t limit : decision->limits_read) {
      const bc::Limit& declared = program.limits[limit];
      if (frame.limit_count(limit) >= declared.count)
        signal(absl::StrCat("rate_limited:", declared.name));
    }

    // ------------------------------------------------ answer
    AppendDecisionJson(engine, *decision, json_session.errors(), out);
    out->pop_back();  // the closing brace: the check's members follow
    out->append(",\"identity\":{\"subject\":");
    AppendJsonString(subject_id, out);
    if (token != nullptr) {
      out->append(",\"kind\":\"token\",\"issuer\":");
      AppendJsonString(token->issuer, out);
      out->append(",\"mfa\":");
      out->append(token->mfa ? "true" : "false");
    } else {
      out->append(",\"kind\":\"api_key\",\"key_id\":");
      AppendJsonString(key_record->id, out);
    }
    out->append("},\"signals\":[");
    out->append(s.signals);
    out->push_back(']');
    if (decision->outcome == rt::Outcome::kStepUp) {
      // What the enforcement point should ask for; a rule's `step_up`
      // obligation may add limits such as max_auth_age.
      out->append(",\"step_up\":{\"challenge\":");
      AppendJsonString(decision->challenge, out);
      for (const Obligation& obligation : decision->obligations) {
        if (obligation.name != "step_up") continue;
        for (uint32_t a = obligation.first_arg; a < obligation.first_arg + obligation.arg_count;
             ++a) {
          out->push_back(',');
          AppendJsonString(decision->args[a].key, out);
          out->push_back(':');
          out->append(decision->args[a].json);
        }
      }
      out->push_back('}');
    }
    out->push_back('}');
    return outcome;
  } catch (...) {  // allocation failure: fail closed
    decision->Clear();
    decision->outcome = rt::Outcome::kDeny;
    out->clear();
    outcome.http_status = 500;
    outcome.bad_request = "internal";
    out->append("{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}");
    return outcome;
  }
}

}  // namespace warden::auth
