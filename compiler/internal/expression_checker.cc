// Type checking of expressions: ast::Expr -> CExpr.
//
// Each function checks one kind of node, reports at most one diagnostic for
// its own mistake, and returns an expression of the error type so that one
// mistake does not cascade into many. Consts and defs are inlined here: a
// checked expression never refers to them.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "compiler/checker.h"
#include "compiler/internal/checker_state.h"
#include "re2/re2.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"

namespace warden::internal {
namespace {

using ExprPtr = std::unique_ptr<CExpr>;

ExprPtr MakeExpr(CExprKind kind, const Type* type, Span span) {
  auto expr = std::make_unique<CExpr>();
  expr->kind = kind;
  expr->type = type;
  expr->span = span;
  return expr;
}

bool IsError(const CExpr& expr) {
  return expr.type == nullptr || expr.type->kind == TypeKind::kError;
}

bool IsConstant(const CExpr& expr) { return expr.kind == CExprKind::kConstant; }

class ExprChecker {
 public:
  ExprChecker(CheckerState& state, Scope& scope) : state_(state), scope_(scope) {}

  ExprPtr Check(const ast::Expr& expr, const Guards& guards, const Type* hint) {
    switch (expr.kind) {
      case ast::ExprKind::kBool:
        return Constant(expr.span, TypeKind::kBool,
                        [&](Value& v) { v.bool_value = expr.bool_value; });
      case ast::ExprKind::kInt:
        if (hint != nullptr && hint->kind == TypeKind::kDecimal) {  // int widens to decimal
          return Constant(expr.span, TypeKind::kDecimal,
                          [&](Value& v) { v.int_value = expr.int_value * ast::kDecimalScale; });
        }
        return Constant(expr.span, TypeKind::kInt, [&](Value& v) { v.int_value = expr.int_value; });
      case ast::ExprKind::kDecimal:
        return Constant(expr.span, TypeKind::kDecimal,
                        [&](Value& v) { v.int_value = expr.int_value; });
      case ast::ExprKind::kDuration:
        return Constant(expr.span, TypeKind::kDuration,
                        [&](Value& v) { v.int_value = expr.int_value; });
      case ast::ExprKind::kString:
        if (hint != nullptr && hint->kind == TypeKind::kEnum) return EnumFromString(expr, hint);
        return Constant(expr.span, TypeKind::kString,
                        [&](Value& v) { v.string_value = expr.text; });
      case ast::ExprKind::kSet:
        return SetLiteral(expr, guards, hint);
      case ast::ExprKind::kName:
        return Name(expr, hint);
      case ast::ExprKind::kMember:
        return Member(expr, guards);
      case ast::ExprKind::kCall:
        return Call(expr, guards);
      case ast::ExprKind::kMethodCall:
        return MethodCall(expr, guards);
      case ast::ExprKind::kNot: {
        ExprPtr operand = Check(*expr.args[0], guards, nullptr);
        if (!Expect(*operand, TypeKind::kBool, "`not`")) return ErrorExpr(expr.span);
        if (IsConstant(*operand)) {
          operand->value.bool_value = !operand->value.bool_value;
          operand->span = expr.span;
          return operand;
        }
        auto out = MakeExpr(CExprKind::kNot, state_.Prim(TypeKind::kBool), expr.span);
        out->args.push_back(std::move(operand));
        return out;
      }
      case ast::ExprKind::kNegate: {
        ExprPtr operand = Check(*expr.args[0], guards, hint);
        if (IsError(*operand)) return operand;
        TypeKind kind = operand->type->kind;
        if (kind != TypeKind::kInt && kind != TypeKind::kDecimal && kind != TypeKind::kDuration) {
          state_.Error(
              DiagCode::kInvalidOperand, expr.span,
              absl::StrCat("cannot negate a value of type `", TypeName(operand->type), "`"));
          return ErrorExpr(expr.span);
        }
        auto out = MakeExpr(CExprKind::kNegate, operand->type, expr.span);
        out->args.push_back(std::move(operand));
        return out;
      }
      case ast::ExprKind::kBinary:
        return Binary(expr, guards, hint);
      case ast::ExprKind::kIn:
        return In(expr, guards);
      case ast::ExprKind::kMatches:
        return Matches(expr, guards);
      case ast::ExprKind::kHasRole:
        return HasRole(expr, guards);
      case ast::ExprKind::kHasAttr:
        return HasAttr(expr, guards);
      case ast::ExprKind::kQuantifier:
        return Quantifier(expr, guards);
    }
    return ErrorExpr(expr.span);
  }

 private:
  // ---------------------------------------------------------------- helpers

  template <typename Fill>
  ExprPtr Constant(Span span, TypeKind kind, Fill fill) {
    auto out = MakeExpr(CExprKind::kConstant, state_.Prim(kind), span);
    out->value.kind = kind;
    out->value.type = out->type;
    fill(out->value);
    return out;
  }

  ExprPtr ErrorExpr(Span span) {
    return MakeExpr(CExprKind::kConstant, state_.program.types.Error(), span);
  }

  bool Expect(const CExpr& expr, TypeKind kind, const std::string& where) {
    if (IsError(expr)) return false;
    if (expr.type->kind == kind) return true;
    state_.Error(DiagCode::kTypeMismatch, expr.span,
                 absl::StrCat(where, " needs a `", TypeName(state_.Prim(kind)), "`, found `",
                              TypeName(expr.type), "`"));
    return false;
  }

  std::vector<std::string> NamesInScope() const {
    std::vector<std::string> names = {"subject", "resource", "context", "action",
                                      "risk",    "limits",   "data"};
    for (const auto& variable : scope_.variables) names.push_back(variable.name);
    for (const auto& binding : scope_.bindings) names.push_back(binding.first);
    if (scope_.package != nullptr) {
      for (const auto& [name, decl] : scope_.package->consts) names.push_back(name);
      for (const auto& [name, decl] : scope_.package->defs) names.push_back(name);
    }
    return names;
  }

  const RecordType* ResourceRecord() const {
    if (scope_.resource_type >= 0)
      return state_.program.resource_types[scope_.resource_type].record;
    return state_.program.any_resource;
  }

  ExprPtr EnumConstant(const Type* enum_type, int index, Span span) {
    auto out = MakeExpr(CExprKind::kConstant, enum_type, span);
    out->value.kind = TypeKind::kEnum;
    out->value.type = enum_type;
    out->value.int_value = index;
    out->value.string_value = enum_type->enumeration->members[index];
    return out;
  }

  ExprPtr EnumFromString(const ast::Expr& expr, const Type* enum_type) {
    int index = enum_type->enumeration->Find(expr.text);
    if (index < 0) {
      state_.Error(
          DiagCode::kImpossibleComparison, expr.span,
          absl::StrCat("`", expr.text, "` is not a value of `", TypeName(enum_type), "`"),
          absl::StrCat("its values are ", absl::StrJoin(enum_type->enumeration->members, ", ")));
      return ErrorExpr(expr.span);
    }
    return EnumConstant(enum_type, index, expr.span);
  }

