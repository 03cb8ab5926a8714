// Deciding: effective roles, static separation of duties, the policy tree
// combined while it is walked, and the decision (engine.h).
#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/engine/engine_impl.h"

namespace warden {

using bc::ValueKind;
using rt::Outcome;
using rt::Value;

using namespace engine_internal;  // NOLINT: this file implements them

void Decision::Clear() {
  outcome = Outcome::kDeny;
  challenge = {};
  rules.clear();
  reasons.clear();
  obligations.clear();
  // Keep the strings that own heap memory for AddArg to reuse.
  const size_t inline_chars = std::string().capacity();  // kept without the heap
  for (ObligationArg& arg : args) {
    if (arg.value.capacity() > inline_chars || arg.json.capacity() > inline_chars)
      spare_args_.push_back(std::move(arg));
  }
  args.clear();
  errors.clear();
  limits_read.clear();
  risks.clear();
  bundle_hash = {};
}

ObligationArg& Decision::AddSpareArg() {
  ObligationArg& arg = args.emplace_back(std::move(spare_args_.back()));
  spare_args_.pop_back();
  return arg;
}

namespace engine_internal {

DecideScratch& ThreadScratch() {
  thread_local DecideScratch scratch;
  return scratch;
}

}  // namespace engine_internal

namespace {

using Child = DecideScratch::Child;
using Status = RuleExplanation::Status;

// Error::detail of a kCombine error: which kind of node conflicted.
constexpr uint32_t kPolicyNode = 0;
constexpr uint32_t kSetNode = 1;
constexpr uint32_t kRootsNode = 2;

// Walks the policy tree for one request. Each node combines its children
// while it evaluates them (rt::Combiner): a child's deciding rules are
// appended to s_.deciders and then kept, moved down to the node's start, or
// dropped, so the deciders of a node are always one contiguous run. With
// kExplain, it also records every candidate rule (DecideScratch::explained);
// without, the explain code is not compiled in.
template <bool kExplain>
class Decider {
 public:
  Decider(const Engine::Impl& engine, const rt::Frame& frame, DecideScratch& s)
      : e_(engine), p_(engine.program), frame_(frame), s_(s) {
    int32_t type = frame.resource_type();
    type_key_ = type >= 0 && static_cast<size_t>(type) < p_.resource_types.size()
                    ? static_cast<uint32_t>(type) + 1
                    : 0;
    int32_t action = frame.action();
    action_bucket_ = action >= 0 && static_cast<size_t>(action) < p_.actions.size()
                         ? static_cast<uint32_t>(action) + 1
                         : 0;
  }

  Child Roots() {
    return Members(bc::Algorithm::kDenyOverrides, p_.roots, e_.root_members, kRootsNode, 0);
  }

 private:
  Child NotApplicable() const {
    uint32_t at = static_cast<uint32_t>(s_.deciders.size());
    return Child{Outcome::kNotApplicable, -1, at, at};
  }

  Child Member(const bc::Member& m) {
    return m.is_set ? Members(p_.policy_sets[m.index].algorithm, p_.policy_sets[m.index].members,
                              e_.set_members[m.index], kSetNode, m.index)
                    : Policy(m.index);
  }

  // Applies the combiner's verdict on the child whose deciders start at `mark`.
  void Keep(rt::Combiner::Take take, uint32_t dec_base, uint32_t mark) {
    std::vector<uint32_t>& d = s_.deciders;
    switch (take) {
      case rt::Combiner::Take::kDrop:
        d.erase(d.begin() + mark, d.end());
        break;
      case rt::Combiner::Take::kWin:
        if (mark != dec_base) {
          uint32_t end = static_cast<uint32_t>(d.size());
          std::copy(d.begin() + mark, d.end(), d.begin() + dec_base);
          d.erase(d.begin() + dec_base + (end - mark), d.end());
        }
        break;
      case rt::Combiner::Take::kJoin:
        break;
      case rt::Combiner::Take::kClear:
        d.erase(d.begin() + dec_base, d.end());
        break;
    }
  }

