#include "runtime/values/duration.h"

#include "runtime/values/digits.h"

namespace warden::values {
namespace {

struct Unit {
  uint64_t millis;
  std::string_view name;
};
// Largest first: the order of the canonical spelling.
constexpr Unit kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};

// The unit at text[*i] ("ms" before "m"), advancing *i; 0 when none.
uint64_t ReadUnit(std::string_view text, size_t* i) {
  if (text.substr(*i, 2) == "ms") {
    *i += 2;
    return 1;
  }
  if (*i >= text.size()) return 0;
  for (const Unit& unit : kUnits) {
    if (unit.name.size() == 1 && text[*i] == unit.name[0]) {
      ++*i;
      return unit.millis;
    }
  }
  return 0;
}

}  // namespace

Error ParseDuration(std::string_view text, int64_t* millis) {
  if (text.empty()) return Error::kEmpty;
  uint64_t total = 0;
  uint64_t previous = UINT64_MAX;
  bool overflow = false;
  size_t i = 0;
  while (i < text.size()) {
    uint64_t amount = 0;
    if (internal::ReadDigits(text, &i, &amount, &overflow) == 0) return Error::kSyntax;
    uint64_t unit = ReadUnit(text, &i);
    if (unit == 0) return Error::kUnit;
    if (unit >= previous) return Error::kUnitOrder;  // `1h30m`, never `30m1h` or `5m5m`
    previous = unit;
    uint64_t part = 0;
    if (__builtin_mul_overflow(amount, unit, &part) || __builtin_add_overflow(total, part, &total))
      overflow = true;
  }
  if (overflow || total > static_cast<uint64_t>(INT64_MAX)) return Error::kRange;
  *millis = static_cast<int64_t>(total);
  return Error::kNone;
}

char* FormatDuration(int64_t millis, char* out) {
  if (millis == 0) {
    *out++ = '0';
    *out++ = 's';
    return out;
  }
  if (millis < 0) *out++ = '-';
  uint64_t rest = millis < 0 ? 0 - static_cast<uint64_t>(millis) : static_cast<uint64_t>(millis);
  for (const Unit& unit : kUnits) {
    if (rest < unit.millis) continue;
    out = internal::WriteUnsigned(out, rest / unit.millis);
    for (char c : unit.name) *out++ = c;
    rest %= unit.millis;
  }
  return out;
}

std::string DurationString(int64_t millis) {
  char buffer[kMaxDurationText];
  return std::string(buffer, FormatDuration(millis, buffer));
}

}  // namespace warden::values
