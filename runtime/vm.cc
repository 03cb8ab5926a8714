#include "runtime/vm.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

namespace warden::rt {

using bc::Op;
using bc::ValueKind;

void Scratch::Begin(const Prepared& prepared, const VmOptions& options) {
  const bc::Program& p = *prepared.program;
  roles.assign(prepared.role_words, 0);
  risk_done.assign(p.risks.size(), 0);
  risk_value.resize(p.risks.size());
  limit_read.assign(p.limits.size(), 0);
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

bool SetHas(const SetRef& set, ValueKind kind, const Value& x) {
  if (set.element != kind) return false;
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
bool Subset(const SetRef& part, const SetRef& whole) {
  for (uint32_t i = 0; i < part.size; ++i) {
    if (!SetHas(whole, part.element, part.data[i])) return false;
  }
  return true;
}

bool Intersects(const SetRef& a, const SetRef& b) {
  for (uint32_t i = 0; i < b.size; ++i) {
    if (SetHas(a, b.element, b.data[i])) return true;
  }
  return false;
}

bool SetsEqual(const SetRef& a, const SetRef& b) {
  if (a.element != b.element && a.size + b.size > 0) return false;
  return Subset(a, b) && Subset(b, a);
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

bool IpContains(const bc::IpNet& network, const bc::IpNet& address) {
  if (network.v6 != address.v6 || address.prefix < network.prefix) return false;
  int full = network.prefix / 8;
  if (std::memcmp(network.bytes, address.bytes, full) != 0) return false;
  int rest = network.prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (network.bytes[full] & mask) == (address.bytes[full] & mask);
}

// ---------------------------------------------------------------- risk

int64_t RiskScore(const Prepared& prepared, const Frame& frame, Scratch& scratch, uint32_t risk) {
  if (scratch.risk_done[risk]) return scratch.risk_value[risk];
  const bc::Risk& r = prepared.program->risks[risk];
  int64_t score = 0;
  for (uint32_t f = 0; f < r.factors.size(); ++f) {
    const bc::RiskFactor& factor = r.factors[f];
    Value holds;
    EvalError error = Run(prepared, frame, scratch, factor.block, &holds);
    bool counts = false;
    if (error != EvalError::kNone) {
      // Fail closed: a positive factor that cannot be evaluated counts.
      scratch.errors.push_back(Scratch::Error{error, Scratch::Source::kRisk, risk, f});
      counts = factor.points > 0;
    } else {
      counts = holds.i != 0;
    }
    if (counts && __builtin_add_overflow(score, factor.points, &score)) {
      score = factor.points > 0 ? std::numeric_limits<int64_t>::max()
                                : std::numeric_limits<int64_t>::min();
    }
  }
  scratch.risk_done[risk] = 1;
  scratch.risk_value[risk] = score;
  return score;
}

// ---------------------------------------------------------------- the loop

EvalError Run(const Prepared& prepared, const Frame& frame, Scratch& scratch, uint32_t block_index,
              Value* result) {
  const bc::Program& program = *prepared.program;
  const bc::CodeBlock& block = program.blocks[block_index];
  const bc::Instr* code = program.code.data() + block.begin;
  Value r[bc::kMaxRegisters];  // uninitialized: the verifier proved every read follows a write
  uint32_t pc = 0;
  for (;;) {
    const bc::Instr in = code[pc++];
    switch (in.op) {
      case Op::kLOAD: {
        if (frame.present(in.c)) {
          r[in.a] = frame.slot(in.c);
        } else if (prepared.default_kind[in.c] == Prepared::kConstantDefault) {
          r[in.a] = prepared.defaults[in.c];
        } else if (prepared.default_kind[in.c] == Prepared::kNowDefault) {
          r[in.a].i = frame.now_millis();
        } else {
          return EvalError::kMissingAttribute;
        }
        break;
      }
      case Op::kHAS:
        r[in.a].i = frame.present(in.c);
        break;
      case Op::kCONST:
        r[in.a] = prepared.constants[in.c];
        break;
      case Op::kBOOL:
        r[in.a].i = in.b;
        break;
      case Op::kMOVE:
        r[in.a] = r[in.b];
        break;
      case Op::kACTION:
        // An undeclared action equals no declared one but has no place in
        // their order: ordering it is an error (docs/decisions.md).
        if (in.b != 0 && frame.action() < 0) return EvalError::kMissingAttribute;
        r[in.a].i = frame.action();
        break;
      case Op::kHASROLE:
        r[in.a].i = (scratch.roles[in.c / 64] >> (in.c % 64)) & 1;
        break;
      case Op::kRISK:
        r[in.a].i = RiskScore(prepared, frame, scratch, in.c);
        break;
      case Op::kLIMEXC:
      case Op::kLIMREM: {
        if (!frame.limit_available(in.c)) return EvalError::kUnavailable;
        if (!scratch.limit_read[in.c]) {
          scratch.limit_read[in.c] = 1;
          scratch.limits_read.push_back(in.c);
        }
        int64_t count = frame.limit_count(in.c);
        int64_t allowed = program.limits[in.c].count;
        if (in.op == Op::kLIMEXC) {
          r[in.a].i = count >= allowed;
        } else {
          r[in.a].i = count >= allowed ? 0 : allowed - count;
        }
        break;
      }
      case Op::kDATA:
        r[in.a] = prepared.data[in.c];
        break;

      case Op::kJMP:
        pc = in.c;
        break;
      case Op::kJMPT:
        if (r[in.b].i != 0) pc = in.c;
        break;
      case Op::kJMPF:
        if (r[in.b].i == 0) pc = in.c;
        break;
      case Op::kRET:
        *result = r[in.a];
        return EvalError::kNone;

      case Op::kNOT:
        r[in.a].i = r[in.b].i == 0;
        break;
      case Op::kNEG:
        if (r[in.b].i == std::numeric_limits<int64_t>::min()) return EvalError::kOverflow;
        r[in.a].i = -r[in.b].i;
        break;
      case Op::kADD:
        if (__builtin_add_overflow(r[in.b].i, r[in.c].i, &r[in.a].i)) return EvalError::kOverflow;
        break;
      case Op::kSUB:
        if (__builtin_sub_overflow(r[in.b].i, r[in.c].i, &r[in.a].i)) return EvalError::kOverflow;
        break;
      case Op::kMUL:
        if (__builtin_mul_overflow(r[in.b].i, r[in.c].i, &r[in.a].i)) return EvalError::kOverflow;
        break;
      case Op::kDIV: {
        int64_t x = r[in.b].i;
        int64_t y = r[in.c].i;
        if (y == 0) return EvalError::kDivisionByZero;
        if (x == std::numeric_limits<int64_t>::min() && y == -1) return EvalError::kOverflow;
        r[in.a].i = x / y;
        break;
      }
      case Op::kMOD: {
        int64_t x = r[in.b].i;
        int64_t y = r[in.c].i;
        if (y == 0) return EvalError::kDivisionByZero;
        r[in.a].i = y == -1 ? 0 : x % y;
        break;
      }

      case Op::kEQB:
      case Op::kEQI:
        r[in.a].i = r[in.b].i == r[in.c].i;
        break;
      case Op::kNEB:
      case Op::kNEI:
        r[in.a].i = r[in.b].i != r[in.c].i;
        break;
      case Op::kLTI:
        r[in.a].i = r[in.b].i < r[in.c].i;
        break;
      case Op::kLEI:
        r[in.a].i = r[in.b].i <= r[in.c].i;
        break;
      case Op::kEQS:
        r[in.a].i = ScalarEqual(ValueKind::kString, r[in.b], r[in.c]);
        break;
      case Op::kNES:
        r[in.a].i = !ScalarEqual(ValueKind::kString, r[in.b], r[in.c]);
        break;
      case Op::kLTS:
        r[in.a].i = CompareStrings(r[in.b].s, r[in.c].s) < 0;
        break;
      case Op::kLES:
        r[in.a].i = CompareStrings(r[in.b].s, r[in.c].s) <= 0;
        break;
      case Op::kEQP:
        r[in.a].i = *r[in.b].ip == *r[in.c].ip;
        break;
      case Op::kNEP:
        r[in.a].i = !(*r[in.b].ip == *r[in.c].ip);
        break;
      case Op::kEQT:
        r[in.a].i = SetsEqual(r[in.b].set, r[in.c].set);
        break;
      case Op::kNET:
        r[in.a].i = !SetsEqual(r[in.b].set, r[in.c].set);
        break;

      case Op::kINB:
        r[in.a].i = SetHas(r[in.c].set, ValueKind::kBool, r[in.b]);
        break;
      case Op::kINI:
        r[in.a].i = SetHas(r[in.c].set, ValueKind::kInt, r[in.b]);
        break;
      case Op::kINS:
        r[in.a].i = SetHas(r[in.c].set, ValueKind::kString, r[in.b]);
        break;
      case Op::kINP: {
        const SetRef& set = r[in.c].set;
        bool inside = false;
        if (set.element == ValueKind::kIp) {
          for (uint32_t i = 0; i < set.size && !inside; ++i)
            inside = IpContains(*set.data[i].ip, *r[in.b].ip);
        }
        r[in.a].i = inside;
        break;
      }
      case Op::kINNET:
        r[in.a].i = IpContains(*r[in.c].ip, *r[in.b].ip);
        break;

      case Op::kMATCH: {
        const StrRef& s = r[in.b].s;
        r[in.a].i = RE2::PartialMatch(re2::StringPiece(s.data, s.size), *prepared.regexes[in.c]);
        break;
      }
      case Op::kSTARTS:
        r[in.a].i = StartsWith(r[in.b].s, r[in.c].s);
        break;
      case Op::kENDS:
        r[in.a].i = EndsWith(r[in.b].s, r[in.c].s);
        break;
      case Op::kCONTAINS:
        r[in.a].i = Contains(r[in.b].s, r[in.c].s);
        break;
      case Op::kLOWER:
      case Op::kUPPER: {
        StrRef s = r[in.b].s;
        char* out = static_cast<char*>(scratch.arena.Allocate(s.size, 1));
        if (out == nullptr) return EvalError::kLimitExceeded;
        bool lower = in.op == Op::kLOWER;
        for (uint32_t i = 0; i < s.size; ++i) {
          char c = s.data[i];
          if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
          out[i] = c;
        }
        r[in.a].s = StrRef{out, s.size};
        break;
      }
      case Op::kSTRLEN:
        r[in.a].i = r[in.b].s.size;
        break;

      case Op::kSETLEN:
        r[in.a].i = r[in.b].set.size;
        break;
      case Op::kSETANY:
        r[in.a].i = Intersects(r[in.b].set, r[in.c].set);
        break;
      case Op::kSETALL:
        r[in.a].i = Subset(r[in.c].set, r[in.b].set);
        break;
      case Op::kSETNEW: {
        auto* items =
            static_cast<Value*>(scratch.arena.Allocate(in.c * sizeof(Value), alignof(Value)));
        if (items == nullptr) return EvalError::kLimitExceeded;
        r[in.a].set =
            SetRef{items, 0, static_cast<ValueKind>(in.b), false, static_cast<uint16_t>(in.c)};
        break;
      }
      case Op::kSETADD: {
        SetRef& set = r[in.a].set;
        if (set.size >= set.capacity) return EvalError::kLimitExceeded;
        const_cast<Value*>(set.data)[set.size++] = r[in.b];  // arena memory this block allocated
        break;
      }

      case Op::kHOUR:
      case Op::kMINUTE:
      case Op::kWEEKDAY:
      case Op::kDATE: {
        absl::CivilSecond civil =
            absl::ToCivilSecond(absl::FromUnixMillis(r[in.b].i), prepared.zones[in.c]);
        if (in.op == Op::kHOUR) {
          r[in.a].i = civil.hour();
        } else if (in.op == Op::kMINUTE) {
          r[in.a].i = civil.minute();
        } else if (in.op == Op::kWEEKDAY) {
          r[in.a].i = static_cast<int64_t>(absl::GetWeekday(absl::CivilDay(civil)));  // monday = 0
        } else {
          char* out = static_cast<char*>(scratch.arena.Allocate(32, 1));
          if (out == nullptr) return EvalError::kLimitExceeded;
          int n = std::snprintf(out, 32, "%04lld-%02d-%02d", static_cast<long long>(civil.year()),
                                civil.month(), civil.day());
          r[in.a].s = StrRef{out, static_cast<uint32_t>(n > 0 ? std::min(n, 31) : 0)};
        }
        break;
      }

      case Op::kFORINIT:
        r[in.a].iter = 0;
        break;
      case Op::kFORNEXT:
        if (r[in.a].iter >= r[in.b].set.size) {
          pc = in.c;
        } else {
          ++r[in.a].iter;
        }
        break;
      case Op::kELEM: {
        const SetRef& set = r[in.b].set;
        uint64_t index = r[in.c].iter;
        if (index == 0 || index > set.size) return EvalError::kLimitExceeded;
        r[in.a] = set.data[index - 1];
        break;
      }
      case Op::kLOOP:
        if (scratch.loop_budget == 0) return EvalError::kLimitExceeded;
        --scratch.loop_budget;
        pc = in.c;
        break;
    }
  }
}

}  // namespace warden::rt
