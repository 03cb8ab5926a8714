#include "compiler/internal/format_expr.h"
#include "compiler/internal/utf8.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"

namespace warden::internal {
namespace {

// Binding strength, loosest first; ORDER: the `expr` alternatives in
// grammar/Warden.g4, read bottom to top. Member access and method calls share
// a level because a chain of them needs no parentheses in either order.
enum Precedence : int {
  kQuantifierLevel = 0,
  kOrLevel,
  kAndLevel,
  kNotLevel,
  kHasAttrLevel,
  kHasRoleLevel,
  kMatchesLevel,
  kInLevel,
  kCompareLevel,
  kAddLevel,
  kMultiplyLevel,
  kNegateLevel,
  kPostfixLevel,
  kPrimaryLevel,
};

int BinaryPrecedence(ast::BinaryOp op) {
  switch (op) {
    case ast::BinaryOp::kOr:
      return kOrLevel;
    case ast::BinaryOp::kAnd:
      return kAndLevel;
    case ast::BinaryOp::kEq:
    case ast::BinaryOp::kNe:
    case ast::BinaryOp::kLt:
    case ast::BinaryOp::kLe:
    case ast::BinaryOp::kGt:
    case ast::BinaryOp::kGe:
      return kCompareLevel;
    case ast::BinaryOp::kAdd:
    case ast::BinaryOp::kSub:
      return kAddLevel;
    case ast::BinaryOp::kMul:
    case ast::BinaryOp::kDiv:
    case ast::BinaryOp::kMod:
      return kMultiplyLevel;
  }
  return kPrimaryLevel;
}

// The numeric text of a literal: as written, else derived from its value.
std::string NumberText(const ast::Expr& expr) {
  if (!expr.literal_text.empty()) {
    // The parser folds `-(-5)` into one literal written "--5"; print the
    // signs apart, as a negation would print, so the output is stable.
    size_t signs = expr.literal_text.find_first_not_of('-');
    if (signs == std::string::npos || signs < 2) return expr.literal_text;
    std::string out;
    for (size_t i = 1; i < signs; ++i) out += "- ";
    return absl::StrCat(out, expr.literal_text.substr(signs - 1));
  }
  switch (expr.kind) {
    case ast::ExprKind::kDecimal:
      return values::DecimalString(expr.int_value);
    case ast::ExprKind::kDuration:
      return values::DurationString(expr.int_value);
    default:
      return absl::StrCat(expr.int_value);
  }
}

// A step of printing: either text to append or an expression to expand.
struct Piece {
  const ast::Expr* expr = nullptr;
  std::string text;
};

// Whether the expression, printed bare, starts with a minus sign.
bool StartsWithMinus(const ast::Expr& expr) {
  if (expr.kind == ast::ExprKind::kNegate) return true;
  return (expr.kind == ast::ExprKind::kInt || expr.kind == ast::ExprKind::kDecimal ||
          expr.kind == ast::ExprKind::kDuration) &&
         NumberText(expr).starts_with('-');
}

bool NeedsParens(const ast::Expr& operand, int parent_precedence, bool right_side) {
  int precedence = ExprPrecedence(operand);
  return operand.kind == ast::ExprKind::kQuantifier || precedence < parent_precedence ||
         (right_side && precedence == parent_precedence);
}

// Expands one expression into the pieces that print it, in order.
class Expander {
 public:
  explicit Expander(std::vector<Piece>& out) : out_(out) {}

  void Text(std::string text) { out_.push_back(Piece{nullptr, std::move(text)}); }
  void Whole(const ast::Expr* expr) {
    if (expr == nullptr) {
      Text("()");
    } else {
      out_.push_back(Piece{expr, {}});
    }
  }
  void Operand(const ast::Expr* operand, int parent_precedence, bool right_side) {
    if (operand != nullptr && NeedsParens(*operand, parent_precedence, right_side)) {
      Text("(");
      Whole(operand);
      Text(")");
    } else {
      Whole(operand);
    }
  }
  void Args(const ast::Expr& expr, size_t from) {
    for (size_t i = from; i < expr.args.size(); ++i) {
      if (i > from) Text(", ");
      Whole(expr.args[i].get());
    }
  }