  // ---------------------------------------------------------------- names and paths

  ExprPtr Name(const ast::Expr& expr, const Type* hint) {
    const std::string& name = expr.text;
    for (auto it = scope_.variables.rbegin(); it != scope_.variables.rend(); ++it) {
      if (it->name == name) {
        auto out = MakeExpr(CExprKind::kVariable, it->type, expr.span);
        out->index = it->index;
        return out;
      }
    }
    for (auto it = scope_.bindings.rbegin(); it != scope_.bindings.rend(); ++it) {
      if (it->first == name) {
        auto out = CloneExpr(*it->second);
        return out;
      }
    }
    if (hint != nullptr && hint->kind == TypeKind::kEnum) {
      int index = hint->enumeration->Find(name);
      if (index >= 0) return EnumConstant(hint, index, expr.span);
    }
    if (name == "subject" || name == "context" || name == "resource") {
      const RecordType* record = name == "subject"   ? state_.program.subject
                                 : name == "context" ? state_.program.context
                                                     : ResourceRecord();
      auto out = MakeExpr(CExprKind::kAttribute, state_.program.types.RecordOf(record), expr.span);
      out->attribute = -1;  // a root
      out->text = name;
      return out;
    }
    if (name == "action") {
      return MakeExpr(CExprKind::kAction, state_.program.types.EnumOf(state_.program.action_enum),
                      expr.span);
    }
    if (name == "risk" || name == "limits" || name == "data") {
      state_.Error(DiagCode::kUnknownName, expr.span,
                   absl::StrCat("`", name, "` must be followed by `.NAME`"));
      return ErrorExpr(expr.span);
    }
    if (scope_.package != nullptr) {
      if (ExprPtr out = PackageMember(*scope_.package, name, expr.span, nullptr); out != nullptr) {
        return out;
      }
    }
    if (hint != nullptr && hint->kind == TypeKind::kEnum) {
      state_.Error(
          DiagCode::kImpossibleComparison, expr.span,
          absl::StrCat("`", name, "` is not a value of `", TypeName(hint), "`"),
          absl::StrCat("its values are ", absl::StrJoin(hint->enumeration->members, ", ")));
      return ErrorExpr(expr.span);
    }
    state_.Error(DiagCode::kUnknownName, expr.span, absl::StrCat("unknown name `", name, "`"),
                 DidYouMean(name, NamesInScope()));
    return ErrorExpr(expr.span);
  }

  // A const or parameterless def of `package`; null when there is none.
  // `call` carries the arguments when the def is called.
  ExprPtr PackageMember(const PackageInfo& package, const std::string& name, Span span,
                        const ast::Expr* call) {
    if (auto it = package.consts.find(name); it != package.consts.end()) {
      if (call != nullptr) {
        state_.Error(DiagCode::kTypeMismatch, span,
                     absl::StrCat("`", name, "` is a const, not a def"));
        return ErrorExpr(span);
      }
      return ConstValue(package, *it->second, span);
    }
    if (auto it = package.defs.find(name); it != package.defs.end()) {
      return InlineDef(package, *it->second, span, call);
    }
    return nullptr;
  }

  ExprPtr ConstValue(const PackageInfo& package, const ast::ConstDecl& decl, Span use) {
    if (auto it = state_.const_values.find(&decl); it != state_.const_values.end()) {
      auto out = CloneExpr(*it->second);
      out->span = use;
      return out;
    }
    if (std::find(state_.expanding.begin(), state_.expanding.end(), &decl) !=
        state_.expanding.end()) {
      state_.Error(DiagCode::kRecursiveDefinition, use,
                   absl::StrCat("const `", decl.name.text, "` refers to itself"));
      return ErrorExpr(use);
    }
    state_.expanding.push_back(&decl);
    Scope const_scope;
    const_scope.package = &package;
    const Type* declared = nullptr;
    if (decl.type != nullptr) declared = DeclaredType(*decl.type);
    ExprPtr value = ExprChecker(state_, const_scope).Check(*decl.value, Guards{}, declared);
    state_.expanding.pop_back();
    if (!IsError(*value) && !IsConstant(*value)) {
      state_.Error(
          DiagCode::kNotConstant, decl.value->span,
          absl::StrCat("the value of const `", decl.name.text, "` is not known at compile time"),
          "use `def` for expressions that read the request");
      value = ErrorExpr(decl.value->span);
    } else if (declared != nullptr && !IsError(*value) && !SameType(declared, value->type)) {
      state_.Error(DiagCode::kTypeMismatch, decl.value->span,
                   absl::StrCat("const `", decl.name.text, "` is declared `", TypeName(declared),
                                "` but its value is `", TypeName(value->type), "`"));
      value = ErrorExpr(decl.value->span);
    }
    auto out = CloneExpr(*value);
    state_.const_values[&decl] = std::move(value);
    out->span = use;
    return out;
  }

  ExprPtr InlineDef(const PackageInfo& package, const ast::DefDecl& decl, Span use,
                    const ast::Expr* call) {
    size_t given = call == nullptr
                       ? 0
                       : call->args.size() - (call->kind == ast::ExprKind::kMethodCall ? 1 : 0);
    if (given != decl.params.size() || (call == nullptr && !decl.params.empty())) {
      state_.Error(DiagCode::kWrongArgumentCount, use,
                   absl::StrCat("`", decl.name.text, "` takes ", decl.params.size(), " argument",
                                decl.params.size() == 1 ? "" : "s", ", found ", given));
      return ErrorExpr(use);
    }
    if (std::find(state_.expanding.begin(), state_.expanding.end(), &decl) !=
        state_.expanding.end()) {
      state_.Error(DiagCode::kRecursiveDefinition, use,
                   absl::StrCat("def `", decl.name.text, "` refers to itself"),
                   "defs are inlined and may not recurse");
      return ErrorExpr(use);
    }
    // Arguments are checked in the caller's scope, then bound by name.
    std::vector<ExprPtr> arguments;
    size_t first = call != nullptr && call->kind == ast::ExprKind::kMethodCall ? 1 : 0;
    for (size_t i = 0; i < decl.params.size(); ++i) {
      const Type* param_type = DeclaredType(*decl.params[i].type);
      ExprPtr argument = Check(*call->args[first + i], Guards{}, param_type);
      if (IsError(*argument)) return ErrorExpr(use);
      if (!SameType(param_type, argument->type)) {
        state_.Error(
            DiagCode::kTypeMismatch, argument->span,
            absl::StrCat("argument `", decl.params[i].name.text, "` of `", decl.name.text, "` is `",
                         TypeName(param_type), "`, found `", TypeName(argument->type), "`"));
        return ErrorExpr(use);
      }
      arguments.push_back(std::move(argument));
    }
    Scope def_scope;
    def_scope.package = &package;
    def_scope.resource_type = scope_.resource_type;
    def_scope.variables = scope_.variables;
    for (size_t i = 0; i < decl.params.size(); ++i) {
      def_scope.bindings.emplace_back(decl.params[i].name.text, arguments[i].get());
    }
    state_.expanding.push_back(&decl);
    const Type* result_hint =
        decl.result_type != nullptr ? DeclaredType(*decl.result_type) : nullptr;
    ExprPtr body = ExprChecker(state_, def_scope).Check(*decl.body, Guards{}, result_hint);
    state_.expanding.pop_back();
    if (result_hint != nullptr && !IsError(*body) && !SameType(result_hint, body->type)) {
      state_.Error(DiagCode::kTypeMismatch, decl.body->span,
                   absl::StrCat("def `", decl.name.text, "` is declared `", TypeName(result_hint),
                                "` but its body is `", TypeName(body->type), "`"));
      return ErrorExpr(use);
    }
    return body;
  }

