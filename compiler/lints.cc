// Each lint is one function over the checked program. Lints never change the
// program; they only report warnings (W04xx).
#include "compiler/lints.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "compiler/internal/checker_state.h"
#include "re2/re2.h"

namespace warden {
namespace {

void VisitExpr(const CExpr& expr, const std::function<void(const CExpr&)>& visit) {
  visit(expr);
  for (const auto& arg : expr.args) VisitExpr(*arg, visit);
}

bool IsConstantBool(const CExpr* condition, bool value) {
  return condition != nullptr && condition->kind == CExprKind::kConstant &&
         condition->type->kind == TypeKind::kBool && condition->value.bool_value == value;
}

// ---------------------------------------------------------------- W0401 secret-literal

// Shannon entropy in bits per character.
double Entropy(const std::string& text) {
  int counts[256] = {};
  for (unsigned char c : text) ++counts[c];
  double entropy = 0;
  for (int count : counts) {
    if (count == 0) continue;
    double p = static_cast<double>(count) / static_cast<double>(text.size());
    entropy -= p * std::log2(p);
  }
  return entropy;
}

const char* SecretKind(const std::string& text) {
  struct Pattern {
    const char* kind;
    const char* regex;
  };
  static const Pattern kPatterns[] = {
      {"a private key", R"(-----BEGIN [A-Z ]*PRIVATE KEY-----)"},
      {"an AWS access key", R"(\b(AKIA|ASIA)[0-9A-Z]{16}\b)"},
      {"a GitHub token", R"(\bgh[pousr]_[A-Za-z0-9]{36,}\b)"},
      {"a Slack token", R"(\bxox[abposr]-[A-Za-z0-9-]{10,})"},
      {"a Stripe key", R"(\b[rs]k_(live|test)_[A-Za-z0-9]{16,})"},
      {"an API key", R"(\bsk-[A-Za-z0-9_-]{20,})"},
      {"a Google API key", R"(\bAIza[0-9A-Za-z_-]{35}\b)"},
      {"a JSON Web Token", R"(\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.)"},
      {"a bearer token", R"((?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,})"},
      {"a password", R"((?i)\b(password|passwd|pwd|secret|api[_-]?key|token)\s*[:=]\s*\S{6,})"},
  };
  static const std::vector<std::unique_ptr<RE2>>* const kCompiled = [] {
    auto* compiled = new std::vector<std::unique_ptr<RE2>>();
    for (const Pattern& pattern : kPatterns)
      compiled->push_back(std::make_unique<RE2>(pattern.regex));
    return compiled;
  }();
  for (size_t i = 0; i < std::size(kPatterns); ++i) {
    if (RE2::PartialMatch(text, *(*kCompiled)[i])) return kPatterns[i].kind;
  }
  // Long unbroken runs of base64 or hex with high entropy are likely keys.
  static const RE2 kOpaque(R"([A-Za-z0-9+/=_-]{32,})");
  if (RE2::FullMatch(text, kOpaque) && Entropy(text) > 4.2) return "a high-entropy key";
  return nullptr;
}

void LintSecretsIn(const ast::Expr& expr, DiagnosticSink& sink) {
  if (expr.kind == ast::ExprKind::kString) {
    if (const char* kind = SecretKind(expr.text)) {
      sink.Report(DiagCode::kSecretLiteral, expr.span,
                  absl::StrCat("this string looks like ", kind),
                  "never put credentials in policies; supply them through `data` or the server's "
                  "configuration");
    }
  }
  for (const auto& arg : expr.args) LintSecretsIn(*arg, sink);
}

void LintSecrets(const std::vector<const ast::File*>& files, DiagnosticSink& sink) {
  for (const ast::File* file : files) {
    for (const ast::Declaration& decl : file->declarations) {
      auto rules = [&](const ast::PolicyDecl& policy) {
        for (const ast::RuleDecl& rule : policy.rules) {
          if (rule.condition) LintSecretsIn(*rule.condition, sink);
          for (const auto& extra : rule.extras) {
            for (const auto& arg : extra.args) LintSecretsIn(*arg.value, sink);
          }
        }
      };
      std::function<void(const ast::PolicySetDecl&)> sets = [&](const ast::PolicySetDecl& set) {
        for (const auto& member : set.members) {
          if (member.policy) rules(*member.policy);
          if (member.set) sets(*member.set);
        }
      };
      switch (decl.kind) {
        case ast::Declaration::Kind::kPolicy:
          rules(*decl.policy);
          break;
        case ast::Declaration::Kind::kPolicySet:
          sets(*decl.policy_set);
          break;
        case ast::Declaration::Kind::kConst:
          LintSecretsIn(*decl.constant->value, sink);
          break;
        case ast::Declaration::Kind::kDef:
          LintSecretsIn(*decl.def->body, sink);
          break;
        case ast::Declaration::Kind::kRisk:
          for (const auto& factor : decl.risk->factors) LintSecretsIn(*factor.condition, sink);
          break;
        default:
          break;
      }
    }
  }
}

// ---------------------------------------------------------------- W0402, W0403

void LintConstantRules(const CheckedProgram& program, DiagnosticSink& sink) {
  for (const Policy& policy : program.policies) {
    for (const Rule& rule : policy.rules) {
      if (IsConstantBool(rule.condition.get(), false)) {
        sink.Report(
            DiagCode::kRuleNeverFires, rule.span,
            absl::StrCat("rule `", rule.name, "` can never fire: its condition is always false"),
            "fix the condition or remove the rule");
      } else if (IsConstantBool(rule.condition.get(), true)) {
        sink.Report(
            DiagCode::kRuleAlwaysFires, rule.span,
            absl::StrCat("rule `", rule.name, "` always fires: its condition is always true"),
            "drop the `if` to say so, or fix the condition");
      } else if (rule.condition == nullptr && rule.effect == Effect::kPermit && rule.any_action) {
        sink.Report(DiagCode::kRuleAlwaysFires, rule.span,
                    absl::StrCat("rule `", rule.name, "` permits every action on every request"),
                    "add a condition, or list the actions it should permit");
      }
    }
  }
}

// ---------------------------------------------------------------- W0404 shadowed-rule

bool SameExpr(const CExpr& a, const CExpr& b) {
  if (a.kind != b.kind || a.op != b.op || a.builtin != b.builtin || a.attribute != b.attribute ||
      a.index != b.index || a.limit_field != b.limit_field || a.role != b.role ||
      a.text != b.text || a.args.size() != b.args.size()) {
    return false;
  }
  if (a.kind == CExprKind::kConstant) {
    const Value& x = a.value;
    const Value& y = b.value;
    if (x.kind != y.kind || x.bool_value != y.bool_value || x.int_value != y.int_value ||
        x.string_value != y.string_value || !(x.ip == y.ip) ||
        x.elements.size() != y.elements.size()) {
      return false;
    }
  }
  for (size_t i = 0; i < a.args.size(); ++i) {
    if (!SameExpr(*a.args[i], *b.args[i])) return false;
  }
  return true;
}

bool CoversActions(const Rule& earlier, const Rule& later) {
  if (earlier.any_action) return true;
  if (later.any_action) return false;
  return std::all_of(later.actions.begin(), later.actions.end(), [&](int action) {
    return std::find(earlier.actions.begin(), earlier.actions.end(), action) !=
           earlier.actions.end();
  });
}

void LintShadowedRules(const CheckedProgram& program, DiagnosticSink& sink) {
  for (const Policy& policy : program.policies) {
    if (policy.algorithm != Algorithm::kFirstApplicable) continue;
    for (size_t j = 1; j < policy.rules.size(); ++j) {
      const Rule& later = policy.rules[j];
      for (size_t i = 0; i < j; ++i) {
        const Rule& earlier = policy.rules[i];
        // An obligation can fail at run time and make a permit not applicable,
        // so a rule with obligations never shadows the rules after it.
        bool has_obligations =
            std::any_of(earlier.extras.begin(), earlier.extras.end(),
                        [](const RuleExtra& extra) { return extra.is_obligation; });
        bool unconditional =
            earlier.condition == nullptr || IsConstantBool(earlier.condition.get(), true);
        bool same = earlier.condition != nullptr && later.condition != nullptr &&
                    SameExpr(*earlier.condition, *later.condition);
        if (has_obligations) unconditional = same = false;
        if (CoversActions(earlier, later) && (unconditional || same)) {
          sink.Report(DiagCode::kShadowedRule, later.span,
                      absl::StrCat("rule `", later.name, "` is never reached: rule `", earlier.name,
                                   "` before it applies whenever it would"),
                      "under first_applicable the first matching rule decides; reorder or remove");
          break;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- W0405 deny-bypassable

void LintBypassableDenies(const CheckedProgram& program, DiagnosticSink& sink) {
  for (const Policy& policy : program.policies) {
    for (const Rule& rule : policy.rules) {
      if (rule.effect == Effect::kPermit || rule.condition == nullptr) continue;
      internal::Guards required;
      internal::GuardsWhenTrue(*rule.condition, &required);
      if (required.empty()) continue;
      std::vector<std::string> paths;
      for (AttributeId id : required) paths.push_back(program.attributes[id].path);
      std::sort(paths.begin(), paths.end());
      sink.Report(DiagCode::kDenyBypassable, rule.span,
                  absl::StrCat("rule `", rule.name, "` does not fire when `", paths.front(),
                               "` is absent, so a caller can skip it by leaving it out"),
                  "write `not (X has attr) or …` to fire when it is missing, or make the attribute "
                  "required");
    }
  }
}

// ---------------------------------------------------------------- W0406 weak-sensitive-permit

bool ReadsAuthStrength(const CheckedProgram& program, const CExpr& condition) {
  bool found = false;
  VisitExpr(condition, [&](const CExpr& expr) {
    if (expr.kind == CExprKind::kAttribute && expr.attribute >= 0 &&
        program.attributes[expr.attribute].path.rfind("subject.auth.", 0) == 0) {
      found = true;
    }
  });
  return found;
}

void LintWeakSensitivePermits(const CheckedProgram& program, DiagnosticSink& sink) {
  for (const Policy& policy : program.policies) {
    for (const Rule& rule : policy.rules) {
      if (rule.effect != Effect::kPermit) continue;
      std::string sensitive;
      for (size_t a = 0; a < program.actions.size(); ++a) {
        bool covered = rule.any_action || std::find(rule.actions.begin(), rule.actions.end(),
                                                    static_cast<int>(a)) != rule.actions.end();
        if (covered && program.actions[a].sensitive) {
          sensitive = program.actions[a].name;
          break;
        }
      }
      if (sensitive.empty()) continue;
      if (rule.condition != nullptr && ReadsAuthStrength(program, *rule.condition)) continue;
      sink.Report(DiagCode::kWeakSensitivePermit, rule.span,
                  absl::StrCat("rule `", rule.name, "` permits sensitive action `", sensitive,
                               "` without checking how the subject authenticated"),
                  "require it, e.g. `and subject.auth.mfa`, or answer `step_up mfa` first");
    }
  }
}

// ---------------------------------------------------------------- W0407, W0408

void LintJitProfiles(const CheckedProgram& program, DiagnosticSink& sink) {
  for (const JitProfile& profile : program.jit_profiles) {
    if (!profile.max_millis) {
      sink.Report(DiagCode::kJitWithoutMax, profile.span,
                  absl::StrCat("jit profile `", profile.name, "` has no maximum duration"),
                  "add `max 1h` (or shorter): elevation should expire on its own");
    }
    if (profile.approvals == 0) {
      sink.Report(DiagCode::kJitWithoutApprovals, profile.span,
                  absl::StrCat("jit profile `", profile.name, "` needs no approval"),
                  "add `approvals 1 of role NAME` so no one can elevate alone");
    }
  }
}

}  // namespace

void RunLints(const CheckedProgram& program, const std::vector<const ast::File*>& files,
              const SourceManager& /*sources*/, DiagnosticSink& sink) {
  LintSecrets(files, sink);
  LintConstantRules(program, sink);
  LintShadowedRules(program, sink);
  LintBypassableDenies(program, sink);
  LintWeakSensitivePermits(program, sink);
  LintJitProfiles(program, sink);
}

}  // namespace warden
