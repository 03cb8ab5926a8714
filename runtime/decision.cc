#include "runtime/decision.h"

namespace warden::rt {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kNotApplicable:
      return "not_applicable";
    case Outcome::kPermit:
      return "permit";
    case Outcome::kStepUp:
      return "step_up";
    case Outcome::kDeny:
      return "deny";
  }
  return "deny";
}

const char* EvalErrorCode(EvalError error) {
  switch (error) {
    case EvalError::kNone:
      return "none";
    case EvalError::kMissingAttribute:
      return "missing_attribute";
    case EvalError::kOverflow:
      return "overflow";
    case EvalError::kDivisionByZero:
      return "division_by_zero";
    case EvalError::kOnlyOneApplicable:
      return "only_one_applicable";
    case EvalError::kBadRequest:
      return "bad_request";
    case EvalError::kSeparationOfDuties:
      return "separation_of_duties";
    case EvalError::kLimitExceeded:
      return "limit_exceeded";
    case EvalError::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

Combined CombineOutcomes(Algorithm algorithm, const Outcome* outcomes, size_t count,
                         EvalError* error) {
  Combiner combiner(algorithm);
  for (size_t i = 0; i < count && !combiner.done(); ++i) combiner.Add(outcomes[i], 0);
  return combiner.Finish(error);
}

Result Combine(Algorithm algorithm, const std::vector<Result>& children, EvalError* error) {
  std::vector<Outcome> outcomes;
  outcomes.reserve(children.size());
  for (const Result& child : children) outcomes.push_back(child.outcome);
  Combined combined = CombineOutcomes(algorithm, outcomes.data(), outcomes.size(), error);
  if (combined.child >= 0) return children[combined.child];
  return Result{combined.outcome, {}};
}

}  // namespace warden::rt
