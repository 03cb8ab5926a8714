// The AST as indented text: one node per line, `description @line:col`,
// children two spaces deeper, in source order. The format is stable: golden
// tests and `warden compile --dump=ast` depend on it.
#include "compiler/ast_dump.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/internal/format_expr.h"

namespace warden {
namespace {

using internal::QuoteString;

using internal::JoinNames;

class Dumper {
 public:
  explicit Dumper(const SourceFile& source) : source_(source) {}

  std::string Dump(const ast::File& file) {
    Node(0, absl::StrCat("file package ", file.package.ToString()), file.package.span);
    for (const ast::ImportDecl& import : file.imports) {
      std::string text = absl::StrCat("import ", import.package.ToString());
      if (import.alias) absl::StrAppend(&text, " as ", import.alias->text);
      Node(1, text, import.span);
    }
    for (const ast::Declaration& decl : file.declarations) Declaration(1, decl);
    for (const ast::Comment& comment : file.comments) {
      Node(1,
           absl::StrCat("comment ", comment.own_line ? "own_line " : "trailing ",
                        QuoteString(comment.text)),
           comment.span);
    }
    return std::move(out_);
  }

 private:
  void Node(int depth, const std::string& text, const Span& span) {
    out_.append(static_cast<size_t>(depth) * 2, ' ');
    out_ += text;
    if (span.valid()) {
      LineCol at = source_.Locate(span.begin);
      absl::StrAppend(&out_, " @", at.line, ":", at.column);
    } else {
      out_ += " @?";
    }
    out_ += '\n';
  }

  // ---------------------------------------------------------------- types

  void Type(int depth, const std::string& label, const ast::TypeExpr* type) {
    if (type == nullptr) return;
    using K = ast::TypeExpr::Kind;
    std::string text = absl::StrCat(label, " ");
    switch (type->kind) {
      case K::kNamed:
        text += type->name.text;
        break;
      case K::kSet:
        text += "set";
        break;
      case K::kEnum:
        absl::StrAppend(&text, "enum ", JoinNames(type->members));
        break;
      case K::kRecord:
        text += "record";
        break;
    }
    if (type->optional) text += " optional";
    Node(depth, text, type->span);
    if (type->kind == K::kSet) Type(depth + 1, "type", type->element.get());
    for (const ast::FieldDecl& field : type->fields) Field(depth + 1, field);
  }

  void Field(int depth, const ast::FieldDecl& field) {
    Node(depth, absl::StrCat("field ", field.sensitive ? "sensitive " : "", field.name.text),
         field.span);
    Type(depth + 1, "type", field.type.get());
  }

  // ---------------------------------------------------------------- expressions

  // Iterative, with an explicit stack: a chain of thousands of `and`s is a
  // left-deep tree as deep as it is long.
  void Expr(int depth, const ast::Expr* root) {
    std::vector<std::pair<int, const ast::Expr*>> stack;
    if (root != nullptr) stack.emplace_back(depth, root);
    while (!stack.empty()) {
      auto [level, expr] = stack.back();
      stack.pop_back();
      Node(level, Describe(expr), expr->span);
      for (auto it = expr->args.rbegin(); it != expr->args.rend(); ++it) {
        if (*it != nullptr) stack.emplace_back(level + 1, it->get());
      }
    }
  }

  static std::string Describe(const ast::Expr* expr) {
    using K = ast::ExprKind;
    std::string text;
    switch (expr->kind) {
      case K::kBool:
        text = expr->bool_value ? "bool true" : "bool false";
        break;
      case K::kInt:
        text = absl::StrCat("int ", expr->int_value);
        if (expr->literal_text != absl::StrCat(expr->int_value)) {
          absl::StrAppend(&text, " written ", expr->literal_text);
        }
        break;
      case K::kDecimal:
        text = absl::StrCat("decimal ", expr->literal_text, " scaled ", expr->int_value);
        break;
      case K::kDuration:
        text = absl::StrCat("duration ", expr->literal_text, " ms ", expr->int_value);
        break;
      case K::kString:
        text = absl::StrCat("string ", QuoteString(expr->text));
        break;
      case K::kSet:
        text = "set";
        break;
      case K::kName:
        text = absl::StrCat("name ", expr->text);
        break;
      case K::kMember:
        text = absl::StrCat("member ", expr->text);
        break;
      case K::kCall:
        text = absl::StrCat("call ", expr->text);
        break;
      case K::kMethodCall:
        text = absl::StrCat("method ", expr->text);
        break;
      case K::kNot:
        text = "not";
        break;
      case K::kNegate:
        text = "negate";
        break;
      case K::kBinary:
        text = absl::StrCat("binary ", ast::BinaryOpText(expr->op));
        break;
      case K::kIn:
        text = expr->negated ? "not_in" : "in";
        break;
      case K::kMatches:
        text = absl::StrCat("matches ", QuoteString(expr->text));
        break;
      case K::kHasRole:
        text = absl::StrCat("has_role ", expr->role.ToString());
        break;
      case K::kHasAttr:
        text = absl::StrCat("has ", expr->text);
        break;
      case K::kQuantifier:
        text = absl::StrCat(expr->is_all ? "all " : "any ", expr->text);
        break;
    }
    return text;
  }

