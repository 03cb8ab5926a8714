// Stage 7 of /v1/check: the answer. Every answer that carries a decision,
// a refusal's too, is rendered by the one decision renderer
// (runtime/decision_json.h), then the check's own members follow:
//   decided   …,"identity":{…},"signals":[…](,"step_up":{…})}
//   refused   …,"auth_error":{"code","message"},"signals":[…]}
//   bad body  {"error":{"code","path","message"},"decision":"deny",…}
//             (AppendRefusalJson: every refusal's one shape)
#ifndef WARDEN_RUNTIME_AUTH_CHECK_ANSWER_H_
#define WARDEN_RUNTIME_AUTH_CHECK_ANSWER_H_

#include <string>
#include <string_view>
#include <vector>

#include "runtime/auth/check/authenticate.h"
#include "runtime/auth/check/check_body.h"
#include "warden/engine.h"

namespace warden::auth {

void AppendDecisionAnswer(const Engine& engine, const Decision& decision,
                          const std::vector<rt::RequestError>& tolerated, const Identity& identity,
                          std::string_view signals, std::string* out);

// The refusal as a deny whose reason is the code's meaning; `scratch` is
// the decision rendered (the caller's own decision stays a bare deny).
void AppendRefusalAnswer(const Engine& engine, const Refusal& refusal, std::string_view signals,
                         Decision* scratch, std::string* out);

void AppendBadRequestAnswer(const BadRequest& bad, std::string* out);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_ANSWER_H_
