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

Result Overrides(const std::vector<Result>& children, bool deny_first) {
  Result best;
  for (const Result& child : children) {
    if (Rank(child.outcome, deny_first) > Rank(best.outcome, deny_first)) best = child;
  }
  return best;
}

}  // namespace

Result Combine(Algorithm algorithm, const std::vector<Result>& children, EvalError* error) {
  switch (algorithm) {
    case Algorithm::kDenyOverrides:
      return Overrides(children, /*deny_first=*/true);
    case Algorithm::kPermitOverrides:
      return Overrides(children, /*deny_first=*/false);
    case Algorithm::kFirstApplicable:
      for (const Result& child : children) {
        if (child.outcome != Outcome::kNotApplicable) return child;
      }
      return Result{};
    case Algorithm::kDenyUnlessPermit: {
      Result result = Overrides(children, /*deny_first=*/false);
      if (result.outcome == Outcome::kNotApplicable) result.outcome = Outcome::kDeny;
      return result;
    }
    case Algorithm::kPermitUnlessDeny: {
      Result result = Overrides(children, /*deny_first=*/true);
      if (result.outcome == Outcome::kNotApplicable) result.outcome = Outcome::kPermit;
      return result;
    }
    case Algorithm::kOnlyOneApplicable: {
      const Result* applicable = nullptr;
      for (const Result& child : children) {
        if (child.outcome == Outcome::kNotApplicable) continue;
        if (applicable != nullptr) {
          if (error != nullptr) *error = EvalError::kOnlyOneApplicable;
          return Result{Outcome::kDeny, {}};
        }
        applicable = &child;
      }
      return applicable != nullptr ? *applicable : Result{};
    }
  }
  return Result{Outcome::kDeny, {}};
}

}  // namespace warden::rt