  // Types of def parameters and annotated consts: primitives, enums of the
  // schema are not nameable, so only primitive and set types are allowed.
  const Type* DeclaredType(const ast::TypeExpr& type) {
    if (type.kind == ast::TypeExpr::Kind::kSet && type.element != nullptr) {
      const Type* element = DeclaredType(*type.element);
      return element->kind == TypeKind::kError ? element : state_.program.types.SetOf(element);
    }
    if (type.kind == ast::TypeExpr::Kind::kNamed) {
      static const std::pair<const char*, TypeKind> kNames[] = {{"bool", TypeKind::kBool},
                                                                {"int", TypeKind::kInt},
                                                                {"decimal", TypeKind::kDecimal},
                                                                {"string", TypeKind::kString},
                                                                {"duration", TypeKind::kDuration},
                                                                {"timestamp", TypeKind::kTimestamp},
                                                                {"ip", TypeKind::kIp}};
      for (const auto& [spelling, kind] : kNames) {
        if (type.name.text == spelling) return state_.Prim(kind);
      }
      if (type.name.text == "weekday")
        return state_.program.types.EnumOf(state_.program.weekday_enum);
    }
    state_.Error(DiagCode::kUnknownType, type.span,
                 "parameters and consts may only have primitive, weekday or set types",
                 "use bool, int, decimal, string, duration, timestamp, ip, weekday or set<…>");
    return state_.program.types.Error();
  }

  static bool SameType(const Type* a, const Type* b) {
    if (a == b) return true;
    if (a == nullptr || b == nullptr || a->kind != b->kind) return false;
    switch (a->kind) {
      case TypeKind::kSet:
        return a->element == nullptr || b->element == nullptr || SameType(a->element, b->element);
      case TypeKind::kEnum:
        return a->enumeration == b->enumeration;
      case TypeKind::kRecord:
        return a->record == b->record;
      default:
        return true;
    }
  }

  // The record type and attribute a path expression denotes, if it is one.
  static bool IsRecordPath(const CExpr& expr) {
    return expr.type != nullptr && expr.type->kind == TypeKind::kRecord &&
           (expr.kind == CExprKind::kAttribute || expr.kind == CExprKind::kVariable ||
            expr.kind == CExprKind::kMember || expr.kind == CExprKind::kData);
  }

  ExprPtr Member(const ast::Expr& expr, const Guards& guards) {
    const ast::Expr& base = *expr.args[0];
    if (base.kind == ast::ExprKind::kName && !Shadowed(base.text)) {
      if (base.text == "risk")
        return Indexed(CExprKind::kRisk, expr, RiskIndex(expr.text), "risk score");
      if (base.text == "data") return Indexed(CExprKind::kData, expr, DataIndex(expr.text), "data");
      if (base.text == "limits") {
        auto out = Indexed(CExprKind::kLimit, expr, LimitIndex(expr.text), "limit");
        if (!IsError(*out)) out->limit_field = -1;  // needs `.exceeded` or `.remaining`
        return out;
      }
      if (scope_.package != nullptr) {
        if (auto it = scope_.package->imports.find(base.text);
            it != scope_.package->imports.end()) {
          const PackageInfo& imported = state_.packages.at(it->second);
          if (ExprPtr out = PackageMember(imported, expr.text, expr.span, nullptr); out != nullptr)
            return out;
          state_.Error(
              DiagCode::kUnknownName, expr.text_span,
              absl::StrCat("package `", imported.name, "` has no const or def `", expr.text, "`"));
          return ErrorExpr(expr.span);
        }
      }
    }
    ExprPtr object = Check(base, guards, nullptr);
    if (IsError(*object)) return object;
    if (object->kind == CExprKind::kLimit && object->limit_field == -1) {
      if (expr.text != "exceeded" && expr.text != "remaining") {
        state_.Error(DiagCode::kUnknownName, expr.text_span,
                     absl::StrCat("a limit has no attribute `", expr.text, "`"),
                     "use `.exceeded` (bool) or `.remaining` (int)");
        return ErrorExpr(expr.span);
      }
      object->limit_field = expr.text == "exceeded" ? 0 : 1;
      object->type = state_.Prim(expr.text == "exceeded" ? TypeKind::kBool : TypeKind::kInt);
      object->span = expr.span;
      return object;
    }
    if (!IsRecordPath(*object)) {
      state_.Error(DiagCode::kUnknownName, expr.text_span,
                   absl::StrCat("a value of type `", TypeName(object->type), "` has no attribute `",
                                expr.text, "`"));
      return ErrorExpr(expr.span);
    }
    const RecordType* record = object->type->record;
    const Field* field = record->Find(expr.text);
    if (field == nullptr) {
      std::vector<std::string> names;
      for (const Field& candidate : record->fields) names.push_back(candidate.name);
      std::string help = DidYouMean(expr.text, names);
      if (help.empty() && record == state_.program.any_resource && scope_.resource_type < 0) {
        help = "this policy is `on *`: only `resource.type` and `resource.id` are known";
      }
      state_.Error(DiagCode::kUnknownName, expr.text_span,
                   absl::StrCat("`", record->name, "` has no attribute `", expr.text, "`"), help);
      return ErrorExpr(expr.span);
    }
    if (object->kind == CExprKind::kAttribute) {
      if (field->optional && !guards.contains(field->attribute)) {
        state_.Error(
            DiagCode::kUnguardedOptional, expr.span,
            absl::StrCat("`", state_.program.attributes[field->attribute].path,
                         "` is optional and may be absent"),
            absl::StrCat("guard it: `", ParentPathText(*object), " has ", field->name, " and …`"));
        return ErrorExpr(expr.span);
      }
      auto out = MakeExpr(CExprKind::kAttribute, field->type, expr.span);
      out->attribute = field->attribute;
      return out;
    }
    // A field of a record held as a value: a quantifier variable (set<{…}>
    // elements) or a record-typed `data` value.
    if (field->optional) {
      state_.Error(DiagCode::kUnguardedOptional, expr.span,
                   absl::StrCat("`", expr.text,
                                "` is optional; optional fields of set elements and data records "
                                "cannot be read"),
                   "make the field required in the schema");
      return ErrorExpr(expr.span);
    }
    auto out = MakeExpr(CExprKind::kMember, field->type, expr.span);
    out->text = field->name;
    out->args.push_back(std::move(object));
    return out;
  }

