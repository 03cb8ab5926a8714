#include "cli/reference/vm_bridge.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/reference/test_runner.h"
#include "runtime/record_value.h"
#include "runtime/values/decimal.h"
#include "runtime/values/ip.h"

namespace warden {
namespace {

// A data value as the engine takes it: sets as lists, records as objects.
absl::StatusOr<DataValue> ToDataValue(const std::string& name, const EvalValue& value) {
  using K = EvalValue::Kind;
  switch (value.kind) {
    case K::kBool:
      return DataValue::Bool(value.b);
    case K::kInt:
    case K::kDuration:
    case K::kTimestamp:
      return DataValue::Int(value.i);
    case K::kDecimal:
      return DataValue::String(values::DecimalString(value.i));
    case K::kString:
    case K::kEnum:
      return DataValue::String(value.s);
    case K::kIp:
      return DataValue::String(values::IpString(value.ip));
    case K::kSet: {
      std::vector<DataValue> list;
      for (const EvalValue& element : value.elements) {
        absl::StatusOr<DataValue> item = ToDataValue(name, element);
        if (!item.ok()) return item.status();
        list.push_back(*std::move(item));
      }
      return DataValue::List(std::move(list));
    }
    case K::kRecord: {
      std::vector<DataField> fields;
      for (size_t k = 0; k < value.elements.size() && k < value.names.size(); ++k) {
        absl::StatusOr<DataValue> field = ToDataValue(name, value.elements[k]);
        if (!field.ok()) return field.status();
        fields.push_back(DataField{value.names[k], *std::move(field)});
      }
      return DataValue::Object(std::move(fields));
    }
  }
  return absl::InternalError(absl::StrCat("data `", name, "`: a value of an unknown kind"));
}

// A member of a set of records (or any value inside one), built in the
// frame's arena as the request decoder builds it.
bool BuildValue(const bc::Program& program, const bc::TypeRef& type, const EvalValue& value,
                rt::Arena& arena, rt::Value* out) {
  using K = EvalValue::Kind;
  switch (value.kind) {
    case K::kBool:
      out->i = value.b ? 1 : 0;
      return true;
    case K::kInt:
    case K::kDecimal:
    case K::kDuration:
    case K::kTimestamp:
    case K::kEnum:
      out->i = value.i;
      return true;
    case K::kString: {
      char* copy = static_cast<char*>(arena.Allocate(value.s.size(), 1));
      if (copy == nullptr) return false;
      std::copy(value.s.begin(), value.s.end(), copy);
      out->s = rt::StrRef{copy, static_cast<uint32_t>(value.s.size())};
      return true;
    }
    case K::kIp: {
      auto* ip = static_cast<bc::IpNet*>(arena.Allocate(sizeof(bc::IpNet), alignof(bc::IpNet)));
      if (ip == nullptr) return false;
      *ip = value.ip;
      out->ip = ip;
      return true;
    }
    case K::kSet: {
      bc::TypeRef element = rt::ElementTypeRef(type);
      rt::Value* members = arena.NewValues(value.elements.size());
      if (members == nullptr) return false;
      for (size_t k = 0; k < value.elements.size(); ++k) {
        if (!BuildValue(program, element, value.elements[k], arena, &members[k])) return false;
      }
      size_t size = rt::SortUnique(program, element, members, value.elements.size());
      out->set =
          rt::SetRef{members, static_cast<uint32_t>(size), bc::ScalarKind(element.code), false, 0};
      return true;
    }
    case K::kRecord: {
      if (type.record < 0 || static_cast<size_t>(type.record) >= program.records.size())
        return false;
      const bc::RecordShape& shape = program.records[type.record];
      rt::RecordData* record = arena.NewRecord(static_cast<uint32_t>(type.record),
                                               static_cast<uint32_t>(shape.fields.size()));
      if (record == nullptr) return false;
      for (size_t k = 0; k < value.names.size() && k < value.elements.size(); ++k) {
        int field = shape.FindField(value.names[k]);
        if (field < 0) return false;
        if (!BuildValue(program, shape.fields[field].type, value.elements[k], arena,
                        &record->fields()[field])) {
          return false;
        }
        record->present()[field] = 1;
      }
      out->rec = record;
      return true;
    }
  }
  return false;
}

// Errors as "code in RULE at file:line" (the rule, `risk NAME` or policy it
// happened in; the failing expression's line), sorted.
std::vector<std::string> ErrorCodes(const Decision& vm) {
  std::vector<std::string> codes;
  for (const DecisionError& error : vm.errors) {
    // Separation errors belong to no rule: the VM says "separate", the reference "".
    std::string where =
        error.code == rt::EvalError::kSeparationOfDuties ? "" : std::string(error.where);
    codes.push_back(absl::StrCat(rt::EvalErrorCode(error.code), " in ", where, " at ",
                                 std::string(error.file), ":", error.line));
  }
  std::sort(codes.begin(), codes.end());
  return codes;
}

std::vector<std::string> ErrorCodes(const ReferenceDecision& reference) {
  std::vector<std::string> codes;
  for (const ReferenceError& error : reference.errors)
    codes.push_back(absl::StrCat(rt::EvalErrorCode(error.code), " in ", error.rule, " at ",
                                 error.file, ":", error.line));
  std::sort(codes.begin(), codes.end());
  return codes;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> DataForEngine(
    const CheckedProgram& program, const std::vector<std::optional<EvalValue>>& data) {
  std::vector<std::pair<std::string, DataValue>> out;
  for (size_t k = 0; k < data.size() && k < program.data.size(); ++k) {
    if (!data[k]) continue;
    const std::string& name = program.data[k].name;
    absl::StatusOr<DataValue> value = ToDataValue(name, *data[k]);
    if (!value.ok()) return value.status();
    out.emplace_back(name, std::move(*value));
  }
  return out;
}

absl::Status FillFrame(const CheckedProgram& program, const Engine& engine, const Request& request,
                       int64_t now_millis, rt::Frame* frame) {
  using K = EvalValue::Kind;
  frame->set_now_millis(now_millis);
  frame->set_action(request.action);
  if (request.action < 0) frame->SetUndeclaredActionName(request.action_name);
  frame->set_resource_type(request.resource_type);
  for (int grant : request.jit_grants) frame->AddJitGrant(static_cast<uint32_t>(grant));
  for (size_t k = 0; k < request.limit_counts.size(); ++k) {
    if (request.limit_counts[k]) {
      frame->SetLimitCount(static_cast<uint32_t>(k), *request.limit_counts[k]);
    } else {
      frame->SetLimitUnavailable(static_cast<uint32_t>(k));
    }
  }
  for (const Attribute& attribute : program.attributes) {
    if (attribute.id < 0 || static_cast<size_t>(attribute.id) >= request.attributes.size())
      continue;
    const std::optional<EvalValue>& value = request.attributes[attribute.id];
    if (!value) continue;
    int slot_index = engine.SlotOf(attribute.path);
    if (slot_index < 0) {
      return absl::InternalError(absl::StrCat("the engine has no slot for `", attribute.path, "`"));
    }
    auto slot = static_cast<uint32_t>(slot_index);
    bool ok = false;
    switch (value->kind) {
      case K::kBool:
        ok = frame->SetBool(slot, value->b);
        break;
      case K::kInt:
      case K::kDecimal:
      case K::kDuration:
      case K::kTimestamp:
      case K::kEnum:
        ok = frame->SetInt(slot, value->i);
        break;
      case K::kString:
        ok = frame->SetString(slot, value->s);
        break;
      case K::kIp:
        ok = frame->SetIp(slot, value->ip);
        break;
      case K::kRecord:
        ok = frame->MarkPresent(slot);
        break;
      case K::kSet: {
        const Type* element = attribute.type != nullptr ? attribute.type->element : nullptr;
        TypeKind kind = element != nullptr ? element->kind : TypeKind::kError;
        if (kind == TypeKind::kString) {
          std::vector<std::string_view> items;
          for (const EvalValue& e : value->elements) items.push_back(e.s);
          ok = frame->SetStringSet(slot, items);
        } else if (kind == TypeKind::kIp) {
          std::vector<bc::IpNet> items;
          for (const EvalValue& e : value->elements) items.push_back(e.ip);
          ok = frame->SetIpSet(slot, items);
        } else if (kind == TypeKind::kInt || kind == TypeKind::kDecimal ||
                   kind == TypeKind::kDuration || kind == TypeKind::kTimestamp ||
                   kind == TypeKind::kEnum) {
          std::vector<int64_t> items;
          for (const EvalValue& e : value->elements) items.push_back(e.i);
          ok = frame->SetIntSet(slot, items);
        } else if (kind == TypeKind::kRecord) {
          const bc::Attribute& declared = engine.program().attributes[attribute.id];
          bc::RegType type = 0;
          rt::Value set;
          ok = bc::RegTypeOf(declared.type, &type) &&
               BuildValue(engine.program(), declared.type, *value, frame->arena(), &set) &&
               frame->SetValue(slot, type, set);
        } else {
          return absl::UnimplementedError(absl::StrCat("`", attribute.path, "`: a set of ",
                                                       TypeName(element),
                                                       " cannot be put into a request frame"));
        }
        break;
      }
    }
    if (!ok) {
      return absl::InternalError(absl::StrCat("the frame rejects the value of `", attribute.path,
                                              "` (", FormatValue(*value), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Engine>> BuildEngine(
    const CheckedProgram& program, const bc::Program& bytecode,
    const std::optional<std::vector<PolicySet::Member>>& roots,
    const std::optional<std::vector<int>>& separations,
    const std::vector<std::optional<EvalValue>>& data) {
  bc::Program narrowed = bytecode;
  if (roots) {
    narrowed.roots.clear();
    for (const PolicySet::Member& m : *roots)
      narrowed.roots.push_back(bc::Member{m.is_set, static_cast<uint32_t>(m.index)});
  }
  if (separations) {
    narrowed.separations.clear();
    for (int k : *separations) {
      if (k < 0 || static_cast<size_t>(k) >= bytecode.separations.size())
        return absl::InternalError("separation index out of range");
      narrowed.separations.push_back(bytecode.separations[k]);
    }
  }
  EngineOptions options;
  absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> values =
      DataForEngine(program, data);
  if (!values.ok()) return values.status();
  options.data = std::move(*values);
  // Test semantics: a value the test does not give is empty (a set, string,
  // int or bool) or, of any other type, an error to read; a record's field
  // it does not give is absent. The engine does the same.
  options.allow_missing_data = true;
  return Engine::FromProgram(std::move(narrowed), std::move(options));
}

std::string DescribeVmDecision(const Decision& decision) {
  std::string text = DescribeOutcome(decision.outcome, std::string(decision.challenge));
  std::vector<std::string> names;
  for (const DecidingRule& rule : decision.rules) names.emplace_back(rule.name);
  if (!names.empty()) absl::StrAppend(&text, " by ", absl::StrJoin(names, ", "));
  return text;
}

namespace {

// {key: value, …} of JSON texts, in key order.
std::string ValuesText(const std::map<std::string, std::string>& values) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : values) parts.push_back(absl::StrCat(key, ": ", value));
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

}  // namespace

std::string CompareDecisions(const Decision& vm, const ReferenceDecision& reference) {
  std::vector<std::string> differences;
  std::string vm_challenge(vm.challenge);
  bool same_outcome = vm.outcome == reference.outcome &&
                      (vm.outcome != rt::Outcome::kStepUp || vm_challenge == reference.challenge);
  std::multiset<std::pair<std::string, std::string>> vm_rules;
  for (const DecidingRule& rule : vm.rules)
    vm_rules.emplace(std::string(rule.name), std::string(rule.policy));
  std::multiset<std::pair<std::string, std::string>> reference_rules;
  for (const RuleRef& rule : reference.rules) reference_rules.emplace(rule.name, rule.policy_name);
  std::vector<std::string> vm_errors = ErrorCodes(vm);
  std::vector<std::string> reference_errors = ErrorCodes(reference);
  bool same_rules = vm_rules == reference_rules;
  // Obligations and advice by (kind, name, rule, values as JSON): the caller
  // must carry out every obligation as given, so losing one, or a value that
  // differs, is a difference.
  std::multiset<std::string> vm_extras;
  for (const Obligation& extra : vm.obligations) {
    std::map<std::string, std::string> values;
    for (uint32_t a = extra.first_arg; a < extra.first_arg + extra.arg_count && a < vm.args.size();
         ++a) {
      values[std::string(vm.args[a].key)] =
          nlohmann::json::parse(vm.args[a].json, nullptr, /*allow_exceptions=*/false).dump();
    }
    vm_extras.insert(absl::StrCat(extra.is_obligation ? "obligation " : "advice ",
                                  std::string(extra.name), " of ", std::string(extra.rule), " ",
                                  ValuesText(values)));
  }
  std::multiset<std::string> reference_extras;
  auto add_reference = [&](const char* kind, const DecisionExtra& extra) {
    std::map<std::string, std::string> values;
    for (const auto& [key, value] : extra.values) values[key] = ValueJson(value).dump();
    reference_extras.insert(
        absl::StrCat(kind, extra.name, " of ", extra.rule, " ", ValuesText(values)));
  };
  for (const DecisionExtra& extra : reference.obligations) add_reference("obligation ", extra);
  for (const DecisionExtra& extra : reference.advice) add_reference("advice ", extra);
  bool same_extras = vm_extras == reference_extras;
  if (same_outcome && same_rules && same_extras && vm_errors == reference_errors) return "";
  differences.push_back(absl::StrCat("vm says ", DescribeVmDecision(vm), ", reference says ",
                                     DescribeDecision(reference)));
  if (!same_rules) {
    auto names = [](const std::multiset<std::pair<std::string, std::string>>& rules) {
      std::vector<std::string> out;
      for (const auto& [name, policy] : rules) out.push_back(absl::StrCat(policy, ".", name));
      return absl::StrJoin(out, ", ");
    };
    differences.push_back(absl::StrCat("deciding rules: vm {", names(vm_rules), "}, reference {",
                                       names(reference_rules), "}"));
  }
  if (!same_extras) {
    differences.push_back(absl::StrCat("obligations and advice: vm {",
                                       absl::StrJoin(vm_extras, ", "), "}, reference {",
                                       absl::StrJoin(reference_extras, ", "), "}"));
  }
  if (vm_errors != reference_errors) {
    std::vector<std::string> vm_detail;
    for (const DecisionError& error : vm.errors) {
      vm_detail.push_back(absl::StrCat(rt::EvalErrorCode(error.code), " in ",
                                       std::string(error.where), " (", std::string(error.file), ":",
                                       error.line, ": ", std::string(error.what), ")"));
    }
    std::vector<std::string> reference_detail;
    for (const ReferenceError& error : reference.errors) {
      reference_detail.push_back(absl::StrCat(rt::EvalErrorCode(error.code), " in ", error.rule,
                                              " (", error.file, ":", error.line, ": ",
                                              error.message, ")"));
    }
    differences.push_back(absl::StrCat("errors: vm [", absl::StrJoin(vm_detail, ", "),
                                       "], reference [", absl::StrJoin(reference_detail, ", "),
                                       "]"));
  }
  return absl::StrJoin(differences, "; ");
}

namespace {

// One explained rule as one line of text, for comparing and for messages.
std::string ExplainedText(const std::string& policy, const std::string& name,
                          const std::string& file, uint32_t line, const std::string& effect,
                          const std::string& status, const std::string& error,
                          const std::vector<std::string>& failed) {
  std::string text =
      absl::StrCat(policy, ".", name, " (", file, ":", line, ") ", effect, " ", status);
  if (!error.empty()) absl::StrAppend(&text, " error: ", error);
  if (!failed.empty()) absl::StrAppend(&text, " failed: [", absl::StrJoin(failed, " | "), "]");
  return text;
}

}  // namespace

std::string CompareExplanations(const Explanation& vm, const ReferenceDecision& reference) {
  std::vector<std::string> vm_lines;
  for (const RuleExplanation& rule : vm.rules) {
    vm_lines.push_back(ExplainedText(
        std::string(rule.policy), std::string(rule.name), std::string(rule.file), rule.line,
        rule.effect, RuleStatusName(rule.status), rule.error, rule.failed_conditions));
  }
  std::vector<std::string> reference_lines;
  for (const ExplainedRule& rule : reference.explain) {
    reference_lines.push_back(ExplainedText(rule.rule.policy_name, rule.rule.name, rule.rule.file,
                                            rule.rule.line, rule.effect, rule.status, rule.error,
                                            rule.failed_conditions));
  }
  if (vm_lines == reference_lines) return "";
  size_t k = 0;
  while (k < vm_lines.size() && k < reference_lines.size() && vm_lines[k] == reference_lines[k])
    ++k;
  return absl::StrCat("explain differs at entry ", k, ": vm ",
                      k < vm_lines.size() ? vm_lines[k] : std::string("(none)"), ", reference ",
                      k < reference_lines.size() ? reference_lines[k] : std::string("(none)"),
                      " (vm lists ", vm_lines.size(), " rules, reference ", reference_lines.size(),
                      ")");
}

std::string DescribeRequest(const CheckedProgram& program, const Request& request) {
  std::vector<std::string> parts;
  parts.push_back(
      absl::StrCat("action ", request.action_name, request.action < 0 ? " (undeclared)" : ""));
  parts.push_back(absl::StrCat("resource.type ", request.resource_type_name,
                               request.resource_type < 0 ? " (undeclared)" : ""));
  for (const Attribute& attribute : program.attributes) {
    if (attribute.id < 0 || static_cast<size_t>(attribute.id) >= request.attributes.size())
      continue;
    const std::optional<EvalValue>& value = request.attributes[attribute.id];
    if (value && value->kind != EvalValue::Kind::kRecord)
      parts.push_back(absl::StrCat(attribute.path, " = ", FormatValue(*value)));
  }
  std::vector<std::string> grants;
  for (int grant : request.jit_grants) grants.push_back(program.jit_profiles[grant].name);
  if (!grants.empty()) parts.push_back(absl::StrCat("jit [", absl::StrJoin(grants, ", "), "]"));
  for (size_t k = 0; k < request.limit_counts.size() && k < program.limits.size(); ++k) {
    parts.push_back(absl::StrCat(
        "limits.", program.limits[k].name, " count ",
        request.limit_counts[k] ? absl::StrCat(*request.limit_counts[k]) : "unavailable"));
  }
  for (size_t k = 0; k < request.data.size() && k < program.data.size(); ++k) {
    parts.push_back(absl::StrCat("data.", program.data[k].name, " = ",
                                 request.data[k] ? FormatValue(*request.data[k]) : "(not given)"));
  }
  return absl::StrJoin(parts, "\n  ");
}

}  // namespace warden
