#include "runtime/limit_key.h"

#include <charconv>
#include <string_view>

#include "runtime/values/ip.h"

namespace warden::rt {
namespace {

void AppendInt(std::string* out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr);
}

// tag, length, ':', bytes: self-delimiting whatever the bytes are.
void AppendCounted(std::string* out, char tag, std::string_view bytes) {
  out->push_back(tag);
  AppendInt(out, static_cast<int64_t>(bytes.size()));
  out->push_back(':');
  out->append(bytes);
}

void AppendIp(std::string* out, const bc::IpNet& ip) {
  char buffer[values::kMaxIpText];
  out->push_back('p');
  out->append(buffer, values::FormatIp(ip, buffer));
}

// The attribute whose value lives in `slot`: attribute n has slot n except
// for resource types' shared `type`/`id`, whose own attribute keeps its id.
const bc::Attribute* AttributeAt(const bc::Program& program, uint32_t slot) {
  if (slot < program.attributes.size() && program.attributes[slot].slot == slot)
    return &program.attributes[slot];
  for (const bc::Attribute& attribute : program.attributes) {
    if (attribute.slot == slot) return &attribute;
  }
  return nullptr;
}

// An int-kind value: an enum by member name when the program has it.
void AppendIntLike(std::string* out, const bc::Program& program, const bc::Attribute* attribute,
                   int64_t value) {
  if (attribute != nullptr && attribute->type.code == bc::TypeCode::kEnum) {
    int32_t e = attribute->type.enumeration;
    if (e >= 0 && static_cast<size_t>(e) < program.enums.size() && value >= 0 &&
        static_cast<uint64_t>(value) < program.enums[e].members.size()) {
      AppendCounted(out, 'e', program.enums[e].members[value]);
    } else {
      out->append("e#");
      AppendInt(out, value);
    }
    return;
  }
  out->push_back('i');
  AppendInt(out, value);
}

// An absent slot: its built-in default if it has one, else the absent marker.
void AppendAbsent(std::string* out, const bc::Program& program, const bc::Attribute* attribute,
                  const Frame& frame) {
  if (attribute == nullptr) {
    out->push_back('-');
    return;
  }
  if (attribute->default_value == bc::kDefaultNow) {
    out->push_back('i');
    AppendInt(out, frame.now_millis());
    return;
  }
  if (attribute->default_value < 0 ||
      static_cast<size_t>(attribute->default_value) >= program.constants.size()) {
    out->push_back('-');
    return;
  }
  const bc::Constant& k = program.constants[attribute->default_value];
  switch (k.kind) {
    case bc::ValueKind::kBool:
      out->append(k.i != 0 ? "b1" : "b0");
      return;
    case bc::ValueKind::kInt:
      AppendIntLike(out, program, attribute, k.i);
      return;
    case bc::ValueKind::kString:
      AppendCounted(out, 's', k.s);
      return;
    case bc::ValueKind::kIp:
      AppendIp(out, k.ip);
      return;
    default:
      out->push_back('?');
      return;
  }
}

void AppendSlot(std::string* out, const bc::Program& program, uint32_t slot, const Frame& frame) {
  if (slot >= frame.slot_count()) {
    out->push_back('?');
    return;
  }
  const bc::Attribute* attribute = AttributeAt(program, slot);
  if (!frame.present(slot)) {
    AppendAbsent(out, program, attribute, frame);
    return;
  }
  const Value& value = frame.slot(slot);
  bc::RegType type = frame.slot_type(slot);
  if (type == bc::MakeRegType(bc::ValueKind::kBool)) {
    out->append(value.i != 0 ? "b1" : "b0");
  } else if (type == bc::MakeRegType(bc::ValueKind::kInt)) {
    AppendIntLike(out, program, attribute, value.i);
  } else if (type == bc::MakeRegType(bc::ValueKind::kString)) {
    AppendCounted(out, 's', value.s.view());
  } else if (type == bc::MakeRegType(bc::ValueKind::kIp) && value.ip != nullptr) {
    AppendIp(out, *value.ip);
  } else {
    out->push_back('?');  // sets and records are not keys (the verifier refuses them)
  }
}

}  // namespace

void AppendLimitKey(const bc::Program& program, uint32_t limit, const Frame& frame,
                    std::string* out) {
  out->clear();
  if (limit >= program.limits.size()) return;
  const bc::Limit& declared = program.limits[limit];
  out->append(declared.name);
  for (const bc::LimitKey& key : declared.keys) {
    out->push_back('|');
    switch (key.kind) {
      case bc::LimitKey::Kind::kAction: {
        int32_t action = frame.action();
        if (action >= 0 && static_cast<size_t>(action) < program.actions.size()) {
          AppendCounted(out, 'a', program.actions[action].name);
        } else {
          out->append("a?");  // undeclared actions share a bucket: only `*` rules see them
        }
        break;
      }
      case bc::LimitKey::Kind::kResourceType: {
        int32_t type = frame.resource_type();
        if (type >= 0 && static_cast<size_t>(type) < program.resource_types.size()) {
          AppendCounted(out, 't', program.resource_types[type]);
        } else if (key.slot < frame.slot_count() && frame.present(key.slot) &&
                   frame.slot_type(key.slot) == bc::MakeRegType(bc::ValueKind::kString)) {
          // An undeclared type: the decoder still records its name.
          AppendCounted(out, 't', frame.slot(key.slot).s.view());
        } else {
          out->push_back('-');
        }
        break;
      }
      case bc::LimitKey::Kind::kSlot:
        AppendSlot(out, program, key.slot, frame);
        break;
      default:
        out->push_back('?');
        break;
    }
  }
}

}  // namespace warden::rt
