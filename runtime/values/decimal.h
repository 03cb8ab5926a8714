// Decimals: fixed point, an int64 scaled by 10^4 (four fractional digits),
// the representation of the compiler's literals, the bytecode and the VM.
//
//   decimal = [ "-" ] digit { digit } [ "." digit { digit } ]
//
// At most 4 fractional digits (more is kPrecision, even trailing zeros: a
// decimal never rounds); no exponent, no "+", no ".5" or "5."; leading zeros
// are read as written ("007.5" is 7.5). The magnitude is at most
// 922337203685477.5807 (INT64_MAX scaled), so negation never overflows.
// JSON numbers are decimals in this grammar once JSON has accepted them.
//
// Canonical: the whole part without leading zeros, ".", then the fraction
// without trailing zeros but at least one digit: "12.5", "800.0", "-0.0001".
#ifndef WARDEN_RUNTIME_VALUES_DECIMAL_H_
#define WARDEN_RUNTIME_VALUES_DECIMAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/values/error.h"

namespace warden::values {

inline constexpr int64_t kDecimalScale = 10000;
inline constexpr int kDecimalDigits = 4;
// "-922337203685477.5808" is 21 bytes.
inline constexpr size_t kMaxDecimalText = 32;

Error ParseDecimal(std::string_view text, int64_t* scaled);

// Writes the canonical text at out (room for kMaxDecimalText); returns the end.
char* FormatDecimal(int64_t scaled, char* out);
std::string DecimalString(int64_t scaled);

}  // namespace warden::values

#endif  // WARDEN_RUNTIME_VALUES_DECIMAL_H_
