// Parsing of numeric and duration literals, shared by the parser and by the
// decoding of test requests. All of them reject overflow instead of wrapping.
#ifndef WARDEN_COMPILER_INTERNAL_LITERALS_H_
#define WARDEN_COMPILER_INTERNAL_LITERALS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace warden::internal {

// Unsigned decimal digits -> int64; false on overflow or non-digits.
bool ParseInt(std::string_view digits, int64_t* out);

// "123.45" (optionally signed) -> value scaled by 10^4. On failure `error`
// says why, phrased to follow the literal ("has more than 4 …").
bool ParseDecimal(std::string_view text, int64_t* out, std::string* error);

// "1h30m", "500ms", "7d" -> milliseconds.
bool ParseDuration(std::string_view text, int64_t* millis, std::string* error);

// Canonical spellings used by the formatter and in messages.
std::string FormatDecimal(int64_t scaled);
std::string FormatDuration(int64_t millis);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_LITERALS_H_
