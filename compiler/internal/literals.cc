#include "compiler/internal/literals.h"

namespace warden::internal {

bool ParseInt(std::string_view digits, int64_t* out) {
  if (digits.empty()) return false;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, c - '0', &value))
      return false;
  }
  *out = value;
  return true;
}

}  // namespace warden::internal
