// Shared state of the checker's sub-passes (checker.cc for declarations,
// expression_checker.cc for expressions). Internal to the compiler.
#ifndef WARDEN_COMPILER_INTERNAL_CHECKER_STATE_H_
#define WARDEN_COMPILER_INTERNAL_CHECKER_STATE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "compiler/ast.h"
#include "compiler/checked.h"
#include "compiler/diagnostic.h"
#include "compiler/source.h"

namespace warden::internal {

struct PackageInfo {
  std::string name;
  std::vector<const ast::File*> files;
  std::map<std::string, std::string> imports;  // local name -> package name
  std::map<std::string, const ast::ConstDecl*> consts;
  std::map<std::string, const ast::DefDecl*> defs;
  std::map<std::string, int> policies;     // name -> index into program.policies
  std::map<std::string, int> policy_sets;  // name -> index into program.policy_sets
};

// Where an expression is checked: which package, which resource type
// `resource` means, and which quantifier variables and def parameters are
// in scope.
struct Scope {
  const PackageInfo* package = nullptr;
  int resource_type = -1;  // -1: only the fields every resource has
  struct Variable {
    std::string name;
    const Type* type;
    int index;
  };
  std::vector<Variable> variables;
  // def parameters bound to already-checked argument expressions
  std::vector<std::pair<std::string, const CExpr*>> bindings;
};

using Guards = absl::flat_hash_set<AttributeId>;

struct CheckerState {
  CheckerState(CheckedProgram& program_in, const SourceManager& sources_in, DiagnosticSink& sink_in)
      : program(program_in), sources(sources_in), sink(sink_in) {}

  CheckedProgram& program;
  const SourceManager& sources;
  DiagnosticSink& sink;
  std::map<std::string, PackageInfo> packages;
  const RecordType* limit_record = nullptr;  // { exceeded: bool, remaining: int }
  // consts and defs being expanded, to report recursion
  std::vector<const void*> expanding;
  std::map<const ast::ConstDecl*, std::unique_ptr<CExpr>> const_values;

  const Type* Prim(TypeKind kind) const { return program.types.Primitive(kind); }
  void Error(DiagCode code, Span span, std::string message, std::string help = {}) {
    sink.Report(code, span, std::move(message), std::move(help));
  }
};

// Checks `expr` in `scope`; `hint` (may be null) is the type the context
// expects, used to resolve bare enum member names. Never returns null; a
// failed check yields an expression of the error type.
std::unique_ptr<CExpr> CheckExpr(CheckerState& state, const ast::Expr& expr, Scope& scope,
                                 const Guards& guards, const Type* hint = nullptr);

// Checks a condition: the expression must be bool.
std::unique_ptr<CExpr> CheckCondition(CheckerState& state, const ast::Expr& expr, Scope& scope);

// Deep copy of a checked expression (used to inline consts and defs).
std::unique_ptr<CExpr> CloneExpr(const CExpr& expr);

// Attributes known present when `expr` is true / false.
void GuardsWhenTrue(const CExpr& expr, Guards* out);
void GuardsWhenFalse(const CExpr& expr, Guards* out);

std::string DidYouMean(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_CHECKER_STATE_H_
