// The checked program: what the checker (checker.h) makes of the AST.
//
// Everything here is resolved and typed. Attribute paths are numbered
// (AttributeId) so a later stage can map them to slots of a flat request
// frame; roles are numbered with their inheritance closure; enum values are
// indices; constants and `def` helpers are already inlined, so an expression
// tree reads only request attributes, risk scores, limits and data. The
// reference evaluator and the bytecode compiler both start from here.
#ifndef WARDEN_COMPILER_CHECKED_H_
#define WARDEN_COMPILER_CHECKED_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/source.h"
#include "runtime/bytecode/combining.h"
#include "runtime/bytecode/opcodes.h"
#include "runtime/values/ip.h"

namespace warden {

// ---------------------------------------------------------------- types

enum class TypeKind {
  kError,  // the type of an expression that already produced a diagnostic
  kBool,
  kInt,
  kDecimal,
  kString,
  kDuration,
  kTimestamp,
  kIp,
  kEnum,
  kSet,
  kRecord,
};

struct EnumType;
struct RecordType;

struct Type {
  TypeKind kind = TypeKind::kError;
  const Type* element = nullptr;          // kSet; null for the empty set literal
  const EnumType* enumeration = nullptr;  // kEnum
  const RecordType* record = nullptr;     // kRecord
};

struct EnumType {
  std::string name;  // "resource.document.sensitivity", "action", "weekday"
  std::vector<std::string> members;
  int Find(const std::string& member) const;  // -1 when absent
};

using AttributeId = int32_t;

struct Field {
  std::string name;
  const Type* type = nullptr;
  bool optional = false;
  bool sensitive = false;
  bool builtin = false;
  Span span;
  AttributeId attribute = -1;  // the attribute this field is, once numbered
};

struct RecordType {
  std::string name;  // the path: "subject", "subject.auth", "resource.payment"
  std::vector<Field> fields;
  const Field* Find(const std::string& name) const;
};

// Owns every type; primitive and set types are shared, so pointer equality
// is type equality for them. Enums and records are nominal.
class TypeTable {
 public:
  TypeTable();
  const Type* Error() const { return &primitives_[0]; }
  const Type* Primitive(TypeKind kind) const;
  const Type* SetOf(const Type* element);
  const Type* EmptySet() { return SetOf(nullptr); }
  EnumType* NewEnum(std::string name);
  const Type* EnumOf(const EnumType* enumeration);
  RecordType* NewRecord(std::string name);
  const Type* RecordOf(const RecordType* record);