  Child Finish(const rt::Combiner& combiner, uint32_t dec_base, uint32_t node, uint32_t kind) {
    rt::EvalError error = rt::EvalError::kNone;
    rt::Combined combined = combiner.Finish(&error);
    if (error != rt::EvalError::kNone) {
      s_.vm.errors.push_back(
          rt::Scratch::Error{error, rt::Scratch::Source::kCombine, node, kind, 0});
    }
    if (combined.child < 0) s_.deciders.erase(s_.deciders.begin() + dec_base, s_.deciders.end());
    return Child{combined.outcome, combiner.challenge(), dec_base,
                 static_cast<uint32_t>(s_.deciders.size())};
  }

  // Evaluates the members relevant to the request's resource type, in their
  // order (MemberIndex::ForType).
  Child Members(bc::Algorithm algorithm, const std::vector<bc::Member>& members,
                const MemberIndex& index, uint32_t kind, uint32_t node) {
    const std::vector<uint32_t>& positions = index.ForType(type_key_);
    uint32_t dec_base = static_cast<uint32_t>(s_.deciders.size());
    rt::Combiner combiner(algorithm);
    for (uint32_t pos : positions) {
      uint32_t mark = static_cast<uint32_t>(s_.deciders.size());
      Child child = Member(members[pos]);
      Keep(combiner.Add(child.outcome, child.challenge), dec_base, mark);
      if (combiner.done()) break;
    }
    return Finish(combiner, dec_base, node, kind);
  }

  Child Policy(uint32_t index) {
    const bc::Policy& policy = p_.policies[index];
    const uint32_t* offsets = e_.action_offsets.data() + e_.policy_offset[index];
    uint32_t begin = offsets[action_bucket_];
    uint32_t end = offsets[action_bucket_ + 1];
    // No candidate rule: not applicable whatever the algorithm (docs/decisions.md),
    // so deny_unless_permit does not deny requests its policy never targets.
    if (begin == end) return NotApplicable();
    uint32_t dec_base = static_cast<uint32_t>(s_.deciders.size());
    rt::Combiner combiner(policy.algorithm);
    for (uint32_t k = begin; k < end; ++k) {
      uint32_t rule = e_.action_rules[k];
      uint32_t mark = static_cast<uint32_t>(s_.deciders.size());
      Outcome outcome = Rule(rule);
      if (outcome == Outcome::kNotApplicable) continue;  // Add would drop it: nothing to undo
      Keep(combiner.Add(outcome, e_.hot_rules[rule].challenge), dec_base, mark);
      if (combiner.done()) {
        if constexpr (kExplain) {
          for (uint32_t j = k + 1; j < end; ++j) {
            s_.explained.push_back(DecideScratch::Explained{
                e_.action_rules[j], Status::kNotEvaluated, rt::EvalError::kNone, 0});
          }
        }
        break;
      }
    }
    return Finish(combiner, dec_base, index, kPolicyNode);
  }

  // Evaluates a rule: its effect if it applies (and it is then appended to
  // the deciders, its obligations and advice to the extras), else not applicable.
  // Explain: the entry of the rule being evaluated.
  DecideScratch::Explained& Entry() { return s_.explained.back(); }
  void NoteError(rt::EvalError error) {
    if (Entry().error == rt::EvalError::kNone) {
      Entry().error = error;
      Entry().pc = s_.vm.fault_pc;
    }
  }

