#include "runtime/bytecode/disasm.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/values/ip.h"

namespace warden::bc {
namespace {

std::string ShapeText(const Program& p, uint32_t shape) {
  return shape < p.records.size() ? absl::StrCat("record ", p.records[shape].name)
                                  : absl::StrCat("record #", shape);
}

std::string RegTypeText(const Program& p, RegType type) {
  if (KindOf(type) == ValueKind::kRecord) return ShapeText(p, ShapeOf(type));
  if (KindOf(type) == ValueKind::kSet) {
    if (ElementOf(type) == ValueKind::kRecord)
      return absl::StrCat("set<", ShapeText(p, ShapeOf(type)), ">");
    return absl::StrCat("set<", ValueKindName(ElementOf(type)), ">");
  }
  return ValueKindName(KindOf(type));
}

std::string TypeText(const Program& p, const TypeRef& type) {
  auto scalar = [&](TypeCode code) -> std::string {
    if (code == TypeCode::kEnum && type.enumeration >= 0 &&
        static_cast<size_t>(type.enumeration) < p.enums.size()) {
      return absl::StrCat("enum ", p.enums[type.enumeration].name);
    }
    if (code == TypeCode::kRecord && type.record >= 0)
      return ShapeText(p, static_cast<uint32_t>(type.record));
    return TypeCodeName(code);
  };
  if (type.code == TypeCode::kSet) return absl::StrCat("set<", scalar(type.element), ">");
  return scalar(type.code);
}

std::string MemberText(const Program& p, const Member& m) {
  if (m.is_set)
    return m.index < p.policy_sets.size() ? absl::StrCat("policyset ", p.policy_sets[m.index].name)
                                          : "?";
  return m.index < p.policies.size() ? absl::StrCat("policy ", p.policies[m.index].name) : "?";
}

template <typename T, typename F>
std::string NameAt(const std::vector<T>& items, uint32_t index, F name) {
  return index < items.size() ? std::string(name(items[index])) : std::string("?");
}

}  // namespace

std::string ConstantText(const Program& p, uint32_t index) {
  if (index >= p.constants.size()) return "?";
  const Constant& k = p.constants[index];
  switch (k.kind) {
    case ValueKind::kBool:
      return k.i != 0 ? "true" : "false";
    case ValueKind::kInt:
      return absl::StrCat(k.i);
    case ValueKind::kString:
      return absl::StrCat("\"", absl::CEscape(k.s), "\"");
    case ValueKind::kIp:
      return values::IpString(k.ip);
    case ValueKind::kSet: {
      std::vector<std::string> members;
      for (uint32_t e : k.elements) members.push_back(e < index ? ConstantText(p, e) : "?");
      return absl::StrCat("{", absl::StrJoin(members, ", "), "}");
    }
    default:
      return "?";
  }
}

std::string DisassembleBlock(const Program& p, uint32_t index) {
  if (index >= p.blocks.size()) return "";
  const CodeBlock& block = p.blocks[index];
  std::string out = absl::StrCat("block ", index, " -> ", RegTypeText(p, block.result), " (");
  for (uint32_t r = 0; r < block.num_regs && block.reg_begin + r < p.reg_types.size(); ++r) {
    absl::StrAppend(&out, r == 0 ? "" : " ", "r", r, ":",
                    RegTypeText(p, p.reg_types[block.reg_begin + r]));
  }
  absl::StrAppend(&out, ")\n");
  const SourceLine* last_line = nullptr;
  for (uint32_t pc = 0; pc < block.size && block.begin + pc < p.code.size(); ++pc) {
    // The source line, where it changes (the line table of errors).
    if (const SourceLine* at = p.LineOf(block.begin + pc); at != nullptr && at != last_line) {
      last_line = at;
      absl::StrAppend(&out, "        ; ", at->file < p.files.size() ? p.files[at->file] : "?", ":",
                      at->line, "\n");
    }
    const Instr& in = p.code[block.begin + pc];
    if (static_cast<int>(in.op) >= kOpCount) {
      absl::StrAppendFormat(&out, "  %04d  <bad opcode %d>\n", pc, static_cast<int>(in.op));
      continue;
    }
    const OpInfo& info = Info(in.op);
    std::vector<std::string> operands;
    std::vector<std::string> notes;
    auto operand = [&](Operand kind, uint32_t v) {
      switch (kind) {
        case Operand::_:
          return;
        case Operand::RB:
        case Operand::RI:
        case Operand::RS:
        case Operand::RP:
        case Operand::RT:
        case Operand::RX:
        case Operand::RR:
        case Operand::RA:
          operands.push_back(absl::StrCat("r", v));
          return;
        case Operand::FIELD: {
          operands.push_back(absl::StrCat(".", v));
          // The shape is operand b's register type.
          uint32_t reg = block.reg_begin + in.b;
          if (in.b < block.num_regs && reg < p.reg_types.size()) {
            uint32_t shape = ShapeOf(p.reg_types[reg]);
            if (shape < p.records.size() && v < p.records[shape].fields.size())
              notes.push_back(p.records[shape].fields[v].name);
          }
          return;
        }
        case Operand::SLOT: {
          operands.push_back(absl::StrCat("@", v));
          for (const Attribute& a : p.attributes) {
            if (a.slot == v) {
              notes.push_back(a.path);
              break;
            }
          }
          return;
        }
        case Operand::K:
          operands.push_back(absl::StrCat("k", v));
          notes.push_back(ConstantText(p, v));
          return;
        case Operand::J:
          operands.push_back(absl::StrFormat("->%04d", v));
          return;
        case Operand::IMM:
          operands.push_back(absl::StrCat("#", v));
          return;
        case Operand::KIND:
          operands.push_back(v < kValueKindCount ? ValueKindName(static_cast<ValueKind>(v)) : "?");
          return;
        case Operand::ROLE:
          operands.push_back(absl::StrCat("role:", v));
          notes.push_back(
              NameAt(p.roles, v, [](const Role& r) -> const std::string& { return r.name; }));
          return;
        case Operand::RISK:
          operands.push_back(absl::StrCat("risk:", v));
          notes.push_back(
              NameAt(p.risks, v, [](const Risk& r) -> const std::string& { return r.name; }));
          return;
        case Operand::LIMIT:
          operands.push_back(absl::StrCat("limit:", v));
          notes.push_back(
              NameAt(p.limits, v, [](const Limit& l) -> const std::string& { return l.name; }));
          return;
        case Operand::DATA:
          operands.push_back(absl::StrCat("data:", v));
          notes.push_back(
              NameAt(p.data, v, [](const DataSlot& d) -> const std::string& { return d.name; }));
          return;
        case Operand::REGEX:
          operands.push_back(absl::StrCat("re:", v));
          if (v < p.regexes.size()) notes.push_back(absl::StrCat("/", p.regexes[v], "/"));
          return;
        case Operand::ZONE:
          operands.push_back(absl::StrCat("tz:", v));
          if (v < p.zones.size()) notes.push_back(p.zones[v]);
          return;
      }
    };
    operand(info.a, in.a);
    operand(info.b, in.b);
    operand(info.c, in.c);
    std::string line =
        absl::StrFormat("  %04d  %-8s %s", pc, info.name, absl::StrJoin(operands, ", "));
    if (!notes.empty()) {
      if (line.size() < 40) line.resize(40, ' ');
      absl::StrAppend(&line, " ; ", absl::StrJoin(notes, " "));
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string Disassemble(const Program& p) {
  std::string out =
      absl::StrCat("; warden bytecode: ", p.rules.size(), " rules, ", p.policies.size(),
                   " policies, ", p.blocks.size(), " blocks, ", p.code.size(), " instructions, ",
                   p.constants.size(), " constants, ", p.slot_count, " frame slots\n");
  absl::StrAppend(&out, "\nattributes:\n");
  for (size_t i = 0; i < p.attributes.size(); ++i) {
    const Attribute& a = p.attributes[i];
    absl::StrAppend(&out, "  @", a.slot, "  ", a.path, ": ", TypeText(p, a.type),
                    a.optional ? "?" : "", a.sensitive ? " sensitive" : "");
    if (a.default_value == kDefaultNow) absl::StrAppend(&out, " = now");
    if (a.default_value >= 0) absl::StrAppend(&out, " = ", ConstantText(p, a.default_value));
    absl::StrAppend(&out, "\n");
  }
  if (!p.records.empty()) {
    absl::StrAppend(&out, "\nrecord shapes:\n");
    for (size_t i = 0; i < p.records.size(); ++i) {
      const RecordShape& shape = p.records[i];
      absl::StrAppend(&out, "  #", i, "  ", shape.name, " {");
      for (size_t f = 0; f < shape.fields.size(); ++f) {
        const RecordField& field = shape.fields[f];
        absl::StrAppend(&out, f == 0 ? " " : ", ", field.name, ": ", TypeText(p, field.type),
                        field.optional ? "?" : "");
      }
      absl::StrAppend(&out, " }\n");
    }
  }
  absl::StrAppend(&out, "\nconstants:\n");
  for (uint32_t i = 0; i < p.constants.size(); ++i)
    absl::StrAppend(&out, "  k", i, "  ", ConstantText(p, i), "\n");
  if (!p.roles.empty()) {
    absl::StrAppend(&out, "\nroles:\n");
    for (size_t i = 0; i < p.roles.size(); ++i) {
      std::vector<std::string> closure;
      for (uint32_t r : p.roles[i].closure) {
        closure.push_back(
            NameAt(p.roles, r, [](const Role& x) -> const std::string& { return x.name; }));
      }
      absl::StrAppend(&out, "  role:", i, "  ", p.roles[i].name, " = {",
                      absl::StrJoin(closure, ", "), "}\n");
    }
  }
  for (size_t i = 0; i < p.risks.size(); ++i) {
    absl::StrAppend(&out, "\nrisk ", p.risks[i].name, ":\n");
    for (const RiskFactor& f : p.risks[i].factors)
      absl::StrAppend(&out, "  ", f.points > 0 ? "+" : "", f.points, " if block ", f.block, "\n");
  }
  if (!p.limits.empty()) {
    absl::StrAppend(&out, "\nlimits:\n");
    for (size_t i = 0; i < p.limits.size(); ++i) {
      const Limit& limit = p.limits[i];
      absl::StrAppend(&out, "  limit:", i, "  ", limit.name, ": ", limit.count, " per ",
                      limit.window_ms, "ms by");
      for (size_t k = 0; k < limit.keys.size(); ++k) {
        const LimitKey& key = limit.keys[k];
        absl::StrAppend(&out, k == 0 ? " " : ", ", key.path);
        if (key.kind == LimitKey::Kind::kSlot) absl::StrAppend(&out, " @", key.slot);
        if (key.kind == LimitKey::Kind::kResourceType)
          absl::StrAppend(&out, " (resource type, @", key.slot, ")");
      }
      if (limit.keys.empty()) absl::StrAppend(&out, " nothing (one bucket)");
      absl::StrAppend(&out, "\n");
    }
  }
  absl::StrAppend(&out, "\nroots (deny_overrides):");
  for (const Member& m : p.roots) absl::StrAppend(&out, " ", MemberText(p, m), ";");
  absl::StrAppend(&out, "\n");
  for (const PolicySet& set : p.policy_sets) {
    absl::StrAppend(&out, "\npolicyset ", set.name, " ", AlgorithmName(set.algorithm), ":");
    for (const Member& m : set.members) absl::StrAppend(&out, " ", MemberText(p, m), ";");
    absl::StrAppend(&out, "\n");
  }
  for (const Policy& policy : p.policies) {
    absl::StrAppend(&out, "\npolicy ", policy.name, " on ",
                    policy.resource_type < 0
                        ? std::string("*")
                        : NameAt(p.resource_types, policy.resource_type,
                                 [](const std::string& s) -> const std::string& { return s; }),
                    " ", AlgorithmName(policy.algorithm), "\n");
    for (uint32_t r : policy.rules) {
      if (r >= p.rules.size()) continue;
      const Rule& rule = p.rules[r];
      std::vector<std::string> actions;
      for (uint32_t a : rule.actions) {
        actions.push_back(
            NameAt(p.actions, a, [](const Action& x) -> const std::string& { return x.name; }));
      }
      std::string file =
          NameAt(p.files, rule.file, [](const std::string& s) -> const std::string& { return s; });
      absl::StrAppend(&out, "  rule ", rule.name, " (", file, ":", rule.line,
                      "): ", EffectName(rule.effect));
      if (rule.effect == Effect::kStepUp) {
        absl::StrAppend(&out, " ",
                        NameAt(p.challenges, rule.challenge,
                               [](const std::string& s) -> const std::string& { return s; }));
      }
      absl::StrAppend(&out, " ",
                      rule.any_action ? "*" : absl::StrCat("[", absl::StrJoin(actions, ", "), "]"));
      if (rule.condition == kNoBlock)
        absl::StrAppend(&out, " always");
      else
        absl::StrAppend(&out, " if block ", rule.condition);
      if (rule.has_reason) absl::StrAppend(&out, " because \"", absl::CEscape(rule.reason), "\"");
      absl::StrAppend(&out, "\n");
      for (const Conjunct& conjunct : rule.conjuncts)
        absl::StrAppend(&out, "    conjunct block ", conjunct.block, ": ", conjunct.text, "\n");
      for (const Extra& extra : rule.extras) {
        absl::StrAppend(&out, "    ", extra.is_obligation ? "obligation " : "advice ", extra.name,
                        " {");
        for (const ExtraArg& arg : extra.args)
          absl::StrAppend(&out, " ", arg.key, ": block ", arg.block, ";");
        absl::StrAppend(&out, " }\n");
      }
    }
  }
  absl::StrAppend(&out, "\ncode:\n");
  for (uint32_t b = 0; b < p.blocks.size(); ++b) absl::StrAppend(&out, DisassembleBlock(p, b));
  return out;
}

}  // namespace warden::bc