 private:
  std::deque<Type> primitives_;
  std::deque<Type> derived_;
  std::map<const Type*, const Type*> sets_;
  std::deque<EnumType> enums_;
  std::deque<RecordType> records_;
};

std::string TypeName(const Type* type);
bool IsOrdered(const Type* type);  // supports < <= > >=

// ---------------------------------------------------------------- attributes

// One readable place in a request: `subject.auth.mfa`, `resource.payment.amount`.
struct Attribute {
  AttributeId id = -1;
  std::string path;  // "subject.auth.mfa"; resource paths name the type
  const Type* type = nullptr;
  bool optional = false;   // this step is `T?`
  bool sensitive = false;  // masked in audit logs
  bool builtin = false;
  AttributeId parent = -1;  // the enclosing record attribute, or -1 at a root
  int resource_type = -1;   // for resource attributes: index into resource_types
};

// ---------------------------------------------------------------- values

// The tree's one IP struct (runtime/values/ip.h).
using IpNetwork = values::IpNet;

// A compile-time constant.
struct Value {
  TypeKind kind = TypeKind::kError;
  bool bool_value = false;
  int64_t int_value =
      0;  // int; decimal (scaled); duration (ms); timestamp (ms since epoch); enum index
  std::string string_value;
  IpNetwork ip;
  std::vector<Value> elements;  // sets, sorted and unique
  const Type* type = nullptr;
};

// ---------------------------------------------------------------- expressions

// The builtins are listed once, in WARDEN_BUILTINS (runtime/bytecode/opcodes.h).
using bc::Builtin;
using bc::BuiltinName;

enum class CExprKind {
  kConstant,   // value
  kAttribute,  // attribute; reading an absent optional attribute is an error
  kAction,     // the requested action (enum "action")
  kRisk,       // index: risk score (int)
  kLimit,      // index; limit_field 0 = exceeded (bool), 1 = remaining (int)
  kData,       // index: data value
  kVariable,   // index: quantifier variable, innermost = highest index
  kMember,     // args[0] is a record-typed variable; field name in text
  kHas,        // attribute is present (for an optional attribute)
  kHasRole,    // role: subject holds the role or one that extends it
  kNot,
  kNegate,
  kBinary,   // op
  kIn,       // args[0] in args[1] (element in set, ip in network or set of networks)
  kMatches,  // regex (RE2 pattern validated), args[0]
  kCall,     // builtin(args...)
  kSet,      // set of args (not all constant)
  kAny,      // any var in args[0]: args[1]; index is the variable
  kAll,
};

struct CExpr {
  CExprKind kind = CExprKind::kConstant;
  const Type* type = nullptr;
  Span span;
  ast::BinaryOp op = ast::BinaryOp::kAnd;
  Builtin builtin = Builtin::kStartsWith;
  Value value;
  AttributeId attribute = -1;
  int index = -1;
  int limit_field = 0;
  int role = -1;
  std::string text;  // kMatches: the pattern; kMember: field name; kCall: time zone
  std::vector<std::unique_ptr<CExpr>> args;
};

// ---------------------------------------------------------------- declarations

// One enum for every layer (runtime/bytecode/combining.h).
using bc::Algorithm;
using bc::AlgorithmName;

struct Role {
  std::string name;
  std::vector<int> extends;
  std::vector<int> closure;  // itself and every role it extends, transitively; sorted
  Span span;
};

struct Separation {
  std::vector<int> roles;
  Span span;
};

struct JitProfile {
  std::string name;
  std::vector<int> grants;
  std::optional<int64_t> max_millis;
  int64_t approvals = 0;
  int approver_role = -1;
  std::vector<std::string> requires_;
  Span span;
};

struct RiskFactor {
  int64_t points = 0;
  std::unique_ptr<CExpr> condition;
  Span span;
};

struct RiskScore {
  std::string name;
  std::vector<RiskFactor> factors;
  Span span;
};

struct RateLimit {
  std::string name;
  int64_t count = 0;
  int64_t window_millis = 0;
  std::vector<std::unique_ptr<CExpr>> keys;
  Span span;
};

struct DataSlot {
  std::string name;
  const Type* type = nullptr;
  Span span;
};

enum class Effect { kPermit, kDeny, kStepUp };

struct RuleExtra {
  bool is_obligation = true;
  std::string name;
  std::vector<std::pair<std::string, std::unique_ptr<CExpr>>> args;
};

struct Rule {
  std::string name;
  Effect effect = Effect::kPermit;
  std::string challenge;  // kStepUp
  bool any_action = false;
  std::vector<int> actions;          // indices into Program::actions
  std::unique_ptr<CExpr> condition;  // null: applies whenever the target matches
  std::optional<std::string> reason;
  std::vector<RuleExtra> extras;
  Span span;
  const ast::RuleDecl* source = nullptr;
};

struct Policy {
  std::string name;  // qualified: "acme.payments.payments"
  std::string package;
  int resource_type = -1;  // -1: every resource type
  Algorithm algorithm = Algorithm::kDenyOverrides;
  std::vector<Rule> rules;
  Span span;
};

struct PolicySet {
  std::string name;
  Algorithm algorithm = Algorithm::kDenyOverrides;
  struct Member {
    bool is_set = false;
    int index = -1;  // into policies or policy_sets
  };
  std::vector<Member> members;
  Span span;
};

struct Action {
  std::string name;
  bool sensitive = false;
  Span span;
};

struct ResourceType {
  std::string name;
  const RecordType* record = nullptr;
  Span span;
};

struct TestCase {
  std::string name;
  std::string package;
  const ast::TestDecl* source = nullptr;
  ast::Outcome expect = ast::Outcome::kPermit;
  std::string challenge;
  // (policy index, rule index) of each rule named after `by`.
  std::vector<std::pair<int, int>> by_rules;
  Span span;
};

struct CheckedProgram {
  TypeTable types;
  std::vector<Attribute> attributes;
  const RecordType* subject = nullptr;
  const RecordType* context = nullptr;
  const RecordType* any_resource = nullptr;  // the fields every resource has
  std::vector<ResourceType> resource_types;
  std::vector<Action> actions;
  const EnumType* action_enum = nullptr;
  const EnumType* weekday_enum = nullptr;
  std::vector<std::string> challenges;  // built-in ones first
  std::vector<Role> roles;
  std::vector<Separation> separations;
  std::vector<JitProfile> jit_profiles;
  std::vector<RiskScore> risks;
  std::vector<RateLimit> limits;
  std::vector<DataSlot> data;
  std::vector<Policy> policies;
  std::vector<PolicySet> policy_sets;
  // What the engine combines (deny_overrides): policies and sets no `use`
  // or nesting refers to.
  std::vector<PolicySet::Member> roots;
  std::vector<TestCase> tests;

  int FindRole(const std::string& name) const;
  int FindAction(const std::string& name) const;
  int FindResourceType(const std::string& name) const;
};

}  // namespace warden

#endif  // WARDEN_COMPILER_CHECKED_H_
