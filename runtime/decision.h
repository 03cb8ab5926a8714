// Decisions: what Warden answers, and how rule and policy results combine.
//
// Shared by every evaluator (the bytecode VM and the reference evaluator used
// in tests), so that combining semantics are written exactly once. Nothing
// here depends on the compiler.
//
// Fail closed: an error while evaluating a rule never yields permit. An
// erroring deny or step_up rule counts as its effect; an erroring permit
// counts as not applicable; every error is listed in the decision.
#ifndef WARDEN_RUNTIME_DECISION_H_
#define WARDEN_RUNTIME_DECISION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace warden::rt {

enum class Outcome : uint8_t { kNotApplicable, kPermit, kStepUp, kDeny };
const char* OutcomeName(Outcome outcome);  // "permit", "deny", "step_up", "not_applicable"

enum class Algorithm : uint8_t {
  kDenyOverrides,
  kPermitOverrides,
  kFirstApplicable,
  kDenyUnlessPermit,
  kPermitUnlessDeny,
  kOnlyOneApplicable,
};

// Stable error codes reported in decisions (never exceptions).
enum class EvalError : uint8_t {
  kNone,
  kMissingAttribute,  // a required attribute is absent from the request
  kOverflow,          // integer, decimal, duration or timestamp overflow
  kDivisionByZero,
  kOnlyOneApplicable,   // only_one_applicable found several applicable children
  kBadRequest,          // the request could not be decoded (see its message)
  kSeparationOfDuties,  // the subject holds roles that are separated
  kLimitExceeded,       // an evaluation budget was exhausted
  kUnavailable,         // a limit counter (run-time state) could not be read
};
const char* EvalErrorCode(EvalError error);  // "missing_attribute", …

// The result of one rule, policy or set while combining.
struct Result {
  Outcome outcome = Outcome::kNotApplicable;
  std::string challenge;  // for kStepUp
};

// Combines children's results in order with `algorithm`. `children` are
// already fail-closed (an erroring permit arrives as not applicable).
// Under deny_overrides: deny > step_up > permit > not_applicable; under
// permit_overrides: permit > step_up > deny > not_applicable; among several
// step_ups the first child's challenge wins. first_applicable returns the
// first child that is not not_applicable. deny_unless_permit and
// permit_unless_deny never return not_applicable. only_one_applicable returns
// deny (and sets *error) when more than one child applies.
Result Combine(Algorithm algorithm, const std::vector<Result>& children, EvalError* error);

// The same algorithm over bare outcomes, for evaluators that keep results in
// their own storage (the VM: no allocation per decision). `child` is the
// index of the child whose result is taken (its challenge, for step_up), or
// -1 when the result is a default (not_applicable; deny_unless_permit's deny;
// permit_unless_deny's permit; only_one_applicable's deny on conflict).
// Combine() is written on top of it, so both agree by construction.
struct Combined {
  Outcome outcome = Outcome::kNotApplicable;
  int child = -1;
};
Combined CombineOutcomes(Algorithm algorithm, const Outcome* outcomes, size_t count,
                         EvalError* error);

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_DECISION_H_
