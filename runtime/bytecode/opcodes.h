// Warden bytecode: the instruction set, defined once.
//
// Every instruction is 8 bytes, fixed width, little-endian in bundles:
//
//    byte  0        1        2        3        4        5        6        7
//        +--------+--------+-----------------+-----------------------------------+
//        |   op   |    a   |        b        |                 c                 |
//        +--------+--------+-----------------+-----------------------------------+
//          uint8    uint8       uint16                      uint32
//
//   op  the opcode (enum Op below)
//   a   usually the destination register (0..255)
//   b   a source register, a small immediate, or unused (0)
//   c   a source register, a frame slot, a constant-pool index, a jump target
//       (an instruction index relative to the start of the code block), a
//       role/risk/limit/data/regex/time-zone index, or unused (0)
//
// Registers are typed per code block (Program::reg_types): each register
// holds one kind of value (bool, int, string, ip, set<kind>, record, iterator)
// for the whole block, so the verifier can check every operand's kind statically
// and the VM never checks types at run time. "int" registers carry every
// 64-bit scalar: int, decimal (scaled by 10^4), duration (ms), timestamp (ms
// since the epoch) and enum indices.
//
// WARDEN_OPCODES(X) is the single list: X(NAME, A, B, C, A_MODE, "meaning").
// The enum, the name table, the operand formats the verifier checks, the
// disassembler and the VM's dispatch are all generated from it (ORDER OP:
// never reorder without bumping kBundleFormatVersion).
//
// Operand kinds:
//   _      unused, must be 0
//   RB RI RS RP RT RX RR   a register of kind bool, int, string, ip, set,
//                          iterator, record
//   RA     a register of any kind; the verifier checks it against what the
//          instruction references (the slot's, constant's, data's, element's
//          or block result's kind)
//   SLOT   a frame slot          K      a constant-pool index
//   J      a jump target         IMM    an immediate number
//   ROLE RISK LIMIT DATA REGEX ZONE   an index into that program table
//   FIELD  a field index of the record shape of operand b's register
//   KIND   an element kind (ValueKind) for set construction
// A_MODE says what the instruction does with operand a: W writes it, R
// reads it, RW both, N nothing.
#ifndef WARDEN_RUNTIME_BYTECODE_OPCODES_H_
#define WARDEN_RUNTIME_BYTECODE_OPCODES_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace warden::bc {

