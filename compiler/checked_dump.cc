#include "compiler/checked_dump.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/internal/format_expr.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"

namespace warden {
namespace {

class Dumper {
 public:
  Dumper(const CheckedProgram& program, const SourceManager& sources)
      : program_(program), sources_(sources) {}

  std::string Run() {
    Line(0, "attributes");
    for (const Attribute& attribute : program_.attributes) {
      Line(1, absl::StrCat("#", attribute.id, " ", attribute.path, ": ", TypeName(attribute.type),
                           attribute.optional ? "?" : "", attribute.sensitive ? " sensitive" : "",
                           attribute.builtin ? " builtin" : ""));
    }
    std::vector<std::string> actions;
    for (const Action& action : program_.actions) {
      actions.push_back(absl::StrCat(action.sensitive ? "sensitive " : "", action.name));
    }
    Line(0, absl::StrCat("actions [", absl::StrJoin(actions, ", "), "]"));
    for (const Role& role : program_.roles) {
      std::vector<std::string> closure;
      for (int held : role.closure) closure.push_back(program_.roles[held].name);
      Line(0, absl::StrCat("role ", role.name, " holds [", absl::StrJoin(closure, ", "), "]"));
    }
    for (const Separation& separation : program_.separations) {
      std::vector<std::string> roles;
      for (int role : separation.roles) roles.push_back(program_.roles[role].name);
      Line(0, absl::StrCat("separate ", absl::StrJoin(roles, ", ")));
    }
    for (const JitProfile& jit : program_.jit_profiles) {
      std::vector<std::string> grants;
      for (int role : jit.grants) grants.push_back(program_.roles[role].name);
      Line(0, absl::StrCat("jit ", jit.name, " grants [", absl::StrJoin(grants, ", "), "] max ",
                           jit.max_millis ? values::DurationString(*jit.max_millis) : "none",
                           " approvals ", jit.approvals));
    }
    for (const DataSlot& data : program_.data)
      Line(0, absl::StrCat("data ", data.name, ": ", TypeName(data.type)));
    for (const RiskScore& risk : program_.risks) {
      Line(0, absl::StrCat("risk ", risk.name, At(risk.span)));
      for (const RiskFactor& factor : risk.factors) {
        Line(1, absl::StrCat(factor.points >= 0 ? "+" : "", factor.points, " if"));
        Expr(2, *factor.condition);
      }
    }
    for (const RateLimit& limit : program_.limits) {
      Line(0, absl::StrCat("limit ", limit.name, ": ", limit.count, " per ",
                           values::DurationString(limit.window_millis)));
      for (const auto& key : limit.keys) Expr(1, *key);
    }
    for (const Policy& policy : program_.policies) {
      std::string target =
          policy.resource_type < 0 ? "*" : program_.resource_types[policy.resource_type].name;
      Line(0, absl::StrCat("policy ", policy.name, " on ", target, " combine ",
                           AlgorithmName(policy.algorithm), At(policy.span)));
      for (const Rule& rule : policy.rules) RuleLines(rule);
    }
    for (const PolicySet& set : program_.policy_sets) {
      Line(0, absl::StrCat("policyset ", set.name, " combine ", AlgorithmName(set.algorithm),
                           At(set.span)));
      for (const PolicySet::Member& member : set.members) Line(1, MemberName(member));
    }
    std::vector<std::string> roots;
    for (const PolicySet::Member& root : program_.roots) roots.push_back(MemberName(root));
    Line(0, absl::StrCat("roots [", absl::StrJoin(roots, ", "), "]"));
    return out_;
  }

 private:
  void Line(int depth, const std::string& text) {
    absl::StrAppend(&out_, std::string(depth * 2, ' '), text, "\n");
  }

  std::string At(const Span& span) const {
    if (!span.valid() || span.file >= sources_.size()) return "";
    const SourceFile& file = sources_.file(span.file);
    LineCol where = file.Locate(span.begin);
    return absl::StrCat(" @", file.path(), ":", where.line);
  }

  std::string MemberName(const PolicySet::Member& member) const {
    return member.is_set ? absl::StrCat("policyset ", program_.policy_sets[member.index].name)
                         : absl::StrCat("policy ", program_.policies[member.index].name);
  }

