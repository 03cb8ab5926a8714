#include "compiler/codegen.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace warden {
namespace {

using bc::Op;
using bc::RegType;
using bc::ValueKind;

class Generator {
 public:
  Generator(const CheckedProgram& in, const SourceManager& sources, const CodegenOptions& options)
      : in_(in), sources_(sources), options_(options) {}

  absl::StatusOr<bc::Program> Run() {
    Tables();
    Risks();
    Policies();
    if (!status_.ok()) return status_;
    if (out_.code.size() > options_.max_code) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the program has ", out_.code.size(), " instructions; the limit is ", options_.max_code));
    }
    if (out_.constants.size() > options_.max_constants) {
      return absl::ResourceExhaustedError(absl::StrCat("the program has ", out_.constants.size(),
                                                       " constants; the limit is ",
                                                       options_.max_constants));
    }
    return std::move(out_);
  }

 private:
  // ---------------------------------------------------------------- tables

  int EnumIndex(const EnumType* enumeration) {
    auto [it, inserted] = enums_.emplace(enumeration, static_cast<int>(out_.enums.size()));
    if (inserted) out_.enums.push_back(bc::Enum{enumeration->name, enumeration->members});
    return it->second;
  }

  static bc::TypeCode Code(TypeKind kind) {
    switch (kind) {
      case TypeKind::kBool:
        return bc::TypeCode::kBool;
      case TypeKind::kInt:
        return bc::TypeCode::kInt;
      case TypeKind::kDecimal:
        return bc::TypeCode::kDecimal;
      case TypeKind::kString:
        return bc::TypeCode::kString;
      case TypeKind::kDuration:
        return bc::TypeCode::kDuration;
      case TypeKind::kTimestamp:
        return bc::TypeCode::kTimestamp;
      case TypeKind::kIp:
        return bc::TypeCode::kIp;
      case TypeKind::kEnum:
        return bc::TypeCode::kEnum;
      case TypeKind::kSet:
        return bc::TypeCode::kSet;
      default:
        return bc::TypeCode::kRecord;
    }
  }

  bc::TypeRef TypeOf(const Type* type) {
    bc::TypeRef ref;
    ref.code = Code(type->kind);
    if (type->kind == TypeKind::kEnum) ref.enumeration = EnumIndex(type->enumeration);
    if (type->kind == TypeKind::kRecord) ref.record = ShapeIndex(type->record);
    if (type->kind == TypeKind::kSet) {
      const Type* element = type->element;
      ref.element = element == nullptr ? bc::TypeCode::kBool : Code(element->kind);
      if (element != nullptr && element->kind == TypeKind::kEnum)
        ref.enumeration = EnumIndex(element->enumeration);
      if (element != nullptr && element->kind == TypeKind::kRecord)
        ref.record = ShapeIndex(element->record);
    }
    return ref;
  }

  // The shape of a record held as a value (a set member, a data value). Its
  // nested records get their shapes first, so a shape only names earlier ones.
  int32_t ShapeIndex(const RecordType* record) {
    if (auto it = shapes_.find(record); it != shapes_.end()) return it->second;
    bc::RecordShape shape;
    shape.name = record->name;
    for (const Field& field : record->fields)
      shape.fields.push_back(
          bc::RecordField{field.name, TypeOf(field.type), field.optional, field.sensitive});
    int32_t index = static_cast<int32_t>(out_.records.size());
    out_.records.push_back(std::move(shape));
    shapes_.emplace(record, index);
    return index;
  }

  static ValueKind ScalarKind(const Type* type) {
    if (type == nullptr) return ValueKind::kBool;
    switch (type->kind) {
      case TypeKind::kBool:
        return ValueKind::kBool;
      case TypeKind::kString:
        return ValueKind::kString;
      case TypeKind::kIp:
        return ValueKind::kIp;
      case TypeKind::kSet:
        return ValueKind::kSet;
      case TypeKind::kRecord:
        return ValueKind::kRecord;
      default:
        return ValueKind::kInt;
    }
  }

  RegType RegTypeOf(const Type* type, Span span) {
    if (type->kind == TypeKind::kError) {
      Unsupported(span, "an erroneous value");
      return bc::MakeRegType(ValueKind::kBool);
    }
    if (type->kind == TypeKind::kRecord) {
      return bc::MakeRegType(ValueKind::kRecord, ValueKind::kBool,
                             static_cast<uint32_t>(ShapeIndex(type->record)));
    }
    if (type->kind == TypeKind::kSet) {
      const Type* element = type->element;
      if (element != nullptr && element->kind == TypeKind::kRecord) {
        return bc::MakeRegType(ValueKind::kSet, ValueKind::kRecord,
                               static_cast<uint32_t>(ShapeIndex(element->record)));
      }
      return bc::MakeRegType(ValueKind::kSet, ScalarKind(element));
    }
    return bc::MakeRegType(ScalarKind(type));
  }

