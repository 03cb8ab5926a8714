// Integer literals. Decimal, duration, timestamp and IP literals are read by
// runtime/values, the one grammar per type that every layer shares.
#ifndef WARDEN_COMPILER_INTERNAL_LITERALS_H_
#define WARDEN_COMPILER_INTERNAL_LITERALS_H_

#include <cstdint>
#include <string_view>

namespace warden::internal {

// Unsigned decimal digits -> int64; false on overflow or non-digits.
bool ParseInt(std::string_view digits, int64_t* out);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_LITERALS_H_
