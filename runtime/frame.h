// The request frame: one typed 16-byte slot per attribute of the program.
//
// The compiler resolves every attribute path to a slot number, so the VM
// reads `resource.amount` as `frame.slots[7]` — no lookups, no hashing.
// Strings are views (pointer + length): SetStringView keeps a view into the
// caller's buffer (the request's bytes, which must outlive the decision),
// SetString copies into the frame's arena. Sets are spans of Values in the
// arena; records held as values (members of sets of records) are RecordData
// blocks in the arena. Reset() forgets the values written since the last reset (not every
// slot) and rewinds the arena, so a frame reused across requests makes no
// heap allocation per decision once warm.
//
// A Frame belongs to one request at a time; decide on it from one thread
// (many threads may each use their own frame with one Engine).
#ifndef WARDEN_RUNTIME_FRAME_H_
#define WARDEN_RUNTIME_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "runtime/bytecode/program.h"

namespace warden::rt {

union Value;
struct RecordData;

struct StrRef {
  const char* data;
  uint32_t size;
  std::string_view view() const { return std::string_view(data, size); }
};

struct SetRef {
  const Value* data;
  uint32_t size;
  bc::ValueKind element;
  bool sorted;        // sorted and unique (constants, data): membership is a binary search
  uint16_t capacity;  // > 0 only for sets under construction by SETNEW/SETADD
};

// A register or slot value; its kind is known statically (bc::RegType).
union Value {
  int64_t i;  // bool (0/1), int, decimal, duration, timestamp, enum index
  StrRef s;
  const bc::IpNet* ip;
  SetRef set;
  uint64_t iter;
  const RecordData* rec;  // a record value
};
static_assert(sizeof(Value) == 16, "values are 16 bytes");

// A record value: a header, then its fields in declaration order (Values),
// then one presence byte per field. The shape (bc::Program::records) gives
// each field's type; an absent field is an error to read (FIELD).
struct RecordData {
  uint32_t shape;
  uint32_t count;
  uint64_t reserved;  // keeps the fields 16-byte aligned
  Value* fields() { return reinterpret_cast<Value*>(this + 1); }
  const Value* fields() const { return reinterpret_cast<const Value*>(this + 1); }
  uint8_t* present() { return reinterpret_cast<uint8_t*>(fields() + count); }
  const uint8_t* present() const { return reinterpret_cast<const uint8_t*>(fields() + count); }
  static size_t Bytes(uint32_t count) { return sizeof(RecordData) + count * (sizeof(Value) + 1); }
};
static_assert(sizeof(RecordData) == 16);

// A bump allocator that keeps its blocks across Reset().
class Arena {
 public:
  explicit Arena(size_t max_bytes = size_t{1} << 20) : max_bytes_(max_bytes) {}
  // Null when the arena's budget (max_bytes) would be exceeded.
  void* Allocate(size_t bytes, size_t align = 16);
  void Reset();
  size_t used() const { return used_; }
  // A record of `count` fields, every field absent; null over the budget.
  RecordData* NewRecord(uint32_t shape, uint32_t count);
  // `count` Values; null over the budget.
  Value* NewValues(size_t count) {
    return static_cast<Value*>(Allocate(count * sizeof(Value), alignof(Value)));
  }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t current_ = 0;  // block index
  size_t offset_ = 0;   // in the current block
  size_t used_ = 0;
  size_t max_bytes_;
};

struct FrameOptions {
  size_t max_arena_bytes = size_t{1} << 20;  // copied strings and sets of one request
};

class Frame {
 public:
  explicit Frame(const bc::Program& program, FrameOptions options = {});

  // Forgets every value, the action, resource type, grants and limit counts.
  void Reset();

