#include "runtime/values/decimal.h"

#include "runtime/values/digits.h"

namespace warden::values {

Error ParseDecimal(std::string_view text, int64_t* scaled) {
  if (text.empty()) return Error::kEmpty;
  size_t i = text[0] == '-' ? 1 : 0;
  bool negative = i == 1;
  bool overflow = false;
  uint64_t whole = 0;
  if (internal::ReadDigits(text, &i, &whole, &overflow) == 0) return Error::kSyntax;
  uint64_t fraction = 0;
  size_t digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t begin = i;
    while (i < text.size() && internal::IsDigit(text[i])) {
      if (i - begin < kDecimalDigits)
        fraction = fraction * 10 + static_cast<uint64_t>(text[i] - '0');
      ++i;
    }
    digits = i - begin;
    if (digits == 0) return Error::kSyntax;
  }
  if (i != text.size()) return Error::kSyntax;
  if (digits > kDecimalDigits) return Error::kPrecision;
  for (; digits < kDecimalDigits; ++digits) fraction *= 10;
  uint64_t magnitude = 0;
  if (overflow || __builtin_mul_overflow(whole, uint64_t{kDecimalScale}, &magnitude) ||
      __builtin_add_overflow(magnitude, fraction, &magnitude) ||
      magnitude > static_cast<uint64_t>(INT64_MAX))
    return Error::kRange;
  *scaled = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return Error::kNone;
}

char* FormatDecimal(int64_t scaled, char* out) {
  uint64_t magnitude =
      scaled < 0 ? 0 - static_cast<uint64_t>(scaled) : static_cast<uint64_t>(scaled);
  if (scaled < 0) *out++ = '-';
  out = internal::WriteUnsigned(out, magnitude / kDecimalScale);
  *out++ = '.';
  char* fraction = out;
  out = internal::WritePadded(out, magnitude % kDecimalScale, kDecimalDigits);
  while (out > fraction + 1 && out[-1] == '0') --out;
  return out;
}

std::string DecimalString(int64_t scaled) {
  char buffer[kMaxDecimalText];
  return std::string(buffer, FormatDecimal(scaled, buffer));
}

}  // namespace warden::values
