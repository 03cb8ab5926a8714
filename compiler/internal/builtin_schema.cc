#include "compiler/internal/builtin_schema.h"

#include <initializer_list>

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

}  // namespace

void BuildBuiltinSchema(CheckedProgram& program) {
  TypeTable& types = program.types;
  const Type* boolean = types.Primitive(TypeKind::kBool);
  const Type* integer = types.Primitive(TypeKind::kInt);
  const Type* decimal = types.Primitive(TypeKind::kDecimal);
  const Type* string = types.Primitive(TypeKind::kString);
  const Type* duration = types.Primitive(TypeKind::kDuration);
  const Type* timestamp = types.Primitive(TypeKind::kTimestamp);
  const Type* ip = types.Primitive(TypeKind::kIp);
  const Type* strings = types.SetOf(string);

  EnumType* auth_kind = types.NewEnum("subject.auth.kind");
  auth_kind->members = {"none", "token", "api_key"};
  RecordType* auth = types.NewRecord("subject.auth");
  AddBuiltinFields(auth, {{"mfa", boolean},
                          {"methods", strings},
                          {"acr", string},
                          {"auth_age", duration},
                          {"token_age", duration},
                          {"kind", types.EnumOf(auth_kind)},
                          {"key_id", string, true}});
  RecordType* subject = types.NewRecord("subject");
  AddBuiltinFields(subject, {{"id", string},
                             {"roles", strings},
                             {"tenant", string, true},
                             {"auth", types.RecordOf(auth)}});
  program.subject = subject;

  RecordType* geo = types.NewRecord("context.geo");
  AddBuiltinFields(geo, {{"country", string, true},
                         {"city", string, true},
                         {"latitude", decimal, true},
                         {"longitude", decimal, true},
                         {"impossible_travel", boolean},
                         {"travel_speed_kmh", integer}});
  RecordType* device = types.NewRecord("context.device");
  AddBuiltinFields(device, {{"id", string, true}, {"known", boolean}});
  RecordType* network = types.NewRecord("context.network");
  AddBuiltinFields(
      network,
      {{"anonymous", boolean}, {"hosting", boolean}, {"tor", boolean}, {"listed", boolean}});
  RecordType* attempts = types.NewRecord("context.attempts");
  AddBuiltinFields(attempts,
                   {{"failed_subject", integer}, {"failed_ip", integer}, {"locked", boolean}});
  RecordType* context = types.NewRecord("context");
  AddBuiltinFields(context, {{"time", timestamp},
                             {"ip", ip, true},
                             {"geo", types.RecordOf(geo)},
                             {"device", types.RecordOf(device)},
                             {"network", types.RecordOf(network)},
                             {"attempts", types.RecordOf(attempts)},
                             {"unusual_hour", boolean},
                             {"known_network", boolean}});
  program.context = context;

  RecordType* any_resource = types.NewRecord("resource");
  AddBuiltinFields(any_resource, {{"type", string}, {"id", string}});
  program.any_resource = any_resource;

  program.action_enum = types.NewEnum("action");
  EnumType* weekday = types.NewEnum("weekday");
  weekday->members = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  program.weekday_enum = weekday;
}

}  // namespace warden::internal
