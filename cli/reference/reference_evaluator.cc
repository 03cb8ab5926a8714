#include "cli/reference/reference_evaluator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "re2/re2.h"
#include "runtime/values/ip.h"

namespace warden {
namespace {

using K = EvalValue::Kind;
using rt::EvalError;
using Op = ast::BinaryOp;

struct Failure {
  EvalError code = EvalError::kNone;
  std::string message;
  Span span;
};

const char* EffectName(Effect effect) {
  switch (effect) {
    case Effect::kPermit:
      return "permit";
    case Effect::kDeny:
      return "deny";
    case Effect::kStepUp:
      return "step_up";
  }
  return "deny";
}

// `resource.payment.amount` is written `resource.amount` in policies.
std::string DisplayPath(const Attribute& attribute) {
  if (attribute.resource_type < 0) return attribute.path;
  size_t dot = attribute.path.find('.', 9);
  return dot == std::string::npos ? attribute.path
                                  : absl::StrCat("resource", attribute.path.substr(dot));
}

// The result of one rule, policy or set, with the rules that decided it.
struct Node {
  rt::Result result;
  std::vector<std::pair<int, int>> deciding;  // (policy, rule)
  std::string name;                           // for messages
};

class Evaluator {
 public:
  Evaluator(const CheckedProgram& program, const Request& request, const DecideOptions& options,
            ReferenceDecision* decision)
      : program_(program),
        request_(request),
        options_(options),
        decision_(decision),
        loop_budget_(options.max_loop_iterations) {
    risk_cache_.resize(program.risks.size());
    ComputeRoles();
  }

  // ------------------------------------------------------------ decisions

  void Decide() {
    if (CheckSeparation()) return;
    std::vector<PolicySet::Member> roots = options_.roots ? *options_.roots : program_.roots;
    std::vector<Node> children;
    for (const PolicySet::Member& member : roots) {
      children.push_back(member.is_set ? EvalSet(member.index) : EvalPolicy(member.index));
    }
    Node root = Combine(Algorithm::kDenyOverrides, children, "the bundle", Span{});
    decision_->outcome = root.result.outcome;
    decision_->challenge = root.result.challenge;
    std::set<std::pair<int, int>> seen;
    for (const auto& [policy, rule] : root.deciding) {
      if (!seen.insert({policy, rule}).second) continue;
      const Rule& decl = program_.policies[policy].rules[rule];
      decision_->rules.push_back(Ref(policy, rule));
      if (decl.reason) decision_->reasons.push_back(*decl.reason);
      auto extras = extras_.find({policy, rule});
      if (extras == extras_.end()) continue;
      for (const auto& [is_obligation, extra] : extras->second) {
        (is_obligation ? decision_->obligations : decision_->advice).push_back(extra);
      }
    }
  }

  // ------------------------------------------------------------ expressions

