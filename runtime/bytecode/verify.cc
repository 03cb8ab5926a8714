#include "runtime/bytecode/verify.h"

#include <algorithm>
#include <bitset>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "re2/re2.h"

namespace warden::bc {
namespace {

absl::Status Bad(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("bundle: ", message));
}

#define WARDEN_RETURN_IF_ERROR(expr)   \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (false)

class Verifier {
 public:
  Verifier(const Program& p, const ProgramLimits& limits) : p_(p), limits_(limits) {}

  absl::Status Run() {
    WARDEN_RETURN_IF_ERROR(Sizes());
    WARDEN_RETURN_IF_ERROR(Constants());
    WARDEN_RETURN_IF_ERROR(Records());
    WARDEN_RETURN_IF_ERROR(Schema());
    WARDEN_RETURN_IF_ERROR(Roles());
    WARDEN_RETURN_IF_ERROR(Patterns());
    WARDEN_RETURN_IF_ERROR(Blocks());
    WARDEN_RETURN_IF_ERROR(RisksAndRules());
    WARDEN_RETURN_IF_ERROR(Policies());
    WARDEN_RETURN_IF_ERROR(Lines());
    return absl::OkStatus();
  }

 private:
  // ---------------------------------------------------------------- sizes

  absl::Status Table(const char* what, size_t size) {
    if (size > limits_.max_table_entries) {
      return absl::ResourceExhaustedError(
          absl::StrCat("bundle: ", size, " ", what, " exceed the limit of ",
                       limits_.max_table_entries, " (max_table_entries)"));
    }
    return absl::OkStatus();
  }