  void RuleLines(const Rule& rule) {
    std::string effect = rule.effect == Effect::kPermit ? "permit"
                         : rule.effect == Effect::kDeny ? "deny"
                                                        : absl::StrCat("step_up ", rule.challenge);
    std::vector<std::string> actions;
    for (int action : rule.actions) actions.push_back(program_.actions[action].name);
    Line(1,
         absl::StrCat("rule ", rule.name, " ", effect, " ",
                      rule.any_action ? "*" : absl::StrCat("[", absl::StrJoin(actions, ", "), "]"),
                      At(rule.span)));
    if (rule.condition) Expr(2, *rule.condition);
    if (rule.reason) Line(2, absl::StrCat("because ", internal::QuoteString(*rule.reason)));
    for (const RuleExtra& extra : rule.extras) {
      Line(2, absl::StrCat(extra.is_obligation ? "obligation " : "advice ", extra.name));
      for (const auto& [key, value] : extra.args) {
        Line(3, absl::StrCat(key, ":"));
        Expr(4, *value);
      }
    }
  }

  std::string ValueText(const Value& value) const {
    switch (value.kind) {
      case TypeKind::kBool:
        return value.bool_value ? "true" : "false";
      case TypeKind::kInt:
        return absl::StrCat(value.int_value);
      case TypeKind::kDecimal:
        return values::DecimalString(value.int_value);
      case TypeKind::kString:
        return internal::QuoteString(value.string_value);
      case TypeKind::kDuration:
        return values::DurationString(value.int_value);
      case TypeKind::kTimestamp:
        return absl::StrCat("timestamp(", value.int_value, "ms)");
      case TypeKind::kIp:
        return absl::StrCat("ip(", values::IpString(value.ip), ")");
      case TypeKind::kEnum:
        return value.string_value;
      case TypeKind::kSet: {
        std::vector<std::string> items;
        for (const Value& element : value.elements) items.push_back(ValueText(element));
        return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
      }
      default:
        return "?";
    }
  }

  // Iterative, so any tree the parser accepts prints without deep recursion.
  void Expr(int depth, const CExpr& root) {
    std::vector<std::pair<int, const CExpr*>> stack = {{depth, &root}};
    while (!stack.empty()) {
      auto [level, expr] = stack.back();
      stack.pop_back();
      Line(level, absl::StrCat(Describe(*expr), " : ", TypeName(expr->type)));
      for (auto it = expr->args.rbegin(); it != expr->args.rend(); ++it)
        stack.emplace_back(level + 1, it->get());
    }
  }

  std::string Describe(const CExpr& expr) const {
    switch (expr.kind) {
      case CExprKind::kConstant:
        return absl::StrCat("const ", ValueText(expr.value));
      case CExprKind::kAttribute:
        return expr.attribute < 0 ? absl::StrCat("root ", expr.text)
                                  : absl::StrCat("attr #", expr.attribute, " ",
                                                 program_.attributes[expr.attribute].path);
      case CExprKind::kAction:
        return "action";
      case CExprKind::kRisk:
        return absl::StrCat("risk ", program_.risks[expr.index].name);
      case CExprKind::kLimit:
        return absl::StrCat("limit ", program_.limits[expr.index].name,
                            expr.limit_field == 0 ? ".exceeded" : ".remaining");
      case CExprKind::kData:
        return absl::StrCat("data ", program_.data[expr.index].name);
      case CExprKind::kVariable:
        return absl::StrCat("var $", expr.index);
      case CExprKind::kMember:
        return absl::StrCat("member ", expr.text);
      case CExprKind::kHas:
        return absl::StrCat("has #", expr.attribute, " ", program_.attributes[expr.attribute].path);
      case CExprKind::kHasRole:
        return absl::StrCat("has_role ", program_.roles[expr.role].name);
      case CExprKind::kNot:
        return "not";
      case CExprKind::kNegate:
        return "negate";
      case CExprKind::kBinary:
        return ast::BinaryOpText(expr.op);
      case CExprKind::kIn:
        return "in";
      case CExprKind::kMatches:
        return absl::StrCat("matches ", internal::QuoteString(expr.text));
      case CExprKind::kCall:
        return expr.text.empty()
                   ? absl::StrCat("call ", BuiltinName(expr.builtin))
                   : absl::StrCat("call ", BuiltinName(expr.builtin), " zone ", expr.text);
      case CExprKind::kSet:
        return "set";
      case CExprKind::kAny:
        return absl::StrCat("any $", expr.index);
      case CExprKind::kAll:
        return absl::StrCat("all $", expr.index);
    }
    return "?";
  }

  const CheckedProgram& program_;
  const SourceManager& sources_;
  std::string out_;
};

}  // namespace

std::string DumpChecked(const CheckedProgram& program, const SourceManager& sources) {
  return Dumper(program, sources).Run();
}

}  // namespace warden