  uint32_t FileIndex(FileId file) {
    auto [it, inserted] = files_.emplace(file, static_cast<uint32_t>(out_.files.size()));
    if (inserted)
      out_.files.push_back(file < sources_.size() ? sources_.file(file).path() : "<unknown>");
    return it->second;
  }

  uint32_t Line(Span span) {
    if (!span.valid() || span.file >= sources_.size()) return 0;
    return sources_.file(span.file).Locate(span.begin).line;
  }

  std::string Location(Span span) {
    if (!span.valid() || span.file >= sources_.size()) return "<unknown>";
    LineCol at = sources_.file(span.file).Locate(span.begin);
    return absl::StrCat(sources_.file(span.file).path(), ":", at.line, ":", at.column);
  }

  void Unsupported(Span span, const std::string& what) {
    if (status_.ok()) {
      status_ = absl::UnimplementedError(
          absl::StrCat(Location(span), ": ", what, " is not supported by the bytecode yet"));
    }
  }

  // The fail-safe default of a built-in attribute (docs/language.md,
  // "Built-in schema"): the value least favourable to the caller.
  int32_t BuiltinDefault(const Attribute& a) {
    if (!a.builtin || a.optional) return bc::kNoDefault;
    switch (a.type->kind) {
      case TypeKind::kBool:
        return Intern(ScalarConstant(ValueKind::kBool, 0));
      case TypeKind::kInt:
        return Intern(ScalarConstant(ValueKind::kInt, 0));
      case TypeKind::kDuration:
        return Intern(ScalarConstant(ValueKind::kInt, std::numeric_limits<int64_t>::max()));
      case TypeKind::kTimestamp:
        return a.path == "context.time" ? bc::kDefaultNow : bc::kNoDefault;
      case TypeKind::kEnum: {
        int none = a.type->enumeration->Find("none");
        return Intern(ScalarConstant(ValueKind::kInt, none < 0 ? 0 : none));
      }
      case TypeKind::kString:
        if (a.path == "subject.auth.acr") {
          bc::Constant k;
          k.kind = ValueKind::kString;
          return Intern(k);
        }
        return bc::kNoDefault;
      case TypeKind::kSet: {
        bc::Constant k;
        k.kind = ValueKind::kSet;
        k.element = ScalarKind(a.type->element);
        return Intern(k);
      }
      default:
        return bc::kNoDefault;
    }
  }

  // A limit key component (the checker allows only attribute paths and
  // `action`): where the front-end reads it in the frame.
  bc::LimitKey LimitKeyOf(const CExpr& key) {
    bc::LimitKey out;
    if (key.kind == CExprKind::kAction) {
      out.kind = bc::LimitKey::Kind::kAction;
      out.path = "action";
      return out;
    }
    if (key.kind != CExprKind::kAttribute || key.attribute < 0 ||
        static_cast<size_t>(key.attribute) >= out_.attributes.size()) {
      Unsupported(key.span, "a limit key that is not an attribute path");
      return out;
    }
    const bc::Attribute& attribute = out_.attributes[key.attribute];
    out.kind = attribute.path == "resource.type" && attribute.resource_type < 0
                   ? bc::LimitKey::Kind::kResourceType
                   : bc::LimitKey::Kind::kSlot;
    out.slot = attribute.slot;
    out.path = attribute.path;
    return out;
  }