// clang-format off
#define WARDEN_OPCODES(X)                                                                                       \
  /* loads: request frame, constants, request-level values */                                                   \
  X(LOAD,    RA, _,   SLOT,  W,  "a = frame[c]; absent and required without default: error missing_attribute") \
  X(HAS,     RB, _,   SLOT,  W,  "a = frame[c] is present")                                                    \
  X(CONST,   RA, _,   K,     W,  "a = constant pool[c]")                                                       \
  X(BOOL,    RB, IMM, _,     W,  "a = b (0 or 1)")                                                             \
  X(MOVE,    RA, RA,  _,     W,  "a = b (registers of one type)")                                              \
  X(ACTION,  RI, IMM, _,     W,  "a = the requested action's index (-1 if undeclared); b = 1: undeclared is an error missing_attribute (no order)")   \
  X(HASROLE, RB, _,   ROLE,  W,  "a = role c is among the subject's effective roles (bitset test)")           \
  X(RISK,    RI, _,   RISK,  W,  "a = risk score c, computed at most once per decision")                      \
  X(LIMEXC,  RB, _,   LIMIT, W,  "a = limit c is exceeded; counter unavailable: error limit_unavailable")     \
  X(LIMREM,  RI, _,   LIMIT, W,  "a = requests remaining under limit c (>= 0)")                               \
  X(DATA,    RA, _,   DATA,  W,  "a = data value c, supplied when the bundle was loaded")                      \
  /* control flow: jumps go forward only, except LOOP */                                                        \
  X(JMP,     _,  _,   J,     N,  "jump to c")                                                                  \
  X(JMPT,    _,  RB,  J,     N,  "if b, jump to c")                                                            \
  X(JMPF,    _,  RB,  J,     N,  "if not b, jump to c")                                                        \
  X(RET,     RA, _,   _,     R,  "return a as the block's result")                                             \
  /* logic and checked 64-bit arithmetic */                                                                     \
  X(NOT,     RB, RB,  _,     W,  "a = not b")                                                                  \
  X(NEG,     RI, RI,  _,     W,  "a = -b; error overflow")                                                     \
  X(ADD,     RI, RI,  RI,    W,  "a = b + c; error overflow")                                                  \
  X(SUB,     RI, RI,  RI,    W,  "a = b - c; error overflow")                                                  \
  X(MUL,     RI, RI,  RI,    W,  "a = b * c; error overflow")                                                  \
  X(DIV,     RI, RI,  RI,    W,  "a = b / c truncating; error division_by_zero, overflow")                     \
  X(MOD,     RI, RI,  RI,    W,  "a = b % c; error division_by_zero")                                          \
  /* comparisons (> and >= are emitted as < and <= with swapped operands) */                                   \
  X(EQB,     RB, RB,  RB,    W,  "a = b == c (bool)")                                                          \
  X(NEB,     RB, RB,  RB,    W,  "a = b != c (bool)")                                                          \
  X(EQI,     RB, RI,  RI,    W,  "a = b == c (int)")                                                           \
  X(NEI,     RB, RI,  RI,    W,  "a = b != c (int)")                                                           \
  X(LTI,     RB, RI,  RI,    W,  "a = b < c (int)")                                                            \
  X(LEI,     RB, RI,  RI,    W,  "a = b <= c (int)")                                                           \
  X(EQS,     RB, RS,  RS,    W,  "a = b == c (string, byte-wise)")                                             \
  X(NES,     RB, RS,  RS,    W,  "a = b != c (string)")                                                        \
  X(LTS,     RB, RS,  RS,    W,  "a = b < c (string, byte-wise)")                                              \
  X(LES,     RB, RS,  RS,    W,  "a = b <= c (string, byte-wise)")                                             \
  X(EQP,     RB, RP,  RP,    W,  "a = b == c (ip network)")                                                    \
  X(NEP,     RB, RP,  RP,    W,  "a = b != c (ip network)")                                                    \
  X(EQT,     RB, RT,  RT,    W,  "a = sets b and c have the same members")                                     \
  X(NET,     RB, RT,  RT,    W,  "a = sets b and c differ")                                                    \
  /* membership: binary search on sorted (constant and data) sets, else a scan */                              \
  X(INB,     RB, RB,  RT,    W,  "a = bool b in set c")                                                        \
  X(INI,     RB, RI,  RT,    W,  "a = int b in set c")                                                         \
  X(INS,     RB, RS,  RT,    W,  "a = string b in set c")                                                      \
  X(INP,     RB, RP,  RT,    W,  "a = ip b lies inside a network of set c")                                    \
  X(INNET,   RB, RP,  RP,    W,  "a = ip b lies inside network c")                                             \
  /* strings */                                                                                                 \
  X(MATCH,   RB, RS,  REGEX, W,  "a = regex c matches somewhere in b (RE2, linear time)")                      \
  X(STARTS,  RB, RS,  RS,    W,  "a = b starts with c")                                                        \
  X(ENDS,    RB, RS,  RS,    W,  "a = b ends with c")                                                          \
  X(CONTAINS,RB, RS,  RS,    W,  "a = b contains c")                                                           \
  X(LOWER,   RS, RS,  _,     W,  "a = b with ASCII letters lowered (per-decision arena)")                     \
  X(UPPER,   RS, RS,  _,     W,  "a = b with ASCII letters raised (per-decision arena)")                      \
  X(STRLEN,  RI, RS,  _,     W,  "a = length of b in bytes")                                                   \
  /* sets */                                                                                                    \
  X(SETLEN,  RI, RT,  _,     W,  "a = number of members of b")                                                 \
  X(SETANY,  RB, RT,  RT,    W,  "a = sets b and c share a member")                                            \
  X(SETALL,  RB, RT,  RT,    W,  "a = every member of c is in b")                                              \
  X(SETNEW,  RT, KIND, IMM,  W,  "a = a new empty set of element kind b with room for c members (arena)")      \
  X(SETADD,  RT, RA,  _,     RW, "add b to set a (duplicates kept; membership is unaffected)")                 \
  /* time, in the time zone c of the program's zone table */                                                   \
  X(HOUR,    RI, RI,  ZONE,  W,  "a = hour (0-23) of timestamp b in zone c")                                   \
  X(MINUTE,  RI, RI,  ZONE,  W,  "a = minute (0-59) of timestamp b in zone c")                                 \
  X(WEEKDAY, RI, RI,  ZONE,  W,  "a = weekday of b in zone c (0 = monday)")                                    \
  X(DATE,    RS, RI,  ZONE,  W,  "a = \"YYYY-MM-DD\" of b in zone c (per-decision arena)")                     \
  /* bounded iteration, for quantifiers over finite sets */                                                    \
  X(FORINIT, RX, _,   _,     W,  "a = iterator before the first member")                                       \
  X(FORNEXT, RX, RT,  J,     RW, "if iterator a has passed the last member of set b, jump to c; else advance")  \
  X(ELEM,    RA, RT,  RX,    W,  "a = the member of set b under iterator c")                                   \
  X(LOOP,    _,  _,   J,     N,  "jump back to the FORNEXT at c (the only backward jump)")                     \
  /* records: set members and data values (request records are flattened into slots) */                       \
  X(FIELD,   RA, RR,  FIELD, W,  "a = field c of record b; absent: error missing_attribute")                   \
  X(INR,     RB, RR,  RT,    W,  "a = record b in set c (field by field)")                                     \
  /* appended: time (ORDER OP keeps the numbers above) */                                                       \
  X(SECOND,  RI, RI,  ZONE,  W,  "a = second (0-59) of timestamp b in zone c")