  // Typed setters. Each returns false (and sets nothing) when the slot is
  // out of range or declared with another kind of value.
  bool SetBool(uint32_t slot, bool value);
  bool SetInt(uint32_t slot,
              int64_t value);  // int, decimal (scaled 10^4), duration, timestamp, enum
  bool SetString(uint32_t slot, std::string_view value);  // copied into the arena
  bool SetStringView(uint32_t slot,
                     std::string_view value);  // a view; the bytes must outlive decisions
  bool SetIp(uint32_t slot, const bc::IpNet& value);
  bool SetStringSet(uint32_t slot, const std::vector<std::string_view>& values);  // copied
  bool SetIntSet(uint32_t slot, const std::vector<int64_t>& values);
  bool SetIpSet(uint32_t slot, const std::vector<bc::IpNet>& values);
  bool MarkPresent(uint32_t slot);  // a record (e.g. an optional record given by the request)
  // Any value of register type `type` (the slot's): for values built in the
  // frame's arena() (sets of records). The VM trusts it as the verifier's
  // types say: members built with Arena::NewRecord for the type's shape (its
  // field count), fields of their declared types all the way down, sets
  // sorted and unique (rt::SortUnique). It must stay valid as long as the
  // frame's values do.
  bool SetValue(uint32_t slot, bc::RegType type, const Value& value);
  // The frame's arena, reset with the frame: room for values built by
  // decoders (strings, sets, records); allocations fail past max_arena_bytes.
  Arena& arena() { return arena_; }

  // The request's action and resource type, as program indices; -1 when the
  // program does not declare them (only `*` rules and `on *` policies apply).
  void set_action(int32_t action) { action_ = action; }
  // The name of an action the program does not declare (action() == -1),
  // copied into the arena: only for error messages ("the action `x` is not
  // declared, so it has no order"). Returns false when the arena is full.
  bool SetUndeclaredActionName(std::string_view name);
  void set_resource_type(int32_t type) { resource_type_ = type; }
  // The decision time in ms since the epoch (the default of context.time).
  void set_now_millis(int64_t now) { now_ = now; }
  void AddJitGrant(uint32_t profile) { jit_grants_.push_back(profile); }
  // Requests already counted for limit `limit` (default 0).
  void SetLimitCount(uint32_t limit, int64_t count);
  void SetLimitUnavailable(uint32_t limit);

  // Reading, for the VM and the engine.
  bool present(uint32_t slot) const { return present_[slot] != 0; }
  const Value& slot(uint32_t slot) const { return slots_[slot]; }
  // The same, as arrays of slot_count() entries (the VM's loads).
  const uint8_t* present_data() const { return present_.data(); }
  const Value* slot_data() const { return slots_.data(); }
  int32_t action() const { return action_; }
  std::string_view undeclared_action_name() const { return undeclared_action_; }
  int32_t resource_type() const { return resource_type_; }
  int64_t now_millis() const { return now_; }
  const std::vector<uint32_t>& jit_grants() const { return jit_grants_; }
  int64_t limit_count(uint32_t limit) const {
    return limit < limit_counts_.size() ? limit_counts_[limit] : 0;
  }
  bool limit_available(uint32_t limit) const {
    return limit >= limit_unavailable_.size() || !limit_unavailable_[limit];
  }
  size_t slot_count() const { return slots_.size(); }
  // The value kind a slot holds (bc::RegType); 0xfe for records, 0xff unused.
  bc::RegType slot_type(uint32_t slot) const { return slot_types_[slot]; }

 private:
  bool Check(uint32_t slot, bc::RegType type) const;
  void Put(uint32_t slot, Value value);
  Value* AllocateValues(size_t count);

  std::vector<Value> slots_;
  std::vector<uint8_t> present_;
  std::vector<bc::RegType> slot_types_;
  std::vector<uint32_t> written_;
  Arena arena_;
  int32_t action_ = -1;
  std::string_view undeclared_action_;  // in the arena
  int32_t resource_type_ = -1;
  int64_t now_ = 0;
  std::vector<uint32_t> jit_grants_;
  std::vector<int64_t> limit_counts_;
  std::vector<uint8_t> limit_unavailable_;
};

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_FRAME_H_