  absl::Status Sizes() {
    WARDEN_RETURN_IF_ERROR(Table("files", p_.files.size()));
    WARDEN_RETURN_IF_ERROR(Table("attributes", p_.attributes.size()));
    WARDEN_RETURN_IF_ERROR(Table("slots", p_.slot_count));
    WARDEN_RETURN_IF_ERROR(Table("enums", p_.enums.size()));
    WARDEN_RETURN_IF_ERROR(Table("record shapes", p_.records.size()));
    if (p_.records.size() >= kMaxRecordShapes) return Bad("too many record shapes");
    WARDEN_RETURN_IF_ERROR(Table("actions", p_.actions.size()));
    WARDEN_RETURN_IF_ERROR(Table("resource types", p_.resource_types.size()));
    WARDEN_RETURN_IF_ERROR(Table("separations", p_.separations.size()));
    WARDEN_RETURN_IF_ERROR(Table("challenges", p_.challenges.size()));
    WARDEN_RETURN_IF_ERROR(Table("jit profiles", p_.jit_profiles.size()));
    WARDEN_RETURN_IF_ERROR(Table("risks", p_.risks.size()));
    WARDEN_RETURN_IF_ERROR(Table("limits", p_.limits.size()));
    WARDEN_RETURN_IF_ERROR(Table("data slots", p_.data.size()));
    WARDEN_RETURN_IF_ERROR(Table("rules", p_.rules.size()));
    WARDEN_RETURN_IF_ERROR(Table("policies", p_.policies.size()));
    WARDEN_RETURN_IF_ERROR(Table("policy sets", p_.policy_sets.size()));
    WARDEN_RETURN_IF_ERROR(Table("roots", p_.roots.size()));
    WARDEN_RETURN_IF_ERROR(Table("constants", p_.constants.size()));
    WARDEN_RETURN_IF_ERROR(Table("regexes", p_.regexes.size()));
    WARDEN_RETURN_IF_ERROR(Table("time zones", p_.zones.size()));
    WARDEN_RETURN_IF_ERROR(Table("blocks", p_.blocks.size()));
    WARDEN_RETURN_IF_ERROR(Table("register types", p_.reg_types.size()));
    WARDEN_RETURN_IF_ERROR(Table("source lines", p_.lines.size()));
    if (p_.code.size() > limits_.max_code) {
      return absl::ResourceExhaustedError(absl::StrCat("bundle: ", p_.code.size(),
                                                       " instructions exceed the limit of ",
                                                       limits_.max_code, " (max_code)"));
    }
    if (p_.roles.size() > limits_.max_roles) {
      return absl::ResourceExhaustedError(absl::StrCat("bundle: ", p_.roles.size(),
                                                       " roles exceed the limit of ",
                                                       limits_.max_roles, " (max_roles)"));
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------- values and types

  static bool ScalarValueKind(ValueKind kind) { return kind <= ValueKind::kIp; }

  absl::Status Constants() {
    for (size_t i = 0; i < p_.constants.size(); ++i) {
      const Constant& k = p_.constants[i];
      std::string where = absl::StrCat("constant ", i, ": ");
      switch (k.kind) {
        case ValueKind::kBool:
          if (k.i != 0 && k.i != 1) return Bad(where + "a bool must be 0 or 1");
          break;
        case ValueKind::kInt:
        case ValueKind::kString:
          break;
        case ValueKind::kIp:
          if (k.ip.prefix > (k.ip.v6 ? 128 : 32)) return Bad(where + "IP prefix out of range");
          break;
        case ValueKind::kSet: {
          if (!ScalarValueKind(k.element)) return Bad(where + "invalid set element kind");
          if (k.elements.size() > limits_.max_constant_set_size) {
            return absl::ResourceExhaustedError(absl::StrCat(
                "bundle: ", where, k.elements.size(), " members exceed max_constant_set_size"));
          }
          for (size_t j = 0; j < k.elements.size(); ++j) {
            uint32_t e = k.elements[j];
            if (e >= i)
              return Bad(absl::StrCat(where, "member ", j, " must refer to an earlier constant"));
            if (p_.constants[e].kind != k.element)
              return Bad(absl::StrCat(where, "member ", j, " has the wrong kind"));
            if (j > 0 && CompareScalars(p_.constants[k.elements[j - 1]], p_.constants[e]) >= 0) {
              return Bad(absl::StrCat(where, "members must be sorted and unique"));
            }
          }
          break;
        }
        default:
          return Bad(where + "invalid kind");
      }
      if (k.kind != ValueKind::kSet && !k.elements.empty())
        return Bad(where + "a scalar has members");
      if (k.s.size() > limits_.max_string_bytes)
        return Bad(where + "string exceeds max_string_bytes");
    }
    return absl::OkStatus();
  }

  // `max_record`: record shapes at or above this index are out of range (a
  // shape's fields may only name earlier shapes).
  absl::Status Type(const TypeRef& type, const std::string& where, size_t max_record) {
    if (static_cast<int>(type.code) >= kTypeCodeCount) return Bad(where + ": invalid type");
    if (type.code == TypeCode::kSet) {
      if (static_cast<int>(type.element) >= kTypeCodeCount || type.element == TypeCode::kSet) {
        return Bad(where + ": invalid set element type");
      }
    }
    bool recordish = type.code == TypeCode::kRecord ||
                     (type.code == TypeCode::kSet && type.element == TypeCode::kRecord);
    if (recordish) {
      if (type.record < -1 || (type.record >= 0 && static_cast<size_t>(type.record) >= max_record))
        return Bad(where + ": record shape out of range");
      // A set of records is a value: its members need a shape.
      if (type.code == TypeCode::kSet && type.record < 0)
        return Bad(where + ": a set of records without a shape");
    } else if (type.record != -1) {
      return Bad(where + ": record shape on a non-record type");
    }
    bool enumish = type.code == TypeCode::kEnum ||
                   (type.code == TypeCode::kSet && type.element == TypeCode::kEnum);
    if (enumish) {
      if (type.enumeration < 0 || static_cast<size_t>(type.enumeration) >= p_.enums.size()) {
        return Bad(where + ": enum index out of range");
      }
    } else if (type.enumeration != -1) {
      return Bad(where + ": enum index on a non-enum type");
    }
    return absl::OkStatus();
  }

  absl::Status Type(const TypeRef& type, const std::string& where) {
    return Type(type, where, p_.records.size());
  }

  absl::Status Records() {
    for (size_t i = 0; i < p_.records.size(); ++i) {
      const RecordShape& shape = p_.records[i];
      std::string where = absl::StrCat("record shape ", i);
      if (shape.name.size() > limits_.max_string_bytes) return Bad(where + ": name too long");
      if (shape.fields.size() > limits_.max_table_entries) return Bad(where + ": too many fields");
      for (size_t f = 0; f < shape.fields.size(); ++f) {
        const RecordField& field = shape.fields[f];
        std::string at = absl::StrCat(where, " field ", f);
        if (field.name.empty() || field.name.size() > limits_.max_string_bytes)
          return Bad(at + ": invalid name");
        for (size_t g = 0; g < f; ++g) {
          if (shape.fields[g].name == field.name) return Bad(at + ": a duplicate name");
        }
        WARDEN_RETURN_IF_ERROR(Type(field.type, at, i));
        RegType type = 0;
        if (!RegTypeOf(field.type, &type)) return Bad(at + ": a nested record without a shape");
      }
    }
    return absl::OkStatus();
  }

  static RegType ConstantType(const Constant& k) {
    return k.kind == ValueKind::kSet ? MakeRegType(ValueKind::kSet, k.element)
                                     : MakeRegType(k.kind);
  }

  absl::Status Schema() {
    for (const std::string& file : p_.files) {
      if (file.size() > limits_.max_string_bytes)
        return Bad("a file name exceeds max_string_bytes");
    }
    slot_types_.assign(p_.slot_count, kUnsetSlot);
    for (size_t i = 0; i < p_.attributes.size(); ++i) {
      const Attribute& a = p_.attributes[i];
      std::string where = absl::StrCat("attribute ", i);
      WARDEN_RETURN_IF_ERROR(Type(a.type, where));
      if (a.slot >= p_.slot_count) return Bad(where + ": slot out of range");
      if (a.parent != -1) {
        if (a.parent < 0 || static_cast<size_t>(a.parent) >= i)
          return Bad(where + ": parent must be an earlier attribute");
        if (p_.attributes[a.parent].type.code != TypeCode::kRecord)
          return Bad(where + ": parent is not a record");
      }
      if (a.resource_type != -1 && (a.resource_type < 0 || static_cast<size_t>(a.resource_type) >=
                                                               p_.resource_types.size())) {
        return Bad(where + ": resource type out of range");
      }
      RegType type = kRecordSlot;
      if (a.type.code != TypeCode::kRecord) RegTypeOf(a.type, &type);
      if (slot_types_[a.slot] != kUnsetSlot && slot_types_[a.slot] != type) {
        return Bad(where + ": shares a slot with an attribute of another type");
      }
      slot_types_[a.slot] = type;
      if (a.default_value == kDefaultNow) {
        if (a.type.code != TypeCode::kTimestamp)
          return Bad(where + ": only timestamps default to now");
      } else if (a.default_value != kNoDefault) {
        if (a.default_value < 0 || static_cast<size_t>(a.default_value) >= p_.constants.size()) {
          return Bad(where + ": default constant out of range");
        }
        if (type == kRecordSlot || ConstantType(p_.constants[a.default_value]) != type) {
          return Bad(where + ": default has the wrong type");
        }
      }
    }
    for (size_t i = 0; i < p_.enums.size(); ++i) {
      if (p_.enums[i].members.size() > limits_.max_table_entries)
        return Bad("an enum is too large");
    }
    if (p_.action_enum != -1 &&
        (p_.action_enum < 0 || static_cast<size_t>(p_.action_enum) >= p_.enums.size())) {
      return Bad("action enum out of range");
    }
    for (size_t i = 0; i < p_.data.size(); ++i) {
      WARDEN_RETURN_IF_ERROR(Type(p_.data[i].type, absl::StrCat("data ", i)));
      RegType type = 0;
      if (!RegTypeOf(p_.data[i].type, &type))
        return Bad(absl::StrCat("data ", i, ": a record without a shape"));
    }
    for (size_t i = 0; i < p_.limits.size(); ++i) {
      if (p_.limits[i].count < 0 || p_.limits[i].window_ms < 0)
        return Bad(absl::StrCat("limit ", i, ": negative"));
      WARDEN_RETURN_IF_ERROR(LimitKeys(i));
    }
    return absl::OkStatus();
  }

  // The front-end reads limit keys straight from the frame
  // (runtime/limit_key.h), so every component must name a readable scalar.
  absl::Status LimitKeys(size_t i) {
    const Limit& limit = p_.limits[i];
    std::string where = absl::StrCat("limit ", i);
    // An identifier, as the checker makes it: the name starts the canonical
    // key and must not contain the component separator.
    if (limit.name.empty() || limit.name.size() > limits_.max_string_bytes)
      return Bad(where + ": invalid name");
    for (char c : limit.name) {
      bool ok =
          c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!ok) return Bad(where + ": the name is not an identifier");
    }
    if (limit.keys.size() > kMaxLimitKeys) {
      return Bad(absl::StrCat(where, ": ", limit.keys.size(),
                              " key components exceed the limit of ", kMaxLimitKeys));
    }
    for (size_t k = 0; k < limit.keys.size(); ++k) {
      const LimitKey& key = limit.keys[k];
      std::string at = absl::StrCat(where, " key ", k);
      if (key.path.size() > limits_.max_string_bytes) return Bad(at + ": path too long");
      switch (key.kind) {
        case LimitKey::Kind::kAction:
          if (key.slot != 0) return Bad(at + ": an action key has no slot");
          break;
        case LimitKey::Kind::kResourceType:
          if (key.slot >= p_.slot_count) return Bad(at + ": slot out of range");
          if (slot_types_[key.slot] != MakeRegType(ValueKind::kString))
            return Bad(at + ": the resource type slot must hold a string");
          break;
        case LimitKey::Kind::kSlot: {
          if (key.slot >= p_.slot_count) return Bad(at + ": slot out of range");
          RegType type = slot_types_[key.slot];
          bool scalar =
              type == MakeRegType(ValueKind::kBool) || type == MakeRegType(ValueKind::kInt) ||
              type == MakeRegType(ValueKind::kString) || type == MakeRegType(ValueKind::kIp);
          if (!scalar) return Bad(at + ": the slot holds no single value");
          break;
        }
        default:
          return Bad(at + ": invalid kind");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Roles() {
    auto check = [&](const std::vector<uint32_t>& roles, const std::string& where) -> absl::Status {
      for (uint32_t role : roles) {
        if (role >= p_.roles.size()) return Bad(where + ": role out of range");
      }
      return absl::OkStatus();
    };
    for (size_t i = 0; i < p_.roles.size(); ++i)
      WARDEN_RETURN_IF_ERROR(check(p_.roles[i].closure, absl::StrCat("role ", i)));
    for (size_t i = 0; i < p_.separations.size(); ++i) {
      WARDEN_RETURN_IF_ERROR(check(p_.separations[i].roles, absl::StrCat("separation ", i)));
      if (p_.separations[i].file >= p_.files.size() && !p_.files.empty())
        return Bad("separation: file out of range");
    }
    for (size_t i = 0; i < p_.jit_profiles.size(); ++i) {
      WARDEN_RETURN_IF_ERROR(check(p_.jit_profiles[i].grants, absl::StrCat("jit profile ", i)));
    }
    return absl::OkStatus();
  }

  absl::Status Patterns() {
    for (size_t i = 0; i < p_.regexes.size(); ++i) {
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(limits_.max_regex_memory);
      RE2 re(p_.regexes[i], options);
      if (!re.ok()) return Bad(absl::StrCat("regex ", i, " does not compile: ", re.error()));
    }
    for (size_t i = 0; i < p_.zones.size(); ++i) {
      absl::TimeZone zone;
      if (!absl::LoadTimeZone(p_.zones[i], &zone))
        return Bad(absl::StrCat("unknown time zone `", p_.zones[i], "`"));
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------- code

  bool ValidRegType(RegType type) const {
    ValueKind kind = KindOf(type);
    if (static_cast<int>(kind) >= kValueKindCount) return false;
    bool shaped = kind == ValueKind::kRecord ||
                  (kind == ValueKind::kSet && ElementOf(type) == ValueKind::kRecord);
    if (shaped) {
      if (ShapeOf(type) >= p_.records.size()) return false;
    } else if (ShapeOf(type) != 0) {
      return false;
    }
    if (kind == ValueKind::kSet)
      return ScalarValueKind(ElementOf(type)) || ElementOf(type) == ValueKind::kRecord;
    return ElementOf(type) == ValueKind::kBool;  // no element nibble
  }

  absl::Status Blocks() {
    uses_risk_.assign(p_.blocks.size(), false);
    for (size_t i = 0; i < p_.blocks.size(); ++i) {
      WARDEN_RETURN_IF_ERROR(Block(i));
    }
    return absl::OkStatus();
  }

  absl::Status Block(size_t index) {
    const CodeBlock& block = p_.blocks[index];
    std::string where = absl::StrCat("block ", index);
    if (block.size == 0) return Bad(where + ": empty");
    if (block.size > limits_.max_block_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat("bundle: ", where, ": ", block.size, " instructions exceed max_block_size"));
    }
    if (block.begin > p_.code.size() || block.size > p_.code.size() - block.begin)
      return Bad(where + ": code out of range");
    if (block.num_regs > limits_.max_registers || block.num_regs > kMaxRegisters) {
      return absl::ResourceExhaustedError(
          absl::StrCat("bundle: ", where, ": ", block.num_regs, " registers exceed max_registers"));
    }
    if (block.reg_begin > p_.reg_types.size() ||
        block.num_regs > p_.reg_types.size() - block.reg_begin) {
      return Bad(where + ": register types out of range");
    }
    const RegType* regs = p_.reg_types.data() + block.reg_begin;
    for (size_t r = 0; r < block.num_regs; ++r) {
      if (!ValidRegType(regs[r]))
        return Bad(absl::StrCat(where, ": register ", r, " has an invalid type"));
    }
    if (!ValidRegType(block.result) || KindOf(block.result) == ValueKind::kIter)
      return Bad(where + ": invalid result type");
    const Instr* code = p_.code.data() + block.begin;
    if (code[block.size - 1].op != Op::kRET) return Bad(where + ": does not end with RET");

    std::vector<std::pair<uint32_t, uint32_t>> loops;  // [FORNEXT, LOOP]
    for (uint32_t pc = 0; pc < block.size; ++pc) {
      WARDEN_RETURN_IF_ERROR(Instruction(block, regs, code, pc, where, &loops, index));
    }
    WARDEN_RETURN_IF_ERROR(Loops(code, loops, where));
    return Assignment(block, regs, code, where);
  }

  // `where()` makes the message's location, only when there is an error (the
  // verifier runs over every instruction of a bundle at load).
  template <typename Where>
  absl::Status CheckOperand(bc::Operand kind, uint32_t value, const CodeBlock& block,
                            const RegType* regs, uint32_t pc, const Where& where, const Instr& in) {
    auto reg_kind = [&](ValueKind want) -> absl::Status {
      if (value >= block.num_regs)
        return Bad(absl::StrCat(where(), ": register ", value, " out of range"));
      if (KindOf(regs[value]) != want) {
        return Bad(absl::StrCat(where(), ": register ", value, " holds ",
                                ValueKindName(KindOf(regs[value])), ", needs ",
                                ValueKindName(want)));
      }
      return absl::OkStatus();
    };
    auto index = [&](size_t size, const char* what) -> absl::Status {
      if (value >= size) return Bad(absl::StrCat(where(), ": ", what, " ", value, " out of range"));
      return absl::OkStatus();
    };
    switch (kind) {
      case bc::Operand::_:
        if (value != 0) return Bad(where() + ": an unused operand is not 0");
        return absl::OkStatus();
      case bc::Operand::RB:
        return reg_kind(ValueKind::kBool);
      case bc::Operand::RI:
        return reg_kind(ValueKind::kInt);
      case bc::Operand::RS:
        return reg_kind(ValueKind::kString);
      case bc::Operand::RP:
        return reg_kind(ValueKind::kIp);
      case bc::Operand::RT:
        return reg_kind(ValueKind::kSet);
      case bc::Operand::RX:
        return reg_kind(ValueKind::kIter);
      case bc::Operand::RR:
        return reg_kind(ValueKind::kRecord);
      case bc::Operand::FIELD:  // checked against operand b's shape in Instruction
        return absl::OkStatus();
      case bc::Operand::RA:
        if (value >= block.num_regs)
          return Bad(absl::StrCat(where(), ": register ", value, " out of range"));
        if (KindOf(regs[value]) == ValueKind::kIter)
          return Bad(where() + ": an iterator is not a value");
        return absl::OkStatus();
      case bc::Operand::SLOT:
        return index(p_.slot_count, "slot");
      case bc::Operand::K:
        return index(p_.constants.size(), "constant");
      case bc::Operand::J:
        if (in.op == Op::kLOOP) {
          if (value >= pc) return Bad(where() + ": LOOP must jump backwards");
          return absl::OkStatus();
        }
        if (value <= pc || value >= block.size)
          return Bad(
              absl::StrCat(where(), ": jump target ", value, " is not forward inside the block"));
        return absl::OkStatus();
      case bc::Operand::IMM:
        if (in.op == Op::kBOOL && value > 1)
          return Bad(where() + ": a bool immediate must be 0 or 1");
        if (in.op == Op::kSETNEW && (value > limits_.max_set_literal || value > 65535)) {
          return absl::ResourceExhaustedError(
              absl::StrCat("bundle: ", where(), ": set capacity exceeds max_set_literal"));
        }
        return absl::OkStatus();
      case bc::Operand::ROLE:
        return index(p_.roles.size(), "role");
      case bc::Operand::RISK:
        return index(p_.risks.size(), "risk");
      case bc::Operand::LIMIT:
        return index(p_.limits.size(), "limit");
      case bc::Operand::DATA:
        return index(p_.data.size(), "data slot");
      case bc::Operand::REGEX:
        return index(p_.regexes.size(), "regex");
      case bc::Operand::ZONE:
        return index(p_.zones.size(), "time zone");
      case bc::Operand::KIND:
        if (value > static_cast<uint32_t>(ValueKind::kIp))
          return Bad(where() + ": invalid element kind");
        return absl::OkStatus();
    }
    return Bad(where() + ": invalid operand kind");
  }

  absl::Status Instruction(const CodeBlock& block, const RegType* regs, const Instr* code,
                           uint32_t pc, const std::string& block_where,
                           std::vector<std::pair<uint32_t, uint32_t>>* loops, size_t block_index) {
    const Instr& in = code[pc];
    if (static_cast<int>(in.op) >= kOpCount) {
      return Bad(absl::StrCat(block_where, " instruction ", pc, ": unknown opcode ",
                              static_cast<int>(in.op)));
    }
    const OpInfo& info = Info(in.op);
    auto where = [&] {
      return absl::StrCat(block_where, " instruction ", pc, " (", info.name, ")");
    };
    auto operand = [&](const char* name) { return [&where, name] { return where() + name; }; };
    WARDEN_RETURN_IF_ERROR(CheckOperand(info.a, in.a, block, regs, pc, operand(" operand a"), in));
    WARDEN_RETURN_IF_ERROR(CheckOperand(info.b, in.b, block, regs, pc, operand(" operand b"), in));
    WARDEN_RETURN_IF_ERROR(CheckOperand(info.c, in.c, block, regs, pc, operand(" operand c"), in));
    auto same = [&](RegType have, RegType want, const char* what) -> absl::Status {
      if (have != want) return Bad(absl::StrCat(where(), ": register type does not match ", what));
      return absl::OkStatus();
    };
    auto element = [&](uint32_t set_reg) { return ElementTypeOf(regs[set_reg]); };
    switch (in.op) {
      case Op::kLOAD:
        if (slot_types_[in.c] == kRecordSlot || slot_types_[in.c] == kUnsetSlot) {
          return Bad(where() + ": the slot holds no loadable value");
        }
        return same(regs[in.a], slot_types_[in.c], "the slot's type");
      case Op::kCONST:
        return same(regs[in.a], ConstantType(p_.constants[in.c]), "the constant's type");
      case Op::kDATA: {
        RegType type = 0;
        if (!RegTypeOf(p_.data[in.c].type, &type)) return Bad(where() + ": the data has no value");
        return same(regs[in.a], type, "the data slot's type");
      }
      case Op::kFIELD: {
        const RecordShape& shape = p_.records[ShapeOf(regs[in.b])];
        if (in.c >= shape.fields.size())
          return Bad(absl::StrCat(where(), ": field ", in.c, " out of range"));
        RegType type = 0;
        if (!RegTypeOf(shape.fields[in.c].type, &type))
          return Bad(where() + ": the field has no value");
        return same(regs[in.a], type, "the field's type");
      }
      case Op::kRET:
        return same(regs[in.a], block.result, "the block's result");
      case Op::kMOVE:
        return same(regs[in.a], regs[in.b], "the source register's type");
      case Op::kELEM:
        return same(regs[in.a], element(in.b), "the set's element type");
      case Op::kSETADD:
        return same(regs[in.b], element(in.a), "the set's element type");
      case Op::kSETNEW:
        if (static_cast<uint32_t>(ElementOf(regs[in.a])) != in.b)
          return Bad(where() + ": element kind mismatch");
        return absl::OkStatus();
      case Op::kEQT:
      case Op::kNET:
      case Op::kSETANY:
      case Op::kSETALL:
        return same(regs[in.b], regs[in.c], "the other set's type");
      case Op::kINB:
      case Op::kINI:
      case Op::kINS:
      case Op::kINP:
      case Op::kINR:
        return same(regs[in.b], element(in.c), "the set's element type");
      case Op::kRISK:
        uses_risk_[block_index] = true;
        return absl::OkStatus();
      case Op::kLOOP: {
        const Instr& head = code[in.c];
        if (head.op != Op::kFORNEXT) return Bad(where() + ": LOOP must target a FORNEXT");
        if (head.c <= pc) return Bad(where() + ": the FORNEXT's exit must lie after the LOOP");
        loops->emplace_back(in.c, pc);
        return absl::OkStatus();
      }
      default:
        return absl::OkStatus();
    }
  }

  // Loops nest properly and never reset their own iterator, so every LOOP
  // runs at most (set size) times per entry: blocks always terminate.
  static absl::Status Loops(const Instr* code, std::vector<std::pair<uint32_t, uint32_t>>& loops,
                            const std::string& where) {
    std::sort(loops.begin(), loops.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : x.second > y.second;
    });
    if (loops.empty()) return absl::OkStatus();
    std::vector<std::pair<uint32_t, uint32_t>> open;
    // Where each iterator register is written (FORINIT, FORNEXT), in order.
    std::vector<std::vector<uint32_t>> writes(kMaxRegisters);
    {
      uint32_t end = loops.front().second;
      for (const auto& loop : loops) end = std::max(end, loop.second);
      for (uint32_t pc = 0; pc <= end; ++pc) {
        const OpInfo& info = Info(code[pc].op);
        if (info.a == bc::Operand::RX && info.a_mode != AMode::R) writes[code[pc].a].push_back(pc);
      }
    }
    for (const auto& loop : loops) {
      while (!open.empty() && open.back().second < loop.first) open.pop_back();
      if (!open.empty() && loop.second > open.back().second)
        return Bad(where + ": loops overlap without nesting");
      open.push_back(loop);
      const std::vector<uint32_t>& w = writes[code[loop.first].a];
      auto it = std::upper_bound(w.begin(), w.end(), loop.first);
      if (it != w.end() && *it <= loop.second) {
        return Bad(absl::StrCat(where, ": instruction ", *it,
                                " resets the iterator of the loop at ", loop.first));
      }
    }
    return absl::OkStatus();
  }

  // Definite assignment: on every path, each register is written before it
  // is read. Jumps go forward, so one pass in order suffices; a LOOP's state
  // must include its head's, so the back edge adds nothing.
  absl::Status Assignment(const CodeBlock& block, const RegType* regs, const Instr* code,
                          const std::string& where) {
    (void)regs;
    using Regs = std::bitset<kMaxRegisters>;
    std::vector<Regs> state(block.size);
    std::vector<uint8_t> reached(block.size, 0);
    reached[0] = 1;
    auto flow = [&](uint32_t to, const Regs& regs_in) {
      if (!reached[to]) {
        state[to] = regs_in;
        reached[to] = 1;
      } else {
        state[to] &= regs_in;
      }
    };
    for (uint32_t pc = 0; pc < block.size; ++pc) {
      if (!reached[pc]) continue;
      const Instr& in = code[pc];
      const OpInfo& info = Info(in.op);
      Regs regs_in = state[pc];
      auto read = [&](bc::Operand kind, uint32_t value) -> absl::Status {
        if (IsRegister(kind) && !regs_in.test(value)) {
          return Bad(absl::StrCat(where, ": instruction ", pc, " (", info.name, ") reads register ",
                                  value, " before it is written"));
        }
        return absl::OkStatus();
      };
      if (info.a_mode == AMode::R || info.a_mode == AMode::RW)
        WARDEN_RETURN_IF_ERROR(read(info.a, in.a));
      WARDEN_RETURN_IF_ERROR(read(info.b, in.b));
      WARDEN_RETURN_IF_ERROR(read(info.c, in.c));
      Regs out = regs_in;
      if (info.a_mode == AMode::W || info.a_mode == AMode::RW) out.set(in.a);
      switch (in.op) {
        case Op::kRET:
          break;
        case Op::kJMP:
          flow(in.c, out);
          break;
        case Op::kLOOP:
          if (!reached[in.c] || (state[in.c] & ~out).any()) {
            return Bad(absl::StrCat(where, ": instruction ", pc,
                                    " (LOOP) enters its loop with fewer registers set"));
          }
          break;
        case Op::kJMPT:
        case Op::kJMPF:
        case Op::kFORNEXT:
          flow(in.c, out);
          flow(pc + 1, out);
          break;
        default:
          flow(pc + 1, out);  // pc + 1 < size: the last instruction is RET
      }
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------- rules and policies

  absl::Status BlockRef(int64_t block, ValueKind result, const std::string& where) {
    if (block < 0 || static_cast<size_t>(block) >= p_.blocks.size())
      return Bad(where + ": block out of range");
    if (result != ValueKind::kIter && p_.blocks[block].result != MakeRegType(result)) {
      return Bad(where + ": block returns the wrong type");
    }
    return absl::OkStatus();
  }

  absl::Status RisksAndRules() {
    for (size_t i = 0; i < p_.risks.size(); ++i) {
      for (const RiskFactor& factor : p_.risks[i].factors) {
        std::string where = absl::StrCat("risk ", i);
        WARDEN_RETURN_IF_ERROR(BlockRef(factor.block, ValueKind::kBool, where));
        if (uses_risk_[factor.block])
          return Bad(where + ": a risk factor may not read risk scores");
      }
    }
    for (size_t i = 0; i < p_.rules.size(); ++i) {
      const Rule& rule = p_.rules[i];
      std::string where = absl::StrCat("rule ", i);
      if (rule.file >= p_.files.size() && !p_.files.empty())
        return Bad(where + ": file out of range");
      if (rule.effect > Effect::kStepUp) return Bad(where + ": invalid effect");
      if (rule.effect == Effect::kStepUp) {
        if (rule.challenge < 0 || static_cast<size_t>(rule.challenge) >= p_.challenges.size()) {
          return Bad(where + ": challenge out of range");
        }
      } else if (rule.challenge != -1) {
        return Bad(where + ": only step_up rules have a challenge");
      }
      for (uint32_t action : rule.actions) {
        if (action >= p_.actions.size()) return Bad(where + ": action out of range");
      }
      if (rule.condition != kNoBlock)
        WARDEN_RETURN_IF_ERROR(BlockRef(rule.condition, ValueKind::kBool, where));
      for (const Extra& extra : rule.extras) {
        for (const ExtraArg& arg : extra.args) {
          WARDEN_RETURN_IF_ERROR(BlockRef(arg.block, ValueKind::kIter, where));
          WARDEN_RETURN_IF_ERROR(Type(arg.type, where + " obligation value"));
          RegType type = 0;
          if (!RegTypeOf(arg.type, &type) || type != p_.blocks[arg.block].result) {
            return Bad(where + ": obligation value type does not match its block");
          }
        }
      }
      if (!rule.conjuncts.empty() && (rule.effect != Effect::kPermit || rule.condition == kNoBlock))
        return Bad(where + ": only permit rules with a condition have conjuncts");
      for (size_t c = 0; c < rule.conjuncts.size(); ++c) {
        std::string at = absl::StrCat(where, " conjunct ", c);
        WARDEN_RETURN_IF_ERROR(BlockRef(rule.conjuncts[c].block, ValueKind::kBool, at));
        if (rule.conjuncts[c].text.size() > limits_.max_string_bytes)
          return Bad(at + ": text exceeds max_string_bytes");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Policies() {
    for (size_t i = 0; i < p_.policies.size(); ++i) {
      const Policy& policy = p_.policies[i];
      std::string where = absl::StrCat("policy ", i);
      if (policy.resource_type != -1 &&
          (policy.resource_type < 0 ||
           static_cast<size_t>(policy.resource_type) >= p_.resource_types.size())) {
        return Bad(where + ": resource type out of range");
      }
      if (static_cast<int>(policy.algorithm) >= kAlgorithmCount)
        return Bad(where + ": invalid algorithm");
      if (policy.file >= p_.files.size() && !p_.files.empty())
        return Bad(where + ": file out of range");
      for (uint32_t rule : policy.rules) {
        if (rule >= p_.rules.size()) return Bad(where + ": rule out of range");
      }
    }
    auto member = [&](const Member& m, const std::string& where) -> absl::Status {
      if (m.index >= (m.is_set ? p_.policy_sets.size() : p_.policies.size()))
        return Bad(where + ": member out of range");
      return absl::OkStatus();
    };
    for (size_t i = 0; i < p_.policy_sets.size(); ++i) {
      const PolicySet& set = p_.policy_sets[i];
      if (static_cast<int>(set.algorithm) >= kAlgorithmCount)
        return Bad(absl::StrCat("policy set ", i, ": invalid algorithm"));
      if (set.file >= p_.files.size() && !p_.files.empty())
        return Bad(absl::StrCat("policy set ", i, ": file out of range"));
      for (const Member& m : set.members)
        WARDEN_RETURN_IF_ERROR(member(m, absl::StrCat("policy set ", i)));
    }
    for (const Member& m : p_.roots) WARDEN_RETURN_IF_ERROR(member(m, "roots"));
    // Policy sets form a DAG no deeper than the limit: heights, computed with
    // an explicit stack so a hostile bundle cannot exhaust the C++ stack.
    std::vector<int32_t> height(p_.policy_sets.size(), -1);  // -1 new, -2 on the stack
    for (size_t root = 0; root < p_.policy_sets.size(); ++root) {
      if (height[root] >= 0) continue;
      std::vector<std::pair<uint32_t, size_t>> stack = {{static_cast<uint32_t>(root), 0}};
      height[root] = -2;
      while (!stack.empty()) {
        auto& [set, next] = stack.back();
        const PolicySet& node = p_.policy_sets[set];
        if (next < node.members.size()) {
          const Member& m = node.members[next++];
          if (!m.is_set) continue;
          if (height[m.index] == -2) return Bad("policy sets contain each other in a cycle");
          if (height[m.index] == -1) {
            if (stack.size() >= limits_.max_policy_set_depth) {
              return absl::ResourceExhaustedError(
                  "bundle: policy sets nest deeper than max_policy_set_depth");
            }
            height[m.index] = -2;
            stack.emplace_back(m.index, 0);
          }
          continue;
        }
        int32_t h = 0;
        for (const Member& m : node.members) {
          if (m.is_set) h = std::max(h, height[m.index] + 1);
        }
        if (static_cast<size_t>(h) >= limits_.max_policy_set_depth) {
          return absl::ResourceExhaustedError(
              "bundle: policy sets nest deeper than max_policy_set_depth");
        }
        height[set] = h;
        stack.pop_back();
      }
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------- source lines

  // The line table (SourceLine): entries strictly increasing by instruction,
  // inside the code, naming a file the program lists; so at most one entry
  // per instruction.
  absl::Status Lines() {
    if (p_.lines.size() > p_.code.size()) {
      return Bad(absl::StrCat("source lines: ", p_.lines.size(), " entries for ", p_.code.size(),
                              " instructions"));
    }
    for (size_t i = 0; i < p_.lines.size(); ++i) {
      const SourceLine& entry = p_.lines[i];
      std::string where = absl::StrCat("source line ", i);
      if (entry.first >= p_.code.size()) return Bad(where + ": instruction out of range");
      if (i > 0 && entry.first <= p_.lines[i - 1].first)
        return Bad(where + ": entries must be sorted by instruction and unique");
      if (entry.file >= p_.files.size()) return Bad(where + ": file out of range");
    }
    return absl::OkStatus();
  }

  static constexpr RegType kUnsetSlot = 0xff;
  static constexpr RegType kRecordSlot = 0xfe;

  const Program& p_;
  const ProgramLimits& limits_;
  std::vector<RegType> slot_types_;
  std::vector<bool> uses_risk_;
};

}  // namespace

absl::Status Verify(const Program& program, const ProgramLimits& limits) {
  return Verifier(program, limits).Run();
}

}  // namespace warden::bc
