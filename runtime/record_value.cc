#include "runtime/record_value.h"

#include <algorithm>
#include <string_view>

#include "runtime/vm.h"

namespace warden::rt {
namespace {

int Three(size_t a, size_t b) { return a < b ? -1 : a > b; }

const bc::RecordShape& ShapeOf(const bc::Program& program, const RecordData& record) {
  return program.records[record.shape];
}

// The set of type `set_type` holds `x` (of its element type).
bool SetHolds(const bc::Program& program, const bc::TypeRef& element, const SetRef& set,
              const Value& x) {
  for (uint32_t i = 0; i < set.size; ++i) {
    if (ValuesEqual(program, element, set.data[i], x)) return true;
  }
  return false;
}

bool Subset(const bc::Program& program, const bc::TypeRef& element, const SetRef& part,
            const SetRef& whole) {
  for (uint32_t i = 0; i < part.size; ++i) {
    if (!SetHolds(program, element, whole, part.data[i])) return false;
  }
  return true;
}

// The index of the next present field at or after `from`, or `count`.
uint32_t NextPresent(const RecordData& record, uint32_t from) {
  const uint8_t* present = record.present();
  while (from < record.count && !present[from]) ++from;
  return from;
}

}  // namespace

bc::TypeRef ElementTypeRef(const bc::TypeRef& set) {
  bc::TypeRef element;
  element.code = set.element;
  element.enumeration = set.enumeration;
  element.record = set.element == bc::TypeCode::kRecord ? set.record : -1;
  return element;
}

bool ValuesEqual(const bc::Program& program, const bc::TypeRef& type, const Value& a,
                 const Value& b) {
  switch (type.code) {
    case bc::TypeCode::kRecord:
      return RecordsEqual(program, *a.rec, *b.rec);
    case bc::TypeCode::kSet: {
      bc::TypeRef element = ElementTypeRef(type);
      return Subset(program, element, a.set, b.set) && Subset(program, element, b.set, a.set);
    }
    default:
      return ScalarEqual(bc::ScalarKind(type.code), a, b);
  }
}

bool RecordsEqual(const bc::Program& program, const RecordData& a, const RecordData& b) {
  if (a.shape != b.shape || a.count != b.count) return false;
  const bc::RecordShape& shape = ShapeOf(program, a);
  for (uint32_t f = 0; f < a.count && f < shape.fields.size(); ++f) {
    if (a.present()[f] != b.present()[f]) return false;
    if (a.present()[f] &&
        !ValuesEqual(program, shape.fields[f].type, a.fields()[f], b.fields()[f])) {
      return false;
    }
  }
  return true;
}

int CompareValues(const bc::Program& program, const bc::TypeRef& type, const Value& a,
                  const Value& b) {
  switch (type.code) {
    case bc::TypeCode::kSet: {
      bc::TypeRef element = ElementTypeRef(type);
      uint32_t n = std::min(a.set.size, b.set.size);
      for (uint32_t i = 0; i < n; ++i) {
        if (int order = CompareValues(program, element, a.set.data[i], b.set.data[i]); order != 0)
          return order;
      }
      return Three(a.set.size, b.set.size);
    }
    case bc::TypeCode::kRecord: {
      const RecordData& x = *a.rec;
      const RecordData& y = *b.rec;
      const bc::RecordShape& shape = ShapeOf(program, x);
      // First the lists of present field names, compared as lists of strings.
      uint32_t i = NextPresent(x, 0);
      uint32_t j = NextPresent(y, 0);
      for (;; i = NextPresent(x, i + 1), j = NextPresent(y, j + 1)) {
        if (i == x.count || j == y.count) {
          if (i != x.count || j != y.count) return i == x.count ? -1 : 1;
          break;
        }
        if (i == j) continue;
        int order = std::string_view(shape.fields[i].name).compare(shape.fields[j].name);
        if (order != 0) return order < 0 ? -1 : 1;
      }
      // The same fields are present: compare their values in order.
      for (uint32_t f = NextPresent(x, 0); f < x.count; f = NextPresent(x, f + 1)) {
        int order = CompareValues(program, shape.fields[f].type, x.fields()[f], y.fields()[f]);
        if (order != 0) return order;
      }
      return 0;
    }
    default: {
      int order = CompareScalar(bc::ScalarKind(type.code), a, b);
      return order < 0 ? -1 : order > 0;
    }
  }
}

size_t SortUnique(const bc::Program& program, const bc::TypeRef& type, Value* values,
                  size_t count) {
  std::sort(values, values + count,
            [&](const Value& a, const Value& b) { return CompareValues(program, type, a, b) < 0; });
  return std::unique(values, values + count,
                     [&](const Value& a, const Value& b) {
                       return CompareValues(program, type, a, b) == 0;
                     }) -
         values;
}

}  // namespace warden::rt
