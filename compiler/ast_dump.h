// `warden compile --dump=ast`: a stable, indented text dump of the AST with
// line:col for each node, for debugging and golden tests.
#ifndef WARDEN_COMPILER_AST_DUMP_H_
#define WARDEN_COMPILER_AST_DUMP_H_

#include <string>

#include "compiler/ast.h"
#include "compiler/source.h"

namespace warden {

std::string DumpAst(const ast::File& file, const SourceFile& source);

}  // namespace warden

#endif  // WARDEN_COMPILER_AST_DUMP_H_
