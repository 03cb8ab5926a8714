// Security lints: warnings about policies that type-check but are likely
// wrong in ways that matter for security. Each lint has a stable code
// (W04xx in diagnostic_codes.h) and an entry in docs/language.md.
//
// Runs after a successful check, on the checked program.
#ifndef WARDEN_COMPILER_LINTS_H_
#define WARDEN_COMPILER_LINTS_H_

#include <vector>

#include "compiler/ast.h"
#include "compiler/checked.h"
#include "compiler/diagnostic.h"
#include "compiler/source.h"

namespace warden {

void RunLints(const CheckedProgram& program, const std::vector<const ast::File*>& files,
              const SourceManager& sources, DiagnosticSink& sink);

}  // namespace warden

#endif  // WARDEN_COMPILER_LINTS_H_