  void Expand(const ast::Expr& expr) {
    using K = ast::ExprKind;
    const ast::Expr* first = expr.args.empty() ? nullptr : expr.args[0].get();
    const ast::Expr* second = expr.args.size() < 2 ? nullptr : expr.args[1].get();
    switch (expr.kind) {
      case K::kBool:
        Text(expr.bool_value ? "true" : "false");
        return;
      case K::kInt:
      case K::kDecimal:
      case K::kDuration:
        Text(NumberText(expr));
        return;
      case K::kString:
        Text(QuoteString(expr.text));
        return;
      case K::kSet:
        Text("[");
        Args(expr, 0);
        Text("]");
        return;
      case K::kName:
        Text(expr.text);
        return;
      case K::kMember:
        Operand(first, kPostfixLevel, false);
        Text(absl::StrCat(".", expr.text));
        return;
      case K::kCall:
        Text(absl::StrCat(expr.text, "("));
        Args(expr, 0);
        Text(")");
        return;
      case K::kMethodCall:
        Operand(first, kPostfixLevel, false);
        Text(absl::StrCat(".", expr.text, "("));
        Args(expr, 1);
        Text(")");
        return;
      case K::kNot:
        Text("not ");
        Operand(first, kNotLevel, false);
        return;
      case K::kNegate:
        // `-(5)` stays parenthesised: `-5` would read back as one literal.
        if (first != nullptr &&
            (first->kind == ast::ExprKind::kInt || first->kind == ast::ExprKind::kDecimal ||
             first->kind == ast::ExprKind::kDuration) &&
            !StartsWithMinus(*first)) {
          Text("-(");
          Operand(first, kOrLevel, false);
          Text(")");
          return;
        }
        // `- -a`: two minus signs in a row read badly.
        Text(first != nullptr && !NeedsParens(*first, kNegateLevel, false) &&
                     StartsWithMinus(*first)
                 ? "- "
                 : "-");
        Operand(first, kNegateLevel, false);
        return;
      case K::kBinary: {
        int precedence = BinaryPrecedence(expr.op);
        Operand(first, precedence, false);
        Text(absl::StrCat(" ", ast::BinaryOpText(expr.op), " "));
        Operand(second, precedence, true);
        return;
      }
      case K::kIn:
        Operand(first, kInLevel, false);
        Text(expr.negated ? " not in " : " in ");
        Operand(second, kInLevel, true);
        return;
      case K::kMatches:
        Operand(first, kMatchesLevel, false);
        Text(absl::StrCat(" matches ", QuoteString(expr.text)));
        return;
      case K::kHasRole:
        Operand(first, kHasRoleLevel, false);
        Text(absl::StrCat(" has role ", expr.role.ToString()));
        return;
      case K::kHasAttr:
        Operand(first, kHasAttrLevel, false);
        Text(absl::StrCat(" has ", expr.text));
        return;
      case K::kQuantifier:
        // The collection is followed by `:`, so it needs parentheses only
        // when it is itself a quantifier; the body extends to the end anyway.
        Text(absl::StrCat(expr.is_all ? "all " : "any ", expr.text, " in "));
        Operand(first, kQuantifierLevel, false);
        Text(": ");
        Whole(second);
        return;
    }
    Text("()");
  }

