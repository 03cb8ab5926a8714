// Why a value's text was refused: one code per reason, shared by every type
// so that each layer words a refusal the same way.
#ifndef WARDEN_RUNTIME_VALUES_ERROR_H_
#define WARDEN_RUNTIME_VALUES_ERROR_H_

#include <cstdint>
#include <string_view>

namespace warden::values {

enum class Error : uint8_t {
  kNone,
  kEmpty,      // ""
  kSyntax,     // not in the type's grammar
  kRange,      // in the grammar, but the value does not fit (int64, 0..255, a day of Feb)
  kPrecision,  // a decimal with more than 4 fractional digits
  kUnit,       // a duration part without a known unit
  kUnitOrder,  // duration units not from largest to smallest, each once
  kPrefix,     // a CIDR prefix longer than the address
  kHostBits,   // a CIDR network with bits set below its prefix
};

// Phrased to follow the quoted text: "`30m1h` must list units ...".
const char* ErrorText(Error error);

}  // namespace warden::values

#endif  // WARDEN_RUNTIME_VALUES_ERROR_H_
