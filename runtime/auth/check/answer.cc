#include "runtime/auth/check/answer.h"

#include "runtime/decision_json.h"

namespace warden::auth {
namespace {

// What the enforcement point should ask for; a rule's `step_up` obligation
// may add limits such as max_auth_age.
void AppendStepUp(const Decision& decision, std::string* out) {
  out->append(",\"step_up\":{\"challenge\":");
  AppendJsonString(decision.challenge, out);
  for (const Obligation& obligation : decision.obligations) {
    if (obligation.name != "step_up") continue;
    for (uint32_t a = obligation.first_arg; a < obligation.first_arg + obligation.arg_count; ++a) {
      out->push_back(',');
      AppendJsonString(decision.args[a].key, out);
      out->push_back(':');
      out->append(decision.args[a].json);
    }
  }
  out->push_back('}');
}

void AppendIdentity(const Identity& identity, std::string* out) {
  out->append(",\"identity\":{\"subject\":");
  AppendJsonString(identity.subject, out);
  if (identity.token != nullptr) {
    out->append(",\"kind\":\"token\",\"issuer\":");
    AppendJsonString(identity.token->issuer, out);
    out->append(",\"mfa\":");
    out->append(identity.token->mfa ? "true" : "false");
  } else {
    out->append(",\"kind\":\"api_key\",\"key_id\":");
    AppendJsonString(identity.key->id, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendDecisionAnswer(const Engine& engine, const Decision& decision,
                          const std::vector<rt::RequestError>& tolerated, const Identity& identity,
                          std::string_view signals, std::string* out) {
  AppendDecisionJson(engine, decision, tolerated, out);
  out->pop_back();  // the closing brace: the check's members follow
  AppendIdentity(identity, out);
  out->append(",\"signals\":[");
  out->append(signals);
  out->push_back(']');
  if (decision.outcome == rt::Outcome::kStepUp) AppendStepUp(decision, out);
  out->push_back('}');
}

void AppendRefusalAnswer(const Engine& engine, const Refusal& refusal, std::string_view signals,
                         Decision* scratch, std::string* out) {
  scratch->Clear();
  scratch->outcome = rt::Outcome::kDeny;
  scratch->reasons.push_back(AuthErrorMeaning(refusal.error));
  AppendDecisionJson(engine, *scratch, {}, out);
  out->pop_back();
  out->append(",\"auth_error\":{\"code\":\"");
  out->append(AuthErrorCode(refusal.error));
  out->append("\",\"message\":");
  AppendJsonString(refusal.detail.empty() ? std::string_view(AuthErrorMeaning(refusal.error))
                                          : std::string_view(refusal.detail),
                   out);
  out->append("},\"signals\":[");
  out->append(signals);
  out->append("]}");
}

void AppendBadRequestAnswer(const BadRequest& bad, std::string* out) {
  AppendRefusalJson(bad.code, bad.message, /*path=*/"", {}, out);
}

}  // namespace warden::auth
