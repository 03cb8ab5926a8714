// Decisions: what Warden answers, and how rule and policy results combine.
//
// Shared by every evaluator (the bytecode VM and the reference evaluator used
// in tests), so that combining semantics are written exactly once. Nothing
// here depends on the compiler; the algorithms' list is the bytecode format's.
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

#include "runtime/bytecode/combining.h"

namespace warden::rt {

enum class Outcome : uint8_t { kNotApplicable, kPermit, kStepUp, kDeny };
const char* OutcomeName(Outcome outcome);  // "permit", "deny", "step_up", "not_applicable"

// The algorithms are the bytecode format's (runtime/bytecode/combining.h):
// one enum for the compiler, the bundle and every evaluator.
using bc::Algorithm;

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
// Combine() is written on top of it, and it on top of Combiner, so every
// evaluator agrees by construction.
struct Combined {
  Outcome outcome = Outcome::kNotApplicable;
  int child = -1;
};
Combined CombineOutcomes(Algorithm algorithm, const Outcome* outcomes, size_t count,
                         EvalError* error);

// The algorithms, one child at a time (the VM combines while it evaluates,
// keeping no per-child results). Feed each child's outcome in order, with a
// challenge key (any number naming its step_up challenge; equal keys, equal
// challenges); Add says what becomes of that child's deciding rules:
//   kDrop   the child does not decide (it is not the winner, nor one of its kind)
//   kWin    it is the winner so far: its deciders replace the ones kept before
//   kJoin   it decides along with the ones kept (same outcome and challenge as
//           the winner, under an "overrides" algorithm)
//   kClear  nothing decides (only_one_applicable's conflict): drop them all
// Stop feeding once done() (first_applicable found its child); Finish gives
// the result. The deciders of a combination: under deny_overrides,
// permit_overrides, deny_unless_permit and permit_unless_deny every child with
// the winner's outcome and challenge; under first_applicable and
// only_one_applicable the winner alone; none when the result is a default.
class Combiner {
 public:
  enum class Take : uint8_t { kDrop, kWin, kJoin, kClear };

  explicit Combiner(Algorithm algorithm)
      : algorithm_(algorithm),
        deny_first_(algorithm == Algorithm::kDenyOverrides ||
                    algorithm == Algorithm::kPermitUnlessDeny) {}

  Take Add(Outcome outcome, int32_t challenge) {
    int index = next_++;
    if (outcome == Outcome::kNotApplicable) return Take::kDrop;
    switch (algorithm_) {
      case Algorithm::kFirstApplicable:
        Win(outcome, challenge, index);
        done_ = true;
        return Take::kWin;
      case Algorithm::kOnlyOneApplicable:
        if (conflict_) return Take::kDrop;
        if (winner_ >= 0) {
          conflict_ = true;
          return Take::kClear;
        }
        Win(outcome, challenge, index);
        return Take::kWin;
      default: {
        int rank = Rank(outcome);
        int best = Rank(best_);
        if (rank > best) {
          Win(outcome, challenge, index);
          return Take::kWin;
        }
        return rank == best && challenge == challenge_ ? Take::kJoin : Take::kDrop;
      }
    }
  }

  bool done() const { return done_; }
  // The winner's challenge key (-1 when the result is a default).
  int32_t challenge() const { return winner_ >= 0 && !conflict_ ? challenge_ : -1; }

  Combined Finish(EvalError* error) const {
    if (conflict_) {
      if (error != nullptr) *error = EvalError::kOnlyOneApplicable;
      return Combined{Outcome::kDeny, -1};
    }
    if (winner_ < 0) {
      if (algorithm_ == Algorithm::kDenyUnlessPermit) return Combined{Outcome::kDeny, -1};
      if (algorithm_ == Algorithm::kPermitUnlessDeny) return Combined{Outcome::kPermit, -1};
      return Combined{};
    }
    return Combined{best_, winner_};
  }

 private:
  // Rank under an "overrides" algorithm: the highest rank wins.
  int Rank(Outcome outcome) const {
    switch (outcome) {
      case Outcome::kNotApplicable:
        return 0;
      case Outcome::kPermit:
        return deny_first_ ? 1 : 3;
      case Outcome::kStepUp:
        return 2;
      case Outcome::kDeny:
        return deny_first_ ? 3 : 1;
    }
    return 0;
  }
  void Win(Outcome outcome, int32_t challenge, int index) {
    best_ = outcome;
    challenge_ = challenge;
    winner_ = index;
  }

  Algorithm algorithm_;
  bool deny_first_;
  bool done_ = false;
  bool conflict_ = false;
  Outcome best_ = Outcome::kNotApplicable;
  int32_t challenge_ = -1;
  int winner_ = -1;
  int next_ = 0;
};

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_DECISION_H_