  bool Eval(const CExpr& e, EvalValue* out) {
    switch (e.kind) {
      case CExprKind::kConstant:
        if (e.type == nullptr || e.type->kind == TypeKind::kError)
          return Fail(EvalError::kMissingAttribute, "an expression that did not type-check",
                      e.span);
        *out = FromConstant(e.value);
        return true;
      case CExprKind::kAttribute:
        return Attribute(e, out);
      case CExprKind::kAction:
        *out = EvalValue::Enum(request_.action, request_.action_name);
        return true;
      case CExprKind::kRisk: {
        int64_t score = 0;
        if (!Risk(e.index, e.span, &score)) return false;
        *out = EvalValue::Int(score);
        return true;
      }
      case CExprKind::kLimit:
        return Limit(e, out);
      case CExprKind::kData: {
        const std::optional<EvalValue>& value = request_.data[e.index];
        if (!value) {
          return Fail(EvalError::kMissingAttribute,
                      absl::StrCat("data `", program_.data[e.index].name, "` is not given"),
                      e.span);
        }
        *out = *value;
        return true;
      }
      case CExprKind::kVariable:
        if (e.index < 0 || static_cast<size_t>(e.index) >= variables_.size() ||
            variables_[e.index] == nullptr) {
          return Fail(EvalError::kMissingAttribute, "an unbound quantifier variable", e.span);
        }
        *out = *variables_[e.index];
        return true;
      case CExprKind::kMember: {
        EvalValue record;
        if (!Eval(*e.args[0], &record)) return false;
        for (size_t k = 0; k < record.names.size(); ++k) {
          if (record.names[k] == e.text) {
            *out = record.elements[k];
            return true;
          }
        }
        return Fail(EvalError::kMissingAttribute,
                    absl::StrCat("a set element has no `", e.text, "`"), e.span);
      }
      case CExprKind::kHas:
        *out = EvalValue::Bool(e.attribute >= 0 &&
                               static_cast<size_t>(e.attribute) < request_.attributes.size() &&
                               request_.attributes[e.attribute].has_value());
        return true;
      case CExprKind::kHasRole:
        *out = EvalValue::Bool(e.role >= 0 && static_cast<size_t>(e.role) < held_.size() &&
                               held_[e.role]);
        return true;
      case CExprKind::kNot: {
        EvalValue operand;
        if (!Eval(*e.args[0], &operand)) return false;
        *out = EvalValue::Bool(!operand.b);
        return true;
      }
      case CExprKind::kNegate: {
        EvalValue operand;
        if (!Eval(*e.args[0], &operand)) return false;
        if (operand.i == INT64_MIN) return Fail(EvalError::kOverflow, "negation overflows", e.span);
        *out = operand;
        out->i = -operand.i;
        return true;
      }
      case CExprKind::kBinary:
        return Binary(e, out);
      case CExprKind::kIn: {
        EvalValue element, collection;
        if (!Eval(*e.args[0], &element) || !Eval(*e.args[1], &collection)) return false;
        *out = EvalValue::Bool(In(element, collection));
        return true;
      }
      case CExprKind::kMatches: {
        EvalValue text;
        if (!Eval(*e.args[0], &text)) return false;
        const RE2* regex = Regex(e.text);
        if (regex == nullptr)
          return Fail(EvalError::kLimitExceeded, "the pattern does not compile", e.span);
        *out = EvalValue::Bool(RE2::PartialMatch(text.s, *regex));
        return true;
      }
      case CExprKind::kCall:
        return Call(e, out);
      case CExprKind::kSet: {
        std::vector<EvalValue> elements;
        for (const auto& arg : e.args) {
          EvalValue element;
          if (!Eval(*arg, &element)) return false;
          elements.push_back(std::move(element));
        }
        *out = EvalValue::Set(std::move(elements));
        return true;
      }
      case CExprKind::kAny:
      case CExprKind::kAll:
        return Quantifier(e, out);
    }
    return Fail(EvalError::kMissingAttribute, "an unknown expression", e.span);
  }

  // A request attribute: missing is an error (the fail-closed rule).
  bool Attribute(const CExpr& e, EvalValue* out) {
    if (e.attribute < 0 || static_cast<size_t>(e.attribute) >= request_.attributes.size()) {
      return Fail(EvalError::kMissingAttribute,
                  absl::StrCat("`", e.text, "` has no value of its own"), e.span);
    }
    const std::optional<EvalValue>& value = request_.attributes[e.attribute];
    if (!value) {
      return Fail(EvalError::kMissingAttribute,
                  absl::StrCat("`", DisplayPath(program_.attributes[e.attribute]),
                               "` is missing from the request"),
                  e.span);
    }
    *out = *value;
    return true;
  }

  // `limit.NAME.exceeded` or `.remaining`; reading one marks it read.
  bool Limit(const CExpr& e, EvalValue* out) {
    const RateLimit& limit = program_.limits[e.index];
    const std::optional<int64_t>& count = request_.limit_counts[e.index];
    if (!count) {
      return Fail(EvalError::kUnavailable,
                  absl::StrCat("the counter of limit `", limit.name, "` is unavailable"), e.span);
    }
    if (std::find(decision_->limits_read.begin(), decision_->limits_read.end(), limit.name) ==
        decision_->limits_read.end()) {
      decision_->limits_read.push_back(limit.name);
    }
    *out = e.limit_field == 0 ? EvalValue::Bool(*count >= limit.count)
                              : EvalValue::Int(std::max<int64_t>(0, limit.count - *count));
    return true;
  }

  // `any` / `all`: elements in set order, like a chain of `or` or `and`.
  bool Quantifier(const CExpr& e, EvalValue* out) {
    bool is_all = e.kind == CExprKind::kAll;
    EvalValue collection;
    if (!Eval(*e.args[0], &collection)) return false;
    if (variables_.size() <= static_cast<size_t>(e.index)) variables_.resize(e.index + 1, nullptr);
    bool result = is_all;
    for (const EvalValue& element : collection.elements) {
      variables_[e.index] = &element;
      EvalValue body;
      bool ok = Eval(*e.args[1], &body);
      variables_[e.index] = nullptr;
      if (!ok) return false;
      if (body.b != is_all) {
        result = !is_all;
        break;
      }
      // The VM's LOOP: one unit per element that did not settle the answer.
      if (loop_budget_ == 0)
        return Fail(EvalError::kLimitExceeded, "the loop budget (max_loop_iterations) is exhausted",
                    e.span);
      --loop_budget_;
    }
    *out = EvalValue::Bool(result);
    return true;
  }

