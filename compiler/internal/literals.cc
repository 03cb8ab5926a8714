#include "compiler/internal/literals.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "compiler/ast.h"

namespace warden::internal {
namespace {

bool MulAdd(int64_t value, int64_t factor, int64_t addend, int64_t* out) {
  int64_t product = 0;
  if (__builtin_mul_overflow(value, factor, &product)) return false;
  return !__builtin_add_overflow(product, addend, out);
}

}  // namespace

bool ParseInt(std::string_view digits, int64_t* out) {
  if (digits.empty()) return false;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    if (!MulAdd(value, 10, c - '0', &value)) return false;
  }
  *out = value;
  return true;
}

bool ParseDecimal(std::string_view text, int64_t* out, std::string* error) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty())) {
    *error = "is not a decimal number";
    return false;
  }
  if (fraction.size() > static_cast<size_t>(ast::kDecimalDigits)) {
    *error = absl::StrCat("has more than ", ast::kDecimalDigits, " fractional digits");
    return false;
  }
  int64_t integer = 0;
  int64_t frac = 0;
  auto digits_only = [](std::string_view part) {
    return !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits_only(whole) || (!fraction.empty() && !digits_only(fraction))) {
    *error = "is not a decimal number";
    return false;
  }
  if (!ParseInt(whole, &integer) || (!fraction.empty() && !ParseInt(fraction, &frac))) {
    *error = "is out of range";
    return false;
  }
  for (size_t i = fraction.size(); i < static_cast<size_t>(ast::kDecimalDigits); ++i) frac *= 10;
  int64_t value = 0;
  if (!MulAdd(integer, ast::kDecimalScale, frac, &value)) {
    *error = "is out of range";
    return false;
  }
  *out = negative ? -value : value;
  return true;
}

bool ParseDuration(std::string_view text, int64_t* millis, std::string* error) {
  if (text.empty()) {
    *error = "is empty";
    return false;
  }
  int64_t total = 0;
  int64_t previous_unit = INT64_MAX;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    int64_t amount = 0;
    if (start == i || !ParseInt(text.substr(start, i - start), &amount)) {
      *error = start == i ? "is not a duration" : "is out of range";
      return false;
    }
    int64_t unit = 0;
    if (text.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1000;
          break;
        case 'm':
          unit = 60 * 1000;
          break;
        case 'h':
          unit = 60 * 60 * 1000;
          break;
        case 'd':
          unit = 24 * 60 * 60 * 1000;
          break;
        default:
          break;
      }
      ++i;
    }
    if (unit == 0) {
      *error = "has an unknown unit (use ms, s, m, h or d)";
      return false;
    }
    // `1h30m`, never `30m1h` or `1h1h`: one spelling per duration.
    if (unit >= previous_unit) {
      *error = "must list units from largest to smallest, each once";
      return false;
    }
    previous_unit = unit;
    if (!MulAdd(amount, unit, total, &total)) {
      *error = "is out of range";
      return false;
    }
  }
  *millis = total;
  return true;
}

std::string FormatDecimal(int64_t scaled) {
  bool negative = scaled < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(scaled) : static_cast<uint64_t>(scaled);
  uint64_t whole = magnitude / ast::kDecimalScale;
  uint64_t fraction = magnitude % ast::kDecimalScale;
  std::string digits = absl::StrCat(fraction + ast::kDecimalScale).substr(1);  // zero padded
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  return absl::StrCat(negative ? "-" : "", whole, ".", digits);
}

std::string FormatDuration(int64_t millis) {
  if (millis == 0) return "0s";
  std::string out = millis < 0 ? "-" : "";
  uint64_t rest = millis < 0 ? 0 - static_cast<uint64_t>(millis) : static_cast<uint64_t>(millis);
  static constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : kUnits) {
    if (rest >= size) {
      absl::StrAppend(&out, rest / size, name);
      rest %= size;
    }
  }
  return out;
}

}  // namespace warden::internal
