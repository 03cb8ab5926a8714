#include "runtime/frame.h"

#include <cstring>

namespace warden::rt {

inline constexpr bc::RegType kRecordSlot = 0xfe;
inline constexpr bc::RegType kUnusedSlot = 0xff;

void* Arena::Allocate(size_t bytes, size_t align) {
  if (bytes == 0) bytes = 1;
  if (used_ + bytes > max_bytes_) return nullptr;
  while (current_ < blocks_.size()) {
    Block& block = blocks_[current_];
    size_t start = (offset_ + align - 1) & ~(align - 1);
    if (start + bytes <= block.size) {
      offset_ = start + bytes;
      used_ += bytes;
      return block.data.get() + start;
    }
    ++current_;
    offset_ = 0;
  }
  size_t size = blocks_.empty() ? 4096 : blocks_.back().size * 2;
  while (size < bytes + align) size *= 2;
  blocks_.push_back(Block{std::make_unique<char[]>(size), size});
  current_ = blocks_.size() - 1;
  size_t start = (reinterpret_cast<uintptr_t>(blocks_.back().data.get()) % align) == 0 ? 0 : align;
  offset_ = start + bytes;
  used_ += bytes;
  return blocks_.back().data.get() + start;
}

RecordData* Arena::NewRecord(uint32_t shape, uint32_t count) {
  auto* record = static_cast<RecordData*>(Allocate(RecordData::Bytes(count), alignof(Value)));
  if (record == nullptr) return nullptr;
  record->shape = shape;
  record->count = count;
  record->reserved = 0;
  std::memset(static_cast<void*>(record->fields()), 0, count * sizeof(Value));
  std::memset(record->present(), 0, count);
  return record;
}

void Arena::Reset() {
  current_ = 0;
  offset_ = 0;
  used_ = 0;
}

Frame::Frame(const bc::Program& program, FrameOptions options)
    : slots_(program.slot_count),
      present_(program.slot_count, 0),
      slot_types_(program.slot_count, kUnusedSlot),
      arena_(options.max_arena_bytes) {
  for (const bc::Attribute& a : program.attributes) {
    if (a.slot >= program.slot_count) continue;
    bc::RegType type = kRecordSlot;
    if (a.type.code != bc::TypeCode::kRecord) bc::RegTypeOf(a.type, &type);
    slot_types_[a.slot] = type;
  }
  limit_counts_.assign(program.limits.size(), 0);
  limit_unavailable_.assign(program.limits.size(), 0);
  // A program without slots has no storage to clear (memset of null is UB).
  if (!slots_.empty())
    std::memset(static_cast<void*>(slots_.data()), 0, slots_.size() * sizeof(Value));
}

void Frame::Reset() {
  for (uint32_t slot : written_) present_[slot] = 0;
  written_.clear();
  arena_.Reset();
  action_ = -1;
  undeclared_action_ = {};
  resource_type_ = -1;
  now_ = 0;
  jit_grants_.clear();
  std::fill(limit_counts_.begin(), limit_counts_.end(), 0);
  std::fill(limit_unavailable_.begin(), limit_unavailable_.end(), 0);
}

bool Frame::Check(uint32_t slot, bc::RegType type) const {
  return slot < slots_.size() && slot_types_[slot] == type;
}

void Frame::Put(uint32_t slot, Value value) {
  slots_[slot] = value;
  if (!present_[slot]) {
    present_[slot] = 1;
    written_.push_back(slot);
  }
}

Value* Frame::AllocateValues(size_t count) {
  return static_cast<Value*>(arena_.Allocate(count * sizeof(Value), alignof(Value)));
}

bool Frame::SetBool(uint32_t slot, bool value) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kBool))) return false;
  Value v;
  v.i = value ? 1 : 0;
  Put(slot, v);
  return true;
}

bool Frame::SetInt(uint32_t slot, int64_t value) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kInt))) return false;
  Value v;
  v.i = value;
  Put(slot, v);
  return true;
}

