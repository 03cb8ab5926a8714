// Error wording (in the reference evaluator's words) and explanations
// (every candidate rule, its status and its failed conditions).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "runtime/engine/engine_impl.h"

namespace warden {

using bc::ValueKind;
using rt::Outcome;
using rt::Value;

using namespace engine_internal;  // NOLINT: this file implements them

using Status = RuleExplanation::Status;

const char* RuleStatusName(RuleExplanation::Status status) {
  switch (status) {
    case Status::kFired:
      return "fired";
    case Status::kError:
      return "error";
    case Status::kNotApplicable:
      return "not_applicable";
    case Status::kNotEvaluated:
      return "not_evaluated";
  }
  return "?";
}

namespace {

// An attribute path as policies write it: `resource.payment.amount` is
// `resource.amount` (as the reference evaluator names it).
std::string DisplayPath(const bc::Attribute& attribute) {
  if (attribute.resource_type < 0) return attribute.path;
  size_t dot = attribute.path.find('.', 9);
  return dot == std::string::npos ? attribute.path
                                  : absl::StrCat("resource", attribute.path.substr(dot));
}

}  // namespace

std::string Engine::Impl::ErrorMessage(rt::EvalError code, uint32_t instruction,
                                       const rt::Frame* frame) const {
  if (instruction < program.code.size()) {
    const bc::Instr& in = program.code[instruction];
    switch (in.op) {
      case bc::Op::kLOAD:
        if (in.c < slot_attribute.size() && slot_attribute[in.c] >= 0) {
          return absl::StrCat("`", DisplayPath(program.attributes[slot_attribute[in.c]]),
                              "` is missing from the request");
        }
        break;
      case bc::Op::kDATA:
        if (in.c < program.data.size())
          return absl::StrCat("data `", program.data[in.c].name, "` is not given");
        break;
      case bc::Op::kFIELD: {
        // The record's shape is in the register type of the instruction's
        // block (blocks are laid out in code order: a binary search).
        auto after = std::upper_bound(
            program.blocks.begin(), program.blocks.end(), instruction,
            [](uint32_t pc, const bc::CodeBlock& block) { return pc < block.begin; });
        if (after != program.blocks.begin()) {
          const bc::CodeBlock& block = *(after - 1);
          if (instruction >= block.begin + block.size) break;
          uint32_t shape = bc::ShapeOf(program.reg_types[block.reg_begin + in.b]);
          if (shape < program.records.size() && in.c < program.records[shape].fields.size())
            return absl::StrCat("a set element has no `", program.records[shape].fields[in.c].name,
                                "`");
        }
        break;
      }
      case bc::Op::kACTION:
        if (frame != nullptr) {
          return absl::StrCat("the action `", std::string(frame->undeclared_action_name()),
                              "` is not declared, so it has no order");
        }
        return "the action is not declared, so it has no order";
      case bc::Op::kLIMEXC:
      case bc::Op::kLIMREM:
        if (in.c < program.limits.size())
          return absl::StrCat("the counter of limit `", program.limits[in.c].name,
                              "` is unavailable");
        break;
      case bc::Op::kNEG:
        return "negation overflows";
      case bc::Op::kADD:
        return "`+` overflows";
      case bc::Op::kSUB:
        return "`-` overflows";
      case bc::Op::kMUL:
        return "`*` overflows";
      case bc::Op::kDIV:
        return code == rt::EvalError::kDivisionByZero ? "`/` by zero" : "`/` overflows";
      case bc::Op::kMOD:
        return "`%` by zero";
      case bc::Op::kLOOP:
        return "the loop budget (max_loop_iterations) is exhausted";
      default:
        if (code == rt::EvalError::kLimitExceeded)
          return "the decision's scratch memory (max_scratch_bytes) is exhausted";
        break;
    }
  }
  return rt::EvalErrorCode(code);
}

void Engine::Impl::ExplainRules(const rt::Frame& frame, Explanation* explanation) const {
  DecideScratch& s = ThreadScratch();
  for (const DecideScratch::Explained& entry : s.explained) {
    const bc::Rule& rule = program.rules[entry.rule];
    RuleExplanation& out = explanation->rules.emplace_back();
    out.rule = entry.rule;
    out.name = rule.name;
    out.policy = program.policies[rule_policy[entry.rule]].name;
    out.file = rule.file < program.files.size() ? std::string_view(program.files[rule.file]) : "";
    out.line = rule.line;
    out.effect = bc::EffectName(rule.effect);
    if (rule.effect == bc::Effect::kStepUp && rule.challenge >= 0)
      absl::StrAppend(&out.effect, " ", program.challenges[rule.challenge]);
    out.status = entry.status;
    if (entry.error != rt::EvalError::kNone)
      out.error = ErrorMessage(entry.error, entry.pc, &frame);
    // A permit rule that did not fire: which of its conditions failed.
    bool fired = entry.status == Status::kFired ||
                 (entry.status == Status::kError && rule.effect != bc::Effect::kPermit);
    if (rule.effect != bc::Effect::kPermit || fired || entry.status == Status::kNotEvaluated ||
        rule.condition == bc::kNoBlock)
      continue;
    if (rule.conjuncts.empty()) {
      out.conditions_unavailable = true;
      continue;
    }
    for (const bc::Conjunct& conjunct : rule.conjuncts) {
      s.vm.loop_budget = options.vm.max_loop_iterations;  // each on its own, as the reference does
      Value holds;
      rt::EvalError error = rt::RunBlock(prepared, frame, s.vm, conjunct.block, &holds);
      if (error != rt::EvalError::kNone) {
        out.failed_conditions.push_back(absl::StrCat(
            conjunct.text, " (error: ", ErrorMessage(error, s.vm.fault_pc, &frame), ")"));
      } else if (holds.i == 0) {
        out.failed_conditions.push_back(conjunct.text);
      }
    }
  }
}

}  // namespace warden
