#include "compiler/ast.h"

namespace warden::ast {

std::string QualifiedName::ToString() const {
  std::string out;
  for (const Identifier& part : parts) {
    if (!out.empty()) out.push_back('.');
    out += part.text;
  }
  return out;
}

const char* BinaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kEq:
      return "==";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
  }
  return "?";
}

std::optional<bool> ComparisonHolds(BinaryOp op, int order) {
  switch (op) {
    case BinaryOp::kEq:
      return order == 0;
    case BinaryOp::kNe:
      return order != 0;
    case BinaryOp::kLt:
      return order < 0;
    case BinaryOp::kLe:
      return order <= 0;
    case BinaryOp::kGt:
      return order > 0;
    case BinaryOp::kGe:
      return order >= 0;
    default:
      return std::nullopt;
  }
}

}  // namespace warden::ast