  Outcome Rule(uint32_t index) {
    const Engine::Impl::HotRule& hot = e_.hot_rules[index];
    Outcome effect = hot.effect;
    if constexpr (kExplain) {
      s_.explained.push_back(
          DecideScratch::Explained{index, Status::kFired, rt::EvalError::kNone, 0});
    }
    if (hot.condition != bc::kNoBlock) {
      Value holds;
      rt::EvalError error =
          rt::RunBlock(e_.prepared, frame_, s_.vm, static_cast<uint32_t>(hot.condition), &holds);
      if (error != rt::EvalError::kNone) {
        s_.vm.errors.push_back(
            rt::Scratch::Error{error, rt::Scratch::Source::kCondition, index, 0, s_.vm.fault_pc});
        if constexpr (kExplain) {
          NoteError(error);
          Entry().status = Status::kError;
        }
        // Fail closed: an erroring permit does not apply; deny and step_up do.
        if (effect == Outcome::kPermit) return Outcome::kNotApplicable;
      } else if (holds.i == 0) {
        if constexpr (kExplain) Entry().status = Status::kNotApplicable;
        return Outcome::kNotApplicable;
      }
    }
    if (!hot.has_extras) {
      s_.deciders.push_back(index);
      return effect;
    }
    const bc::Rule& rule = p_.rules[index];
    size_t extras_base = s_.extras.size();
    bool unmet = false;  // a permit's obligation could not be computed
    for (uint16_t x = 0; x < rule.extras.size(); ++x) {
      const bc::Extra& extra = rule.extras[x];
      size_t extra_base = s_.extras.size();
      s_.extras.push_back(
          DecideScratch::ExtraValue{index, x, DecideScratch::kExtraHeader, Value{}});
      for (uint16_t a = 0; a < extra.args.size(); ++a) {
        Value value;
        rt::EvalError error = rt::RunBlock(e_.prepared, frame_, s_.vm, extra.args[a].block, &value);
        if (error != rt::EvalError::kNone) {
          s_.vm.errors.push_back(rt::Scratch::Error{error, rt::Scratch::Source::kObligation, index,
                                                    x, s_.vm.fault_pc});
          if constexpr (kExplain) NoteError(error);
          // An obligation that cannot be met: the permit does not apply. The
          // other obligations and advice are still evaluated, so their errors
          // are reported too (as the reference evaluator does).
          unmet = unmet || (effect == Outcome::kPermit && extra.is_obligation);
          s_.extras.resize(extra_base);  // leave this obligation or advice out
          break;
        }
        s_.extras.push_back(DecideScratch::ExtraValue{index, x, a, value});
      }
    }
    if (unmet) {
      if constexpr (kExplain) Entry().status = Status::kError;
      s_.extras.resize(extras_base);
      return Outcome::kNotApplicable;
    }
    s_.deciders.push_back(index);
    return effect;
  }