  std::string ParentPathText(const CExpr& object) const {
    if (object.attribute < 0) return object.text;
    std::string path = state_.program.attributes[object.attribute].path;
    // resource paths name the type ("resource.payment.owner"); authors write "resource.owner".
    if (path.rfind("resource.", 0) == 0) {
      size_t dot = path.find('.', 9);
      path = dot == std::string::npos ? "resource" : "resource" + path.substr(dot);
    }
    return path;
  }

  bool Shadowed(const std::string& name) const {
    for (const auto& variable : scope_.variables) {
      if (variable.name == name) return true;
    }
    for (const auto& binding : scope_.bindings) {
      if (binding.first == name) return true;
    }
    return false;
  }

  int RiskIndex(const std::string& name) const {
    for (size_t i = 0; i < state_.program.risks.size(); ++i) {
      if (state_.program.risks[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  int DataIndex(const std::string& name) const {
    for (size_t i = 0; i < state_.program.data.size(); ++i) {
      if (state_.program.data[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  int LimitIndex(const std::string& name) const {
    for (size_t i = 0; i < state_.program.limits.size(); ++i) {
      if (state_.program.limits[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  ExprPtr Indexed(CExprKind kind, const ast::Expr& expr, int index, const char* what) {
    if (index < 0) {
      std::vector<std::string> names;
      if (kind == CExprKind::kRisk) {
        for (const auto& risk : state_.program.risks) names.push_back(risk.name);
      } else if (kind == CExprKind::kData) {
        for (const auto& data : state_.program.data) names.push_back(data.name);
      } else {
        for (const auto& limit : state_.program.limits) names.push_back(limit.name);
      }
      state_.Error(DiagCode::kUnknownName, expr.text_span,
                   absl::StrCat("no ", what, " named `", expr.text, "` is declared"),
                   DidYouMean(expr.text, names));
      return ErrorExpr(expr.span);
    }
    const Type* type = kind == CExprKind::kRisk   ? state_.Prim(TypeKind::kInt)
                       : kind == CExprKind::kData ? state_.program.data[index].type
                                                  : state_.Prim(TypeKind::kBool);
    auto out = MakeExpr(kind, type, expr.span);
    out->index = index;
    return out;
  }

  // ---------------------------------------------------------------- operators

  ExprPtr Binary(const ast::Expr& expr, const Guards& guards, const Type* hint) {
    using Op = ast::BinaryOp;
    Op op = expr.op;
    if (op == Op::kAnd || op == Op::kOr) {
      ExprPtr lhs = Check(*expr.args[0], guards, nullptr);
      Guards rhs_guards = guards;
      if (op == Op::kAnd) {
        GuardsWhenTrue(*lhs, &rhs_guards);
      } else {
        GuardsWhenFalse(*lhs, &rhs_guards);
      }
      ExprPtr rhs = Check(*expr.args[1], rhs_guards, nullptr);
      bool ok = Expect(*lhs, TypeKind::kBool, absl::StrCat("`", ast::BinaryOpText(op), "`"));
      ok = Expect(*rhs, TypeKind::kBool, absl::StrCat("`", ast::BinaryOpText(op), "`")) && ok;
      if (!ok) return ErrorExpr(expr.span);
      return Fold(
          MakeBinary(op, state_.Prim(TypeKind::kBool), expr.span, std::move(lhs), std::move(rhs)));
    }
    bool comparison = op == Op::kEq || op == Op::kNe || op == Op::kLt || op == Op::kLe ||
                      op == Op::kGt || op == Op::kGe;
    // The left side types the right (bare enum names, int literals to decimal).
    ExprPtr lhs = Check(*expr.args[0], guards, comparison ? nullptr : hint);
    if (IsError(*lhs)) return lhs;
    // An int constant widens to decimal where both sides must agree; `*`
    // takes int × decimal as it is.
    bool widen = op != ast::BinaryOp::kMul;
    ExprPtr rhs = Check(*expr.args[1], guards, widen ? lhs->type : nullptr);
    if (IsError(*rhs)) return rhs;
    if (widen && lhs->type->kind == TypeKind::kInt && rhs->type->kind == TypeKind::kDecimal &&
        IsConstant(*lhs)) {
      lhs->value.int_value *= ast::kDecimalScale;
      lhs->type = rhs->type;
      lhs->value.kind = TypeKind::kDecimal;
      lhs->value.type = rhs->type;
    }
    // An int value meets a decimal: it widens too, where both sides must
    // agree (comparisons, `+`, `-`).
    if (comparison || op == Op::kAdd || op == Op::kSub) {
      if (lhs->type->kind == TypeKind::kInt && rhs->type->kind == TypeKind::kDecimal) {
        lhs = WidenToDecimal(std::move(lhs));
      } else if (lhs->type->kind == TypeKind::kDecimal && rhs->type->kind == TypeKind::kInt) {
        rhs = WidenToDecimal(std::move(rhs));
      }
    }
    const Type* a = lhs->type;
    const Type* b = rhs->type;
    if (comparison) {
      if (!SameType(a, b)) {
        state_.Error(DiagCode::kTypeMismatch, expr.span,
                     absl::StrCat("cannot compare `", TypeName(a), "` with `", TypeName(b), "`"));
        return ErrorExpr(expr.span);
      }
      if (a->kind == TypeKind::kRecord) {
        state_.Error(DiagCode::kInvalidOperand, expr.span, "records cannot be compared",
                     "compare their attributes");
        return ErrorExpr(expr.span);
      }
      if (op != Op::kEq && op != Op::kNe && !IsOrdered(a)) {
        state_.Error(DiagCode::kInvalidOperand, expr.span,
                     absl::StrCat("`", ast::BinaryOpText(op), "` needs ordered values; `",
                                  TypeName(a), "` has no order"));
        return ErrorExpr(expr.span);
      }
      return Fold(
          MakeBinary(op, state_.Prim(TypeKind::kBool), expr.span, std::move(lhs), std::move(rhs)));
    }
    const Type* result = ArithmeticResult(op, a, b);
    if (result == nullptr) {
      state_.Error(DiagCode::kInvalidOperand, expr.span,
                   absl::StrCat("`", ast::BinaryOpText(op), "` does not apply to `", TypeName(a),
                                "` and `", TypeName(b), "`"));
      return ErrorExpr(expr.span);
    }
    if (IsConstant(*lhs) && IsConstant(*rhs)) {
      if (ExprPtr folded = FoldArithmetic(op, result, *lhs, *rhs, expr.span)) return folded;
    }
    return MakeBinary(op, result, expr.span, std::move(lhs), std::move(rhs));
  }

  // An int where a decimal is expected. A constant is converted at once (an
  // overflow leaves it an int, and the type error says why); any other value
  // becomes `x * 1.0`, which both evaluators compute exactly: an overflow is
  // an evaluation error.
  ExprPtr WidenToDecimal(ExprPtr expr) {
    const Type* decimal = state_.Prim(TypeKind::kDecimal);
    if (IsConstant(*expr)) {
      int64_t scaled = 0;
      if (__builtin_mul_overflow(expr->value.int_value, ast::kDecimalScale, &scaled)) return expr;
      expr->value.int_value = scaled;
      expr->value.kind = TypeKind::kDecimal;
      expr->type = decimal;
      expr->value.type = decimal;
      return expr;
    }
    Span span = expr->span;
    ExprPtr one =
        Constant(span, TypeKind::kDecimal, [](Value& v) { v.int_value = ast::kDecimalScale; });
    return MakeBinary(ast::BinaryOp::kMul, decimal, span, std::move(expr), std::move(one));
  }

  // Arithmetic on two constants, when it cannot fail: every arithmetic type
  // is a 64-bit integer underneath (decimals scaled by 10^4, durations and
  // timestamps in ms), so one checked integer operation computes it. An
  // overflow or a division by zero is left as it is: in a rule it fails at
  // evaluation time like any other; in a `const` it is not a known value.
  ExprPtr FoldArithmetic(ast::BinaryOp op, const Type* result, const CExpr& lhs, const CExpr& rhs,
                         Span span) {
    using Op = ast::BinaryOp;
    int64_t x = lhs.value.int_value;
    int64_t y = rhs.value.int_value;
    int64_t out = 0;
    switch (op) {
      case Op::kAdd:
        if (__builtin_add_overflow(x, y, &out)) return nullptr;
        break;
      case Op::kSub:
        if (__builtin_sub_overflow(x, y, &out)) return nullptr;
        break;
      case Op::kMul:
        if (__builtin_mul_overflow(x, y, &out)) return nullptr;
        break;
      case Op::kDiv:
        if (y == 0 || (x == INT64_MIN && y == -1)) return nullptr;
        out = x / y;
        break;
      case Op::kMod:
        if (y == 0) return nullptr;
        out = y == -1 ? 0 : x % y;
        break;
      default:
        return nullptr;
    }
    return Constant(span, result->kind, [&](Value& v) { v.int_value = out; });
  }

  const Type* ArithmeticResult(ast::BinaryOp op, const Type* a, const Type* b) {
    using Op = ast::BinaryOp;
    TypeKind x = a->kind;
    TypeKind y = b->kind;
    auto prim = [&](TypeKind kind) { return state_.Prim(kind); };
    switch (op) {
      case Op::kAdd:
        if (x == y && (x == TypeKind::kInt || x == TypeKind::kDecimal || x == TypeKind::kDuration))
          return a;
        if (x == TypeKind::kTimestamp && y == TypeKind::kDuration) return a;
        if (x == TypeKind::kDuration && y == TypeKind::kTimestamp) return b;
        return nullptr;
      case Op::kSub:
        if (x == y && (x == TypeKind::kInt || x == TypeKind::kDecimal || x == TypeKind::kDuration))
          return a;
        if (x == TypeKind::kTimestamp && y == TypeKind::kDuration) return a;
        if (x == TypeKind::kTimestamp && y == TypeKind::kTimestamp)
          return prim(TypeKind::kDuration);
        return nullptr;
      case Op::kMul:
        if (x == TypeKind::kInt && y == TypeKind::kInt) return a;
        if ((x == TypeKind::kDecimal || x == TypeKind::kDuration) && y == TypeKind::kInt) return a;
        if (x == TypeKind::kInt && (y == TypeKind::kDecimal || y == TypeKind::kDuration)) return b;
        return nullptr;
      case Op::kDiv:
      case Op::kMod:
        if (x == TypeKind::kInt && y == TypeKind::kInt) return a;
        return nullptr;
      default:
        return nullptr;
    }
  }

  ExprPtr MakeBinary(ast::BinaryOp op, const Type* type, Span span, ExprPtr lhs, ExprPtr rhs) {
    auto out = MakeExpr(CExprKind::kBinary, type, span);
    out->op = op;
    out->args.push_back(std::move(lhs));
    out->args.push_back(std::move(rhs));
    return out;
  }

  // Folds boolean connectives and comparisons of constants, so that lints
  // can see conditions that are always or never true.
  ExprPtr Fold(ExprPtr expr) {
    using Op = ast::BinaryOp;
    CExpr& lhs = *expr->args[0];
    CExpr& rhs = *expr->args[1];
    if (expr->op == Op::kAnd || expr->op == Op::kOr) {
      bool is_and = expr->op == Op::kAnd;
      // `false and x` is false, `true or x` is true; `true and x` is x.
      if (IsConstant(lhs)) {
        if (lhs.value.bool_value != is_and) return Bool(!is_and, expr->span);
        return std::move(expr->args[1]);
      }
      if (IsConstant(rhs)) {
        if (rhs.value.bool_value != is_and) return Bool(!is_and, expr->span);
        return std::move(expr->args[0]);
      }
      return expr;
    }
    if (!IsConstant(lhs) || !IsConstant(rhs)) return expr;
    TypeKind kind = lhs.value.kind;
    if (kind == TypeKind::kSet || kind == TypeKind::kIp) return expr;
    int order = 0;
    if (kind == TypeKind::kString) {
      order = lhs.value.string_value.compare(rhs.value.string_value);
    } else if (kind == TypeKind::kBool) {
      order = static_cast<int>(lhs.value.bool_value) - static_cast<int>(rhs.value.bool_value);
    } else {
      order = lhs.value.int_value < rhs.value.int_value ? -1
                                                        : lhs.value.int_value > rhs.value.int_value;
    }
    std::optional<bool> result = ast::ComparisonHolds(expr->op, order);
    if (!result) return expr;
    return Bool(*result, expr->span);
  }

  ExprPtr Bool(bool value, Span span) {
    return Constant(span, TypeKind::kBool, [&](Value& v) { v.bool_value = value; });
  }

  ExprPtr In(const ast::Expr& expr, const Guards& guards) {
    ExprPtr lhs = Check(*expr.args[0], guards, nullptr);
    if (IsError(*lhs)) return lhs;
    // An int constant may be looked up among decimals: let the set type itself.
    bool int_constant = lhs->type->kind == TypeKind::kInt && IsConstant(*lhs);
    const Type* collection_hint = int_constant ? nullptr : state_.program.types.SetOf(lhs->type);
    ExprPtr rhs = Check(*expr.args[1], guards, collection_hint);
    if (IsError(*rhs)) return rhs;
    if (lhs->type->kind == TypeKind::kInt && rhs->type->kind == TypeKind::kSet &&
        rhs->type->element != nullptr && rhs->type->element->kind == TypeKind::kDecimal) {
      lhs = WidenToDecimal(std::move(lhs));
    }
    const Type* a = lhs->type;
    const Type* b = rhs->type;
    bool ok = false;
    if (b->kind == TypeKind::kSet) {
      ok = b->element == nullptr || SameType(a, b->element) ||
           (a->kind == TypeKind::kIp && b->element->kind == TypeKind::kIp);
    } else if (b->kind == TypeKind::kIp) {
      ok = a->kind == TypeKind::kIp;
    }
    if (!ok) {
      state_.Error(DiagCode::kTypeMismatch, expr.span,
                   absl::StrCat("`in` cannot look for `", TypeName(a), "` in `", TypeName(b), "`"),
                   a->kind == TypeKind::kString && b->kind == TypeKind::kString
                       ? "for substrings use `s.contains(\"…\")`"
                       : "the right side must be a set of the left side's type, or an ip network");
      return ErrorExpr(expr.span);
    }
    auto out = MakeExpr(CExprKind::kIn, state_.Prim(TypeKind::kBool), expr.span);
    out->args.push_back(std::move(lhs));
    out->args.push_back(std::move(rhs));
    if (!expr.negated) return out;
    auto negated = MakeExpr(CExprKind::kNot, state_.Prim(TypeKind::kBool), expr.span);
    negated->args.push_back(std::move(out));
    return negated;
  }

  ExprPtr SetLiteral(const ast::Expr& expr, const Guards& guards, const Type* hint) {
    const Type* element_hint =
        hint != nullptr && hint->kind == TypeKind::kSet ? hint->element : nullptr;
    std::vector<ExprPtr> elements;
    const Type* element_type = element_hint;
    bool all_constant = true;
    for (const auto& item : expr.args) {
      ExprPtr element = Check(*item, guards, element_type);
      if (IsError(*element)) return ErrorExpr(expr.span);
      if (element_type == nullptr) element_type = element->type;
      if (element->type->kind == TypeKind::kInt && element_type->kind == TypeKind::kDecimal &&
          IsConstant(*element)) {
        element->value.int_value *= ast::kDecimalScale;
        element->type = element_type;
        element->value.kind = TypeKind::kDecimal;
      }
      if (!SameType(element_type, element->type)) {
        state_.Error(DiagCode::kTypeMismatch, element->span,
                     absl::StrCat("set elements must share one type: `", TypeName(element_type),
                                  "` and `", TypeName(element->type), "`"));
        return ErrorExpr(expr.span);
      }
      if (element->type->kind == TypeKind::kSet || element->type->kind == TypeKind::kRecord) {
        state_.Error(DiagCode::kTypeMismatch, element->span,
                     "sets hold primitive values or enums only");
        return ErrorExpr(expr.span);
      }
      all_constant = all_constant && IsConstant(*element);
      elements.push_back(std::move(element));
    }
    const Type* type = state_.program.types.SetOf(elements.empty() ? element_hint : element_type);
    if (all_constant) {
      auto out = MakeExpr(CExprKind::kConstant, type, expr.span);
      out->value.kind = TypeKind::kSet;
      out->value.type = type;
      for (auto& element : elements) out->value.elements.push_back(element->value);
      SortUnique(out->value.elements);
      return out;
    }
    auto out = MakeExpr(CExprKind::kSet, type, expr.span);
    out->args = std::move(elements);
    return out;
  }

  static void SortUnique(std::vector<Value>& values) {
    auto key_less = [](const Value& a, const Value& b) {
      if (a.int_value != b.int_value) return a.int_value < b.int_value;
      if (a.bool_value != b.bool_value) return a.bool_value < b.bool_value;
      if (a.string_value != b.string_value) return a.string_value < b.string_value;
      if (a.ip.v6 != b.ip.v6) return a.ip.v6 < b.ip.v6;
      if (a.ip.prefix != b.ip.prefix) return a.ip.prefix < b.ip.prefix;
      return std::lexicographical_compare(std::begin(a.ip.bytes), std::end(a.ip.bytes),
                                          std::begin(b.ip.bytes), std::end(b.ip.bytes));
    };
    std::sort(values.begin(), values.end(), key_less);
    values.erase(std::unique(values.begin(), values.end(),
                             [&](const Value& a, const Value& b) {
                               return !key_less(a, b) && !key_less(b, a);
                             }),
                 values.end());
  }

  ExprPtr Matches(const ast::Expr& expr, const Guards& guards) {
    ExprPtr subject = Check(*expr.args[0], guards, nullptr);
    if (!Expect(*subject, TypeKind::kString, "`matches`")) return ErrorExpr(expr.span);
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(1 << 20);
    RE2 pattern(expr.text, options);
    if (!pattern.ok()) {
      state_.Error(DiagCode::kInvalidRegex, expr.text_span,
                   absl::StrCat("invalid pattern: ", pattern.error()),
                   "patterns use RE2 syntax (no backreferences or lookaround)");
      return ErrorExpr(expr.span);
    }
    auto out = MakeExpr(CExprKind::kMatches, state_.Prim(TypeKind::kBool), expr.span);
    out->text = expr.text;
    out->args.push_back(std::move(subject));
    return out;
  }

  ExprPtr HasRole(const ast::Expr& expr, const Guards& guards) {
    ExprPtr subject = Check(*expr.args[0], guards, nullptr);
    if (IsError(*subject)) return subject;
    if (subject->kind != CExprKind::kAttribute || subject->attribute != -1 ||
        subject->text != "subject") {
      state_.Error(DiagCode::kInvalidOperand, expr.args[0]->span, "only `subject` has roles",
                   "write `subject has role NAME`");
      return ErrorExpr(expr.span);
    }
    std::string name = expr.role.parts.back().text;
    if (expr.role.parts.size() > 1 && scope_.package != nullptr &&
        !scope_.package->imports.contains(expr.role.parts[0].text)) {
      name = expr.role.ToString();
    }
    int role = state_.program.FindRole(name);
    if (role < 0) {
      std::vector<std::string> names;
      for (const Role& candidate : state_.program.roles) names.push_back(candidate.name);
      state_.Error(DiagCode::kUnknownRole, expr.role.span,
                   absl::StrCat("unknown role `", name, "`"),
                   DidYouMean(name, names).empty() ? absl::StrCat("declare it: `role ", name, "`")
                                                   : DidYouMean(name, names));
      return ErrorExpr(expr.span);
    }
    auto out = MakeExpr(CExprKind::kHasRole, state_.Prim(TypeKind::kBool), expr.span);
    out->role = role;
    return out;
  }

  ExprPtr HasAttr(const ast::Expr& expr, const Guards& guards) {
    ExprPtr object = Check(*expr.args[0], guards, nullptr);
    if (IsError(*object)) return object;
    if (object->kind != CExprKind::kAttribute || object->type->kind != TypeKind::kRecord) {
      state_.Error(
          DiagCode::kInvalidOperand, expr.args[0]->span,
          "`has` tests an attribute of `subject`, `resource`, `context` or a record inside them");
      return ErrorExpr(expr.span);
    }
    const Field* field = object->type->record->Find(expr.text);
    if (field == nullptr) {
      std::vector<std::string> names;
      for (const Field& candidate : object->type->record->fields) names.push_back(candidate.name);
      state_.Error(
          DiagCode::kUnknownName, expr.text_span,
          absl::StrCat("`", object->type->record->name, "` has no attribute `", expr.text, "`"),
          DidYouMean(expr.text, names));
      return ErrorExpr(expr.span);
    }
    if (!field->optional) {
      state_.Error(DiagCode::kRedundantHas, expr.span,
                   absl::StrCat("`", expr.text, "` is required, so `has` is always true"),
                   "declare it optional (`T?`) or drop the test");
    }
    auto out = MakeExpr(CExprKind::kHas, state_.Prim(TypeKind::kBool), expr.span);
    out->attribute = field->attribute;
    return out;
  }

  ExprPtr Quantifier(const ast::Expr& expr, const Guards& guards) {
    ExprPtr collection = Check(*expr.args[0], guards, nullptr);
    if (IsError(*collection)) return collection;
    if (collection->type->kind != TypeKind::kSet || collection->type->element == nullptr) {
      state_.Error(DiagCode::kTypeMismatch, expr.args[0]->span,
                   absl::StrCat("`", expr.is_all ? "all" : "any", "` needs a set, found `",
                                TypeName(collection->type), "`"));
      return ErrorExpr(expr.span);
    }
    int index = static_cast<int>(scope_.variables.size());
    scope_.variables.push_back({expr.text, collection->type->element, index});
    ExprPtr body = Check(*expr.args[1], guards, nullptr);
    scope_.variables.pop_back();
    if (!Expect(*body, TypeKind::kBool,
                absl::StrCat("the body of `", expr.is_all ? "all" : "any", "`"))) {
      return ErrorExpr(expr.span);
    }
    auto out = MakeExpr(expr.is_all ? CExprKind::kAll : CExprKind::kAny,
                        state_.Prim(TypeKind::kBool), expr.span);
    out->index = index;
    out->args.push_back(std::move(collection));
    out->args.push_back(std::move(body));
    return out;
  }

  // ---------------------------------------------------------------- calls

  // Builtins are resolved from WARDEN_BUILTINS (runtime/bytecode/opcodes.h);
  // a package's defs come after them.
  ExprPtr Call(const ast::Expr& expr, const Guards& guards) {
    const std::string& name = expr.text;
    std::vector<std::string> names;
    for (const bc::BuiltinInfo& info : bc::kBuiltinInfo) {
      if (info.form != bc::BuiltinForm::FN) continue;
      if (name == info.name) return Function(expr, info, guards);
      names.push_back(info.name);
    }
    if (scope_.package != nullptr) {
      if (auto it = scope_.package->defs.find(name); it != scope_.package->defs.end()) {
        return InlineDef(*scope_.package, *it->second, expr.span, &expr);
      }
      for (const auto& [def_name, decl] : scope_.package->defs) names.push_back(def_name);
    }
    state_.Error(DiagCode::kUnknownFunction, expr.text_span,
                 absl::StrCat("unknown function `", name, "`"), DidYouMean(name, names));
    return ErrorExpr(expr.span);
  }

  // The type of a builtin's result or operand (ELEMENT and SAME_SET: of the
  // receiver set's `element`).
  const Type* SigType(bc::Sig sig, const Type* element) {
    switch (sig) {
      case bc::Sig::BOOL:
        return state_.Prim(TypeKind::kBool);
      case bc::Sig::INT:
        return state_.Prim(TypeKind::kInt);
      case bc::Sig::STRING:
      case bc::Sig::LITERAL:
      case bc::Sig::ZONE:
        return state_.Prim(TypeKind::kString);
      case bc::Sig::TIMESTAMP:
        return state_.Prim(TypeKind::kTimestamp);
      case bc::Sig::IP:
        return state_.Prim(TypeKind::kIp);
      case bc::Sig::WEEKDAY:
        return state_.program.types.EnumOf(state_.program.weekday_enum);
      case bc::Sig::ELEMENT:
        return element;
      case bc::Sig::SAME_SET:
        return state_.program.types.SetOf(element);
      case bc::Sig::SET:
      case bc::Sig::_:
        break;
    }
    return nullptr;
  }

  static TypeKind ReceiverKind(bc::Sig sig) {
    return sig == bc::Sig::SET         ? TypeKind::kSet
           : sig == bc::Sig::TIMESTAMP ? TypeKind::kTimestamp
                                       : TypeKind::kString;
  }

  ExprPtr Function(const ast::Expr& expr, const bc::BuiltinInfo& info, const Guards& guards) {
    if (info.self == bc::Sig::LITERAL) return Constructor(expr, info.builtin);
    size_t arity = (info.self != bc::Sig::_ ? 1 : 0) + (info.arg != bc::Sig::_ ? 1 : 0);
    if (!ArgumentCount(expr, arity, expr.args.size())) return ErrorExpr(expr.span);
    auto out = MakeExpr(CExprKind::kCall, SigType(info.result, nullptr), expr.span);
    out->builtin = info.builtin;
    for (size_t k = 0; k < arity; ++k) {
      bc::Sig sig = k == 0 ? info.self : info.arg;
      if (sig == bc::Sig::ZONE) {
        if (!Zone(*expr.args[k], guards, &out->text)) return ErrorExpr(expr.span);
        continue;
      }
      ExprPtr argument = Check(*expr.args[k], guards, nullptr);
      if (!Expect(*argument, SigType(sig, nullptr)->kind, absl::StrCat("`", expr.text, "`")))
        return ErrorExpr(expr.span);
      out->args.push_back(std::move(argument));
    }
    return out;
  }

  // The zone must be known at compile time: a literal, a const, or a def
  // parameter bound to one.
  bool Zone(const ast::Expr& argument, const Guards& guards, std::string* name) {
    ExprPtr zone = Check(argument, guards, nullptr);
    if (IsError(*zone)) return false;
    if (!IsConstant(*zone) || zone->type->kind != TypeKind::kString) {
      state_.Error(DiagCode::kNotConstant, argument.span, "the time zone must be a constant string",
                   "for example \"Europe/Paris\" or \"UTC\"");
      return false;
    }
    *name = zone->value.string_value;
    absl::TimeZone time_zone;
    if (!absl::LoadTimeZone(*name, &time_zone)) {
      state_.Error(DiagCode::kUnknownTimeZone, argument.span,
                   absl::StrCat("unknown time zone `", *name, "`"),
                   "use an IANA name such as \"Europe/Paris\", \"America/New_York\" or \"UTC\"");
      return false;
    }
    return true;
  }

  bool ArgumentCount(const ast::Expr& expr, size_t expected, size_t given) {
    if (given == expected) return true;
    state_.Error(DiagCode::kWrongArgumentCount, expr.span,
                 absl::StrCat("`", expr.text, "` takes ", expected, " argument",
                              expected == 1 ? "" : "s", ", found ", given));
    return false;
  }

  ExprPtr Constructor(const ast::Expr& expr, Builtin builtin) {
    if (!ArgumentCount(expr, 1, expr.args.size())) return ErrorExpr(expr.span);
    const ast::Expr& argument = *expr.args[0];
    if (argument.kind != ast::ExprKind::kString) {
      state_.Error(DiagCode::kNotConstant, argument.span,
                   absl::StrCat("`", expr.text, "(…)` takes a string literal"));
      return ErrorExpr(expr.span);
    }
    if (builtin == Builtin::kIp) {
      values::IpNet network;
      if (values::ParseIp(argument.text, &network) != values::Error::kNone) {
        state_.Error(DiagCode::kInvalidLiteral, argument.span,
                     absl::StrCat("`", argument.text, "` is not an IP address or CIDR network"),
                     "write `192.0.2.1`, `10.0.0.0/8` or `2001:db8::/32`; host bits must be zero");
        return ErrorExpr(expr.span);
      }
      return Constant(expr.span, TypeKind::kIp, [&](Value& v) { v.ip = network; });
    }
    int64_t millis = 0;
    if (values::ParseTimestamp(argument.text, &millis) != values::Error::kNone) {
      state_.Error(DiagCode::kInvalidLiteral, argument.span,
                   absl::StrCat("`", argument.text, "` is not an RFC 3339 timestamp"),
                   "write `2026-01-31T09:00:00Z` or with an offset `+01:00`");
      return ErrorExpr(expr.span);
    }
    return Constant(expr.span, TypeKind::kTimestamp, [&](Value& v) { v.int_value = millis; });
  }

  ExprPtr MethodCall(const ast::Expr& expr, const Guards& guards) {
    const ast::Expr& base = *expr.args[0];
    // `pkg.helper(args)` calls a def of an imported package.
    if (base.kind == ast::ExprKind::kName && !Shadowed(base.text) && scope_.package != nullptr) {
      if (auto it = scope_.package->imports.find(base.text); it != scope_.package->imports.end()) {
        const PackageInfo& imported = state_.packages.at(it->second);
        if (auto def = imported.defs.find(expr.text); def != imported.defs.end()) {
          return InlineDef(imported, *def->second, expr.span, &expr);
        }
        state_.Error(DiagCode::kUnknownFunction, expr.text_span,
                     absl::StrCat("package `", imported.name, "` has no def `", expr.text, "`"));
        return ErrorExpr(expr.span);
      }
    }
    ExprPtr receiver = Check(base, guards, nullptr);
    if (IsError(*receiver)) return receiver;
    const bc::BuiltinInfo* method = nullptr;
    std::vector<std::string> names;
    for (const bc::BuiltinInfo& candidate : bc::kBuiltinInfo) {
      if (candidate.form != bc::BuiltinForm::METHOD ||
          ReceiverKind(candidate.self) != receiver->type->kind)
        continue;
      names.push_back(candidate.name);
      if (expr.text == candidate.name) method = &candidate;
    }
    if (method == nullptr) {
      state_.Error(DiagCode::kUnknownFunction, expr.text_span,
                   absl::StrCat("`", TypeName(receiver->type), "` has no method `", expr.text, "`"),
                   DidYouMean(expr.text, names));
      return ErrorExpr(expr.span);
    }
    size_t arity = method->arg != bc::Sig::_ ? 1 : 0;
    if (!ArgumentCount(expr, arity, expr.args.size() - 1)) return ErrorExpr(expr.span);
    auto out = MakeExpr(CExprKind::kCall, SigType(method->result, nullptr), expr.span);
    out->builtin = method->builtin;
    const Type* element = receiver->type->element;
    out->args.push_back(std::move(receiver));
    if (arity == 1) {
      const Type* expected = SigType(method->arg, element);
      ExprPtr argument = Check(*expr.args[1], guards, expected);
      if (IsError(*argument)) return ErrorExpr(expr.span);
      if (expected != nullptr && !SameType(expected, argument->type)) {
        state_.Error(DiagCode::kTypeMismatch, argument->span,
                     absl::StrCat("`", expr.text, "` needs `", TypeName(expected), "`, found `",
                                  TypeName(argument->type), "`"));
        return ErrorExpr(expr.span);
      }
      out->args.push_back(std::move(argument));
    }
    return out;
  }

  CheckerState& state_;
  Scope& scope_;
};

}  // namespace

std::unique_ptr<CExpr> CheckExpr(CheckerState& state, const ast::Expr& expr, Scope& scope,
                                 const Guards& guards, const Type* hint) {
  return ExprChecker(state, scope).Check(expr, guards, hint);
}

std::unique_ptr<CExpr> CheckCondition(CheckerState& state, const ast::Expr& expr, Scope& scope) {
  auto checked = CheckExpr(state, expr, scope, Guards{}, nullptr);
  if (checked->type->kind != TypeKind::kError && checked->type->kind != TypeKind::kBool) {
    state.Error(DiagCode::kTypeMismatch, expr.span,
                absl::StrCat("a condition must be `bool`, found `", TypeName(checked->type), "`"));
    auto error = std::make_unique<CExpr>();
    error->type = state.program.types.Error();
    error->span = expr.span;
    return error;
  }
  return checked;
}

std::unique_ptr<CExpr> CloneExpr(const CExpr& expr) {
  auto out = std::make_unique<CExpr>();
  out->kind = expr.kind;
  out->type = expr.type;
  out->span = expr.span;
  out->op = expr.op;
  out->builtin = expr.builtin;
  out->value = expr.value;
  out->attribute = expr.attribute;
  out->index = expr.index;
  out->limit_field = expr.limit_field;
  out->role = expr.role;
  out->text = expr.text;
  for (const auto& arg : expr.args) out->args.push_back(CloneExpr(*arg));
  return out;
}

void GuardsWhenTrue(const CExpr& expr, Guards* out) {
  if (expr.kind == CExprKind::kHas) {
    out->insert(expr.attribute);
  } else if (expr.kind == CExprKind::kBinary && expr.op == ast::BinaryOp::kAnd) {
    GuardsWhenTrue(*expr.args[0], out);
    GuardsWhenTrue(*expr.args[1], out);
  } else if (expr.kind == CExprKind::kNot) {
    GuardsWhenFalse(*expr.args[0], out);
  }
}

void GuardsWhenFalse(const CExpr& expr, Guards* out) {
  if (expr.kind == CExprKind::kBinary && expr.op == ast::BinaryOp::kOr) {
    GuardsWhenFalse(*expr.args[0], out);
    GuardsWhenFalse(*expr.args[1], out);
  } else if (expr.kind == CExprKind::kNot) {
    GuardsWhenTrue(*expr.args[0], out);
  }
}

std::string DidYouMean(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best = ClosestName(name, candidates);
  return best.empty() ? std::string() : absl::StrCat("did you mean `", best, "`?");
}

}  // namespace warden::internal