  const Failure& failure() const { return failure_; }

  // Location helpers, shared with the decision.
  std::pair<std::string, uint32_t> Locate(Span span) const {
    if (options_.sources == nullptr || !span.valid() || span.file >= options_.sources->size())
      return {"", 0};
    const SourceFile& file = options_.sources->file(span.file);
    return {file.path(), file.Locate(span.begin).line};
  }

  std::string SourceText(Span span) const {
    return options_.sources == nullptr ? std::string("?") : options_.sources->OneLineText(span);
  }

 private:
  bool Fail(EvalError code, std::string message, Span span) {
    failure_ = Failure{code, std::move(message), span};
    return false;
  }

  // ------------------------------------------------------------ roles

  void ComputeRoles() {
    held_.assign(program_.roles.size(), false);
    std::vector<int> direct;
    const Field* roles = program_.subject->Find("roles");
    if (roles != nullptr && roles->attribute >= 0 &&
        static_cast<size_t>(roles->attribute) < request_.attributes.size() &&
        request_.attributes[roles->attribute]) {
      for (const EvalValue& name : request_.attributes[roles->attribute]->elements) {
        if (int role = program_.FindRole(name.s); role >= 0) direct.push_back(role);
      }
    }
    for (int grant : request_.jit_grants) {
      for (int role : program_.jit_profiles[grant].grants) direct.push_back(role);
    }
    for (int role : direct) {
      for (int held : program_.roles[role].closure) held_[held] = true;
    }
  }