 private:
  std::vector<Piece>& out_;
};

}  // namespace

std::string QuoteString(std::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          out += absl::StrFormat("\\u{%X}", byte);
          break;
        }
        if (byte >= 0x80) {
          // Decode one UTF-8 sequence (strings in the AST are valid UTF-8).
          size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
          uint32_t code_point = length == 1 ? byte : byte & (0x7F >> length);
          for (size_t k = 1; k < length && i + k < value.size(); ++k) {
            code_point = (code_point << 6) | (static_cast<unsigned char>(value[i + k]) & 0x3F);
          }
          // Invisible and direction-changing characters stay visible as escapes.
          if (IsInvisibleCodePoint(code_point)) {
            out += absl::StrFormat("\\u{%X}", code_point);
          } else {
            out.append(value.substr(i, length));
          }
          i += length - 1;
          break;
        }
        out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

bool IsBareName(std::string_view text) {
  if (text.empty()) return false;
  auto is_start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!is_start(text[0])) return false;
  for (char c : text) {
    if (!is_start(c) && !(c >= '0' && c <= '9')) return false;
  }
  // Keywords the grammar's `name` rule does not admit.
  static constexpr std::string_view kReserved[] = {"and",     "false", "has", "if",  "in",
                                                   "matches", "not",   "or",  "true"};
  return std::find(std::begin(kReserved), std::end(kReserved), text) == std::end(kReserved);
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

int ExprPrecedence(const ast::Expr& expr) {
  switch (expr.kind) {
    case ast::ExprKind::kInt:
    case ast::ExprKind::kDecimal:
    case ast::ExprKind::kDuration:
      // The parser folds `-5` into the literal; it still parses as a negation.
      return NumberText(expr).starts_with('-') ? kNegateLevel : kPrimaryLevel;
    case ast::ExprKind::kBool:
    case ast::ExprKind::kString:
    case ast::ExprKind::kSet:
    case ast::ExprKind::kName:
    case ast::ExprKind::kCall:
      return kPrimaryLevel;
    case ast::ExprKind::kMember:
    case ast::ExprKind::kMethodCall:
      return kPostfixLevel;
    case ast::ExprKind::kNegate:
      return kNegateLevel;
    case ast::ExprKind::kBinary:
      return BinaryPrecedence(expr.op);
    case ast::ExprKind::kIn:
      return kInLevel;
    case ast::ExprKind::kMatches:
      return kMatchesLevel;
    case ast::ExprKind::kHasRole:
      return kHasRoleLevel;
    case ast::ExprKind::kHasAttr:
      return kHasAttrLevel;
    case ast::ExprKind::kNot:
      return kNotLevel;
    case ast::ExprKind::kQuantifier:
      return kQuantifierLevel;
  }
  return kPrimaryLevel;
}

std::string FormatOperand(const ast::Expr& operand, int parent_precedence, bool right_side) {
  std::string text = FormatExpr(operand);
  return NeedsParens(operand, parent_precedence, right_side) ? absl::StrCat("(", text, ")") : text;
}

// Iterative, with an explicit stack: a chain of thousands of `and`s is a
// left-deep tree as deep as it is long.
std::string FormatExpr(const ast::Expr& expr) {
  std::string out;
  std::vector<Piece> stack;
  std::vector<Piece> pieces;
  stack.push_back(Piece{&expr, {}});
  while (!stack.empty()) {
    Piece piece = std::move(stack.back());
    stack.pop_back();
    if (piece.expr == nullptr) {
      out += piece.text;
      continue;
    }
    pieces.clear();
    Expander(pieces).Expand(*piece.expr);
    for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) stack.push_back(std::move(*it));
  }
  return out;
}

BoolChain SplitBoolChain(const ast::Expr& expr) {
  BoolChain chain;
  if (expr.kind != ast::ExprKind::kBinary ||
      (expr.op != ast::BinaryOp::kAnd && expr.op != ast::BinaryOp::kOr) || expr.args.size() != 2) {
    return chain;
  }
  chain.op = expr.op;
  // Walk the left spine: `a and b and c` is ((a and b) and c).
  const ast::Expr* node = &expr;
  while (node->kind == ast::ExprKind::kBinary && node->op == expr.op && node->args.size() == 2) {
    chain.operands.push_back(node->args[1].get());
    node = node->args[0].get();
  }
  chain.operands.push_back(node);
  std::reverse(chain.operands.begin(), chain.operands.end());
  return chain;
}

std::string FormatType(const ast::TypeExpr& type) {
  std::string out;
  switch (type.kind) {
    case ast::TypeExpr::Kind::kNamed:
      out = type.name.text;
      break;
    case ast::TypeExpr::Kind::kSet:
      out = absl::StrCat("set<", type.element ? FormatType(*type.element) : "", ">");
      break;
    case ast::TypeExpr::Kind::kEnum: {
      out = "enum {";
      for (size_t i = 0; i < type.members.size(); ++i) {
        absl::StrAppend(&out, i == 0 ? " " : ", ", type.members[i].text);
      }
      out += " }";
      break;
    }
    case ast::TypeExpr::Kind::kRecord: {
      if (type.fields.empty()) {
        out = "{}";
        break;
      }
      out = "{";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        absl::StrAppend(&out, i == 0 ? " " : ", ", FormatField(type.fields[i]));
      }
      out += " }";
      break;
    }
  }
  if (type.optional) out += "?";
  return out;
}