  void Tables() {
    // Attributes: slot = id, except that each resource type's built-in
    // `type` and `id` share the slots of `resource.type` and `resource.id`.
    std::map<std::string, uint32_t> shared;
    for (const Attribute& a : in_.attributes) {
      if (a.resource_type < 0 && a.parent < 0 &&
          (a.path == "resource.type" || a.path == "resource.id")) {
        shared[a.path.substr(9)] = static_cast<uint32_t>(a.id);
      }
    }
    out_.slot_count = static_cast<uint32_t>(in_.attributes.size());
    for (const Attribute& a : in_.attributes) {
      bc::Attribute b;
      b.path = a.path;
      // A request record is flattened into its fields' slots: no shape.
      if (a.type->kind == TypeKind::kRecord)
        b.type.code = bc::TypeCode::kRecord;
      else
        b.type = TypeOf(a.type);
      b.optional = a.optional;
      b.sensitive = a.sensitive;
      b.builtin = a.builtin;
      b.parent = a.parent;
      b.resource_type = a.resource_type;
      b.slot = static_cast<uint32_t>(a.id);
      if (a.resource_type >= 0 && a.parent < 0 && a.builtin) {
        std::string field = a.path.substr(a.path.rfind('.') + 1);
        if (auto it = shared.find(field); it != shared.end()) b.slot = it->second;
      }
      b.default_value = BuiltinDefault(a);
      out_.attributes.push_back(std::move(b));
    }
    if (in_.action_enum != nullptr) out_.action_enum = EnumIndex(in_.action_enum);
    for (const Action& action : in_.actions)
      out_.actions.push_back(bc::Action{action.name, action.sensitive});
    for (const ResourceType& type : in_.resource_types) out_.resource_types.push_back(type.name);
    for (const Role& role : in_.roles) {
      bc::Role r;
      r.name = role.name;
      for (int c : role.closure) r.closure.push_back(static_cast<uint32_t>(c));
      out_.roles.push_back(std::move(r));
    }
    for (const Separation& s : in_.separations) {
      bc::Separation b;
      for (int r : s.roles) b.roles.push_back(static_cast<uint32_t>(r));
      b.file = FileIndex(s.span.file);
      b.line = Line(s.span);
      out_.separations.push_back(std::move(b));
    }
    out_.challenges = in_.challenges;
    for (const JitProfile& jit : in_.jit_profiles) {
      bc::JitProfile b;
      b.name = jit.name;
      for (int r : jit.grants) b.grants.push_back(static_cast<uint32_t>(r));
      out_.jit_profiles.push_back(std::move(b));
    }
    for (const RateLimit& limit : in_.limits) {
      bc::Limit b{limit.name, limit.count, limit.window_millis, {}};
      for (const auto& key : limit.keys) b.keys.push_back(LimitKeyOf(*key));
      out_.limits.push_back(std::move(b));
    }
    for (const DataSlot& data : in_.data)
      out_.data.push_back(bc::DataSlot{data.name, TypeOf(data.type)});
  }

  // ---------------------------------------------------------------- constants

  static bc::Constant ScalarConstant(ValueKind kind, int64_t i) {
    bc::Constant k;
    k.kind = kind;
    k.i = i;
    return k;
  }

  uint32_t Intern(const bc::Constant& k) {
    std::string key;
    key.push_back(static_cast<char>(k.kind));
    key.push_back(static_cast<char>(k.element));
    key.append(reinterpret_cast<const char*>(&k.i), sizeof(k.i));
    key.append(reinterpret_cast<const char*>(k.ip.bytes), 16);
    key.push_back(static_cast<char>(k.ip.prefix));
    key.push_back(k.ip.v6 ? 1 : 0);
    for (uint32_t e : k.elements) key.append(reinterpret_cast<const char*>(&e), sizeof(e));
    key.push_back('|');
    key.append(k.s);
    auto [it, inserted] =
        constants_.emplace(std::move(key), static_cast<uint32_t>(out_.constants.size()));
    if (inserted) out_.constants.push_back(k);
    return it->second;
  }

  bc::Constant ScalarOf(const Value& value, const Type* type) {
    bc::Constant k;
    k.kind = ScalarKind(type);
    switch (k.kind) {
      case ValueKind::kBool:
        k.i = value.bool_value ? 1 : 0;
        break;
      case ValueKind::kString:
        k.s = value.string_value;
        break;
      case ValueKind::kIp:
        std::memcpy(k.ip.bytes, value.ip.bytes, 16);
        k.ip.prefix = static_cast<uint8_t>(value.ip.prefix);
        k.ip.v6 = value.ip.v6;
        break;
      default:
        k.i = value.int_value;
        break;
    }
    return k;
  }

  uint32_t ConstantOf(const CExpr& expr) {
    if (expr.type->kind != TypeKind::kSet) return Intern(ScalarOf(expr.value, expr.type));
    bc::Constant set;
    set.kind = ValueKind::kSet;
    set.element = ScalarKind(expr.type->element);
    std::vector<bc::Constant> members;
    for (const Value& element : expr.value.elements)
      members.push_back(ScalarOf(element, expr.type->element));
    std::sort(members.begin(), members.end(), [](const bc::Constant& a, const bc::Constant& b) {
      return bc::CompareScalars(a, b) < 0;
    });
    members.erase(std::unique(members.begin(), members.end(),
                              [](const bc::Constant& a, const bc::Constant& b) {
                                return bc::CompareScalars(a, b) == 0;
                              }),
                  members.end());
    for (const bc::Constant& m : members) set.elements.push_back(Intern(m));
    return Intern(set);
  }

  uint32_t RegexIndex(const std::string& pattern) {
    auto [it, inserted] = regexes_.emplace(pattern, static_cast<uint32_t>(out_.regexes.size()));
    if (inserted) out_.regexes.push_back(pattern);
    return it->second;
  }

  uint32_t ZoneIndex(const std::string& zone) {
    auto [it, inserted] = zones_.emplace(zone, static_cast<uint32_t>(out_.zones.size()));
    if (inserted) out_.zones.push_back(zone);
    return it->second;
  }

