// `warden compile --dump=ir`: a stable text dump of the checked program — the
// typed, resolved form that the code generator and the reference evaluator
// both start from. Attributes are shown with their ids, expressions with
// their types, rules with file:line.
#ifndef WARDEN_COMPILER_CHECKED_DUMP_H_
#define WARDEN_COMPILER_CHECKED_DUMP_H_

#include <string>

#include "compiler/checked.h"
#include "compiler/source.h"

namespace warden {

std::string DumpChecked(const CheckedProgram& program, const SourceManager& sources);

}  // namespace warden

#endif  // WARDEN_COMPILER_CHECKED_DUMP_H_
