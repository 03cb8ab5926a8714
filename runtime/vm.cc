#include "runtime/vm.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "runtime/record_value.h"
#include "runtime/values/ip.h"

namespace warden::rt {

using bc::Op;
using bc::ValueKind;

void Scratch::Begin(const Prepared& prepared, const VmOptions& options) {
  const bc::Program& p = *prepared.program;
  if (roles.size() != prepared.role_words) roles.resize(prepared.role_words);
  for (uint64_t& word : roles) word = 0;
  if (risk_epoch.size() < p.risks.size()) {
    risk_epoch.resize(p.risks.size(), epoch);
    risk_value.resize(p.risks.size());
  }
  if (limit_epoch.size() < p.limits.size()) limit_epoch.resize(p.limits.size(), epoch);
  if (++epoch == 0) {  // wrapped: forget every entry, once in 2^32 decisions
    std::fill(risk_epoch.begin(), risk_epoch.end(), 0);
    std::fill(limit_epoch.begin(), limit_epoch.end(), 0);
    epoch = 1;
  }
  limits_read.clear();
  errors.clear();
  arena.Reset();
  loop_budget = options.max_loop_iterations;
}

// ---------------------------------------------------------------- values

namespace {

int CompareStrings(const StrRef& a, const StrRef& b) {
  int order = std::memcmp(a.data, b.data, std::min(a.size, b.size));
  if (order != 0) return order;
  return a.size < b.size ? -1 : a.size > b.size;
}

int CompareIps(const bc::IpNet& a, const bc::IpNet& b) {
  if (a.v6 != b.v6) return a.v6 ? 1 : -1;
  int order = std::memcmp(a.bytes, b.bytes, 16);
  if (order != 0) return order;
  return a.prefix < b.prefix ? -1 : a.prefix > b.prefix;
}

}  // namespace

// The order of bc::CompareScalars, on run-time values.
int CompareScalar(ValueKind kind, const Value& a, const Value& b) {
  switch (kind) {
    case ValueKind::kString:
      return CompareStrings(a.s, b.s);
    case ValueKind::kIp:
      return CompareIps(*a.ip, *b.ip);
    default:
      return a.i < b.i ? -1 : a.i > b.i;
  }
}

namespace {

// Membership; sets of records (never sorted) compare field by field.
bool SetHas(const bc::Program& program, const SetRef& set, ValueKind kind, const Value& x) {
  if (set.element != kind) return false;
  if (kind == ValueKind::kRecord) {
    for (uint32_t i = 0; i < set.size; ++i) {
      if (RecordsEqual(program, *set.data[i].rec, *x.rec)) return true;
    }
    return false;
  }
  if (set.sorted) {
    uint32_t lo = 0;
    uint32_t hi = set.size;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      int order = CompareScalar(kind, set.data[mid], x);
      if (order == 0) return true;
      if (order < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return false;
  }
  for (uint32_t i = 0; i < set.size; ++i) {
    if (ScalarEqual(kind, set.data[i], x)) return true;
  }
  return false;
}

// Every member of `part` is in `whole`.
bool Subset(const bc::Program& program, const SetRef& part, const SetRef& whole) {
  for (uint32_t i = 0; i < part.size; ++i) {
    if (!SetHas(program, whole, part.element, part.data[i])) return false;
  }
  return true;
}

bool Intersects(const bc::Program& program, const SetRef& a, const SetRef& b) {
  for (uint32_t i = 0; i < b.size; ++i) {
    if (SetHas(program, a, b.element, b.data[i])) return true;
  }
  return false;
}

bool SetsEqual(const bc::Program& program, const SetRef& a, const SetRef& b) {
  if (a.element != b.element && a.size + b.size > 0) return false;
  return Subset(program, a, b) && Subset(program, b, a);
}

inline bool StringsEqual(const StrRef& a, const StrRef& b) {
  return a.size == b.size && std::memcmp(a.data, b.data, a.size) == 0;
}

bool StartsWith(const StrRef& s, const StrRef& p) {
  return p.size <= s.size && std::memcmp(s.data, p.data, p.size) == 0;
}
bool EndsWith(const StrRef& s, const StrRef& p) {
  return p.size <= s.size && std::memcmp(s.data + s.size - p.size, p.data, p.size) == 0;
}
bool Contains(const StrRef& s, const StrRef& p) {
  return s.view().find(p.view()) != std::string_view::npos;
}

}  // namespace

bool ScalarEqual(ValueKind kind, const Value& a, const Value& b) {
  switch (kind) {
    case ValueKind::kString:
      return a.s.size == b.s.size && std::memcmp(a.s.data, b.s.data, a.s.size) == 0;
    case ValueKind::kIp:
      return *a.ip == *b.ip;
    default:
      return a.i == b.i;
  }
}

// ---------------------------------------------------------------- risk

int64_t RiskScore(const Prepared& prepared, const Frame& frame, Scratch& scratch, uint32_t risk) {
  if (scratch.risk_done(risk)) return scratch.risk_value[risk];
  const bc::Risk& r = prepared.program->risks[risk];
  int64_t score = 0;
  for (uint32_t f = 0; f < r.factors.size(); ++f) {
    const bc::RiskFactor& factor = r.factors[f];
    Value holds;
    EvalError error = RunBlock(prepared, frame, scratch, factor.block, &holds);
    bool counts = false;
    if (error != EvalError::kNone) {
      // Fail closed: a positive factor that cannot be evaluated counts.
      scratch.errors.push_back(
          Scratch::Error{error, Scratch::Source::kRisk, risk, f, scratch.fault_pc});
      counts = factor.points > 0;
    } else {
      counts = holds.i != 0;
    }
    if (counts && __builtin_add_overflow(score, factor.points, &score)) {
      score = factor.points > 0 ? std::numeric_limits<int64_t>::max()
                                : std::numeric_limits<int64_t>::min();
    }
  }
  scratch.risk_epoch[risk] = scratch.epoch;
  scratch.risk_value[risk] = score;
  return score;
}

// ---------------------------------------------------------------- the loop

// Dispatch: with GCC or clang, "labels as values" (computed goto): every
// handler ends with its own indirect jump to the next handler, which the
// CPU's branch predictor learns per opcode pair, and there is no range check
// (the verifier proved every opcode valid). Elsewhere, the same handlers are
// the cases of a switch. Either way the program counter is a pointer into
// the block's code; the verifier proved every jump target inside the block
// and the last instruction a RET, so it never leaves the block.
#if defined(__GNUC__) && !defined(WARDEN_VM_SWITCH_DISPATCH)
#define WARDEN_VM_COMPUTED_GOTO 1
#else
#define WARDEN_VM_COMPUTED_GOTO 0
#endif

#if WARDEN_VM_COMPUTED_GOTO
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#ifdef __clang__
#pragma clang diagnostic ignored "-Wgnu-label-as-value"
#endif
#endif

EvalError Run(const Prepared& prepared, const Frame& frame, Scratch& scratch, uint32_t block,
              Value* result) {
  const bc::Instr* const code = prepared.entries[block].code;
  const bc::Instr* ip = code;  // the instruction being executed
  Value r[bc::kMaxRegisters];  // uninitialized: the verifier proved every read follows a write
  const uint8_t* const present = frame.present_data();
  const Value* const slots = frame.slot_data();
  // A failing instruction records where it is (only on this path: nothing is
  // stored while a block succeeds), for the line of the failing expression.
#define VM_FAIL(error)                                                            \
  do {                                                                            \
    scratch.fault_pc = static_cast<uint32_t>(ip - prepared.program->code.data()); \
    return (error);                                                               \
  } while (0)
#if WARDEN_VM_COMPUTED_GOTO
  static const void* const kHandlers[] = {
#define WARDEN_VM_LABEL(name, a, b, c, mode, meaning) &&op_##name,
      WARDEN_OPCODES(WARDEN_VM_LABEL)
#undef WARDEN_VM_LABEL
  };
  static_assert(sizeof(kHandlers) / sizeof(kHandlers[0]) == bc::kOpCount);
#define VM_CASE(name) op_##name:
#define VM_JUMP(target)                            \
  do {                                             \
    ip = code + (target);                          \
    goto* kHandlers[static_cast<uint8_t>(ip->op)]; \
  } while (0)
#define VM_NEXT()                                  \
  do {                                             \
    ++ip;                                          \
    goto* kHandlers[static_cast<uint8_t>(ip->op)]; \
  } while (0)
  VM_JUMP(0);
#else
#define VM_CASE(name) case Op::k##name:
#define VM_JUMP(target)   \
  {                       \
    ip = code + (target); \
    continue;             \
  }
#define VM_NEXT() \
  {               \
    ++ip;         \
    continue;     \
  }
  for (;;) {
    switch (ip->op) {
#endif
  VM_CASE(LOAD) {
    if (present[ip->c]) [[likely]] {
      r[ip->a] = slots[ip->c];
    } else if (prepared.default_kind[ip->c] == Prepared::kConstantDefault) {
      r[ip->a] = prepared.defaults[ip->c];
    } else if (prepared.default_kind[ip->c] == Prepared::kNowDefault) {
      r[ip->a].i = frame.now_millis();
    } else {
      VM_FAIL(EvalError::kMissingAttribute);
    }
    VM_NEXT();
  }
  VM_CASE(HAS) {
    r[ip->a].i = present[ip->c];
    VM_NEXT();
  }
  VM_CASE(CONST) {
    r[ip->a] = prepared.constants[ip->c];
    VM_NEXT();
  }
  VM_CASE(BOOL) {
    r[ip->a].i = ip->b;
    VM_NEXT();
  }
  VM_CASE(MOVE) {
    r[ip->a] = r[ip->b];
    VM_NEXT();
  }
  VM_CASE(ACTION) {
    // An undeclared action equals no declared one but has no place in
    // their order: ordering it is an error (docs/decisions.md).
    if (ip->b != 0 && frame.action() < 0) VM_FAIL(EvalError::kMissingAttribute);
    r[ip->a].i = frame.action();
    VM_NEXT();
  }
  VM_CASE(HASROLE) {
    r[ip->a].i = (scratch.roles[ip->c / 64] >> (ip->c % 64)) & 1;
    VM_NEXT();
  }
  VM_CASE(RISK) {
    r[ip->a].i = RiskScore(prepared, frame, scratch, ip->c);
    VM_NEXT();
  }
  VM_CASE(LIMEXC)
  VM_CASE(LIMREM) {
    if (!frame.limit_available(ip->c)) VM_FAIL(EvalError::kUnavailable);
    if (scratch.limit_epoch[ip->c] != scratch.epoch) {
      scratch.limit_epoch[ip->c] = scratch.epoch;
      scratch.limits_read.push_back(ip->c);
    }
    int64_t count = frame.limit_count(ip->c);
    int64_t allowed = prepared.program->limits[ip->c].count;
    if (ip->op == Op::kLIMEXC) {
      r[ip->a].i = count >= allowed;
    } else {
      r[ip->a].i = count >= allowed ? 0 : allowed - count;
    }
    VM_NEXT();
  }
  VM_CASE(DATA) {
    // Only `warden test` leaves data out; reading a value with no empty form is an error there.
    if (prepared.data_missing[ip->c]) [[unlikely]]
      VM_FAIL(EvalError::kMissingAttribute);
    r[ip->a] = prepared.data[ip->c];
    VM_NEXT();
  }

  VM_CASE(JMP) { VM_JUMP(ip->c); }
  VM_CASE(JMPT) {
    if (r[ip->b].i != 0) VM_JUMP(ip->c);
    VM_NEXT();
  }
  VM_CASE(JMPF) {
    if (r[ip->b].i == 0) VM_JUMP(ip->c);
    VM_NEXT();
  }
  VM_CASE(RET) {
    *result = r[ip->a];
    return EvalError::kNone;
  }

  VM_CASE(NOT) {
    r[ip->a].i = r[ip->b].i == 0;
    VM_NEXT();
  }
  VM_CASE(NEG) {
    if (r[ip->b].i == std::numeric_limits<int64_t>::min()) VM_FAIL(EvalError::kOverflow);
    r[ip->a].i = -r[ip->b].i;
    VM_NEXT();
  }
  VM_CASE(ADD) {
    if (__builtin_add_overflow(r[ip->b].i, r[ip->c].i, &r[ip->a].i)) VM_FAIL(EvalError::kOverflow);
    VM_NEXT();
  }
  VM_CASE(SUB) {
    if (__builtin_sub_overflow(r[ip->b].i, r[ip->c].i, &r[ip->a].i)) VM_FAIL(EvalError::kOverflow);
    VM_NEXT();
  }
  VM_CASE(MUL) {
    if (__builtin_mul_overflow(r[ip->b].i, r[ip->c].i, &r[ip->a].i)) VM_FAIL(EvalError::kOverflow);
    VM_NEXT();
  }
  VM_CASE(DIV) {
    int64_t x = r[ip->b].i;
    int64_t y = r[ip->c].i;
    if (y == 0) VM_FAIL(EvalError::kDivisionByZero);
    if (x == std::numeric_limits<int64_t>::min() && y == -1) VM_FAIL(EvalError::kOverflow);
    r[ip->a].i = x / y;
    VM_NEXT();
  }
  VM_CASE(MOD) {
    int64_t x = r[ip->b].i;
    int64_t y = r[ip->c].i;
    if (y == 0) VM_FAIL(EvalError::kDivisionByZero);
    r[ip->a].i = y == -1 ? 0 : x % y;
    VM_NEXT();
  }

  VM_CASE(EQB)
  VM_CASE(EQI) {
    r[ip->a].i = r[ip->b].i == r[ip->c].i;
    VM_NEXT();
  }
  VM_CASE(NEB)
  VM_CASE(NEI) {
    r[ip->a].i = r[ip->b].i != r[ip->c].i;
    VM_NEXT();
  }
  VM_CASE(LTI) {
    r[ip->a].i = r[ip->b].i < r[ip->c].i;
    VM_NEXT();
  }
  VM_CASE(LEI) {
    r[ip->a].i = r[ip->b].i <= r[ip->c].i;
    VM_NEXT();
  }
  VM_CASE(EQS) {
    r[ip->a].i = StringsEqual(r[ip->b].s, r[ip->c].s);
    VM_NEXT();
  }
  VM_CASE(NES) {
    r[ip->a].i = !StringsEqual(r[ip->b].s, r[ip->c].s);
    VM_NEXT();
  }
  VM_CASE(LTS) {
    r[ip->a].i = CompareStrings(r[ip->b].s, r[ip->c].s) < 0;
    VM_NEXT();
  }
  VM_CASE(LES) {
    r[ip->a].i = CompareStrings(r[ip->b].s, r[ip->c].s) <= 0;
    VM_NEXT();
  }
  VM_CASE(EQP) {
    r[ip->a].i = *r[ip->b].ip == *r[ip->c].ip;
    VM_NEXT();
  }
  VM_CASE(NEP) {
    r[ip->a].i = !(*r[ip->b].ip == *r[ip->c].ip);
    VM_NEXT();
  }
  VM_CASE(EQT) {
    r[ip->a].i = SetsEqual(*prepared.program, r[ip->b].set, r[ip->c].set);
    VM_NEXT();
  }
  VM_CASE(NET) {
    r[ip->a].i = !SetsEqual(*prepared.program, r[ip->b].set, r[ip->c].set);
    VM_NEXT();
  }

  VM_CASE(INB) {
    r[ip->a].i = SetHas(*prepared.program, r[ip->c].set, ValueKind::kBool, r[ip->b]);
    VM_NEXT();
  }
  VM_CASE(INI) {
    r[ip->a].i = SetHas(*prepared.program, r[ip->c].set, ValueKind::kInt, r[ip->b]);
    VM_NEXT();
  }
  VM_CASE(INS) {
    r[ip->a].i = SetHas(*prepared.program, r[ip->c].set, ValueKind::kString, r[ip->b]);
    VM_NEXT();
  }
  VM_CASE(INP) {
    const SetRef& set = r[ip->c].set;
    bool inside = false;
    if (set.element == ValueKind::kIp) {
      for (uint32_t i = 0; i < set.size && !inside; ++i)
        inside = values::InNetwork(*set.data[i].ip, *r[ip->b].ip);
    }
    r[ip->a].i = inside;
    VM_NEXT();
  }
  VM_CASE(INNET) {
    r[ip->a].i = values::InNetwork(*r[ip->c].ip, *r[ip->b].ip);
    VM_NEXT();
  }

  VM_CASE(MATCH) {
    const StrRef& s = r[ip->b].s;
    r[ip->a].i = RE2::PartialMatch(re2::StringPiece(s.data, s.size), *prepared.regexes[ip->c]);
    VM_NEXT();
  }
  VM_CASE(STARTS) {
    r[ip->a].i = StartsWith(r[ip->b].s, r[ip->c].s);
    VM_NEXT();
  }
  VM_CASE(ENDS) {
    r[ip->a].i = EndsWith(r[ip->b].s, r[ip->c].s);
    VM_NEXT();
  }
  VM_CASE(CONTAINS) {
    r[ip->a].i = Contains(r[ip->b].s, r[ip->c].s);
    VM_NEXT();
  }
  VM_CASE(LOWER)
  VM_CASE(UPPER) {
    StrRef s = r[ip->b].s;
    char* out = static_cast<char*>(scratch.arena.Allocate(s.size, 1));
    if (out == nullptr) VM_FAIL(EvalError::kLimitExceeded);
    bool lower = ip->op == Op::kLOWER;
    for (uint32_t i = 0; i < s.size; ++i) {
      char c = s.data[i];
      if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      out[i] = c;
    }
    r[ip->a].s = StrRef{out, s.size};
    VM_NEXT();
  }
  VM_CASE(STRLEN) {
    r[ip->a].i = r[ip->b].s.size;
    VM_NEXT();
  }

  VM_CASE(SETLEN) {
    r[ip->a].i = r[ip->b].set.size;
    VM_NEXT();
  }
  VM_CASE(SETANY) {
    r[ip->a].i = Intersects(*prepared.program, r[ip->b].set, r[ip->c].set);
    VM_NEXT();
  }
  VM_CASE(SETALL) {
    r[ip->a].i = Subset(*prepared.program, r[ip->c].set, r[ip->b].set);
    VM_NEXT();
  }
  VM_CASE(SETNEW) {
    auto* items =
        static_cast<Value*>(scratch.arena.Allocate(ip->c * sizeof(Value), alignof(Value)));
    if (items == nullptr) VM_FAIL(EvalError::kLimitExceeded);
    r[ip->a].set =
        SetRef{items, 0, static_cast<ValueKind>(ip->b), false, static_cast<uint16_t>(ip->c)};
    VM_NEXT();
  }
  VM_CASE(SETADD) {
    SetRef& set = r[ip->a].set;
    if (set.size >= set.capacity) VM_FAIL(EvalError::kLimitExceeded);
    const_cast<Value*>(set.data)[set.size++] = r[ip->b];  // arena memory this block allocated
    VM_NEXT();
  }

  VM_CASE(HOUR)
  VM_CASE(MINUTE)
  VM_CASE(WEEKDAY)
  VM_CASE(DATE)
  VM_CASE(SECOND) {
    absl::CivilSecond civil =
        absl::ToCivilSecond(absl::FromUnixMillis(r[ip->b].i), prepared.zones[ip->c]);
    if (ip->op == Op::kHOUR) {
      r[ip->a].i = civil.hour();
    } else if (ip->op == Op::kMINUTE) {
      r[ip->a].i = civil.minute();
    } else if (ip->op == Op::kSECOND) {
      r[ip->a].i = civil.second();
    } else if (ip->op == Op::kWEEKDAY) {
      r[ip->a].i = static_cast<int64_t>(absl::GetWeekday(absl::CivilDay(civil)));  // monday = 0
    } else {
      char* out = static_cast<char*>(scratch.arena.Allocate(32, 1));
      if (out == nullptr) VM_FAIL(EvalError::kLimitExceeded);
      int n = std::snprintf(out, 32, "%04lld-%02d-%02d", static_cast<long long>(civil.year()),
                            civil.month(), civil.day());
      r[ip->a].s = StrRef{out, static_cast<uint32_t>(n > 0 ? std::min(n, 31) : 0)};
    }
    VM_NEXT();
  }

  VM_CASE(FORINIT) {
    r[ip->a].iter = 0;
    VM_NEXT();
  }
  VM_CASE(FORNEXT) {
    if (r[ip->a].iter >= r[ip->b].set.size) VM_JUMP(ip->c);
    ++r[ip->a].iter;
    VM_NEXT();
  }
  VM_CASE(ELEM) {
    const SetRef& set = r[ip->b].set;
    uint64_t index = r[ip->c].iter;
    if (index == 0 || index > set.size) VM_FAIL(EvalError::kLimitExceeded);
    r[ip->a] = set.data[index - 1];
    VM_NEXT();
  }
  VM_CASE(LOOP) {
    if (scratch.loop_budget == 0) VM_FAIL(EvalError::kLimitExceeded);
    --scratch.loop_budget;
    VM_JUMP(ip->c);
  }
  // Records held as values: set members and data (the verifier proved c a
  // field of b's shape and a of the field's type).
  VM_CASE(FIELD) {
    const RecordData* record = r[ip->b].rec;
    if (!record->present()[ip->c]) VM_FAIL(EvalError::kMissingAttribute);
    r[ip->a] = record->fields()[ip->c];
    VM_NEXT();
  }
  VM_CASE(INR) {
    r[ip->a].i = SetHas(*prepared.program, r[ip->c].set, ValueKind::kRecord, r[ip->b]);
    VM_NEXT();
  }
#if !WARDEN_VM_COMPUTED_GOTO
}
}
#endif
#undef VM_CASE
#undef VM_FAIL
#undef VM_JUMP
#undef VM_NEXT
}

#if WARDEN_VM_COMPUTED_GOTO
#pragma GCC diagnostic pop
#endif

}  // namespace warden::rt