  // ---------------------------------------------------------------- blocks

  // One code block under construction: code, typed registers with one free
  // list per register type, and the registers of quantifier variables.
  struct Block {
    std::vector<bc::Instr> code;
    std::vector<bc::SourceLine> lines;  // `first` relative to the block
    std::vector<RegType> types;
    std::map<RegType, std::vector<uint8_t>> free;
    std::map<int, uint8_t> variables;
  };

  uint8_t Alloc(RegType type) {
    std::vector<uint8_t>& free = block_->free[type];
    if (!free.empty()) {
      uint8_t r = free.back();
      free.pop_back();
      return r;
    }
    if (block_->types.size() >= options_.max_registers) {
      if (status_.ok()) {
        status_ = absl::ResourceExhaustedError(absl::StrCat(Location(block_span_),
                                                            ": the expression needs more than ",
                                                            options_.max_registers, " registers"));
      }
      return 0;
    }
    block_->types.push_back(type);
    return static_cast<uint8_t>(block_->types.size() - 1);
  }

  void Free(uint8_t r) {
    if (r < block_->types.size()) block_->free[block_->types[r]].push_back(r);
  }

  uint32_t Emit(Op op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0) {
    block_->code.push_back(bc::Instr{op, static_cast<uint8_t>(a), static_cast<uint16_t>(b), c});
    uint32_t at = static_cast<uint32_t>(block_->code.size() - 1);
    // The line of the expression being generated (bc::SourceLine).
    // An expression without a span (none is expected) keeps the line before it.
    Span span = expr_span_.valid() ? expr_span_ : block_span_;
    if (!span.valid()) return at;
    if (span.file != line_span_.file || span.begin != line_span_.begin) {
      line_span_ = span;
      line_file_ = FileIndex(span.file);
      line_ = Line(span);
    }
    if (block_->lines.empty() || block_->lines.back().file != line_file_ ||
        block_->lines.back().line != line_) {
      block_->lines.push_back(bc::SourceLine{at, line_file_, line_});
    }
    return at;
  }

  // Makes Emit attribute instructions to `span` until it goes out of scope.
  struct AtSpan {
    Generator* gen;
    Span saved;
    AtSpan(Generator* g, Span span) : gen(g), saved(g->expr_span_) { g->expr_span_ = span; }
    ~AtSpan() { gen->expr_span_ = saved; }
    AtSpan(const AtSpan&) = delete;
    AtSpan& operator=(const AtSpan&) = delete;
  };
  uint32_t Here() const { return static_cast<uint32_t>(block_->code.size()); }
  void PatchTo(uint32_t at, uint32_t target) { block_->code[at].c = target; }

  // Jump threading: a conditional jump on register x that lands on another
  // jump on x (or on a JMP) takes that jump's decision at once, since x is
  // unchanged in between: `a and b and c` failing at `a` jumps straight to
  // the end instead of through every later test. Targets only move forward.
  static void ThreadJumps(std::vector<bc::Instr>& code) {
    for (bc::Instr& in : code) {
      if (in.op != Op::kJMPF && in.op != Op::kJMPT && in.op != Op::kJMP) continue;
      uint32_t target = in.c;
      while (target < code.size()) {
        const bc::Instr& at = code[target];
        uint32_t next = target;
        if (at.op == Op::kJMP) {
          next = at.c;
        } else if ((at.op == Op::kJMPF || at.op == Op::kJMPT) && in.op != Op::kJMP &&
                   at.b == in.b) {
          next = at.op == in.op ? at.c : target + 1;
        }
        if (next <= target) break;
        target = next;
      }
      in.c = target;
    }
  }

  // Compiles `expr` into a new block that returns its value.
  uint32_t NewBlock(const CExpr& expr) {
    Block block;
    block_ = &block;
    block_span_ = expr.span;
    AtSpan at(this, expr.span);
    RegType result = RegTypeOf(expr.type, expr.span);
    bool owned = false;
    uint8_t r = Use(expr, &owned);
    Emit(Op::kRET, r);
    ThreadJumps(block.code);
    block_ = nullptr;
    if (block.code.size() > options_.max_block_size && status_.ok()) {
      status_ = absl::ResourceExhaustedError(
          absl::StrCat(Location(expr.span), ": the expression compiles to ", block.code.size(),
                       " instructions; the limit is ", options_.max_block_size));
    }
    bc::CodeBlock out;
    out.begin = static_cast<uint32_t>(out_.code.size());
    out.size = static_cast<uint32_t>(block.code.size());
    out.reg_begin = static_cast<uint32_t>(out_.reg_types.size());
    out.num_regs = static_cast<uint16_t>(block.types.size());
    out.result = result;
    for (bc::SourceLine line : block.lines) {
      line.first += out.begin;
      if (!out_.lines.empty() && out_.lines.back().file == line.file &&
          out_.lines.back().line == line.line)
        continue;  // the previous block ends on the same line
      out_.lines.push_back(line);
    }
    out_.code.insert(out_.code.end(), block.code.begin(), block.code.end());
    out_.reg_types.insert(out_.reg_types.end(), block.types.begin(), block.types.end());
    out_.blocks.push_back(out);
    return static_cast<uint32_t>(out_.blocks.size() - 1);
  }

