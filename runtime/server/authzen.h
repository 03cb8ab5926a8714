// The OpenID AuthZEN Authorization API 1.0 mapped onto Warden's model
// (docs/api.md, "AuthZEN").
//
//   AuthZEN                               Warden request
//   subject {type, id, properties{…}}  →  subject {id, …properties}
//   action {name, properties}          →  action: name
//   resource {type, id, properties{…}} →  resource {type, id, …properties}
//   context {…}                        →  context {…}
//
// and back: "decision" is true only for permit; the response context
// carries the decision id and the whole Warden decision under "warden"
// (outcome, step-up challenge, rules, reasons, obligations, errors).
#ifndef WARDEN_RUNTIME_SERVER_AUTHZEN_H_
#define WARDEN_RUNTIME_SERVER_AUTHZEN_H_

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"

namespace warden::server {

// One evaluation, after defaults are applied: the Warden request JSON, or an
// InvalidArgument error naming the missing or mistyped member.
absl::StatusOr<std::string> AuthzenToWardenRequest(const nlohmann::json& evaluation);

// The evaluations of a /access/v1/evaluations body, each with the top-level
// subject, action, resource and context as defaults (a member set on an
// evaluation replaces the default whole). Without "evaluations", the body
// itself is the one evaluation.
struct AuthzenBatch {
  std::vector<nlohmann::json> evaluations;
  enum class Semantic { kExecuteAll, kDenyOnFirstDeny, kPermitOnFirstPermit };
  Semantic semantic = Semantic::kExecuteAll;
  bool single = false;  // no "evaluations" array: answer like /access/v1/evaluation
};
absl::StatusOr<AuthzenBatch> AuthzenEvaluations(const nlohmann::json& body, size_t max_batch);

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_AUTHZEN_H_