  // ---------------------------------------------------------------- JSON

  void Json(int depth, const std::string& label, const ast::JsonValue& value) {
    using K = ast::JsonValue::Kind;
    std::string text = label.empty() ? "" : absl::StrCat(label, " ");
    switch (value.kind) {
      case K::kNull:
        text += "null";
        break;
      case K::kBool:
        text += value.bool_value ? "bool true" : "bool false";
        break;
      case K::kInt:
        absl::StrAppend(&text, "int ", value.int_value);
        break;
      case K::kDecimal:
        absl::StrAppend(&text, "decimal ", value.text, " scaled ", value.int_value);
        break;
      case K::kString:
        absl::StrAppend(&text, "string ", QuoteString(value.text));
        break;
      case K::kArray:
        text += "array";
        break;
      case K::kObject:
        text += "object";
        break;
    }
    Node(depth, text, value.span);
    for (const ast::JsonValue& item : value.items) Json(depth + 1, "", item);
    for (const auto& member : value.members) {
      Node(depth + 1, absl::StrCat("key ", QuoteString(member.key.text)), member.key.span);
      Json(depth + 2, "", member.value);
    }
  }

  // ---------------------------------------------------------------- declarations

  void Declaration(int depth, const ast::Declaration& decl) {
    using K = ast::Declaration::Kind;
    switch (decl.kind) {
      case K::kSchema:
        if (decl.schema) Schema(depth, *decl.schema, decl.span);
        return;
      case K::kRole:
        if (decl.role) {
          std::string text = absl::StrCat("role ", decl.role->name.text);
          if (!decl.role->extends.empty()) {
            absl::StrAppend(&text, " extends ", JoinNames(decl.role->extends));
          }
          Node(depth, text, decl.span);
        }
        return;
      case K::kSeparate:
        if (decl.separate) {
          Node(depth, absl::StrCat("separate ", JoinNames(decl.separate->roles)), decl.span);
        }
        return;
      case K::kJit:
        if (decl.jit) Jit(depth, *decl.jit, decl.span);
        return;
      case K::kRisk:
        if (decl.risk) {
          Node(depth, absl::StrCat("risk ", decl.risk->name.text), decl.span);
          for (const ast::RiskFactor& factor : decl.risk->factors) {
            Node(depth + 1, absl::StrCat("factor ", factor.points >= 0 ? "+" : "", factor.points),
                 factor.span);
            Expr(depth + 2, factor.condition.get());
          }
        }
        return;
      case K::kLimit:
        if (decl.limit) {
          const ast::LimitDecl& limit = *decl.limit;
          Node(depth,
               absl::StrCat("limit ", limit.name.text, " count ", limit.count, " per ",
                            limit.window_text, " ms ", limit.window_millis),
               decl.span);
          for (const auto& key : limit.keys) Expr(depth + 1, key.get());
        }
        return;
      case K::kData:
        if (decl.data) {
          Node(depth, absl::StrCat("data ", decl.data->name.text), decl.span);
          Type(depth + 1, "type", decl.data->type.get());
        }
        return;
      case K::kConst:
        if (decl.constant) {
          Node(depth, absl::StrCat("const ", decl.constant->name.text), decl.span);
          Type(depth + 1, "type", decl.constant->type.get());
          Expr(depth + 1, decl.constant->value.get());
        }
        return;
      case K::kDef:
        if (decl.def) Def(depth, *decl.def, decl.span);
        return;
      case K::kChallenge:
        if (decl.challenge) {
          Node(depth, absl::StrCat("challenge ", decl.challenge->name.text), decl.span);
        }
        return;
      case K::kPolicy:
        if (decl.policy) Policy(depth, *decl.policy);
        return;
      case K::kPolicySet:
        if (decl.policy_set) PolicySet(depth, *decl.policy_set);
        return;
      case K::kTest:
        if (decl.test) Test(depth, *decl.test);
        return;
    }
  }