  // A register holding the value of `expr`: a quantifier variable's own
  // register (not owned), or a new one (owned: the caller frees it).
  uint8_t Use(const CExpr& expr, bool* owned) {
    if (expr.kind == CExprKind::kVariable) {
      if (auto it = block_->variables.find(expr.index); it != block_->variables.end()) {
        *owned = false;
        return it->second;
      }
    }
    *owned = true;
    uint8_t r = Alloc(RegTypeOf(expr.type, expr.span));
    Into(expr, r);
    return r;
  }

  // A source operand, freed when the guard goes out of scope.
  struct Operand {
    Generator* gen;
    uint8_t reg;
    bool owned;
    Operand(Generator* g, const CExpr& expr) : gen(g), reg(0), owned(false) {
      reg = g->Use(expr, &owned);
    }
    ~Operand() {
      if (owned) gen->Free(reg);
    }
    Operand(const Operand&) = delete;
    Operand& operator=(const Operand&) = delete;
  };

  static bool IsConstant(const CExpr& e) { return e.kind == CExprKind::kConstant; }

  // Evaluates `expr` into register `dst` (of the expression's type).
  void Into(const CExpr& expr, uint8_t dst) {
    if (!status_.ok()) return;
    AtSpan at(this, expr.span);
    switch (expr.kind) {
      case CExprKind::kConstant:
        if (expr.type->kind == TypeKind::kError)
          return Unsupported(expr.span, "an erroneous expression");
        if (expr.type->kind == TypeKind::kBool) {
          Emit(Op::kBOOL, dst, expr.value.bool_value ? 1 : 0);
        } else {
          Emit(Op::kCONST, dst, 0, ConstantOf(expr));
        }
        return;
      case CExprKind::kAttribute:
        if (expr.attribute < 0) return Unsupported(expr.span, "a whole record");
        Emit(Op::kLOAD, dst, 0, out_.attributes[expr.attribute].slot);
        return;
      case CExprKind::kAction: {
        // An ordered comparison of an undeclared action fails at the comparison.
        AtSpan comparison(this, ordered_action_ ? ordered_span_ : expr.span);
        Emit(Op::kACTION, dst, ordered_action_ ? 1 : 0);
        return;
      }
      case CExprKind::kRisk:
        Emit(Op::kRISK, dst, 0, static_cast<uint32_t>(expr.index));
        return;
      case CExprKind::kLimit:
        Emit(expr.limit_field == 0 ? Op::kLIMEXC : Op::kLIMREM, dst, 0,
             static_cast<uint32_t>(expr.index));
        return;
      case CExprKind::kData:
        Emit(Op::kDATA, dst, 0, static_cast<uint32_t>(expr.index));
        return;
      case CExprKind::kVariable: {
        auto it = block_->variables.find(expr.index);
        if (it == block_->variables.end()) return Unsupported(expr.span, "an unbound variable");
        Emit(Op::kMOVE, dst, it->second);
        return;
      }
      case CExprKind::kMember: {
        const CExpr& object = *expr.args[0];
        int field = -1;
        if (object.type->kind == TypeKind::kRecord) {
          const auto& fields = object.type->record->fields;
          for (size_t f = 0; f < fields.size(); ++f) {
            if (fields[f].name == expr.text) field = static_cast<int>(f);
          }
        }
        if (field < 0) return Unsupported(expr.span, "a field the record does not have");
        Operand record(this, object);
        Emit(Op::kFIELD, dst, record.reg, static_cast<uint32_t>(field));
        return;
      }
      case CExprKind::kHas:
        Emit(Op::kHAS, dst, 0, out_.attributes[expr.attribute].slot);
        return;
      case CExprKind::kHasRole:
        Emit(Op::kHASROLE, dst, 0, static_cast<uint32_t>(expr.role));
        return;
      case CExprKind::kNot: {
        const CExpr& operand = *expr.args[0];
        if (IsConstant(operand)) {
          Emit(Op::kBOOL, dst, operand.value.bool_value ? 0 : 1);
          return;
        }
        Into(operand, dst);
        Emit(Op::kNOT, dst, dst);
        return;
      }
      case CExprKind::kNegate: {
        const CExpr& operand = *expr.args[0];
        if (IsConstant(operand) && operand.value.int_value != std::numeric_limits<int64_t>::min()) {
          bc::Constant k = ScalarConstant(ValueKind::kInt, -operand.value.int_value);
          Emit(Op::kCONST, dst, 0, Intern(k));
          return;
        }
        Operand x(this, operand);
        Emit(Op::kNEG, dst, x.reg);
        return;
      }
      case CExprKind::kBinary:
        return Binary(expr, dst);
      case CExprKind::kIn:
        return In(expr, dst);
      case CExprKind::kMatches: {
        Operand s(this, *expr.args[0]);
        Emit(Op::kMATCH, dst, s.reg, RegexIndex(expr.text));
        return;
      }
      case CExprKind::kCall:
        return Call(expr, dst);
      case CExprKind::kSet: {
        if (expr.args.size() > options_.max_set_literal) {
          if (status_.ok()) {
            status_ = absl::ResourceExhaustedError(
                absl::StrCat(Location(expr.span), ": a set literal of ", expr.args.size(),
                             " members exceeds max_set_literal"));
          }
          return;
        }
        if (ScalarKind(expr.type->element) == ValueKind::kRecord)
          return Unsupported(expr.span, "a set literal of records");
        Emit(Op::kSETNEW, dst, static_cast<uint32_t>(ScalarKind(expr.type->element)),
             static_cast<uint32_t>(expr.args.size()));
        for (const auto& element : expr.args) {
          Operand e(this, *element);
          Emit(Op::kSETADD, dst, e.reg);
        }
        return;
      }
      case CExprKind::kAny:
      case CExprKind::kAll:
        return Quantifier(expr, dst);
    }
  }

