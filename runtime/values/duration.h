// Durations: milliseconds in an int64, written as "1h30m" (docs/language.md,
// "Value syntax"). The compiler's literals, the request decoder, data
// loading and the reference evaluator all read and write them here.
//
//   duration = part { part }        units strictly decreasing, each once
//   part     = digit { digit } unit
//   unit     = "d" | "h" | "m" | "s" | "ms"
//
// Canonical: the largest units first, no zero parts, "0s" for zero; a
// negative duration (only arithmetic makes one) is written "-" + canonical.
#ifndef WARDEN_RUNTIME_VALUES_DURATION_H_
#define WARDEN_RUNTIME_VALUES_DURATION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/values/error.h"

namespace warden::values {

// "-106751991167d7h12m55s808ms" is the longest (27 bytes).
inline constexpr size_t kMaxDurationText = 32;

Error ParseDuration(std::string_view text, int64_t* millis);

// Writes the canonical text at out (room for kMaxDurationText); returns the end.
char* FormatDuration(int64_t millis, char* out);
std::string DurationString(int64_t millis);

}  // namespace warden::values

#endif  // WARDEN_RUNTIME_VALUES_DURATION_H_