// clang-format on

enum class Op : uint8_t {
#define WARDEN_OP_ENUM(name, a, b, c, mode, meaning) k##name,
  WARDEN_OPCODES(WARDEN_OP_ENUM)
#undef WARDEN_OP_ENUM
};

#define WARDEN_OP_COUNT(name, a, b, c, mode, meaning) +1
inline constexpr int kOpCount = 0 WARDEN_OPCODES(WARDEN_OP_COUNT);
#undef WARDEN_OP_COUNT

enum class Operand : uint8_t {
  _,
  RB,
  RI,
  RS,
  RP,
  RT,
  RX,
  RR,
  RA,
  SLOT,
  K,
  J,
  IMM,
  ROLE,
  RISK,
  LIMIT,
  DATA,
  REGEX,
  ZONE,
  KIND,
  FIELD
};
enum class AMode : uint8_t { N, R, W, RW };

struct OpInfo {
  const char* name;
  Operand a, b, c;
  AMode a_mode;
  const char* meaning;
};

inline constexpr OpInfo kOpInfo[] = {
#define WARDEN_OP_INFO(name, a, b, c, mode, meaning) \
  {#name, Operand::a, Operand::b, Operand::c, AMode::mode, meaning},
    WARDEN_OPCODES(WARDEN_OP_INFO)
#undef WARDEN_OP_INFO
};
static_assert(sizeof(kOpInfo) / sizeof(kOpInfo[0]) == kOpCount);

inline const OpInfo& Info(Op op) { return kOpInfo[static_cast<uint8_t>(op)]; }
inline bool IsRegister(Operand kind) { return kind >= Operand::RB && kind <= Operand::RA; }

// One instruction. See the diagram above.
struct Instr {
  Op op;
  uint8_t a;
  uint16_t b;
  uint32_t c;
};
static_assert(sizeof(Instr) == 8, "instructions are 8 bytes");
static_assert(alignof(Instr) == 4);
static_assert(offsetof(Instr, op) == 0 && offsetof(Instr, a) == 1 && offsetof(Instr, b) == 2 &&
                  offsetof(Instr, c) == 4,
              "layout: op, a, b, c");
static_assert(std::is_trivially_copyable_v<Instr>);
static_assert(kOpCount <= 256, "opcodes fit a byte");

// The kinds of value a register (or a frame slot, constant, data value)
// holds. Sets also record their element kind (one of the first four, or a
// record).
enum class ValueKind : uint8_t { kBool, kInt, kString, kIp, kSet, kIter, kRecord };
inline constexpr int kValueKindCount = 7;
const char* ValueKindName(ValueKind kind);

// A register type: the kind in bits 0-3, a set's element kind in bits 4-7,
// and for a record (or a set of records) the index of its shape in
// Program::records in bits 8-31, so the verifier knows every field's type.
using RegType = uint32_t;
inline constexpr uint32_t kMaxRecordShapes = uint32_t{1} << 24;
inline constexpr RegType MakeRegType(ValueKind kind, ValueKind element = ValueKind::kBool,
                                     uint32_t shape = 0) {
  return static_cast<RegType>(static_cast<uint32_t>(kind) | (static_cast<uint32_t>(element) << 4) |
                              (shape << 8));
}
inline constexpr ValueKind KindOf(RegType type) { return static_cast<ValueKind>(type & 0x0f); }
inline constexpr ValueKind ElementOf(RegType type) {
  return static_cast<ValueKind>((type >> 4) & 0x0f);
}
inline constexpr uint32_t ShapeOf(RegType type) { return type >> 8; }
// The register type of one member of a set of type `set`.
inline constexpr RegType ElementTypeOf(RegType set) {
  return ElementOf(set) == ValueKind::kRecord
             ? MakeRegType(ValueKind::kRecord, ValueKind::kBool, ShapeOf(set))
             : MakeRegType(ElementOf(set));
}

// The largest register index operand a can name.
inline constexpr int kMaxRegisters = 256;

// ---------------------------------------------------------------- builtins
//
// WARDEN_BUILTINS(X) is the single list of the language's builtin functions
// and methods, each lowered to instructions above:
//   X(Name, "name", FORM, SELF, ARG, RESULT, LOWERING, OP, REF, "usage", "meaning")
// FORM      FN: `name(SELF, ARG)`; METHOD: `SELF.name(ARG)`
// SELF ARG  the operands the checker accepts (Sig); ARG _ for none
// RESULT    the result type (Sig)
// LOWERING  how the code generator emits it (Lowering): OP is one instruction
//           `OP dst, SELF, ARG`, a ZONE argument becoming operand c; FOLD
//           is folded into a constant by the checker (OP is the CONST it
//           loads); IS_EMPTY and IN are written out in codegen.cc (OP is the
//           first instruction, or the int form of the membership test)
// REF       the reference evaluator's implementation (reference_evaluator.cc)
// "usage" and "meaning" are the row of docs/language.md's table (docs_test).
// The checker resolves calls from this list, the code generator lowers from
// it, the reference evaluator dispatches from it. Only the enum's order
// matters to nobody outside the compiler: builtins are not in bundles.
// clang-format off
#define WARDEN_BUILTINS(X)                                                                                     \
  X(Ip,          "ip",           FN,     LITERAL,   _,        IP,        FOLD,     CONST,    RefFolded,      \
    "ip(S)", "`S` is an IPv4/IPv6 address or a CIDR network, e.g. `\"192.0.2.1\"`, `\"10.0.0.0/8\"`, `\"2001:db8::/32\"`; host bits of a network must be zero") \
  X(Timestamp,   "timestamp",    FN,     LITERAL,   _,        TIMESTAMP, FOLD,     CONST,    RefFolded,      \
    "timestamp(S)", "`S` is an RFC 3339 date-time with an offset, e.g. `\"2026-01-01T09:00:00Z\"`")        \
  X(Hour,        "hour",         FN,     TIMESTAMP, ZONE,     INT,       OP,       HOUR,     RefHour,        \
    "hour(t, tz)", "hour of `t` in time zone `tz`")                                                          \
  X(Minute,      "minute",       FN,     TIMESTAMP, ZONE,     INT,       OP,       MINUTE,   RefMinute,      \
    "minute(t, tz)", "minute of `t` in `tz`")                                                                \
  X(Second,      "second",       FN,     TIMESTAMP, ZONE,     INT,       OP,       SECOND,   RefSecond,      \
    "second(t, tz)", "second of `t` in `tz`")                                                                \
  X(Weekday,     "weekday",      FN,     TIMESTAMP, ZONE,     WEEKDAY,   OP,       WEEKDAY,  RefWeekday,     \
    "weekday(t, tz)", "day of the week of `t` in `tz`")                                                      \
  X(Date,        "date",         FN,     TIMESTAMP, ZONE,     STRING,    OP,       DATE,     RefDate,        \
    "date(t, tz)", "`\"YYYY-MM-DD\"` of `t` in `tz`")                                                        \
  X(StartsWith,  "starts_with",  METHOD, STRING,    STRING,   BOOL,      OP,       STARTS,   RefStartsWith,  \
    "s.starts_with(p)", "`s` starts with `p` (byte-wise)")                                                   \
  X(EndsWith,    "ends_with",    METHOD, STRING,    STRING,   BOOL,      OP,       ENDS,     RefEndsWith,    \
    "s.ends_with(p)", "`s` ends with `p` (byte-wise)")                                                       \
  X(Contains,    "contains",     METHOD, STRING,    STRING,   BOOL,      OP,       CONTAINS, RefContains,    \
    "s.contains(p)", "`s` contains `p` (byte-wise)")                                                         \
  X(Lower,       "lower",        METHOD, STRING,    _,        STRING,    OP,       LOWER,    RefLower,       \
    "s.lower()", "`s` with ASCII letters lowered; other bytes unchanged")                                    \
  X(Upper,       "upper",        METHOD, STRING,    _,        STRING,    OP,       UPPER,    RefUpper,       \
    "s.upper()", "`s` with ASCII letters raised; other bytes unchanged")                                     \
  X(StringSize,  "size",         METHOD, STRING,    _,        INT,       OP,       STRLEN,   RefStringSize,  \
    "s.size()", "the length of `s` in bytes")                                                                \
  X(SetSize,     "size",         METHOD, SET,       _,        INT,       OP,       SETLEN,   RefSetSize,     \
    "S.size()", "the number of members of `S`")                                                              \
  X(SetContains, "contains",     METHOD, SET,       ELEMENT,  BOOL,      IN,       INI,      RefSetContains, \
    "S.contains(x)", "`x` is a member of `S`, same as `x in S`")                                             \
  X(ContainsAny, "contains_any", METHOD, SET,       SAME_SET, BOOL,      OP,       SETANY,   RefContainsAny, \
    "S.contains_any(T)", "`S` and `T` share a member")                                                       \
  X(ContainsAll, "contains_all", METHOD, SET,       SAME_SET, BOOL,      OP,       SETALL,   RefContainsAll, \
    "S.contains_all(T)", "every member of `T` is in `S`")                                                    \
  X(IsEmpty,     "is_empty",     METHOD, SET,       _,        BOOL,      IS_EMPTY, SETLEN,   RefIsEmpty,     \
    "S.is_empty()", "`S` has no members")
// clang-format on

enum class Builtin : uint8_t {
#define WARDEN_BUILTIN_ENUM(name, text, form, self, arg, result, lowering, op, ref, usage, \
                            meaning)                                                       \
  k##name,
  WARDEN_BUILTINS(WARDEN_BUILTIN_ENUM)
#undef WARDEN_BUILTIN_ENUM
};