  void Binary(const CExpr& expr, uint8_t dst) {
    using BinOp = ast::BinaryOp;
    const CExpr& lhs = *expr.args[0];
    const CExpr& rhs = *expr.args[1];
    if (expr.op == BinOp::kAnd || expr.op == BinOp::kOr) {
      Into(lhs, dst);
      uint32_t jump = Emit(expr.op == BinOp::kAnd ? Op::kJMPF : Op::kJMPT, 0, dst);
      Into(rhs, dst);
      PatchTo(jump, Here());
      return;
    }
    // Arithmetic on two constants is folded by the checker when it cannot fail.
    TypeKind kind = lhs.type->kind;
    // `action < x`: an undeclared action must raise an error, not compare.
    ordered_action_ = expr.op == BinOp::kLt || expr.op == BinOp::kLe || expr.op == BinOp::kGt ||
                      expr.op == BinOp::kGe;
    ordered_span_ = expr.span;
    Operand a(this, lhs);
    Operand b(this, rhs);
    ordered_action_ = false;
    auto compare = [&](Op eq, Op ne, Op lt, Op le) {
      switch (expr.op) {
        case BinOp::kEq:
          Emit(eq, dst, a.reg, b.reg);
          return;
        case BinOp::kNe:
          Emit(ne, dst, a.reg, b.reg);
          return;
        case BinOp::kLt:
          Emit(lt, dst, a.reg, b.reg);
          return;
        case BinOp::kLe:
          Emit(le, dst, a.reg, b.reg);
          return;
        case BinOp::kGt:
          Emit(lt, dst, b.reg, a.reg);
          return;
        case BinOp::kGe:
          Emit(le, dst, b.reg, a.reg);
          return;
        default:
          return;
      }
    };
    switch (expr.op) {
      case BinOp::kEq:
      case BinOp::kNe:
      case BinOp::kLt:
      case BinOp::kLe:
      case BinOp::kGt:
      case BinOp::kGe:
        switch (kind) {
          case TypeKind::kBool:
            return compare(Op::kEQB, Op::kNEB, Op::kEQB, Op::kEQB);
          case TypeKind::kString:
            return compare(Op::kEQS, Op::kNES, Op::kLTS, Op::kLES);
          case TypeKind::kIp:
            return compare(Op::kEQP, Op::kNEP, Op::kEQP, Op::kEQP);
          case TypeKind::kSet:
            return compare(Op::kEQT, Op::kNET, Op::kEQT, Op::kEQT);
          default:
            return compare(Op::kEQI, Op::kNEI, Op::kLTI, Op::kLEI);
        }
      case BinOp::kAdd:
        Emit(Op::kADD, dst, a.reg, b.reg);
        return;
      case BinOp::kSub:
        Emit(Op::kSUB, dst, a.reg, b.reg);
        return;
      case BinOp::kMul:
        Emit(Op::kMUL, dst, a.reg, b.reg);
        return;
      case BinOp::kDiv:
        Emit(Op::kDIV, dst, a.reg, b.reg);
        return;
      case BinOp::kMod:
        Emit(Op::kMOD, dst, a.reg, b.reg);
        return;
      default:
        return Unsupported(expr.span, "this operator");
    }
  }

