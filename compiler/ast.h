// The syntax tree of Warden policy files.
//
// The parser (parser.h) builds these nodes from ANTLR's parse tree; nothing
// after the parser sees ANTLR. The AST is purely syntactic: it records what
// the author wrote, with a Span on every node, so the formatter can print it
// back and diagnostics can point at it. Name resolution and type checking
// (checker.h) read it and produce the resolved, typed model in checked.h.
#ifndef WARDEN_COMPILER_AST_H_
#define WARDEN_COMPILER_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/source.h"
#include "runtime/values/decimal.h"

namespace warden::ast {

struct Identifier {
  std::string text;
  Span span;
};

struct QualifiedName {
  std::vector<Identifier> parts;
  Span span;
  std::string ToString() const;  // "a.b.c"
};

// ---------------------------------------------------------------- types as written

struct TypeExpr;

struct FieldDecl {
  Identifier name;
  bool sensitive = false;
  std::unique_ptr<TypeExpr> type;
  Span span;
};

struct TypeExpr {
  enum class Kind { kNamed, kSet, kEnum, kRecord };
  Kind kind = Kind::kNamed;
  Span span;
  bool optional = false;              // written `T?`
  Identifier name;                    // kNamed: string, int, …
  std::unique_ptr<TypeExpr> element;  // kSet
  std::vector<Identifier> members;    // kEnum, in declaration order
  std::vector<FieldDecl> fields;      // kRecord
};

// ---------------------------------------------------------------- expressions

enum class ExprKind {
  kBool,        // bool_value
  kInt,         // int_value
  kDecimal,     // int_value scaled by kDecimalScale
  kString,      // text (escapes resolved)
  kDuration,    // int_value in milliseconds
  kSet,         // [args…]
  kName,        // text
  kMember,      // args[0].text
  kCall,        // text(args…)
  kMethodCall,  // args[0].text(args[1…])
  kNot,         // not args[0]
  kNegate,      // -args[0]
  kBinary,      // args[0] op args[1]
  kIn,          // args[0] in args[1]; negated for `not in`
  kMatches,     // args[0] matches "text"
  kHasRole,     // args[0] has role role
  kHasAttr,     // args[0] has text
  kQuantifier,  // any|all text in args[0]: args[1]
};

enum class BinaryOp { kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe, kAdd, kSub, kMul, kDiv, kMod };
const char* BinaryOpText(BinaryOp op);
// Whether `order` (<0, 0 or >0, from comparing the left operand with the
// right) satisfies the comparison `op`; nullopt when `op` compares nothing.
std::optional<bool> ComparisonHolds(BinaryOp op, int order);

// Four fractional digits (runtime/values/decimal.h).
inline constexpr int64_t kDecimalScale = values::kDecimalScale;
inline constexpr int kDecimalDigits = values::kDecimalDigits;

struct Expr {
  ExprKind kind = ExprKind::kBool;
  Span span;
  BinaryOp op = BinaryOp::kAnd;
  bool negated = false;  // kIn: `not in`
  bool is_all = false;   // kQuantifier: `all` (else `any`)
  bool bool_value = false;
  int64_t int_value = 0;
  std::string text;          // see ExprKind
  Span text_span;            // where `text` was written (member, method, function, pattern)
  std::string literal_text;  // kDecimal, kDuration, kInt: the digits as written
  QualifiedName role;        // kHasRole
  std::vector<std::unique_ptr<Expr>> args;
};

// ---------------------------------------------------------------- declarations

struct SchemaMember {
  enum class Kind { kSubject, kResource, kContext, kActions };
  Kind kind = Kind::kSubject;
  Span span;
  Identifier resource_type;       // kResource
  std::vector<FieldDecl> fields;  // kSubject, kResource, kContext
  struct Action {
    Identifier name;
    bool sensitive = false;
  };
  std::vector<Action> actions;  // kActions
};

struct SchemaDecl {
  std::vector<SchemaMember> members;
};

struct RoleDecl {
  Identifier name;
  std::vector<Identifier> extends;
};

struct SeparateDecl {
  std::vector<Identifier> roles;
};

struct JitDecl {
  Identifier name;
  struct Grants {
    std::vector<Identifier> roles;
    Span span;
  };
  struct Max {
    int64_t millis = 0;
    std::string text;
    Span span;
  };
  struct Approvals {
    int64_t count = 0;
    Identifier role;
    Span span;
  };
  struct Requires {
    std::vector<Identifier> items;
    Span span;
  };
  // Clauses in source order; a clause kind may repeat syntactically and the
  // checker reports it.
  std::vector<Grants> grants;
  std::vector<Max> max;
  std::vector<Approvals> approvals;
  std::vector<Requires> requires_;
};

struct RiskFactor {
  int64_t points = 0;  // signed
  std::unique_ptr<Expr> condition;
  Span span;
};

struct RiskDecl {
  Identifier name;
  std::vector<RiskFactor> factors;
};

struct LimitDecl {
  Identifier name;
  int64_t count = 0;
  int64_t window_millis = 0;
  std::string window_text;
  std::vector<std::unique_ptr<Expr>> keys;
};

struct DataDecl {
  Identifier name;
  std::unique_ptr<TypeExpr> type;
};

struct ConstDecl {
  Identifier name;
  std::unique_ptr<TypeExpr> type;  // may be null
  std::unique_ptr<Expr> value;
};

struct Param {
  Identifier name;
  std::unique_ptr<TypeExpr> type;
};

struct DefDecl {
  Identifier name;
  bool has_parens = false;
  std::vector<Param> params;
  std::unique_ptr<TypeExpr> result_type;  // may be null
  std::unique_ptr<Expr> body;
};

struct ChallengeDecl {
  Identifier name;
};

enum class EffectKind { kPermit, kDeny, kStepUp };

struct RuleExtra {
  bool is_obligation = true;  // else advice
  Identifier name;
  struct Arg {
    Identifier key;
    std::unique_ptr<Expr> value;
  };
  std::vector<Arg> args;
  bool has_braces = false;
  Span span;
};

struct RuleDecl {
  Identifier name;
  EffectKind effect = EffectKind::kPermit;
  Identifier challenge;  // kStepUp
  Span effect_span;
  bool any_action = false;  // `*`
  bool action_set = false;  // written `[a, b]`
  std::vector<Identifier> actions;
  Span actions_span;
  std::unique_ptr<Expr> condition;  // may be null: always applies
  std::optional<std::string> reason;
  Span reason_span;
  std::vector<RuleExtra> extras;
  Span span;
};

struct PolicyDecl {
  Identifier name;
  bool any_resource = false;  // `on *`
  Identifier resource_type;
  std::optional<Identifier> algorithm;
  std::vector<RuleDecl> rules;
  Span span;
};

struct PolicySetDecl;
struct PolicySetMember {
  std::unique_ptr<PolicyDecl> policy;  // nested policy
  std::unique_ptr<PolicySetDecl> set;  // nested set
  std::optional<QualifiedName> use;    // `use name`
  Span span;
};

struct PolicySetDecl {
  Identifier name;
  std::optional<Identifier> algorithm;
  std::vector<PolicySetMember> members;
  Span span;
};

// JSON-like values in test blocks.
struct JsonValue {
  enum class Kind { kNull, kBool, kInt, kDecimal, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  Span span;
  bool bool_value = false;
  int64_t int_value = 0;         // kInt; kDecimal scaled by kDecimalScale
  std::string text;              // kString value; kInt/kDecimal as written
  std::vector<JsonValue> items;  // kArray
  struct Member;
  std::vector<Member> members;  // kObject, in source order
};
struct JsonValue::Member {
  Identifier key;
  JsonValue value;
};

enum class Outcome { kPermit, kDeny, kNotApplicable, kStepUp };

struct TestDecl {
  std::string name;
  Span name_span;
  JsonValue given;
  std::optional<JsonValue> data;
  Outcome expect = Outcome::kPermit;
  Identifier challenge;  // kStepUp
  std::vector<Identifier> by_rules;
  Span expect_span;
  Span span;
};

struct ImportDecl {
  QualifiedName package;
  std::optional<Identifier> alias;
  Span span;
  // The name the importing file uses: the alias or the last segment.
  const std::string& local_name() const { return alias ? alias->text : package.parts.back().text; }
};

// One top-level declaration, in source order.
struct Declaration {
  enum class Kind {
    kSchema,
    kRole,
    kSeparate,
    kJit,
    kRisk,
    kLimit,
    kData,
    kConst,
    kDef,
    kChallenge,
    kPolicy,
    kPolicySet,
    kTest,
  };
  Kind kind;
  Span span;
  std::unique_ptr<SchemaDecl> schema;
  std::unique_ptr<RoleDecl> role;
  std::unique_ptr<SeparateDecl> separate;
  std::unique_ptr<JitDecl> jit;
  std::unique_ptr<RiskDecl> risk;
  std::unique_ptr<LimitDecl> limit;
  std::unique_ptr<DataDecl> data;
  std::unique_ptr<ConstDecl> constant;
  std::unique_ptr<DefDecl> def;
  std::unique_ptr<ChallengeDecl> challenge;
  std::unique_ptr<PolicyDecl> policy;
  std::unique_ptr<PolicySetDecl> policy_set;
  std::unique_ptr<TestDecl> test;
};

// A comment as written, kept for the formatter.
struct Comment {
  std::string text;  // including the // or /* */ markers
  Span span;
  bool own_line = false;  // nothing but white space precedes it on its line
};

struct File {
  FileId file = kNoFile;
  QualifiedName package;
  std::vector<ImportDecl> imports;
  std::vector<Declaration> declarations;
  std::vector<Comment> comments;
};

}  // namespace warden::ast

#endif  // WARDEN_COMPILER_AST_H_
