// Reading the server's configuration file (JSON with comments).
#include "runtime/server/config.h"

#include <fstream>
#include <initializer_list>
#include <sstream>
#include "absl/strings/string_view.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/strict_json.h"

namespace warden::server {
namespace {

using nlohmann::json;

// Reads one object's keys, reporting the first problem with its JSON path.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path, absl::Status* status)
      : object_(object), path_(std::move(path)), status_(status) {
    if (!object_.is_object() && status_->ok())
      *status_ = absl::InvalidArgumentError(absl::StrCat(Where(""), " must be an object"));
  }

  // Fails on keys outside `known`.
  void OnlyKeys(std::initializer_list<absl::string_view> known) {
    if (!object_.is_object()) return;
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (absl::string_view k : known) found = found || k == key;
      if (!found) Fail(key, absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }

  const json* Get(absl::string_view key) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(std::string(key));
    return it == object_.end() ? nullptr : &*it;
  }

  void String(absl::string_view key, std::string* out) {
    if (const json* v = Get(key)) {
      if (v->is_string()) {
        *out = v->get<std::string>();
      } else {
        Fail(key, "must be a string");
      }
    }
  }

  void Bool(absl::string_view key, bool* out) {
    if (const json* v = Get(key)) {
      if (v->is_boolean()) {
        *out = v->get<bool>();
      } else {
        Fail(key, "must be true or false");
      }
    }
  }

  template <typename T>
  void Unsigned(absl::string_view key, T* out, uint64_t max, uint64_t min = 0) {
    if (const json* v = Get(key)) {
      if (v->is_number_unsigned() && v->get<uint64_t>() >= min && v->get<uint64_t>() <= max) {
        *out = static_cast<T>(v->get<uint64_t>());
      } else {
        Fail(key, absl::StrCat("must be a whole number from ", min, " to ", max));
      }
    }
  }

  void Fraction(absl::string_view key, double* out) {
    if (const json* v = Get(key)) {
      if (v->is_number() && v->get<double>() >= 0 && v->get<double>() <= 1) {
        *out = v->get<double>();
      } else {
        Fail(key, "must be a number from 0 to 1");
      }
    }
  }

  void Seconds(absl::string_view key, absl::Duration* out, uint64_t min_s, uint64_t max_s) {
    uint64_t seconds = 0;
    if (Get(key) == nullptr) return;
    Unsigned(key, &seconds, max_s, min_s);
    *out = absl::Seconds(static_cast<int64_t>(seconds));
  }

  void Number(absl::string_view key, double* out, double min, double max) {
    if (const json* v = Get(key)) {
      if (v->is_number() && v->get<double>() >= min && v->get<double>() <= max) {
        *out = v->get<double>();
      } else {
        Fail(key, absl::StrCat("must be a number from ", min, " to ", max));
      }
    }
  }

  void Millis(absl::string_view key, absl::Duration* out, uint64_t min_ms) {
    uint64_t ms = 0;
    if (Get(key) == nullptr) return;
    Unsigned(key, &ms, uint64_t{24} * 3600 * 1000, min_ms);
    *out = absl::Milliseconds(static_cast<int64_t>(ms));
  }

  void Ids(absl::string_view key, std::vector<uint32_t>* out) {
    if (const json* v = Get(key)) {
      if (!v->is_array()) return Fail(key, "must be a list of numeric ids");
      out->clear();
      for (const json& id : *v) {
        if (!id.is_number_unsigned() || id.get<uint64_t>() > UINT32_MAX)
          return Fail(key, "must be a list of numeric ids");
        out->push_back(id.get<uint32_t>());
      }
    }
  }

  void Strings(absl::string_view key, std::vector<std::string>* out) {
    if (const json* v = Get(key)) {
      if (!v->is_array()) return Fail(key, "must be a list of strings");
      out->clear();
      for (const json& s : *v) {
        if (!s.is_string()) return Fail(key, "must be a list of strings");
        out->push_back(s.get<std::string>());
      }
    }
  }

  // A file mode written as an octal string ("0660").
  void Mode(absl::string_view key, uint32_t* out) {
    if (const json* v = Get(key)) {
      std::string text = v->is_string() ? v->get<std::string>() : "";
      uint32_t mode = 0;
      bool ok = !text.empty() && text.size() <= 4;
      for (char c : text) {
        ok = ok && c >= '0' && c <= '7';
        mode = mode * 8 + static_cast<uint32_t>(c - '0');
      }
      if (!ok) return Fail(key, "must be an octal mode in a string, such as \"0660\"");
      *out = mode;
    }
  }