  void In(const CExpr& expr, uint8_t dst) {
    const CExpr& lhs = *expr.args[0];
    const CExpr& rhs = *expr.args[1];
    Operand a(this, lhs);
    Operand b(this, rhs);
    if (rhs.type->kind == TypeKind::kIp) {
      Emit(Op::kINNET, dst, a.reg, b.reg);
      return;
    }
    Emit(InOp(lhs.type), dst, a.reg, b.reg);
  }

  static Op InOp(const Type* element) {
    switch (ScalarKind(element)) {
      case ValueKind::kBool:
        return Op::kINB;
      case ValueKind::kString:
        return Op::kINS;
      case ValueKind::kIp:
        return Op::kINP;
      case ValueKind::kRecord:
        return Op::kINR;
      default:
        return Op::kINI;
    }
  }

  // Lowers a builtin as WARDEN_BUILTINS says (runtime/bytecode/opcodes.h).
  void Call(const CExpr& expr, uint8_t dst) {
    const bc::BuiltinInfo& info = bc::Info(expr.builtin);
    const CExpr& receiver = *expr.args[0];
    switch (info.lowering) {
      case bc::Lowering::OP: {
        Operand s(this, receiver);
        if (info.arg == bc::Sig::ZONE) {
          Emit(info.op, dst, s.reg, ZoneIndex(expr.text));
        } else if (info.arg == bc::Sig::_) {
          Emit(info.op, dst, s.reg);
        } else {
          Operand t(this, *expr.args[1]);
          Emit(info.op, dst, s.reg, t.reg);
        }
        return;
      }
      case bc::Lowering::IS_EMPTY: {
        Operand s(this, receiver);
        uint8_t size = Alloc(bc::MakeRegType(ValueKind::kInt));
        uint8_t zero = Alloc(bc::MakeRegType(ValueKind::kInt));
        Emit(Op::kSETLEN, size, s.reg);
        Emit(Op::kCONST, zero, 0, Intern(ScalarConstant(ValueKind::kInt, 0)));
        Emit(Op::kEQI, dst, size, zero);
        Free(zero);
        Free(size);
        return;
      }
      case bc::Lowering::IN: {  // S.contains(x) is `x in S`
        Operand s(this, receiver);
        Operand x(this, *expr.args[1]);
        Emit(InOp(expr.args[1]->type), dst, x.reg, s.reg);
        return;
      }
      case bc::Lowering::FOLD:
        return Unsupported(expr.span, "a constructor the checker did not fold");
    }
  }

  //   FORINIT it
  //   head: FORNEXT it, set, ->exit
  //         ELEM var, set, it
  //         <body into dst>
  //         JMPT dst, ->done   (all: JMPF)
  //         LOOP head
  //   exit: BOOL dst, #0       (all: #1)
  //   done:
  void Quantifier(const CExpr& expr, uint8_t dst) {
    bool any = expr.kind == CExprKind::kAny;
    Operand set(this, *expr.args[0]);
    uint8_t it = Alloc(bc::MakeRegType(ValueKind::kIter));
    uint8_t var = Alloc(RegTypeOf(expr.args[0]->type->element, expr.span));
    block_->variables[expr.index] = var;
    Emit(Op::kFORINIT, it);
    uint32_t head = Emit(Op::kFORNEXT, it, set.reg);
    Emit(Op::kELEM, var, set.reg, it);
    Into(*expr.args[1], dst);
    uint32_t found = Emit(any ? Op::kJMPT : Op::kJMPF, 0, dst);
    Emit(Op::kLOOP, 0, 0, head);
    PatchTo(head, Here());
    Emit(Op::kBOOL, dst, any ? 0 : 1);
    PatchTo(found, Here());
    block_->variables.erase(expr.index);
    Free(var);
    Free(it);
  }

  // ---------------------------------------------------------------- declarations

  void Risks() {
    for (const RiskScore& risk : in_.risks) {
      bc::Risk r;
      r.name = risk.name;
      for (const RiskFactor& factor : risk.factors)
        r.factors.push_back(bc::RiskFactor{factor.points, NewBlock(*factor.condition)});
      out_.risks.push_back(std::move(r));
    }
  }

  int32_t ChallengeIndex(const std::string& name) {
    for (size_t i = 0; i < out_.challenges.size(); ++i) {
      if (out_.challenges[i] == name) return static_cast<int32_t>(i);
    }
    out_.challenges.push_back(name);
    return static_cast<int32_t>(out_.challenges.size() - 1);
  }

