// The reference evaluator: a small, obviously correct tree-walking
// interpreter of the checked program (checked.h) over a Request (request.h).
//
// It is the executable statement of docs/decisions.md. Speed is not a goal:
// the bytecode VM is checked against it (the conformance suite runs both),
// `warden test` and `warden eval` use it. It evaluates in this order:
//
//   1. separation of duties on the subject's effective roles (subject.roles
//      and the roles of active JIT grants, with inheritance): two separated
//      roles -> deny, with a `separation_of_duties` error, nothing else runs;
//   2. every root (top-level policy or policy set), combined with
//      deny_overrides. A policy whose target does not match the resource
//      type is not_applicable. A rule is a candidate when its action list
//      holds the request's action; it fires when its condition holds.
//      Errors fail closed: an erroring deny or step_up rule counts as firing,
//      an erroring permit rule as not applicable; every error is listed.
//      Children combine with rt::Combine (runtime/decision.h); under
//      first_applicable the children after the first applicable one are not
//      evaluated.
//   3. the deciding rules: under the overriding algorithms every firing rule
//      with the winning effect (for step_up: the winning challenge); under
//      first_applicable and only_one_applicable the chosen child's. Their
//      reasons, obligations and advice make up the decision.
//
// Nothing throws; arithmetic overflow, division by zero, missing attributes
// and unavailable limit counters are errors with stable codes
// (rt::EvalError). Recursion follows the checked expression tree only, whose
// depth the parser bounds; request values are never recursed into deeper
// than their declared type.
#ifndef WARDEN_CLI_REFERENCE_EVALUATOR_H_
#define WARDEN_CLI_REFERENCE_EVALUATOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/reference/request.h"
#include "compiler/checked.h"
#include "compiler/source.h"
#include "runtime/decision.h"
#include "runtime/vm_options.h"

namespace warden {

struct DecideOptions {
  // The roots to combine; unset: CheckedProgram::roots (the whole bundle).
  // `warden test` narrows them to the test's package and its imports.
  std::optional<std::vector<PolicySet::Member>> roots;
  // The `separate` declarations to enforce (indices); unset: all of them.
  std::optional<std::vector<int>> separations;
  // Fill ReferenceDecision::explain.
  bool explain = false;
  // For file:line in the decision; may be null (then file is "" and line 0).
  const SourceManager* sources = nullptr;
  // Quantifier iterations per decision, counted as the VM counts them
  // (runtime/vm_options.h); exhausted, the expression fails kLimitExceeded.
  size_t max_loop_iterations = rt::kDefaultMaxLoopIterations;
};

// A rule, named with its policy and where it is written.
struct RuleRef {
  int policy = -1;
  int rule = -1;
  std::string name;
  std::string policy_name;  // qualified: "acme.payments.payment_guards"
  std::string file;
  uint32_t line = 0;
};

struct ReferenceError {
  rt::EvalError code = rt::EvalError::kNone;
  std::string rule;  // the rule, "risk NAME", a policy or set name, or "" for the request
  std::string message;
  std::string file;
  uint32_t line = 0;
};

// An obligation or advice of a deciding rule, with its evaluated values.
struct DecisionExtra {
  std::string name;
  std::string rule;
  std::vector<std::pair<std::string, EvalValue>> values;
};

// One candidate rule in explain mode.
struct ExplainedRule {
  RuleRef rule;
  std::string effect;  // "permit", "deny", "step_up mfa"
  // "fired", "error" (an erroring deny/step_up fires, an erroring permit does
  // not), "not_applicable", or "not_evaluated" (after first_applicable chose)
  std::string status;
  std::string error;
  // For permit rules that did not fire: the top-level `and` conjuncts that
  // were false (or failed), as written.
  std::vector<std::string> failed_conditions;
};

struct ReferenceDecision {
  rt::Outcome outcome = rt::Outcome::kNotApplicable;
  std::string challenge;       // for step_up
  std::vector<RuleRef> rules;  // the deciding rules
  std::vector<std::string> reasons;
  std::vector<DecisionExtra> obligations;
  std::vector<DecisionExtra> advice;
  std::vector<ReferenceError> errors;
  std::vector<std::pair<std::string, int64_t>> risks;  // scores computed, by name
  // Limits read while deciding: a permit counts once against each of them.
  std::vector<std::string> limits_read;
  std::vector<ExplainedRule> explain;
};

ReferenceDecision Decide(const CheckedProgram& program, const Request& request,
                         const DecideOptions& options = {});

// Evaluates one expression (for tests). Returns the value, or nullopt with
// `*error` set.
std::optional<EvalValue> EvaluateExpr(const CheckedProgram& program, const Request& request,
                                      const CExpr& expr, ReferenceError* error);

// "permit", "deny", "not_applicable", "step_up mfa".
std::string DescribeOutcome(rt::Outcome outcome, const std::string& challenge);

}  // namespace warden

#endif  // WARDEN_CLI_REFERENCE_EVALUATOR_H_
