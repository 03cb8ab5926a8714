#include "runtime/bytecode/program.h"

#include <algorithm>

namespace warden::bc {

const char* ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kString:
      return "string";
    case ValueKind::kIp:
      return "ip";
    case ValueKind::kSet:
      return "set";
    case ValueKind::kIter:
      return "iter";
    case ValueKind::kRecord:
      return "record";
  }
  return "?";
}

const char* TypeCodeName(TypeCode code) {
  switch (code) {
    case TypeCode::kBool:
      return "bool";
    case TypeCode::kInt:
      return "int";
    case TypeCode::kDecimal:
      return "decimal";
    case TypeCode::kString:
      return "string";
    case TypeCode::kDuration:
      return "duration";
    case TypeCode::kTimestamp:
      return "timestamp";
    case TypeCode::kIp:
      return "ip";
    case TypeCode::kEnum:
      return "enum";
    case TypeCode::kSet:
      return "set";
    case TypeCode::kRecord:
      return "record";
  }
  return "?";
}

const char* EffectName(Effect effect) {
  switch (effect) {
    case Effect::kPermit:
      return "permit";
    case Effect::kDeny:
      return "deny";
    case Effect::kStepUp:
      return "step_up";
  }
  return "?";
}

ValueKind ScalarKind(TypeCode code) {
  switch (code) {
    case TypeCode::kBool:
      return ValueKind::kBool;
    case TypeCode::kString:
      return ValueKind::kString;
    case TypeCode::kIp:
      return ValueKind::kIp;
    case TypeCode::kSet:
      return ValueKind::kSet;
    case TypeCode::kRecord:
      return ValueKind::kRecord;
    default:
      return ValueKind::kInt;
  }
}

bool RegTypeOf(const TypeRef& type, RegType* out) {
  if (type.code == TypeCode::kRecord) {
    if (type.record < 0) return false;
    *out = MakeRegType(ValueKind::kRecord, ValueKind::kBool, static_cast<uint32_t>(type.record));
    return true;
  }
  if (type.code == TypeCode::kSet) {
    if (type.element == TypeCode::kSet) return false;
    if (type.element == TypeCode::kRecord) {
      if (type.record < 0) return false;
      *out = MakeRegType(ValueKind::kSet, ValueKind::kRecord, static_cast<uint32_t>(type.record));
      return true;
    }
    *out = MakeRegType(ValueKind::kSet, ScalarKind(type.element));
    return true;
  }
  *out = MakeRegType(ScalarKind(type.code));
  return true;
}

int RecordShape::FindField(std::string_view field) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field) return static_cast<int>(i);
  }
  return -1;
}

int CompareScalars(const Constant& a, const Constant& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  switch (a.kind) {
    case ValueKind::kString: {
      int order = a.s.compare(b.s);
      return order < 0 ? -1 : order > 0;
    }
    case ValueKind::kIp: {
      if (a.ip.v6 != b.ip.v6) return a.ip.v6 ? 1 : -1;
      for (int i = 0; i < 16; ++i) {
        if (a.ip.bytes[i] != b.ip.bytes[i]) return a.ip.bytes[i] < b.ip.bytes[i] ? -1 : 1;
      }
      return a.ip.prefix < b.ip.prefix ? -1 : a.ip.prefix > b.ip.prefix;
    }
    default:
      return a.i < b.i ? -1 : a.i > b.i;
  }
}

namespace {
template <typename T, typename F>
int FindBy(const std::vector<T>& items, std::string_view name, F key) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (key(items[i]) == name) return static_cast<int>(i);
  }
  return -1;
}
}  // namespace

int Program::FindAttribute(std::string_view path) const {
  return FindBy(attributes, path, [](const Attribute& a) -> const std::string& { return a.path; });
}
int Program::FindAction(std::string_view name) const {
  return FindBy(actions, name, [](const Action& a) -> const std::string& { return a.name; });
}
int Program::FindResourceType(std::string_view name) const {
  return FindBy(resource_types, name, [](const std::string& s) -> const std::string& { return s; });
}
int Program::FindRole(std::string_view name) const {
  return FindBy(roles, name, [](const Role& r) -> const std::string& { return r.name; });
}
const SourceLine* Program::LineOf(uint32_t pc) const {
  if (pc >= code.size()) return nullptr;
  auto after =
      std::upper_bound(lines.begin(), lines.end(), pc,
                       [](uint32_t at, const SourceLine& entry) { return at < entry.first; });
  return after == lines.begin() ? nullptr : &*(after - 1);
}

int Program::FindRule(std::string_view name) const {
  return FindBy(rules, name, [](const Rule& r) -> const std::string& { return r.name; });
}
int Program::FindData(std::string_view name) const {
  return FindBy(data, name, [](const DataSlot& d) -> const std::string& { return d.name; });
}
int Program::FindLimit(std::string_view name) const {
  return FindBy(limits, name, [](const Limit& l) -> const std::string& { return l.name; });
}
int Program::FindJit(std::string_view name) const {
  return FindBy(jit_profiles, name,
                [](const JitProfile& j) -> const std::string& { return j.name; });
}

}  // namespace warden::bc
