// Printing of the pieces of a Warden file that fit on one line: string
// literals, expressions, types and test-request JSON. Used by the formatter
// (formatter.cc), which decides where lines break, and by the AST dump.
//
// The parser drops parentheses, so FormatExpr re-derives them from the
// precedence of the grammar's `expr` alternatives: an operand is wrapped when
// it binds looser than its parent, or equally loose on the right of a
// left-associative binary operator. A quantifier is wrapped whenever it is
// an operand at all, because its body extends as far right as it can.
#ifndef WARDEN_COMPILER_INTERNAL_FORMAT_EXPR_H_
#define WARDEN_COMPILER_INTERNAL_FORMAT_EXPR_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast.h"

namespace warden::internal {

// `"..."` with \" \\ \n \r \t escaped and other control characters as \u{HEX}.
std::string QuoteString(std::string_view value);

// True when `text` can be written as a `name` (an identifier or a soft
// keyword) rather than a quoted string, e.g. as a test-request key.
bool IsBareName(std::string_view text);

// Columns `text` takes: its number of code points.
size_t DisplayWidth(std::string_view text);

// Binding strength of the expression's outermost operator; larger binds
// tighter. The values follow the order of the grammar's `expr` alternatives.
int ExprPrecedence(const ast::Expr& expr);

// The expression on one line with the fewest parentheses that keep its shape.
std::string FormatExpr(const ast::Expr& expr);

// `operand` as the left (right_side = false) or right operand of an operator
// of precedence `parent_precedence`, parenthesized when that is needed.
std::string FormatOperand(const ast::Expr& operand, int parent_precedence, bool right_side);

// The operands of a top-level chain of one boolean operator, for wrapping:
// `a and b and c` -> {a, b, c}. Empty unless `expr` is an `and` or an `or`.
struct BoolChain {
  ast::BinaryOp op = ast::BinaryOp::kAnd;
  std::vector<const ast::Expr*> operands;  // operands[0] is the leftmost
};
BoolChain SplitBoolChain(const ast::Expr& expr);

// A type on one line: `set<string>?`, `enum { a, b }`, `{ a: int, sensitive b: string }`.
std::string FormatType(const ast::TypeExpr& type);
// `sensitive name: type`.
std::string FormatField(const ast::FieldDecl& field);

// Test-request JSON on one line: `{ a: 1, b: ["x"] }`.
std::string FormatJsonInline(const ast::JsonValue& value);
// An object key: bare when it is a name, quoted otherwise.
std::string FormatJsonKey(const ast::Identifier& key);

// Pieces of declarations that the formatter and the AST dump both print.
std::string JoinNames(const std::vector<ast::Identifier>& names);
// "permit", "deny", "step_up mfa"
std::string EffectText(const ast::RuleDecl& rule);
// "*", "read", "[read, write]"
std::string ActionsText(const ast::RuleDecl& rule);
// "expect deny by a, b"
std::string ExpectText(const ast::TestDecl& test);
// The clauses of a jit profile as written, in source order.
std::vector<std::pair<Span, std::string>> JitClauses(const ast::JitDecl& jit);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_FORMAT_EXPR_H_
