// The bytecode VM: runs one verified code block against a request frame.
//
// One handler per opcode of runtime/bytecode/opcodes.h, dispatched by
// computed goto under GCC and clang (a `switch` elsewhere, or with
// -DWARDEN_VM_SWITCH_DISPATCH). Registers live on the C++ stack (at most 256 values of 16 bytes);
// the verifier guarantees every operand is in range, of the right kind, and written before it is
// read, so the loop checks nothing but the values themselves. Any instruction that can fail (an
// absent required attribute, overflow, division by zero, an unavailable limit counter, an exhausted
// budget) returns its EvalError at once, leaving its own index in
// Scratch::fault_pc: the block has no value, and the engine applies the
// fail-closed rule to the rule that owned it and reports the line of the
// failing instruction (bc::Program::lines).
#ifndef WARDEN_RUNTIME_VM_H_
#define WARDEN_RUNTIME_VM_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "re2/re2.h"
#include "runtime/bytecode/program.h"
#include "runtime/decision.h"
#include "runtime/frame.h"
#include "runtime/vm_options.h"

namespace warden::rt {

// Run-time views of a verified Program, built once at load and then only
// read (shared by every thread deciding on one engine).
struct Prepared {
  const bc::Program* program = nullptr;
  // Per code block: where its code starts, and whether it is one of the
  // trivial shapes RunBlock answers without entering the loop.
  struct Entry {
    const bc::Instr* code = nullptr;
    enum : uint8_t { kGeneral, kLoadSlot } shape = kGeneral;
    uint32_t operand = 0;  // kLoadSlot: the slot (the block is LOAD r, @slot; RET r)
  };
  std::vector<Entry> entries;
  std::vector<Value> constants;  // strings view program->constants; sets view members
  std::vector<Value> members;    // members of constant sets
  std::vector<std::unique_ptr<RE2>> regexes;
  std::vector<absl::TimeZone> zones;
  std::vector<Value> data;  // data values, by DataSlot index
  // Per data slot: not given, and of a type with no empty value (only with
  // EngineOptions::allow_missing_data): reading it is missing_attribute.
  std::vector<uint8_t> data_missing;
  std::deque<std::string> data_strings;
  std::deque<bc::IpNet> data_ips;
  std::deque<std::vector<Value>> data_sets;
  Arena data_arena{SIZE_MAX};  // records in data values
  enum : uint8_t { kNoDefault, kConstantDefault, kNowDefault };
  std::vector<uint8_t> default_kind;   // per slot
  std::vector<Value> defaults;         // per slot
  size_t role_words = 0;               // 64-bit words of a role bitset
  std::vector<uint64_t> role_closure;  // roles x role_words
};

// Per-decision working memory, reused across decisions on one thread.
struct Scratch {
  enum class Source : uint8_t { kCondition, kObligation, kRisk, kSeparation, kCombine };
  struct Error {
    EvalError code;
    Source source;
    uint32_t index;   // rule, risk or separation index
    uint32_t detail;  // kObligation: extra index; kRisk: factor index
    // kCondition, kObligation, kRisk: the failing instruction (an index into
    // the program's code: Program::LineOf gives its line); else 0.
    uint32_t pc;
  };
  std::vector<uint64_t> roles;  // effective roles (bitset)
  // Risk scores and limits already read in this decision: an entry equal to
  // `epoch` (which Begin advances) is of this decision, so nothing is cleared.
  uint32_t epoch = 0;
  std::vector<uint32_t> risk_epoch;
  std::vector<int64_t> risk_value;
  std::vector<uint32_t> limit_epoch;
  std::vector<uint32_t> limits_read;
  std::vector<Error> errors;
  Arena arena;
  size_t loop_budget = 0;
  // The instruction that made the last failing Run fail (written on the
  // error path only; meaningless after a success).
  uint32_t fault_pc = 0;

  // Prepares for a decision on `prepared` (sizes tables; keeps capacity).
  void Begin(const Prepared& prepared, const VmOptions& options);
  bool risk_done(uint32_t risk) const { return risk_epoch[risk] == epoch; }
};

// Runs block `block`; on success stores its result in *result.
EvalError Run(const Prepared& prepared, const Frame& frame, Scratch& scratch, uint32_t block,
              Value* result);

// Run, with a shortcut for blocks that only read one present slot (obligation
// values, bare boolean conditions and risk factors): no call, no registers.
inline EvalError RunBlock(const Prepared& prepared, const Frame& frame, Scratch& scratch,
                          uint32_t block, Value* result) {
  const Prepared::Entry& entry = prepared.entries[block];
  if (entry.shape == Prepared::Entry::kLoadSlot && frame.present(entry.operand)) {
    *result = frame.slot(entry.operand);
    return EvalError::kNone;
  }
  return Run(prepared, frame, scratch, block, result);
}

// Risk score `risk`, computed at most once per decision (Scratch caches it).
int64_t RiskScore(const Prepared& prepared, const Frame& frame, Scratch& scratch, uint32_t risk);

// Value helpers shared with the engine.
bool ScalarEqual(bc::ValueKind kind, const Value& a, const Value& b);
// The order of bc::CompareScalars (the order of constant sets): <0, 0, >0.
int CompareScalar(bc::ValueKind kind, const Value& a, const Value& b);

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_VM_H_
