// `warden fmt`: prints a parsed file in the canonical layout.
//
// Canonical means: the output depends only on the AST and the comments, never
// on the original layout, so formatting is idempotent; comments are kept at
// the declaration, rule, field or clause they precede or trail.
#ifndef WARDEN_COMPILER_FORMATTER_H_
#define WARDEN_COMPILER_FORMATTER_H_

#include <string>

#include "compiler/ast.h"
#include "compiler/source.h"

namespace warden {

struct FormatOptions {
  int indent = 2;
  int max_line_width = 100;  // long conditions wrap at `and` / `or`
};

std::string FormatFile(const ast::File& file, const SourceFile& source,
                       const FormatOptions& options = {});

}  // namespace warden

#endif  // WARDEN_COMPILER_FORMATTER_H_