#define WARDEN_BUILTIN_COUNT(name, text, form, self, arg, result, lowering, op, ref, usage, \
                             meaning)                                                       \
  +1
inline constexpr int kBuiltinCount = 0 WARDEN_BUILTINS(WARDEN_BUILTIN_COUNT);
#undef WARDEN_BUILTIN_COUNT

enum class BuiltinForm : uint8_t { FN, METHOD };
// An operand or result of a builtin, as the checker types it.
//   LITERAL   a string literal, parsed at compile time
//   ZONE      a constant IANA time-zone name, checked at compile time
//   ELEMENT   a value of the receiver set's element type
//   SAME_SET  a set of the receiver set's element type
enum class Sig : uint8_t {
  _,
  BOOL,
  INT,
  STRING,
  TIMESTAMP,
  IP,
  WEEKDAY,
  SET,
  LITERAL,
  ZONE,
  ELEMENT,
  SAME_SET
};
enum class Lowering : uint8_t { OP, FOLD, IS_EMPTY, IN };

struct BuiltinInfo {
  Builtin builtin;
  const char* name;
  BuiltinForm form;
  Sig self, arg, result;
  Lowering lowering;
  Op op;
  const char* usage;
  const char* meaning;
};

inline constexpr BuiltinInfo kBuiltinInfo[] = {
#define WARDEN_BUILTIN_INFO(name, text, form, self, arg, result, lowering, op, ref, usage, \
                            meaning)                                                       \
  {Builtin::k##name,                                                                       \
   text,                                                                                   \
   BuiltinForm::form,                                                                      \
   Sig::self,                                                                              \
   Sig::arg,                                                                               \
   Sig::result,                                                                            \
   Lowering::lowering,                                                                     \
   Op::k##op,                                                                              \
   usage,                                                                                  \
   meaning},
    WARDEN_BUILTINS(WARDEN_BUILTIN_INFO)
#undef WARDEN_BUILTIN_INFO
};
static_assert(sizeof(kBuiltinInfo) / sizeof(kBuiltinInfo[0]) == kBuiltinCount);

inline const BuiltinInfo& Info(Builtin builtin) {
  return kBuiltinInfo[static_cast<uint8_t>(builtin)];
}
// The name written in a call ("hour", "starts_with", …).
inline const char* BuiltinName(Builtin builtin) { return Info(builtin).name; }

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_OPCODES_H_
