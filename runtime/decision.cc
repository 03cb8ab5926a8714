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

namespace {

// Rank under an "overrides" algorithm: the highest rank wins.
int Rank(Outcome outcome, bool deny_first) {
  switch (outcome) {
    case Outcome::kNotApplicable:
      return 0;
    case Outcome::kPermit:
      return deny_first ? 1 : 3;
    case Outcome::kStepUp:
      return 2;
    case Outcome::kDeny:
      return deny_first ? 3 : 1;
  }
  return 0;
}

Combined Overrides(const Outcome* outcomes, size_t count, bool deny_first) {
  Combined best;
  for (size_t i = 0; i < count; ++i) {
    if (Rank(outcomes[i], deny_first) > Rank(best.outcome, deny_first))
      best = Combined{outcomes[i], static_cast<int>(i)};
  }
  return best;
}

}  // namespace

Combined CombineOutcomes(Algorithm algorithm, const Outcome* outcomes, size_t count,
                         EvalError* error) {
  switch (algorithm) {
    case Algorithm::kDenyOverrides:
      return Overrides(outcomes, count, /*deny_first=*/true);
    case Algorithm::kPermitOverrides:
      return Overrides(outcomes, count, /*deny_first=*/false);
    case Algorithm::kFirstApplicable:
      for (size_t i = 0; i < count; ++i) {
        if (outcomes[i] != Outcome::kNotApplicable)
          return Combined{outcomes[i], static_cast<int>(i)};
      }
      return Combined{};
    case Algorithm::kDenyUnlessPermit: {
      Combined result = Overrides(outcomes, count, /*deny_first=*/false);
      if (result.outcome == Outcome::kNotApplicable) result = Combined{Outcome::kDeny, -1};
      return result;
    }
    case Algorithm::kPermitUnlessDeny: {
      Combined result = Overrides(outcomes, count, /*deny_first=*/true);
      if (result.outcome == Outcome::kNotApplicable) result = Combined{Outcome::kPermit, -1};
      return result;
    }
    case Algorithm::kOnlyOneApplicable: {
      int applicable = -1;
      for (size_t i = 0; i < count; ++i) {
        if (outcomes[i] == Outcome::kNotApplicable) continue;
        if (applicable >= 0) {
          if (error != nullptr) *error = EvalError::kOnlyOneApplicable;
          return Combined{Outcome::kDeny, -1};
        }
        applicable = static_cast<int>(i);
      }
      return applicable >= 0 ? Combined{outcomes[applicable], applicable} : Combined{};
    }
  }
  return Combined{Outcome::kDeny, -1};
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
