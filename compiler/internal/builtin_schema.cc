#include "compiler/internal/builtin_schema.h"

#include <initializer_list>
#include <map>
#include <string>

#include "compiler/builtin_attributes.h"

namespace warden::internal {
namespace {

struct FieldSpec {
  const char* name;
  const Type* type;
  bool optional = false;
};

void AddBuiltinFields(RecordType* record, std::initializer_list<FieldSpec> specs) {
  for (const FieldSpec& spec : specs) {
    Field field;
    field.name = spec.name;
    field.type = spec.type;
    field.optional = spec.optional;
    field.builtin = true;
    record->fields.push_back(field);
  }
}

const Type* TypeOf(TypeTable& types, const BuiltinAttribute& attribute, const EnumType* auth_kind,
                   const std::map<std::string_view, RecordType*>& records) {
  switch (attribute.type) {
    case BuiltinType::kBool:
      return types.Primitive(TypeKind::kBool);
    case BuiltinType::kInt:
      return types.Primitive(TypeKind::kInt);
    case BuiltinType::kDecimal:
      return types.Primitive(TypeKind::kDecimal);
    case BuiltinType::kString:
      return types.Primitive(TypeKind::kString);
    case BuiltinType::kDuration:
      return types.Primitive(TypeKind::kDuration);
    case BuiltinType::kTimestamp:
      return types.Primitive(TypeKind::kTimestamp);
    case BuiltinType::kIp:
      return types.Primitive(TypeKind::kIp);
    case BuiltinType::kStrings:
      return types.SetOf(types.Primitive(TypeKind::kString));
    case BuiltinType::kAuthKind:
      return types.EnumOf(auth_kind);
    case BuiltinType::kRecord:
      return types.RecordOf(
          records.at(std::string(attribute.record) + "." + std::string(attribute.name)));
  }
  return nullptr;
}

}  // namespace

void BuildBuiltinSchema(CheckedProgram& program) {
  TypeTable& types = program.types;
  EnumType* auth_kind = types.NewEnum("subject.auth.kind");
  auth_kind->members = {"none", "token", "api_key"};
  // The records in list order (children first), each with its fields.
  std::map<std::string_view, RecordType*> records;
  for (const BuiltinAttribute& attribute : kBuiltinAttributes) {
    RecordType*& record = records[attribute.record];
    if (record == nullptr) record = types.NewRecord(std::string(attribute.record));
    Field field;
    field.name = std::string(attribute.name);
    field.type = TypeOf(types, attribute, auth_kind, records);
    field.optional = attribute.optional;
    field.builtin = true;
    record->fields.push_back(field);
  }
  program.subject = records.at("subject");
  program.context = records.at("context");

  const Type* string = types.Primitive(TypeKind::kString);
  RecordType* any_resource = types.NewRecord("resource");
  AddBuiltinFields(any_resource, {{"type", string}, {"id", string}});
  program.any_resource = any_resource;

  program.action_enum = types.NewEnum("action");
  EnumType* weekday = types.NewEnum("weekday");
  weekday->members = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  program.weekday_enum = weekday;
}

}  // namespace warden::internal
