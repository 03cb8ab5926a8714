// The attributes every Warden schema has, before any `schema` block: what
// the authentication front-end supplies about the subject and the request.
// docs/language.md ("Built-in schema") documents each one and its default.
#ifndef WARDEN_COMPILER_INTERNAL_BUILTIN_SCHEMA_H_
#define WARDEN_COMPILER_INTERNAL_BUILTIN_SCHEMA_H_

#include "compiler/checked.h"

namespace warden::internal {

// Creates program.subject, program.context, program.any_resource with their
// built-in fields, and the `action` and `weekday` enums.
void BuildBuiltinSchema(CheckedProgram& program);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_BUILTIN_SCHEMA_H_
