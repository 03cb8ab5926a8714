#include "runtime/auth/check/decision_request.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "runtime/decision_json.h"
#include "runtime/values/timestamp.h"

namespace warden::auth {
namespace {

void AppendMillis(absl::Duration d, std::string* out) {
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(d));
  absl::StrAppend(out, "\"", ms, "ms\"");
}

void WriteTokenSubject(const MappedToken& token, absl::Time now, std::string* out) {
  out->append(token.subject_json);
  if (token.auth_time) {
    out->append(",\"auth_age\":");
    AppendMillis(now - *token.auth_time, out);
  }
  if (token.issued_at != absl::InfinitePast()) {
    out->append(",\"token_age\":");
    AppendMillis(now - token.issued_at, out);
  }
  out->append("}}");
}

void WriteApiKeySubject(const ApiKeyRecord& key, absl::Time now, std::string* out) {
  out->append("{\"id\":");
  AppendJsonString(key.subject, out);
  out->append(",\"roles\":");
  AppendJsonStringArray(key.roles, out);
  if (!key.tenant.empty()) {
    out->append(",\"tenant\":");
    AppendJsonString(key.tenant, out);
  }
  out->append(
      ",\"auth\":{\"mfa\":false,\"methods\":[],\"acr\":\"\",\"kind\":\"api_key\",\"key_id\":");
  AppendJsonString(key.id, out);
  out->append(",\"token_age\":");
  AppendMillis(now - key.created, out);
  out->append("}}");
}

}  // namespace

void WriteSubject(const Identity& identity, absl::Time now, std::string* out) {
  if (identity.token != nullptr) {
    WriteTokenSubject(*identity.token, now, out);
  } else {
    WriteApiKeySubject(*identity.key, now, out);
  }
}

void WriteDecisionRequest(const CheckBody& check, const Identity& identity, const CheckFacts& facts,
                          const SignalRegistry& signals_registry, std::string* request,
                          std::string* signals) {
  std::string& r = *request;
  r.append("{\"subject\":");
  WriteSubject(identity, facts.now, &r);
  r.append(",\"action\":");
  AppendJsonString(check.action_name, &r);
  r.append(",\"resource\":");
  r.append(check.resource);
  r.append(",\"context\":{");
  if (!check.context_rest.empty()) {
    r.append(check.context_rest);
    r.push_back(',');
  }
  AppendJsonString(ContextKeyName(ContextKey::time), &r);
  r.append(":\"");
  r.append(values::TimestampString(absl::ToUnixMillis(facts.now)));
  r.push_back('"');
  ContextWriter writer(&r, signals);
  signals_registry.Compute(facts, writer);
  r.append("}}");
}

}  // namespace warden::auth