std::string FormatField(const ast::FieldDecl& field) {
  return absl::StrCat(field.sensitive ? "sensitive " : "", field.name.text, ": ",
                      field.type ? FormatType(*field.type) : "");
}

std::string FormatJsonKey(const ast::Identifier& key) {
  return IsBareName(key.text) ? key.text : QuoteString(key.text);
}

std::string FormatJsonInline(const ast::JsonValue& value) {
  using Kind = ast::JsonValue::Kind;
  switch (value.kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return value.bool_value ? "true" : "false";
    case Kind::kInt:
      return value.text.empty() ? absl::StrCat(value.int_value) : value.text;
    case Kind::kDecimal:
      return value.text.empty() ? values::DecimalString(value.int_value) : value.text;
    case Kind::kString:
      return QuoteString(value.text);
    case Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < value.items.size(); ++i) {
        absl::StrAppend(&out, i == 0 ? "" : ", ", FormatJsonInline(value.items[i]));
      }
      return out + "]";
    }
    case Kind::kObject: {
      if (value.members.empty()) return "{}";
      std::string out = "{";
      for (size_t i = 0; i < value.members.size(); ++i) {
        absl::StrAppend(&out, i == 0 ? " " : ", ", FormatJsonKey(value.members[i].key), ": ",
                        FormatJsonInline(value.members[i].value));
      }
      return out + " }";
    }
  }
  return "null";
}

std::string JoinNames(const std::vector<ast::Identifier>& names) {
  std::string out;
  for (const ast::Identifier& name : names) {
    if (!out.empty()) out += ", ";
    out += name.text;
  }
  return out;
}

std::string EffectText(const ast::RuleDecl& rule) {
  switch (rule.effect) {
    case ast::EffectKind::kPermit:
      return "permit";
    case ast::EffectKind::kDeny:
      return "deny";
    case ast::EffectKind::kStepUp:
      return absl::StrCat("step_up ", rule.challenge.text);
  }
  return "deny";
}

std::string ActionsText(const ast::RuleDecl& rule) {
  if (rule.any_action) return "*";
  if (rule.action_set || rule.actions.size() != 1)
    return absl::StrCat("[", JoinNames(rule.actions), "]");
  return rule.actions.front().text;
}

std::string ExpectText(const ast::TestDecl& test) {
  std::string expect = "expect ";
  switch (test.expect) {
    case ast::Outcome::kPermit:
      expect += "permit";
      break;
    case ast::Outcome::kDeny:
      expect += "deny";
      break;
    case ast::Outcome::kNotApplicable:
      expect += "not_applicable";
      break;
    case ast::Outcome::kStepUp:
      absl::StrAppend(&expect, "step_up ", test.challenge.text);
      break;
  }
  if (!test.by_rules.empty()) absl::StrAppend(&expect, " by ", JoinNames(test.by_rules));
  return expect;
}

std::vector<std::pair<Span, std::string>> JitClauses(const ast::JitDecl& jit) {
  // The AST keeps clauses by kind; their spans give back the source order.
  std::vector<std::pair<Span, std::string>> clauses;
  for (const auto& c : jit.grants)
    clauses.emplace_back(c.span, absl::StrCat("grants role ", JoinNames(c.roles)));
  for (const auto& c : jit.max) clauses.emplace_back(c.span, absl::StrCat("max ", c.text));
  for (const auto& c : jit.approvals) {
    clauses.emplace_back(c.span, absl::StrCat("approvals ", c.count, " of role ", c.role.text));
  }
  for (const auto& c : jit.requires_)
    clauses.emplace_back(c.span, absl::StrCat("requires ", JoinNames(c.items)));
  std::stable_sort(clauses.begin(), clauses.end(),
                   [](const auto& a, const auto& b) { return a.first.begin < b.first.begin; });
  return clauses;
}

}  // namespace warden::internal
