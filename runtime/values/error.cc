#include "runtime/values/error.h"

namespace warden::values {

const char* ErrorText(Error error) {
  switch (error) {
    case Error::kNone:
      return "is valid";
    case Error::kEmpty:
      return "is empty";
    case Error::kSyntax:
      return "is not well formed";
    case Error::kRange:
      return "is out of range";
    case Error::kPrecision:
      return "has more than 4 fractional digits";
    case Error::kUnit:
      return "has an unknown unit (use ms, s, m, h or d)";
    case Error::kUnitOrder:
      return "must list units from largest to smallest, each once";
    case Error::kPrefix:
      return "has a prefix longer than the address";
    case Error::kHostBits:
      return "has host bits set below the prefix";
  }
  return "is invalid";
}

}  // namespace warden::values