  void Schema(int depth, const ast::SchemaDecl& schema, const Span& span) {
    Node(depth, "schema", span);
    for (const ast::SchemaMember& member : schema.members) {
      using K = ast::SchemaMember::Kind;
      switch (member.kind) {
        case K::kSubject:
          Node(depth + 1, "subject", member.span);
          break;
        case K::kResource:
          Node(depth + 1, absl::StrCat("resource ", member.resource_type.text), member.span);
          break;
        case K::kContext:
          Node(depth + 1, "context", member.span);
          break;
        case K::kActions:
          Node(depth + 1, "actions", member.span);
          break;
      }
      for (const ast::FieldDecl& field : member.fields) Field(depth + 2, field);
      for (const auto& action : member.actions) {
        Node(depth + 2,
             absl::StrCat("action ", action.sensitive ? "sensitive " : "", action.name.text),
             action.name.span);
      }
    }
  }

  void Jit(int depth, const ast::JitDecl& jit, const Span& span) {
    Node(depth, absl::StrCat("jit ", jit.name.text), span);
    std::vector<std::pair<Span, std::string>> clauses = internal::JitClauses(jit);
    for (const auto& [clause_span, text] : clauses) Node(depth + 1, text, clause_span);
  }

  void Def(int depth, const ast::DefDecl& def, const Span& span) {
    std::string text = absl::StrCat("def ", def.name.text);
    if (def.has_parens) {
      text += "(";
      for (size_t i = 0; i < def.params.size(); ++i) {
        absl::StrAppend(&text, i == 0 ? "" : ", ", def.params[i].name.text);
      }
      text += ")";
    }
    Node(depth, text, span);
    for (const ast::Param& param : def.params) {
      Node(depth + 1, absl::StrCat("param ", param.name.text), param.name.span);
      Type(depth + 2, "type", param.type.get());
    }
    Type(depth + 1, "result", def.result_type.get());
    Expr(depth + 1, def.body.get());
  }

  void Policy(int depth, const ast::PolicyDecl& policy) {
    std::string text = absl::StrCat("policy ", policy.name.text, " on ", policy.resource_type.text);
    if (policy.algorithm) absl::StrAppend(&text, " combine ", policy.algorithm->text);
    Node(depth, text, policy.span);
    for (const ast::RuleDecl& rule : policy.rules) Rule(depth + 1, rule);
  }

  void Rule(int depth, const ast::RuleDecl& rule) {
    std::string text = absl::StrCat("rule ", rule.name.text, " ", internal::EffectText(rule), " ",
                                    internal::ActionsText(rule));
    Node(depth, text, rule.span);
    Expr(depth + 1, rule.condition.get());
    if (rule.reason)
      Node(depth + 1, absl::StrCat("because ", QuoteString(*rule.reason)), rule.reason_span);
    for (const ast::RuleExtra& extra : rule.extras) {
      std::string extra_text =
          absl::StrCat(extra.is_obligation ? "obligation " : "advice ", extra.name.text);
      if (extra.has_braces && extra.args.empty()) extra_text += " {}";
      Node(depth + 1, extra_text, extra.span);
      for (const auto& arg : extra.args) {
        Node(depth + 2, absl::StrCat("arg ", arg.key.text), arg.key.span);
        Expr(depth + 3, arg.value.get());
      }
    }
  }

  void PolicySet(int depth, const ast::PolicySetDecl& set) {
    std::string text = absl::StrCat("policyset ", set.name.text);
    if (set.algorithm) absl::StrAppend(&text, " combine ", set.algorithm->text);
    Node(depth, text, set.span);
    for (const ast::PolicySetMember& member : set.members) {
      if (member.policy) {
        Policy(depth + 1, *member.policy);
      } else if (member.set) {
        PolicySet(depth + 1, *member.set);
      } else if (member.use) {
        Node(depth + 1, absl::StrCat("use ", member.use->ToString()), member.span);
      }
    }
  }

  void Test(int depth, const ast::TestDecl& test) {
    Node(depth, absl::StrCat("test ", QuoteString(test.name)), test.span);
    Json(depth + 1, "given", test.given);
    if (test.data) Json(depth + 1, "data", *test.data);
    std::string expect = internal::ExpectText(test);
    Node(depth + 1, expect, test.expect_span);
  }

  const SourceFile& source_;
  std::string out_;
};

}  // namespace

std::string DumpAst(const ast::File& file, const SourceFile& source) {
  return Dumper(source).Dump(file);
}

}  // namespace warden
