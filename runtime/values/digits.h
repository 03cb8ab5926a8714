// Digit scanning shared by the value parsers (internal to runtime/values).
#ifndef WARDEN_RUNTIME_VALUES_DIGITS_H_
#define WARDEN_RUNTIME_VALUES_DIGITS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warden::values::internal {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads the run of digits at text[*i] into *value, advancing *i. Returns how
// many digits it read; *overflow is set when the run does not fit uint64.
inline size_t ReadDigits(std::string_view text, size_t* i, uint64_t* value, bool* overflow) {
  size_t start = *i;
  uint64_t v = 0;
  for (; *i < text.size() && IsDigit(text[*i]); ++*i) {
    if (__builtin_mul_overflow(v, uint64_t{10}, &v) ||
        __builtin_add_overflow(v, static_cast<uint64_t>(text[*i] - '0'), &v))
      *overflow = true;
  }
  *value = v;
  return *i - start;
}

// Writes the decimal digits of v at out; returns the end.
inline char* WriteUnsigned(char* out, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

// Writes v as exactly `width` digits (zero padded); v < 10^width.
inline char* WritePadded(char* out, uint64_t v, int width) {
  for (int k = width - 1; k >= 0; --k) {
    out[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return out + width;
}

}  // namespace warden::values::internal

#endif  // WARDEN_RUNTIME_VALUES_DIGITS_H_
