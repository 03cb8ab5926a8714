// The bytecode program: everything the runtime needs to answer decisions.
//
// The compiler's code generator (compiler/codegen.h) fills a Program from a
// checked program; bundle.h turns it into bytes and back; verify.h checks
// every index, operand and jump before the runtime uses it; the runtime
// (runtime/engine.h) prepares run-time views of it (constant values, RE2
// objects, time zones, role bitsets, the rule index) once at load.
//
// Everything here is plain data addressed by indices, so a Program can be
// serialized field by field and every cross-reference can be bounds-checked.
// Names are kept for decisions (rule name, file:line), disassembly and the
// request decoder (attribute paths, enum members, role names).
#ifndef WARDEN_RUNTIME_BYTECODE_PROGRAM_H_
#define WARDEN_RUNTIME_BYTECODE_PROGRAM_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bytecode/combining.h"
#include "runtime/bytecode/opcodes.h"
#include "runtime/values/ip.h"

namespace warden::bc {

// A declared type, as far as the runtime needs it.
enum class TypeCode : uint8_t {
  kBool,
  kInt,
  kDecimal,
  kString,
  kDuration,
  kTimestamp,
  kIp,
  kEnum,
  kSet,
  kRecord
};
inline constexpr int kTypeCodeCount = 10;
const char* TypeCodeName(TypeCode code);

struct TypeRef {
  TypeCode code = TypeCode::kBool;
  TypeCode element = TypeCode::kBool;  // kSet: the element type (never a set)
  int32_t enumeration = -1;            // kEnum, or kSet of kEnum: index into Program::enums
  // kRecord, or kSet of kRecord: index into Program::records. -1 for a record
  // the request gives (flattened into attribute slots, never a value).
  int32_t record = -1;
  bool operator==(const TypeRef&) const = default;
};

// The value kind of a scalar type (enums, decimals, durations, timestamps are
// ints); kRecord for records.
ValueKind ScalarKind(TypeCode code);
// The register type that holds a value of `type`; false for a record without
// a shape (a request record, which only marks presence).
bool RegTypeOf(const TypeRef& type, RegType* out);

// A record held as a value: a member of a set of records, or a record-typed
// `data` value. Fields in declaration order; nested records and sets of
// records name their own shapes, which always come earlier in
// Program::records (so shapes cannot contain themselves).
struct RecordField {
  std::string name;
  TypeRef type;
  bool optional = false;
  bool sensitive = false;  // masked in audit logs, like a sensitive attribute
};

struct RecordShape {
  std::string name;  // the record's path: "resource.folder.entries", "data.limits"
  std::vector<RecordField> fields;
  int FindField(std::string_view field) const;
};

inline constexpr int32_t kNoDefault = -1;
inline constexpr int32_t kDefaultNow = -2;  // context.time: the time of the decision

struct Attribute {
  std::string path;  // "subject.auth.mfa", "resource.payment.amount"
  TypeRef type;
  bool optional = false;
  bool sensitive = false;
  bool builtin = false;
  int32_t parent = -1;         // enclosing record attribute, or -1
  int32_t resource_type = -1;  // resource attributes: index into resource_types
  uint32_t slot = 0;           // frame slot; `resource.T.type`/`.id` share `resource.type`/`.id`'s
  int32_t default_value = kNoDefault;  // constant index, kNoDefault or kDefaultNow
};

struct Enum {
  std::string name;
  std::vector<std::string> members;
};

struct Action {
  std::string name;
  bool sensitive = false;
};

struct Role {
  std::string name;
  std::vector<uint32_t> closure;  // itself and every role it extends, transitively
};

struct Separation {
  std::vector<uint32_t> roles;
  uint32_t file = 0;  // index into files
  uint32_t line = 0;
};

struct JitProfile {
  std::string name;
  std::vector<uint32_t> grants;  // roles
};

struct RiskFactor {
  int64_t points = 0;
  uint32_t block = 0;  // condition: a block returning bool
};

struct Risk {
  std::string name;
  std::vector<RiskFactor> factors;
};

// One component of a limit's key, read from the request frame by the
// authentication front-end before deciding (runtime/limit_key.h).
struct LimitKey {
  enum class Kind : uint8_t {
    kSlot,          // the scalar attribute in frame slot `slot`
    kAction,        // the requested action (slot unused, 0)
    kResourceType,  // the request's resource type; `slot` is resource.type's (undeclared types)
  };
  Kind kind = Kind::kSlot;
  uint32_t slot = 0;
  std::string path;  // "subject.id", "action": for display and errors
};
inline constexpr int kLimitKeyKindCount = 3;
inline constexpr size_t kMaxLimitKeys = 8;  // components of one limit's key

struct Limit {
  std::string name;
  int64_t count = 0;
  int64_t window_ms = 0;
  std::vector<LimitKey> keys;  // the `by` list, in source order
};

struct DataSlot {
  std::string name;
  TypeRef type;
};

enum class Effect : uint8_t { kPermit, kDeny, kStepUp };
const char* EffectName(Effect effect);

struct ExtraArg {
  std::string key;
  uint32_t block = 0;  // a block returning the value
  TypeRef type;        // the value's declared type, for rendering it in decisions
};

struct Extra {  // an obligation or advice
  bool is_obligation = true;
  std::string name;
  std::vector<ExtraArg> args;
};

inline constexpr int32_t kNoBlock = -1;

// A top-level `and` conjunct of a permit rule's condition, for explaining
// why the rule did not fire (`warden eval --explain`): its own bool block
// and its source text on one line. A condition that is not an `and` chain is
// one conjunct whose block is the condition's own.
struct Conjunct {
  uint32_t block = 0;  // a block returning bool
  std::string text;    // as written, runs of white space made one space
};

struct Rule {
  std::string name;
  uint32_t file = 0;  // index into files
  uint32_t line = 0;
  Effect effect = Effect::kPermit;
  int32_t challenge = -1;  // kStepUp: index into challenges
  bool has_reason = false;
  std::string reason;
  bool any_action = false;
  std::vector<uint32_t> actions;  // indices into actions
  int32_t condition = kNoBlock;   // a block returning bool; kNoBlock: always fires
  std::vector<Extra> extras;
  // Permit rules with a condition: its conjuncts, in source order (empty when
  // compiled without CodegenOptions::explain_conjuncts: explain then reports
  // the rule's status but not which conditions failed). Other rules: empty.
  std::vector<Conjunct> conjuncts;
};

struct Policy {
  std::string name;
  int32_t resource_type = -1;  // -1: every resource type
  Algorithm algorithm = Algorithm::kDenyOverrides;
  std::vector<uint32_t> rules;  // indices into Program::rules, in source order
  uint32_t file = 0;            // index into files: where it is declared (only_one_applicable)
  uint32_t line = 0;
};

struct Member {
  bool is_set = false;
  uint32_t index = 0;  // into policies or policy_sets
  bool operator==(const Member&) const = default;
};

struct PolicySet {
  std::string name;
  Algorithm algorithm = Algorithm::kDenyOverrides;
  std::vector<Member> members;
  uint32_t file = 0;  // index into files: where it is declared (only_one_applicable)
  uint32_t line = 0;
};

// An IP address or network: the tree's one IP struct (runtime/values/ip.h).
using IpNet = values::IpNet;

// A constant-pool entry. Pool entries are unique (the code generator
// deduplicates them); sets list their members as indices of earlier scalar
// entries of the set's element kind, sorted by value and unique.
struct Constant {
  ValueKind kind = ValueKind::kInt;
  ValueKind element = ValueKind::kBool;  // kSet
  int64_t i = 0;                         // kBool (0/1), kInt
  std::string s;                         // kString
  IpNet ip;                              // kIp
  std::vector<uint32_t> elements;        // kSet
  bool operator==(const Constant&) const = default;
};

// The order of set members (constant sets are stored sorted, so membership
// is a binary search): bools and ints ascending, strings byte-wise, IP
// networks by (v6, bytes, prefix). Returns <0, 0, >0.
int CompareScalars(const Constant& a, const Constant& b);

// A straight-line-with-forward-jumps piece of code: a rule condition, a risk
// factor condition, or an obligation/advice value.
struct CodeBlock {
  uint32_t begin = 0;      // index into code
  uint32_t size = 0;       // instructions; the last one is RET
  uint32_t reg_begin = 0;  // index into reg_types
  uint16_t num_regs = 0;
  RegType result = 0;  // the type RET returns
};

// Where code comes from: instructions from `first` up to the next entry's
// `first` (or the end of the code) were generated for an expression written
// at files[file]:line. Sorted by `first`, strictly increasing; consecutive
// instructions of one line share one entry. Only read on the error path (by
// binary search, Program::LineOf), to report the line of the expression
// that failed rather than the line of its rule.
struct SourceLine {
  uint32_t first = 0;  // index into code
  uint32_t file = 0;   // index into files
  uint32_t line = 0;
  bool operator==(const SourceLine&) const = default;
};

struct Program {
  std::vector<std::string> files;  // source paths, for file:line
  uint32_t slot_count = 0;
  std::vector<Attribute> attributes;  // indexed by the checker's AttributeId
  std::vector<Enum> enums;
  std::vector<RecordShape> records;  // shapes of record values (see RecordShape)
  int32_t action_enum = -1;          // the enum of declared actions
  std::vector<Action> actions;
  std::vector<std::string> resource_types;
  std::vector<Role> roles;
  std::vector<Separation> separations;
  std::vector<std::string> challenges;
  std::vector<JitProfile> jit_profiles;
  std::vector<Risk> risks;
  std::vector<Limit> limits;
  std::vector<DataSlot> data;
  std::vector<Rule> rules;
  std::vector<Policy> policies;
  std::vector<PolicySet> policy_sets;
  std::vector<Member> roots;  // combined with deny_overrides
  std::vector<Constant> constants;
  std::vector<std::string> regexes;  // RE2 patterns
  std::vector<std::string> zones;    // IANA time-zone names
  std::vector<CodeBlock> blocks;
  std::vector<Instr> code;
  std::vector<RegType> reg_types;
  std::vector<SourceLine> lines;  // by code index (SourceLine)

  // The source line of instruction `pc` (an index into code); null when the
  // table does not cover it (a program built without lines).
  const SourceLine* LineOf(uint32_t pc) const;

  // Lookups by name (linear; for tests, tools and loading, not the hot path).
  int FindAttribute(std::string_view path) const;
  int FindAction(std::string_view name) const;
  int FindResourceType(std::string_view name) const;
  int FindRole(std::string_view name) const;
  int FindRule(std::string_view name) const;
  int FindData(std::string_view name) const;
  int FindLimit(std::string_view name) const;
  int FindJit(std::string_view name) const;
};

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_PROGRAM_H_