  const Engine::Impl& e_;
  const bc::Program& p_;
  const rt::Frame& frame_;
  DecideScratch& s_;
  uint32_t type_key_ = 0;
  uint32_t action_bucket_ = 0;
};

// The steps of a decision, in order; each reads the engine and the thread's
// scratch memory and writes its part of the decision.

// 1. Effective roles: the request's (with what they inherit) and its JIT grants'.
void GrantRoles(const Engine::Impl& e, const rt::Frame& frame, DecideScratch& s) {
  const size_t words = e.prepared.role_words;
  auto grant = [&](uint32_t role) {
    const uint64_t* bits = e.prepared.role_closure.data() + role * words;
    for (size_t w = 0; w < words; ++w) s.vm.roles[w] |= bits[w];
  };
  if (e.roles_slot >= 0 && frame.present(static_cast<uint32_t>(e.roles_slot))) {
    const rt::SetRef& roles = frame.slot(static_cast<uint32_t>(e.roles_slot)).set;
    for (uint32_t i = 0; i < roles.size; ++i) {
      int role = e.FindRole(roles.data[i].s.view());
      if (role >= 0) grant(static_cast<uint32_t>(role));
    }
  }
  for (uint32_t profile : frame.jit_grants()) {
    if (profile >= e.program.jit_profiles.size()) continue;
    for (uint32_t role : e.program.jit_profiles[profile].grants) grant(role);
  }
}

// 2. Static separation of duties: holding two roles of one `separate` denies.
bool DeniedBySeparation(const Engine::Impl& e, const DecideScratch& s, Decision* d) {
  for (size_t i = 0; i < e.program.separations.size(); ++i) {
    int held = 0;
    for (uint32_t role : e.program.separations[i].roles)
      held += (s.vm.roles[role / 64] >> (role % 64)) & 1;
    if (held < 2) continue;
    d->outcome = Outcome::kDeny;
    d->reasons.push_back(e.separation_reasons[i]);
    DecisionError error{rt::EvalError::kSeparationOfDuties,
                        "separate",
                        e.separation_reasons[i],
                        {},
                        0,
                        kNoInstruction};
    e.Locate(e.program.separations[i].file, e.program.separations[i].line, &error);
    d->errors.push_back(error);
    return true;
  }
  return false;
}

// The obligations and advice that deciding rule `r` computed, with their
// values rendered.
void AddExtras(const Engine::Impl& e, uint32_t r, DecideScratch& s, Decision* d) {
  const bc::Rule& rule = e.program.rules[r];
  int last_extra = -1;  // a second evaluation of the rule restarts at a lower extra
  for (size_t x = 0; x < s.extras.size();) {
    const DecideScratch::ExtraValue& first = s.extras[x];
    if (first.rule != r) {
      ++x;
      continue;
    }
    if (static_cast<int>(first.extra) <= last_extra) break;
    last_extra = first.extra;
    const bc::Extra& extra = rule.extras[first.extra];
    Obligation obligation{extra.is_obligation, extra.name, rule.name,
                          static_cast<uint32_t>(d->args.size()), 0};
    size_t y = x;
    for (; y < s.extras.size() && s.extras[y].rule == r && s.extras[y].extra == first.extra; ++y) {
      if (s.extras[y].arg == DecideScratch::kExtraHeader) continue;
      const bc::ExtraArg& arg = extra.args[s.extras[y].arg];
      ObligationArg& out = d->AddArg();
      out.key = arg.key;
      e.Render(arg.type, s.extras[y].value, &out, &s.order);
      ++obligation.arg_count;
    }
    d->obligations.push_back(obligation);
    x = y;
  }
}

// 4. The deciding rules, their reasons, obligations and advice.
void AddDecidingRules(const Engine::Impl& e, const Child& result, DecideScratch& s, Decision* d) {
  for (uint32_t k = result.dec_begin; k < result.dec_end; ++k) {
    uint32_t r = s.deciders[k];
    const bc::Rule& rule = e.program.rules[r];
    // A rule evaluated twice (a policy `use`d by two sets) is listed once.
    bool listed = false;
    for (const DecidingRule& seen : d->rules) listed = listed || seen.rule == r;
    if (listed) continue;
    d->rules.push_back(DecidingRule{rule.name, e.program.policies[e.rule_policy[r]].name,
                                    rule.file < e.program.files.size()
                                        ? std::string_view(e.program.files[rule.file])
                                        : std::string_view(),
                                    rule.line, r});
    if (rule.has_reason) d->reasons.push_back(rule.reason);
    AddExtras(e, r, s, d);
  }
}

// Where a VM error happened, in the reference evaluator's terms.
DecisionError DescribeError(const Engine::Impl& e, const rt::Scratch::Error& error) {
  const bc::Program& program = e.program;
  DecisionError out{error.code, {}, {}, {}, 0, kNoInstruction};
  switch (error.source) {
    case rt::Scratch::Source::kCondition:
    case rt::Scratch::Source::kObligation: {
      const bc::Rule& rule = program.rules[error.index];
      out.where = rule.name;
      out.what = error.source == rt::Scratch::Source::kCondition
                     ? std::string_view("condition")
                     : std::string_view(rule.extras[error.detail].name);
      // The failing expression's line; the rule's in a program without lines.
      const bc::SourceLine* at = program.LineOf(error.pc);
      e.Locate(at != nullptr ? at->file : rule.file, at != nullptr ? at->line : rule.line, &out);
      out.instruction = error.pc;
      break;
    }
    case rt::Scratch::Source::kRisk: {
      out.where = e.risk_labels[error.index];  // as the reference evaluator names it
      out.what = "risk factor";
      if (const bc::SourceLine* at = program.LineOf(error.pc)) e.Locate(at->file, at->line, &out);
      out.instruction = error.pc;
      break;
    }
    case rt::Scratch::Source::kSeparation:
      out.where = "separate";
      break;
    case rt::Scratch::Source::kCombine:
      // The policy or set whose children conflicted (the roots: the bundle).
      out.where = error.detail == kPolicyNode ? std::string_view(program.policies[error.index].name)
                  : error.detail == kSetNode
                      ? std::string_view(program.policy_sets[error.index].name)
                      : std::string_view("the bundle");
      out.what = "only_one_applicable";
      if (error.detail == kPolicyNode) {
        e.Locate(program.policies[error.index].file, program.policies[error.index].line, &out);
      } else if (error.detail == kSetNode) {
        e.Locate(program.policy_sets[error.index].file, program.policy_sets[error.index].line,
                 &out);
      }
      break;
  }
  return out;
}

// 5. Every evaluation error, each once.
void AddErrors(const Engine::Impl& e, const DecideScratch& s, Decision* d) {
  for (size_t i = 0; i < s.vm.errors.size(); ++i) {
    const rt::Scratch::Error& error = s.vm.errors[i];
    // The same failure of a rule evaluated twice (a policy `use`d by two
    // sets) is listed once.
    bool repeated = false;
    for (size_t f = 0; f < i && error.source != rt::Scratch::Source::kCombine; ++f) {
      const rt::Scratch::Error& other = s.vm.errors[f];
      repeated = repeated || (other.code == error.code && other.source == error.source &&
                              other.index == error.index && other.detail == error.detail &&
                              other.pc == error.pc);
    }
    if (!repeated) d->errors.push_back(DescribeError(e, error));
  }
}

}  // namespace

template <bool kExplain>
void Engine::Impl::Decide(const rt::Frame& frame, Decision* d, Explanation* explanation) const {
  if constexpr (kExplain) explanation->Clear();
  d->Clear();
  d->bundle_hash = hash;
  if (frame.slot_count() != program.slot_count) {
    d->outcome = Outcome::kDeny;
    d->errors.push_back(DecisionError{rt::EvalError::kBadRequest,
                                      "frame",
                                      "the frame was made for another program",
                                      {},
                                      0,
                                      kNoInstruction});
    return;
  }
  DecideScratch& s = ThreadScratch();
  s.vm.Begin(prepared, options.vm);
  s.deciders.clear();
  s.extras.clear();
  if constexpr (kExplain) s.explained.clear();
  GrantRoles(*this, frame, s);
  if (DeniedBySeparation(*this, s, d)) return;
  // 3. The roots, deny_overrides.
  Decider<kExplain> decider(*this, frame, s);
  Child result = decider.Roots();
  d->outcome = result.outcome;
  if (result.outcome == Outcome::kStepUp && result.challenge >= 0)
    d->challenge = program.challenges[result.challenge];
  AddDecidingRules(*this, result, s, d);
  AddErrors(*this, s, d);
  d->limits_read.assign(s.vm.limits_read.begin(), s.vm.limits_read.end());
  for (uint32_t r = 0; r < program.risks.size(); ++r) {
    if (s.vm.risk_done(r)) d->risks.emplace_back(program.risks[r].name, s.vm.risk_value[r]);
  }
  // Last, so evaluating conjuncts changes nothing in the decision.
  if constexpr (kExplain) ExplainRules(frame, explanation);
}

template void Engine::Impl::Decide<false>(const rt::Frame&, Decision*, Explanation*) const;
template void Engine::Impl::Decide<true>(const rt::Frame&, Decision*, Explanation*) const;

}  // namespace warden
