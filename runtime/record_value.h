// Records held as values (members of sets of records, record-typed data):
// equality, and the order sets of them are kept in.
//
// The order is the reference evaluator's (CompareValues in
// cli/reference/request.cc): records compare first by the names of
// their present fields, then field by field; sets element-wise, then by
// size. Decoders sort sets of records in this order and drop repeats, so
// quantifiers visit members in the same order on both evaluators.
#ifndef WARDEN_RUNTIME_RECORD_VALUE_H_
#define WARDEN_RUNTIME_RECORD_VALUE_H_

#include <cstddef>

#include "runtime/bytecode/program.h"
#include "runtime/frame.h"

namespace warden::rt {

// The type of one member of a set of type `set`.
bc::TypeRef ElementTypeRef(const bc::TypeRef& set);

// Values of type `type`: equal (sets: the same members, in any order).
bool ValuesEqual(const bc::Program& program, const bc::TypeRef& type, const Value& a,
                 const Value& b);
// Two records of one shape: the same fields present, with equal values.
bool RecordsEqual(const bc::Program& program, const RecordData& a, const RecordData& b);

// The total order described above: <0, 0, >0. Sets must be sorted and
// unique (as decoders leave them).
int CompareValues(const bc::Program& program, const bc::TypeRef& type, const Value& a,
                  const Value& b);

// Sorts values of type `type` in that order and drops repeats; returns the
// new count.
size_t SortUnique(const bc::Program& program, const bc::TypeRef& type, Value* values, size_t count);

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_RECORD_VALUE_H_
