#include "compiler/checked.h"

#include "absl/strings/str_cat.h"

namespace warden {

int EnumType::Find(const std::string& member) const {
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i] == member) return static_cast<int>(i);
  }
  return -1;
}

const Field* RecordType::Find(const std::string& field_name) const {
  for (const Field& field : fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

TypeTable::TypeTable() {
  // Order matches TypeKind up to kIp.
  for (TypeKind kind :
       {TypeKind::kError, TypeKind::kBool, TypeKind::kInt, TypeKind::kDecimal, TypeKind::kString,
        TypeKind::kDuration, TypeKind::kTimestamp, TypeKind::kIp}) {
    primitives_.push_back(Type{kind});
  }
}

const Type* TypeTable::Primitive(TypeKind kind) const {
  size_t index = static_cast<size_t>(kind);
  return index < primitives_.size() ? &primitives_[index] : Error();
}

const Type* TypeTable::SetOf(const Type* element) {
  auto it = sets_.find(element);
  if (it != sets_.end()) return it->second;
  derived_.push_back(Type{TypeKind::kSet, element});
  sets_[element] = &derived_.back();
  return &derived_.back();
}

EnumType* TypeTable::NewEnum(std::string name) {
  enums_.push_back(EnumType{std::move(name), {}});
  return &enums_.back();
}

const Type* TypeTable::EnumOf(const EnumType* enumeration) {
  derived_.push_back(Type{TypeKind::kEnum, nullptr, enumeration});
  return &derived_.back();
}

RecordType* TypeTable::NewRecord(std::string name) {
  records_.push_back(RecordType{std::move(name), {}});
  return &records_.back();
}

const Type* TypeTable::RecordOf(const RecordType* record) {
  derived_.push_back(Type{TypeKind::kRecord, nullptr, nullptr, record});
  return &derived_.back();
}

std::string TypeName(const Type* type) {
  if (type == nullptr) return "unknown";
  switch (type->kind) {
    case TypeKind::kError:
      return "error";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt:
      return "int";
    case TypeKind::kDecimal:
      return "decimal";
    case TypeKind::kString:
      return "string";
    case TypeKind::kDuration:
      return "duration";
    case TypeKind::kTimestamp:
      return "timestamp";
    case TypeKind::kIp:
      return "ip";
    case TypeKind::kEnum:
      return absl::StrCat("enum ", type->enumeration->name);
    case TypeKind::kSet:
      return type->element == nullptr ? "set<?>"
                                      : absl::StrCat("set<", TypeName(type->element), ">");
    case TypeKind::kRecord:
      return absl::StrCat("record ", type->record->name);
  }
  return "unknown";
}

bool IsOrdered(const Type* type) {
  switch (type->kind) {
    case TypeKind::kInt:
    case TypeKind::kDecimal:
    case TypeKind::kString:
    case TypeKind::kDuration:
    case TypeKind::kTimestamp:
    case TypeKind::kEnum:
      return true;
    default:
      return false;
  }
}

int CheckedProgram::FindRole(const std::string& name) const {
  for (size_t i = 0; i < roles.size(); ++i) {
    if (roles[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int CheckedProgram::FindAction(const std::string& name) const {
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int CheckedProgram::FindResourceType(const std::string& name) const {
  for (size_t i = 0; i < resource_types.size(); ++i) {
    if (resource_types[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace warden