  std::string Where(absl::string_view key) const {
    return path_.empty() ? std::string(key) : key.empty() ? path_ : absl::StrCat(path_, ".", key);
  }

  void Fail(absl::string_view key, absl::string_view what) {
    if (status_->ok())
      *status_ = absl::InvalidArgumentError(absl::StrCat("config: ", Where(key), ": ", what));
  }

 private:
  const json& object_;
  std::string path_;
  absl::Status* status_;
};

void ReadSocket(const json& object, const std::string& path, SocketConfig* socket,
                absl::Status* status) {
  ObjectReader r(object, path, status);
  r.OnlyKeys({"path", "mode", "group", "allowed_uids", "allowed_gids"});
  r.String("path", &socket->path);
  r.Mode("mode", &socket->mode);
  r.String("group", &socket->group);
  r.Ids("allowed_uids", &socket->allowed_uids);
  r.Ids("allowed_gids", &socket->allowed_gids);
}

void ReadLimits(const json& object, LimitsConfig* limits, absl::Status* status) {
  ObjectReader r(object, "limits", status);
  r.OnlyKeys({"max_body_bytes", "max_header_bytes", "max_batch", "max_connections",
              "idle_timeout_ms", "header_timeout_ms", "body_timeout_ms", "write_timeout_ms",
              "drain_timeout_ms"});
  r.Unsigned("max_body_bytes", &limits->max_body_bytes, uint64_t{1} << 30, 1024);
  r.Unsigned("max_header_bytes", &limits->max_header_bytes, uint64_t{1} << 20, 1024);
  r.Unsigned("max_batch", &limits->max_batch, 1'000'000, 1);
  r.Unsigned("max_connections", &limits->max_connections, 1'000'000, 1);
  r.Millis("idle_timeout_ms", &limits->idle_timeout, 10);
  r.Millis("header_timeout_ms", &limits->header_timeout, 10);
  r.Millis("body_timeout_ms", &limits->body_timeout, 10);
  r.Millis("write_timeout_ms", &limits->write_timeout, 10);
  r.Millis("drain_timeout_ms", &limits->drain_timeout, 0);
}

void ReadAudit(const json& object, AuditConfig* audit, absl::Status* status) {
  ObjectReader r(object, "audit", status);
  r.OnlyKeys({"path", "mode", "on_failure", "sample", "effects", "max_file_bytes", "keep_files",
              "fsync", "fsync_interval_ms"});
  r.String("path", &audit->path);
  std::string mode = "durable", on_failure = "deny";
  r.String("mode", &mode);
  if (mode != "durable" && mode != "async") r.Fail("mode", "must be durable or async");
  audit->mode = mode == "async" ? AuditMode::kAsync : AuditMode::kDurable;
  r.String("on_failure", &on_failure);
  if (on_failure != "deny" && on_failure != "serve") r.Fail("on_failure", "must be deny or serve");
  audit->on_failure = on_failure == "serve" ? AuditFailure::kServe : AuditFailure::kDeny;
  r.Fraction("sample", &audit->sample);
  r.Strings("effects", &audit->effects);
  for (const std::string& effect : audit->effects) {
    if (effect != "permit" && effect != "deny" && effect != "step_up" && effect != "not_applicable")
      r.Fail("effects", "must list permit, deny, step_up or not_applicable");
  }
  r.Unsigned("max_file_bytes", &audit->max_file_bytes, uint64_t{1} << 40);
  r.Unsigned("keep_files", &audit->keep_files, 1'000'000);
  r.String("fsync", &audit->fsync);
  if (audit->fsync != "every_line" && audit->fsync != "interval" && audit->fsync != "on_close")
    r.Fail("fsync", "must be every_line, interval or on_close");
  r.Millis("fsync_interval_ms", &audit->fsync_interval, 1);
  // Durable mode fsyncs every write before answering: every_line is all it
  // can be, so anything else is a contradiction, not a preference.
  if (audit->mode == AuditMode::kDurable && r.Get("fsync") != nullptr &&
      audit->fsync != "every_line")
    r.Fail("fsync", "must be every_line (or left out) with mode durable; the others need async");
  if (audit->mode == AuditMode::kDurable && r.Get("fsync_interval_ms") != nullptr)
    r.Fail("fsync_interval_ms", "applies to mode async with fsync interval");
}

void ReadClaims(const json& object, const std::string& path, auth::ClaimMapping* claims,
                absl::Status* status) {
  ObjectReader r(object, path, status);
  r.OnlyKeys({"subject", "roles", "tenant", "attributes", "mfa_methods", "mfa_acr_values"});
  r.String("subject", &claims->subject);
  r.Strings("roles", &claims->roles);
  r.String("tenant", &claims->tenant);
  if (const json* v = r.Get("attributes")) {
    if (!v->is_object()) return r.Fail("attributes", "must map subject attributes to claim names");
    for (const auto& [attribute, claim] : v->items()) {
      if (!claim.is_string() || claim.get<std::string>().empty())
        return r.Fail("attributes", absl::StrCat(attribute, " must name a claim"));
      claims->attributes.emplace_back(attribute, claim.get<std::string>());
    }
  }
  r.Strings("mfa_methods", &claims->mfa_methods);
  r.Strings("mfa_acr_values", &claims->mfa_acr_values);
}

void ReadIssuer(const json& object, const std::string& path, auth::IssuerSettings* settings,
                absl::Status* status) {
  ObjectReader r(object, path, status);
  auth::IssuerConfig* issuer = &settings->verify;
  r.OnlyKeys({"issuer", "audiences", "algorithms", "jwks_file", "hmac_keys", "leeway_s",
              "max_lifetime_s", "required_claims", "claims"});
  r.String("issuer", &issuer->issuer);
  if (issuer->issuer.empty()) r.Fail("issuer", "is required (the exact `iss` of its tokens)");
  r.Strings("audiences", &issuer->audiences);
  if (issuer->audiences.empty()) r.Fail("audiences", "must name at least one accepted audience");
  r.Strings("algorithms", &issuer->algorithms);
  if (issuer->algorithms.empty()) r.Fail("algorithms", "must list the accepted algorithms");
  for (const std::string& alg : issuer->algorithms) {
    if (alg != "RS256" && alg != "PS256" && alg != "ES256" && alg != "EdDSA" && alg != "HS256")
      r.Fail("algorithms", "accepts RS256, PS256, ES256, EdDSA and HS256");
  }
  r.String("jwks_file", &issuer->jwks_file);
  if (const json* v = r.Get("hmac_keys")) {
    if (!v->is_array())
      return r.Fail("hmac_keys", "must be a list of {kid, secret_env|secret_file}");
    for (size_t i = 0; i < v->size(); ++i) {
      auth::HmacKeySource key;
      ObjectReader k((*v)[i], absl::StrCat(path, ".hmac_keys[", i, "]"), status);
      k.OnlyKeys({"kid", "secret_env", "secret_file"});
      k.String("kid", &key.kid);
      k.String("secret_env", &key.secret_env);
      k.String("secret_file", &key.secret_file);
      if (key.secret_env.empty() == key.secret_file.empty())
        k.Fail("", "needs exactly one of secret_env and secret_file (never the secret itself)");
      settings->hmac_key_sources.push_back(std::move(key));
    }
  }
  r.Seconds("leeway_s", &issuer->leeway, 0, 300);
  r.Seconds("max_lifetime_s", &issuer->max_lifetime, 1, uint64_t{366} * 86400);
  r.Strings("required_claims", &issuer->required_claims);
  if (const json* v = r.Get("claims")) ReadClaims(*v, path + ".claims", &settings->claims, status);
}

void ReadAuth(const json& object, auth::AuthConfig* config, absl::Status* status) {
  ObjectReader r(object, "auth", status);
  r.OnlyKeys({"state", "create_state", "issuers", "api_keys", "token_cache_entries", "ip_lists",
              "geoip", "travel", "attempts", "hours", "devices_per_subject", "max_subjects",
              "max_buckets", "flush_interval_ms", "poll_interval_ms"});
  config->enabled = true;
  r.String("state", &config->state);
  if (config->state.empty()) r.Fail("state", "is required (the SQLite state database)");
  r.Bool("create_state", &config->create_state);
  if (const json* v = r.Get("issuers")) {
    if (!v->is_array()) return r.Fail("issuers", "must be a list of issuers");
    for (size_t i = 0; i < v->size(); ++i) {
      auth::IssuerSettings issuer;
      ReadIssuer((*v)[i], absl::StrCat("auth.issuers[", i, "]"), &issuer, status);
      config->issuers.push_back(std::move(issuer));
    }
  }
  r.Bool("api_keys", &config->api_keys);
  r.Unsigned("token_cache_entries", &config->token_cache_entries, 100'000'000);
  if (const json* v = r.Get("ip_lists")) {
    if (!v->is_array()) return r.Fail("ip_lists", "must be a list of {name, file}");
    for (size_t i = 0; i < v->size(); ++i) {
      auth::IpListSettings list;
      ObjectReader l((*v)[i], absl::StrCat("auth.ip_lists[", i, "]"), status);
      l.OnlyKeys({"name", "file"});
      l.String("name", &list.name);
      l.String("file", &list.file);
      if (list.name.empty() || list.file.empty()) l.Fail("", "needs a name and a file");
      config->ip_lists.push_back(std::move(list));
    }
  }
  if (const json* v = r.Get("geoip")) {
    ObjectReader g(*v, "auth.geoip", status);
    g.OnlyKeys({"city", "anonymous"});
    g.String("city", &config->geoip_city);
    g.String("anonymous", &config->geoip_anonymous);
  }
  if (const json* v = r.Get("travel")) {
    ObjectReader t(*v, "auth.travel", status);
    t.OnlyKeys({"max_speed_kmh", "min_distance_km"});
    t.Number("max_speed_kmh", &config->max_travel_speed_kmh, 1, 100000);
    t.Number("min_distance_km", &config->min_travel_distance_km, 0, 20040);
  }
  if (const json* v = r.Get("attempts")) {
    ObjectReader a(*v, "auth.attempts", status);
    a.OnlyKeys({"lockout_after", "window_s", "base_lockout_s", "max_lockout_s"});
    a.Unsigned("lockout_after", &config->lockout_after, 1000, 1);
    a.Seconds("window_s", &config->attempts_window, 1, uint64_t{30} * 86400);
    a.Seconds("base_lockout_s", &config->base_lockout, 1, 86400);
    a.Seconds("max_lockout_s", &config->max_lockout, 1, uint64_t{30} * 86400);
  }
  if (const json* v = r.Get("hours")) {
    ObjectReader h(*v, "auth.hours", status);
    h.OnlyKeys({"time_zone", "min_samples", "unusual_below"});
    h.String("time_zone", &config->hours_time_zone);
    h.Unsigned("min_samples", &config->hours_min_samples, 1'000'000, 1);
    h.Fraction("unusual_below", &config->hours_unusual_below);
  }
  r.Unsigned("devices_per_subject", &config->devices_per_subject, 1000, 1);
  r.Unsigned("max_subjects", &config->max_subjects, 100'000'000, 1);
  r.Unsigned("max_buckets", &config->max_buckets, 100'000'000, 1);
  r.Millis("flush_interval_ms", &config->flush_interval, 100);
  r.Millis("poll_interval_ms", &config->poll_interval, 50);
}

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(const std::string& text) {
  // A duplicated key is an error: nlohmann keeps the last, so a second
  // "audit" object would silently replace the first.
  json root;
  StrictJsonError error;
  if (!ParseStrictJson(text, {.max_depth = 64, .ignore_comments = true}, &root, &error))
    return absl::InvalidArgumentError(absl::StrCat("config: ", error.message));
  ServerConfig config;
  absl::Status status;
  ObjectReader r(root, "", &status);
  r.OnlyKeys({"socket", "admin_socket", "tcp_port", "policies", "data", "stdlib", "threads",
              "limits", "audit", "auth", "watch", "watch_interval_ms", "strict_requests",
              "log_format"});
  if (const json* v = r.Get("socket")) ReadSocket(*v, "socket", &config.socket, &status);
  if (const json* v = r.Get("admin_socket"))
    ReadSocket(*v, "admin_socket", &config.admin_socket, &status);
  if (r.Get("tcp_port") != nullptr) {
    uint16_t port = 0;
    r.Unsigned("tcp_port", &port, 65535);
    config.tcp_port = port;
  }
  r.String("policies", &config.policies);
  r.String("data", &config.data);
  r.String("stdlib", &config.stdlib);
  r.Unsigned("threads", &config.threads, 256);
  if (const json* v = r.Get("limits")) ReadLimits(*v, &config.limits, &status);
  if (const json* v = r.Get("audit")) ReadAudit(*v, &config.audit, &status);
  if (const json* v = r.Get("auth")) ReadAuth(*v, &config.auth, &status);
  r.Bool("watch", &config.watch);
  r.Millis("watch_interval_ms", &config.watch_interval, 50);
  r.Bool("strict_requests", &config.strict_requests);
  r.String("log_format", &config.log_format);
  if (config.log_format != "json" && config.log_format != "text")
    r.Fail("log_format", "must be json or text");
  if (!status.ok()) return status;
  return config;
}

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1 << 20))
    return absl::InvalidArgumentError(absl::StrCat(path, ": config file larger than 1 MiB"));
  absl::StatusOr<ServerConfig> config = ParseServerConfig(text.str());
  if (!config.ok())
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  return config;
}

}  // namespace warden::server