  // A permit rule's top-level `and` conjuncts, each with a block of its own
  // (a condition that is one conjunct reuses the condition's block).
  void Conjuncts(const CExpr& condition, uint32_t condition_block, std::vector<bc::Conjunct>* out) {
    std::vector<const CExpr*> conjuncts;
    std::vector<const CExpr*> stack = {&condition};
    while (!stack.empty()) {
      const CExpr* e = stack.back();
      stack.pop_back();
      if (e->kind == CExprKind::kBinary && e->op == ast::BinaryOp::kAnd) {
        stack.push_back(e->args[1].get());
        stack.push_back(e->args[0].get());
      } else {
        conjuncts.push_back(e);
      }
    }
    for (const CExpr* conjunct : conjuncts) {
      uint32_t block = conjuncts.size() == 1 ? condition_block : NewBlock(*conjunct);
      out->push_back(bc::Conjunct{block, sources_.OneLineText(conjunct->span)});
    }
  }

  void Policies() {
    for (const Policy& policy : in_.policies) {
      bc::Policy p;
      p.name = policy.name;
      p.file = FileIndex(policy.span.file);
      p.line = Line(policy.span);
      p.resource_type = policy.resource_type;
      p.algorithm = policy.algorithm;
      for (const Rule& rule : policy.rules) {
        bc::Rule r;
        r.name = rule.name;
        r.file = FileIndex(rule.span.file);
        r.line = Line(rule.span);
        r.effect = rule.effect == Effect::kPermit ? bc::Effect::kPermit
                   : rule.effect == Effect::kDeny ? bc::Effect::kDeny
                                                  : bc::Effect::kStepUp;
        if (rule.effect == Effect::kStepUp) r.challenge = ChallengeIndex(rule.challenge);
        r.has_reason = rule.reason.has_value();
        if (rule.reason) r.reason = *rule.reason;
        r.any_action = rule.any_action;
        for (int action : rule.actions) r.actions.push_back(static_cast<uint32_t>(action));
        if (rule.condition != nullptr)
          r.condition = static_cast<int32_t>(NewBlock(*rule.condition));
        if (rule.condition != nullptr && r.effect == bc::Effect::kPermit &&
            options_.explain_conjuncts) {
          Conjuncts(*rule.condition, static_cast<uint32_t>(r.condition), &r.conjuncts);
        }
        for (const RuleExtra& extra : rule.extras) {
          bc::Extra e;
          e.is_obligation = extra.is_obligation;
          e.name = extra.name;
          for (const auto& [key, value] : extra.args)
            e.args.push_back(bc::ExtraArg{key, NewBlock(*value), TypeOf(value->type)});
          r.extras.push_back(std::move(e));
        }
        p.rules.push_back(static_cast<uint32_t>(out_.rules.size()));
        out_.rules.push_back(std::move(r));
      }
      out_.policies.push_back(std::move(p));
    }
    for (const PolicySet& set : in_.policy_sets) {
      bc::PolicySet s;
      s.name = set.name;
      s.file = FileIndex(set.span.file);
      s.line = Line(set.span);
      s.algorithm = set.algorithm;
      for (const PolicySet::Member& m : set.members)
        s.members.push_back(bc::Member{m.is_set, static_cast<uint32_t>(m.index)});
      out_.policy_sets.push_back(std::move(s));
    }
    for (const PolicySet::Member& m : in_.roots)
      out_.roots.push_back(bc::Member{m.is_set, static_cast<uint32_t>(m.index)});
  }

  const CheckedProgram& in_;
  const SourceManager& sources_;
  const CodegenOptions& options_;
  bc::Program out_;
  absl::Status status_;
  Block* block_ = nullptr;
  Span block_span_;
  bool ordered_action_ = false;  // the operand being generated is ordered (`<`, `<=`, …)
  Span ordered_span_;            // that comparison
  Span expr_span_;               // the expression being generated (Emit's line)
  Span line_span_;               // the span line_file_ and line_ were computed for
  uint32_t line_file_ = 0;
  uint32_t line_ = 0;
  std::map<const EnumType*, int> enums_;
  std::map<const RecordType*, int32_t> shapes_;
  std::map<FileId, uint32_t> files_;
  std::map<std::string, uint32_t> constants_;
  std::map<std::string, uint32_t> regexes_;
  std::map<std::string, uint32_t> zones_;
};

}  // namespace

absl::StatusOr<bc::Program> GenerateBytecode(const CheckedProgram& program,
                                             const SourceManager& sources,
                                             const CodegenOptions& options) {
  absl::StatusOr<bc::Program> out = Generator(program, sources, options).Run();
  if (!out.ok()) return out;
  bc::ProgramLimits limits;
  limits.max_registers = options.max_registers;
  limits.max_block_size = options.max_block_size;
  limits.max_code = options.max_code;
  limits.max_set_literal = options.max_set_literal;
  if (absl::Status status = bc::Verify(*out, limits); !status.ok()) {
    return absl::InternalError(
        absl::StrCat("the code generator produced an invalid program: ", status.message()));
  }
  return out;
}

}  // namespace warden