bool Frame::SetStringView(uint32_t slot, std::string_view value) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kString)) || value.size() > UINT32_MAX)
    return false;
  Value v;
  v.s = StrRef{value.data(), static_cast<uint32_t>(value.size())};
  Put(slot, v);
  return true;
}

bool Frame::SetString(uint32_t slot, std::string_view value) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kString)) || value.size() > UINT32_MAX)
    return false;
  char* copy = static_cast<char*>(arena_.Allocate(value.size(), 1));
  if (copy == nullptr) return false;
  std::memcpy(copy, value.data(), value.size());
  return SetStringView(slot, std::string_view(copy, value.size()));
}

bool Frame::SetUndeclaredActionName(std::string_view name) {
  char* copy = static_cast<char*>(arena_.Allocate(name.size(), 1));
  if (copy == nullptr && !name.empty()) return false;
  if (!name.empty()) std::memcpy(copy, name.data(), name.size());
  undeclared_action_ = std::string_view(copy, name.size());
  return true;
}

bool Frame::SetIp(uint32_t slot, const bc::IpNet& value) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kIp))) return false;
  auto* copy = static_cast<bc::IpNet*>(arena_.Allocate(sizeof(bc::IpNet), alignof(bc::IpNet)));
  if (copy == nullptr) return false;
  *copy = value;
  Value v;
  v.ip = copy;
  Put(slot, v);
  return true;
}

bool Frame::SetStringSet(uint32_t slot, const std::vector<std::string_view>& values) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kSet, bc::ValueKind::kString))) return false;
  Value* items = AllocateValues(values.size());
  if (items == nullptr) return false;
  for (size_t i = 0; i < values.size(); ++i) {
    char* copy = static_cast<char*>(arena_.Allocate(values[i].size(), 1));
    if (copy == nullptr) return false;
    std::memcpy(copy, values[i].data(), values[i].size());
    items[i].s = StrRef{copy, static_cast<uint32_t>(values[i].size())};
  }
  Value v;
  v.set = SetRef{items, static_cast<uint32_t>(values.size()), bc::ValueKind::kString, false, 0};
  Put(slot, v);
  return true;
}

bool Frame::SetIntSet(uint32_t slot, const std::vector<int64_t>& values) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kSet, bc::ValueKind::kInt))) return false;
  Value* items = AllocateValues(values.size());
  if (items == nullptr) return false;
  for (size_t i = 0; i < values.size(); ++i) items[i].i = values[i];
  Value v;
  v.set = SetRef{items, static_cast<uint32_t>(values.size()), bc::ValueKind::kInt, false, 0};
  Put(slot, v);
  return true;
}

bool Frame::SetIpSet(uint32_t slot, const std::vector<bc::IpNet>& values) {
  if (!Check(slot, bc::MakeRegType(bc::ValueKind::kSet, bc::ValueKind::kIp))) return false;
  Value* items = AllocateValues(values.size());
  auto* ips = static_cast<bc::IpNet*>(
      arena_.Allocate(values.size() * sizeof(bc::IpNet), alignof(bc::IpNet)));
  if (items == nullptr || ips == nullptr) return false;
  for (size_t i = 0; i < values.size(); ++i) {
    ips[i] = values[i];
    items[i].ip = &ips[i];
  }
  Value v;
  v.set = SetRef{items, static_cast<uint32_t>(values.size()), bc::ValueKind::kIp, false, 0};
  Put(slot, v);
  return true;
}

bool Frame::MarkPresent(uint32_t slot) {
  if (!Check(slot, kRecordSlot)) return false;
  Value v;
  v.i = 0;
  Put(slot, v);
  return true;
}

bool Frame::SetValue(uint32_t slot, bc::RegType type, const Value& value) {
  if (!Check(slot, type)) return false;
  Put(slot, value);
  return true;
}

void Frame::SetLimitCount(uint32_t limit, int64_t count) {
  if (limit < limit_counts_.size()) limit_counts_[limit] = count;
}

void Frame::SetLimitUnavailable(uint32_t limit) {
  if (limit < limit_unavailable_.size()) limit_unavailable_[limit] = 1;
}

}  // namespace warden::rt