  bool CheckSeparation() {
    std::vector<int> indices;
    if (options_.separations) {
      indices = *options_.separations;
    } else {
      for (size_t k = 0; k < program_.separations.size(); ++k)
        indices.push_back(static_cast<int>(k));
    }
    for (int index : indices) {
      const Separation& separation = program_.separations[index];
      std::vector<std::string> both;
      for (int role : separation.roles) {
        if (held_[role]) both.push_back(absl::StrCat("`", program_.roles[role].name, "`"));
      }
      if (both.size() < 2) continue;
      auto [file, line] = Locate(separation.span);
      std::string where = file.empty() ? std::string() : absl::StrCat(" (", file, ":", line, ")");
      std::string message = absl::StrCat("separation of duties: the subject holds ", both[0],
                                         " and ", both[1], ", which are separated", where);
      decision_->outcome = rt::Outcome::kDeny;
      decision_->reasons.push_back(message);
      decision_->errors.push_back({EvalError::kSeparationOfDuties, "", message, file, line});
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------ risk

  bool Risk(int index, Span span, int64_t* score) {
    auto& cached = risk_cache_[index];
    if (cached.state == 2) {
      if (cached.failed) return Fail(EvalError::kOverflow, cached.message, span);
      *score = cached.score;
      return true;
    }
    if (cached.state == 1)
      return Fail(EvalError::kLimitExceeded, "a risk score reads itself", span);
    cached.state = 1;
    const RiskScore& risk = program_.risks[index];
    int64_t sum = 0;
    bool overflow = false;
    for (const RiskFactor& factor : risk.factors) {
      EvalValue holds;
      bool counts = false;
      if (factor.condition == nullptr) {
        counts = true;
      } else if (Eval(*factor.condition, &holds)) {
        counts = holds.b;
      } else {
        // Fail closed: a positive factor that fails counts, a negative one does not.
        counts = factor.points > 0;
        Report(failure_, absl::StrCat("risk ", risk.name), factor.span);
      }
      if (counts && __builtin_add_overflow(sum, factor.points, &sum)) overflow = true;
    }
    cached.state = 2;
    if (overflow) {
      cached.failed = true;
      cached.message = absl::StrCat("risk score `", risk.name, "` overflows");
      return Fail(EvalError::kOverflow, cached.message, span);
    }
    cached.score = sum;
    decision_->risks.emplace_back(risk.name, sum);
    *score = sum;
    return true;
  }

  // ------------------------------------------------------------ operators

  // Widens an int to a decimal when the other operand is a decimal.
  bool Widen(EvalValue* a, EvalValue* b, Span span) {
    auto widen = [&](EvalValue* v) {
      int64_t scaled = 0;
      if (__builtin_mul_overflow(v->i, ast::kDecimalScale, &scaled))
        return Fail(EvalError::kOverflow, "decimal overflow", span);
      *v = EvalValue::Decimal(scaled);
      return true;
    };
    if (a->kind == K::kInt && b->kind == K::kDecimal) return widen(a);
    if (a->kind == K::kDecimal && b->kind == K::kInt) return widen(b);
    return true;
  }

  bool Binary(const CExpr& e, EvalValue* out) {
    if (e.op == Op::kAnd || e.op == Op::kOr) {
      EvalValue lhs;
      if (!Eval(*e.args[0], &lhs)) return false;
      if (e.op == Op::kAnd ? !lhs.b : lhs.b) {
        *out = EvalValue::Bool(lhs.b);
        return true;
      }
      EvalValue rhs;
      if (!Eval(*e.args[1], &rhs)) return false;
      *out = EvalValue::Bool(rhs.b);
      return true;
    }
    EvalValue a, b;
    if (!Eval(*e.args[0], &a) || !Eval(*e.args[1], &b)) return false;
    switch (e.op) {
      case Op::kEq:
      case Op::kNe:
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        return Compare(e, a, b, out);
      default:
        return Arithmetic(e, a, b, out);
    }
  }

  bool Compare(const CExpr& e, EvalValue a, EvalValue b, EvalValue* out) {
    if (!Widen(&a, &b, e.span)) return false;
    bool equality = e.op == Op::kEq || e.op == Op::kNe;
    // An undeclared action equals no declared action and has no order.
    if ((a.kind == K::kEnum && a.i < 0) || (b.kind == K::kEnum && b.i < 0)) {
      if (!equality) {
        const std::string& name = a.i < 0 ? a.s : b.s;
        return Fail(EvalError::kMissingAttribute,
                    absl::StrCat("the action `", name, "` is not declared, so it has no order"),
                    e.span);
      }
      bool same = a.i == b.i && a.s == b.s;
      *out = EvalValue::Bool(e.op == Op::kEq ? same : !same);
      return true;
    }
    *out = EvalValue::Bool(ast::ComparisonHolds(e.op, CompareValues(a, b)).value_or(false));
    return true;
  }

  bool Arithmetic(const CExpr& e, EvalValue a, EvalValue b, EvalValue* out) {
    const char* op = ast::BinaryOpText(e.op);
    auto overflow = [&]() {
      return Fail(EvalError::kOverflow, absl::StrCat("`", op, "` overflows"), e.span);
    };
    auto unsupported = [&]() {
      return Fail(EvalError::kOverflow, absl::StrCat("`", op, "` does not apply to these values"),
                  e.span);
    };
    if (e.op != Op::kMul && !Widen(&a, &b, e.span)) return false;
    int64_t result = 0;
    switch (e.op) {
      case Op::kAdd: {
        K kind;
        if (a.kind == b.kind &&
            (a.kind == K::kInt || a.kind == K::kDecimal || a.kind == K::kDuration)) {
          kind = a.kind;
        } else if ((a.kind == K::kTimestamp && b.kind == K::kDuration) ||
                   (a.kind == K::kDuration && b.kind == K::kTimestamp)) {
          kind = K::kTimestamp;
        } else {
          return unsupported();
        }
        if (__builtin_add_overflow(a.i, b.i, &result)) return overflow();
        *out = a;
        out->kind = kind;
        out->i = result;
        return true;
      }
      case Op::kSub: {
        K kind;
        if (a.kind == b.kind &&
            (a.kind == K::kInt || a.kind == K::kDecimal || a.kind == K::kDuration)) {
          kind = a.kind;
        } else if (a.kind == K::kTimestamp && b.kind == K::kDuration) {
          kind = K::kTimestamp;
        } else if (a.kind == K::kTimestamp && b.kind == K::kTimestamp) {
          kind = K::kDuration;
        } else {
          return unsupported();
        }
        if (__builtin_sub_overflow(a.i, b.i, &result)) return overflow();
        *out = a;
        out->kind = kind;
        out->i = result;
        return true;
      }
      case Op::kMul: {
        // int * int, decimal * int, duration * int (either order): the
        // scaled or millisecond value times the integer.
        K kind;
        if (a.kind == K::kInt && b.kind == K::kInt) {
          kind = K::kInt;
        } else if ((a.kind == K::kDecimal || a.kind == K::kDuration) && b.kind == K::kInt) {
          kind = a.kind;
        } else if (a.kind == K::kInt && (b.kind == K::kDecimal || b.kind == K::kDuration)) {
          kind = b.kind;
        } else {
          return unsupported();
        }
        if (__builtin_mul_overflow(a.i, b.i, &result)) return overflow();
        *out = EvalValue::Int(result);
        out->kind = kind;
        return true;
      }
      case Op::kDiv:
      case Op::kMod: {
        if (a.kind != K::kInt || b.kind != K::kInt) return unsupported();
        if (b.i == 0) {
          return Fail(EvalError::kDivisionByZero, absl::StrCat("`", op, "` by zero"), e.span);
        }
        if (b.i == -1) {  // INT64_MIN / -1 overflows; x % -1 is 0
          if (e.op == Op::kMod) {
            *out = EvalValue::Int(0);
            return true;
          }
          if (a.i == INT64_MIN) return overflow();
          *out = EvalValue::Int(-a.i);
          return true;
        }
        *out = EvalValue::Int(e.op == Op::kDiv ? a.i / b.i : a.i % b.i);
        return true;
      }
      default:
        return unsupported();
    }
  }

  static bool Contains(const EvalValue& set, const EvalValue& element) {
    for (const EvalValue& candidate : set.elements) {
      if (candidate.kind == K::kDecimal && element.kind == K::kInt) {
        int64_t scaled = 0;
        if (!__builtin_mul_overflow(element.i, ast::kDecimalScale, &scaled) &&
            scaled == candidate.i)
          return true;
        continue;
      }
      if (CompareValues(candidate, element) == 0) return true;
    }
    return false;
  }

  // `x in S`: membership, or for addresses, inside a network.
  static bool In(const EvalValue& element, const EvalValue& collection) {
    if (collection.kind == K::kIp)
      return element.kind == K::kIp && values::InNetwork(collection.ip, element.ip);
    if (collection.kind != K::kSet) return false;
    if (element.kind == K::kEnum && element.i < 0) return false;  // an undeclared action
    if (element.kind == K::kIp) {
      for (const EvalValue& network : collection.elements) {
        if (network.kind == K::kIp && values::InNetwork(network.ip, element.ip)) return true;
      }
      return false;
    }
    return Contains(collection, element);
  }

  const RE2* Regex(const std::string& pattern) {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) {
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(1 << 20);  // as the checker compiles it
      auto regex = std::make_unique<RE2>(pattern, options);
      it = regexes_.emplace(pattern, std::move(regex)).first;
    }
    return it->second->ok() ? it->second.get() : nullptr;
  }

  bool Zone(const std::string& name, absl::TimeZone* zone, Span span) {
    auto it = zones_.find(name);
    if (it == zones_.end()) {
      absl::TimeZone loaded;
      if (!absl::LoadTimeZone(name, &loaded)) {
        return Fail(EvalError::kLimitExceeded,
                    absl::StrCat("time zone `", name, "` cannot be loaded"), span);
      }
      it = zones_.emplace(name, loaded).first;
    }
    *zone = it->second;
    return true;
  }

  // Dispatches a builtin from WARDEN_BUILTINS (runtime/bytecode/opcodes.h) to
  // its Ref* implementation below, on the evaluated arguments.
  bool Call(const CExpr& e, EvalValue* out) {
    std::vector<EvalValue> args(e.args.size());
    for (size_t k = 0; k < e.args.size(); ++k) {
      if (!Eval(*e.args[k], &args[k])) return false;
    }
    const bc::BuiltinInfo& info = bc::Info(e.builtin);
    size_t arity = (info.self != bc::Sig::_ ? 1 : 0) +
                   (info.arg != bc::Sig::_ && info.arg != bc::Sig::ZONE ? 1 : 0);
    if (args.size() < arity)
      return Fail(EvalError::kMissingAttribute, "a call lacks arguments", e.span);
    switch (e.builtin) {
#define WARDEN_REF_CASE(name, text, form, self, arg, result, lowering, op, ref, usage, meaning) \
  case Builtin::k##name:                                                                        \
    return ref(e, args, out);
      WARDEN_BUILTINS(WARDEN_REF_CASE)
#undef WARDEN_REF_CASE
    }
    return Fail(EvalError::kMissingAttribute, "an unknown function", e.span);
  }

  using Args = std::vector<EvalValue>;
  bool RefFolded(const CExpr& e, const Args&, EvalValue*) {
    return Fail(EvalError::kMissingAttribute, "a constructor the checker did not fold", e.span);
  }
  bool RefStartsWith(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::Bool(absl::StartsWith(a[0].s, a[1].s));
    return true;
  }
  bool RefEndsWith(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::Bool(absl::EndsWith(a[0].s, a[1].s));
    return true;
  }
  bool RefContains(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::Bool(a[0].s.find(a[1].s) != std::string::npos);
    return true;
  }
  bool RefLower(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::String(absl::AsciiStrToLower(a[0].s));
    return true;
  }
  bool RefUpper(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::String(absl::AsciiStrToUpper(a[0].s));
    return true;
  }
  bool RefStringSize(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::Int(static_cast<int64_t>(a[0].s.size()));
    return true;
  }
  bool RefSetSize(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::Int(static_cast<int64_t>(a[0].elements.size()));
    return true;
  }
  bool RefIsEmpty(const CExpr&, const Args& a, EvalValue* out) {
    *out = EvalValue::Bool(a[0].elements.empty());
    return true;
  }
  bool RefSetContains(const CExpr&, const Args& a, EvalValue* out) {  // same as `x in S`
    *out = EvalValue::Bool(In(a[1], a[0]));
    return true;
  }
  bool RefContainsAny(const CExpr&, const Args& a, EvalValue* out) {
    bool any = false;
    for (const EvalValue& element : a[1].elements) any = any || Contains(a[0], element);
    *out = EvalValue::Bool(any);
    return true;
  }
  bool RefContainsAll(const CExpr&, const Args& a, EvalValue* out) {
    bool all = true;
    for (const EvalValue& element : a[1].elements) all = all && Contains(a[0], element);
    *out = EvalValue::Bool(all);
    return true;
  }
  // The civil time of timestamp a[0] in the call's time zone.
  bool Civil(const CExpr& e, const Args& a, absl::CivilSecond* civil) {
    absl::TimeZone zone;
    if (!Zone(e.text, &zone, e.span)) return false;
    *civil = absl::ToCivilSecond(absl::FromUnixMillis(a[0].i), zone);
    return true;
  }
  bool RefHour(const CExpr& e, const Args& a, EvalValue* out) {
    absl::CivilSecond civil;
    if (!Civil(e, a, &civil)) return false;
    *out = EvalValue::Int(civil.hour());
    return true;
  }
  bool RefMinute(const CExpr& e, const Args& a, EvalValue* out) {
    absl::CivilSecond civil;
    if (!Civil(e, a, &civil)) return false;
    *out = EvalValue::Int(civil.minute());
    return true;
  }
  bool RefSecond(const CExpr& e, const Args& a, EvalValue* out) {
    absl::CivilSecond civil;
    if (!Civil(e, a, &civil)) return false;
    *out = EvalValue::Int(civil.second());
    return true;
  }
  bool RefWeekday(const CExpr& e, const Args& a, EvalValue* out) {
    absl::CivilSecond civil;
    if (!Civil(e, a, &civil)) return false;
    // absl::Weekday counts from monday = 0, as the weekday enum does.
    int day = static_cast<int>(absl::GetWeekday(civil));
    *out = EvalValue::Enum(day, program_.weekday_enum->members[day]);
    return true;
  }
  bool RefDate(const CExpr& e, const Args& a, EvalValue* out) {
    absl::CivilSecond civil;
    if (!Civil(e, a, &civil)) return false;
    *out = EvalValue::String(absl::FormatCivilTime(absl::CivilDay(civil)));
    return true;
  }

  // ------------------------------------------------------------ policies

 public:
  RuleRef Ref(int policy, int rule) const {
    const Rule& decl = program_.policies[policy].rules[rule];
    RuleRef ref;
    ref.policy = policy;
    ref.rule = rule;
    ref.name = decl.name;
    ref.policy_name = program_.policies[policy].name;
    std::tie(ref.file, ref.line) = Locate(decl.span);
    return ref;
  }

 private:
  void Report(const Failure& failure, const std::string& owner, Span fallback) {
    Span where = failure.span.valid() ? failure.span : fallback;
    // The same failure of the same expression (a policy `use`d twice) is
    // listed once. Keyed by the span, not by file:line, which are empty
    // when no SourceManager is given.
    if (!reported_
             .emplace(static_cast<int>(failure.code), owner, failure.message,
                      static_cast<int64_t>(where.file), where.begin, where.end)
             .second) {
      return;
    }
    auto [file, line] = Locate(where);
    decision_->errors.push_back({failure.code, owner, failure.message, file, line});
  }

  static bool ActionMatches(const Rule& rule, int action) {
    if (rule.any_action) return true;
    return action >= 0 &&
           std::find(rule.actions.begin(), rule.actions.end(), action) != rule.actions.end();
  }

  Node EvalRule(int policy_index, int rule_index) {
    const Rule& rule = program_.policies[policy_index].rules[rule_index];
    Node node;
    node.name = rule.name;
    ExplainedRule explained;
    if (options_.explain) {
      explained.rule = Ref(policy_index, rule_index);
      explained.effect = rule.effect == Effect::kStepUp ? absl::StrCat("step_up ", rule.challenge)
                                                        : EffectName(rule.effect);
    }
    bool fires = true;
    bool errored = false;
    if (rule.condition != nullptr) {
      EvalValue holds;
      if (Eval(*rule.condition, &holds)) {
        fires = holds.b;
      } else {
        errored = true;
        Report(failure_, rule.name, rule.span);
        explained.error = failure_.message;
        fires = rule.effect != Effect::kPermit;  // fail closed
      }
    }
    if (fires) {
      std::vector<std::pair<bool, DecisionExtra>> extras;
      for (const RuleExtra& extra : rule.extras) {
        DecisionExtra evaluated{extra.name, rule.name, {}};
        bool ok = true;
        for (const auto& [key, expr] : extra.args) {
          EvalValue value;
          if (!Eval(*expr, &value)) {
            ok = false;
            Report(failure_, rule.name, rule.span);
            if (explained.error.empty()) explained.error = failure_.message;
            break;
          }
          evaluated.values.emplace_back(key, std::move(value));
        }
        if (ok) {
          extras.emplace_back(extra.is_obligation, std::move(evaluated));
        } else if (extra.is_obligation && rule.effect == Effect::kPermit) {
          fires = false;  // a permit whose obligation cannot be computed does not apply
          errored = true;
        }
      }
      if (fires) extras_[{policy_index, rule_index}] = std::move(extras);
    }
    if (fires) {
      node.result.outcome = rule.effect == Effect::kPermit ? rt::Outcome::kPermit
                            : rule.effect == Effect::kDeny ? rt::Outcome::kDeny
                                                           : rt::Outcome::kStepUp;
      if (rule.effect == Effect::kStepUp) node.result.challenge = rule.challenge;
      node.deciding.emplace_back(policy_index, rule_index);
    }
    if (options_.explain) {
      explained.status = errored ? "error" : fires ? "fired" : "not_applicable";
      if (rule.effect == Effect::kPermit && !fires && rule.condition != nullptr) {
        explained.failed_conditions = FailedConjuncts(*rule.condition);
      }
      decision_->explain.push_back(std::move(explained));
    }
    return node;
  }

  // The top-level `and` conjuncts of `condition` that do not hold, each
  // evaluated on its own in a scratch evaluator (nothing leaks into the
  // decision).
  std::vector<std::string> FailedConjuncts(const CExpr& condition) {
    std::vector<const CExpr*> conjuncts;
    std::vector<const CExpr*> stack = {&condition};
    while (!stack.empty()) {
      const CExpr* e = stack.back();
      stack.pop_back();
      if (e->kind == CExprKind::kBinary && e->op == Op::kAnd) {
        stack.push_back(e->args[1].get());
        stack.push_back(e->args[0].get());
      } else {
        conjuncts.push_back(e);
      }
    }
    std::vector<std::string> failed;
    ReferenceDecision scratch;
    DecideOptions quiet = options_;
    quiet.explain = false;
    Evaluator evaluator(program_, request_, quiet, &scratch);
    for (const CExpr* conjunct : conjuncts) {
      evaluator.loop_budget_ = options_.max_loop_iterations;  // each on its own, as the VM does
      EvalValue value;
      if (!evaluator.Eval(*conjunct, &value)) {
        failed.push_back(absl::StrCat(SourceText(conjunct->span),
                                      " (error: ", evaluator.failure().message, ")"));
      } else if (!value.b) {
        failed.push_back(SourceText(conjunct->span));
      }
    }
    return failed;
  }

  Node EvalPolicy(int index) {
    const Policy& policy = program_.policies[index];
    std::vector<Node> children;
    if (policy.resource_type < 0 || policy.resource_type == request_.resource_type) {
      bool chosen = false;
      for (size_t r = 0; r < policy.rules.size(); ++r) {
        if (!ActionMatches(policy.rules[r], request_.action)) continue;
        if (chosen) {  // first_applicable already has its answer
          if (options_.explain) {
            ExplainedRule skipped;
            skipped.rule = Ref(index, static_cast<int>(r));
            const Rule& rule = policy.rules[r];
            skipped.effect = rule.effect == Effect::kStepUp
                                 ? absl::StrCat("step_up ", rule.challenge)
                                 : EffectName(rule.effect);
            skipped.status = "not_evaluated";
            decision_->explain.push_back(std::move(skipped));
          }
          continue;
        }
        children.push_back(EvalRule(index, static_cast<int>(r)));
        chosen = policy.algorithm == Algorithm::kFirstApplicable &&
                 children.back().result.outcome != rt::Outcome::kNotApplicable;
      }
    }
    Node node = Combine(policy.algorithm, children, policy.name, policy.span);
    // A policy whose target does not match, or without candidate rules, is
    // not applicable whatever its algorithm.
    if (children.empty()) node = Node{};
    node.name = policy.name;
    return node;
  }

  Node EvalSet(int index) {
    const PolicySet& set = program_.policy_sets[index];
    if (++set_depth_ > 64) {  // `use` cycles are compile errors; this only guards
      --set_depth_;
      return Node{rt::Result{rt::Outcome::kDeny, {}}, {}, set.name};
    }
    std::vector<Node> children;
    for (const PolicySet::Member& member : set.members) {
      children.push_back(member.is_set ? EvalSet(member.index) : EvalPolicy(member.index));
      if (set.algorithm == Algorithm::kFirstApplicable &&
          children.back().result.outcome != rt::Outcome::kNotApplicable) {
        break;
      }
    }
    --set_depth_;
    Node node = Combine(set.algorithm, children, set.name, set.span);
    node.name = set.name;
    return node;
  }

  Node Combine(Algorithm algorithm, const std::vector<Node>& children, const std::string& owner,
               Span span) {
    std::vector<rt::Result> results;
    for (const Node& child : children) results.push_back(child.result);
    EvalError error = EvalError::kNone;
    Node node;
    node.result = rt::Combine(algorithm, results, &error);
    if (error != EvalError::kNone) {
      std::vector<std::string> applicable;
      for (const Node& child : children) {
        if (child.result.outcome != rt::Outcome::kNotApplicable)
          applicable.push_back(absl::StrCat("`", child.name, "`"));
      }
      Failure failure{error,
                      absl::StrCat("only_one_applicable: ", applicable.size(), " children apply (",
                                   absl::StrJoin(applicable, ", "), ")"),
                      span};
      Report(failure, owner, span);
      return node;
    }
    if (node.result.outcome == rt::Outcome::kNotApplicable) return node;
    bool first_only =
        algorithm == Algorithm::kFirstApplicable || algorithm == Algorithm::kOnlyOneApplicable;
    for (const Node& child : children) {
      if (child.result.outcome != node.result.outcome) continue;
      if (child.result.outcome == rt::Outcome::kStepUp &&
          child.result.challenge != node.result.challenge)
        continue;
      node.deciding.insert(node.deciding.end(), child.deciding.begin(), child.deciding.end());
      if (first_only) break;
    }
    return node;
  }

  struct RiskState {
    int state = 0;  // 0 not computed, 1 computing, 2 done
    bool failed = false;
    int64_t score = 0;
    std::string message;
  };

  const CheckedProgram& program_;
  const Request& request_;
  const DecideOptions& options_;
  ReferenceDecision* decision_;
  Failure failure_;
  std::vector<bool> held_;
  std::vector<RiskState> risk_cache_;
  std::vector<const EvalValue*> variables_;
  std::map<std::string, std::unique_ptr<RE2>> regexes_;
  std::map<std::string, absl::TimeZone> zones_;
  std::map<std::pair<int, int>, std::vector<std::pair<bool, DecisionExtra>>> extras_;
  std::set<std::tuple<int, std::string, std::string, int64_t, uint32_t, uint32_t>> reported_;
  int set_depth_ = 0;
  size_t loop_budget_;  // quantifier iterations left in this decision
};

}  // namespace

ReferenceDecision Decide(const CheckedProgram& program, const Request& request,
                         const DecideOptions& options) {
  ReferenceDecision decision;
  Evaluator evaluator(program, request, options, &decision);
  evaluator.Decide();
  return decision;
}

std::optional<EvalValue> EvaluateExpr(const CheckedProgram& program, const Request& request,
                                      const CExpr& expr, ReferenceError* error) {
  ReferenceDecision scratch;
  DecideOptions options;
  Evaluator evaluator(program, request, options, &scratch);
  EvalValue value;
  if (evaluator.Eval(expr, &value)) return value;
  if (error != nullptr)
    *error = ReferenceError{evaluator.failure().code, "", evaluator.failure().message, "", 0};
  return std::nullopt;
}

std::string DescribeOutcome(rt::Outcome outcome, const std::string& challenge) {
  if (outcome == rt::Outcome::kStepUp) return absl::StrCat("step_up ", challenge);
  return rt::OutcomeName(outcome);
}

}  // namespace warden
