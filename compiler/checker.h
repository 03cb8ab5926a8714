// Name resolution, schema and type checking, roles and separation of duties.
//
// Input: the parsed files of one compilation (all packages, imports already
// loaded). Output: a CheckedProgram (checked.h) in which every name is
// resolved and every expression is typed, or diagnostics.
//
// Sub-passes, in order:
//   schema    built-in schema + every `schema` block -> record types; number
//             every attribute path
//   symbols   roles, actions, resource types, challenges, risk, limits, data,
//             consts, defs, policies per package; duplicates reported
//   roles     inheritance cycles and closures; `separate` and `jit` checks
//   exprs     every condition, risk factor, limit key, obligation: typed,
//             consts and defs inlined, optional reads checked for `has`
//   tests     test requests validated against the schema; `by` rules resolved
#ifndef WARDEN_COMPILER_CHECKER_H_
#define WARDEN_COMPILER_CHECKER_H_

#include <memory>
#include <vector>

#include "compiler/ast.h"
#include "compiler/checked.h"
#include "compiler/diagnostic.h"
#include "compiler/source.h"

namespace warden {

// Returns the checked program, or null when any error was reported.
std::unique_ptr<CheckedProgram> Check(const std::vector<const ast::File*>& files,
                                      const SourceManager& sources, DiagnosticSink& sink);

// The closest candidate to `name` by edit distance, or "" when none is close
// enough to suggest ("did you mean …").
std::string ClosestName(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace warden

#endif  // WARDEN_COMPILER_CHECKER_H_
