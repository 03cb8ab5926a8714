#include "compiler/internal/format_expr.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "compiler/internal/literals.h"

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
  if (!expr.literal_text.empty()) return expr.literal_text;
  switch (expr.kind) {
    case ast::ExprKind::kDecimal:
      return FormatDecimal(expr.int_value);
    case ast::ExprKind::kDuration:
      return FormatDuration(expr.int_value);
    default:
      return absl::StrCat(expr.int_value);
  }
}

const ast::Expr* Arg(const ast::Expr& expr, size_t i) {
  return i < expr.args.size() ? expr.args[i].get() : nullptr;
}

std::string Operand(const ast::Expr* operand, int parent_precedence, bool right_side) {
  if (operand == nullptr) return "()";
  return FormatOperand(*operand, parent_precedence, right_side);
}

std::string Full(const ast::Expr* expr) { return expr == nullptr ? "()" : FormatExpr(*expr); }

std::string JoinArgs(const ast::Expr& expr, size_t from) {
  std::string out;
  for (size_t i = from; i < expr.args.size(); ++i) {
    if (i > from) out += ", ";
    out += Full(expr.args[i].get());
  }
  return out;
}

}  // namespace

std::string QuoteString(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
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
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

bool IsBareName(std::string_view text) {
  if (text.empty()) return false;
  auto is_start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!is_start(text[0])) return false;
  for (char c : text) {
    if (!is_start(c) && !(c >= '0' && c <= '9')) return false;
  }
  // Keywords the grammar's `name` rule does not admit.
  static constexpr std::string_view kReserved[] = {"and", "false", "has", "if", "in",
                                                   "matches", "not", "or", "true"};
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
  int precedence = ExprPrecedence(operand);
  bool parens = operand.kind == ast::ExprKind::kQuantifier || precedence < parent_precedence ||
                (right_side && precedence == parent_precedence);
  std::string text = FormatExpr(operand);
  return parens ? absl::StrCat("(", text, ")") : text;
}

std::string FormatExpr(const ast::Expr& expr) {
  using K = ast::ExprKind;
  switch (expr.kind) {
    case K::kBool:
      return expr.bool_value ? "true" : "false";
    case K::kInt:
    case K::kDecimal:
    case K::kDuration:
      return NumberText(expr);
    case K::kString:
      return QuoteString(expr.text);
    case K::kSet:
      return absl::StrCat("[", JoinArgs(expr, 0), "]");
    case K::kName:
      return expr.text;
    case K::kMember:
      return absl::StrCat(Operand(Arg(expr, 0), kPostfixLevel, false), ".", expr.text);
    case K::kCall:
      return absl::StrCat(expr.text, "(", JoinArgs(expr, 0), ")");
    case K::kMethodCall:
      return absl::StrCat(Operand(Arg(expr, 0), kPostfixLevel, false), ".", expr.text, "(",
                          JoinArgs(expr, 1), ")");
    case K::kNot:
      return absl::StrCat("not ", Operand(Arg(expr, 0), kNotLevel, false));
    case K::kNegate: {
      std::string operand = Operand(Arg(expr, 0), kNegateLevel, false);
      return absl::StrCat(operand.starts_with('-') ? "- " : "-", operand);
    }
    case K::kBinary: {
      int precedence = BinaryPrecedence(expr.op);
      return absl::StrCat(Operand(Arg(expr, 0), precedence, false), " ",
                          ast::BinaryOpText(expr.op), " ", Operand(Arg(expr, 1), precedence, true));
    }
    case K::kIn:
      return absl::StrCat(Operand(Arg(expr, 0), kInLevel, false),
                          expr.negated ? " not in " : " in ", Operand(Arg(expr, 1), kInLevel, true));
    case K::kMatches:
      return absl::StrCat(Operand(Arg(expr, 0), kMatchesLevel, false), " matches ",
                          QuoteString(expr.text));
    case K::kHasRole:
      return absl::StrCat(Operand(Arg(expr, 0), kHasRoleLevel, false), " has role ",
                          expr.role.ToString());
    case K::kHasAttr:
      return absl::StrCat(Operand(Arg(expr, 0), kHasAttrLevel, false), " has ", expr.text);
    case K::kQuantifier: {
      // The collection is followed by `:`, so it needs parentheses only when
      // it is itself a quantifier; the body extends to the end anyway.
      const ast::Expr* collection = Arg(expr, 0);
      std::string in = Operand(collection, kQuantifierLevel, false);
      return absl::StrCat(expr.is_all ? "all " : "any ", expr.text, " in ", in, ": ",
                          Full(Arg(expr, 1)));
    }
  }
  return "()";
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
      return value.text.empty() ? FormatDecimal(value.int_value) : value.text;
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

}  // namespace warden::internal
