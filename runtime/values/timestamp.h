// Timestamps: milliseconds since the Unix epoch in an int64, written in the
// RFC 3339 profile below.
//
//   timestamp = date ("T" | "t") time offset
//   date      = 4digit "-" 2digit "-" 2digit       year 0000-9999, a real day
//   time      = 2digit ":" 2digit ":" 2digit [ "." 1*9digit ]
//   offset    = "Z" | "z" | ("+" | "-") 2digit ":" 2digit    hours 00-23
//
// Hours 00-23, minutes and seconds 00-59 (no leap second "60"); the fraction
// is cut to milliseconds (towards the past). No spaces, no missing offset.
// The instant, in UTC, must lie in years 0000-9999 too (an offset may not
// carry it out), so that every accepted value's canonical text reads back.
//
// Canonical: UTC with "Z", the fraction only when there is one, without
// trailing zeros: "2026-03-02T10:00:00Z", "2026-03-02T10:00:00.25Z".
#ifndef WARDEN_RUNTIME_VALUES_TIMESTAMP_H_
#define WARDEN_RUNTIME_VALUES_TIMESTAMP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/values/error.h"

namespace warden::values {

// Timestamps outside years 0000-9999 (given as integers) print their year
// unpadded with a sign: at most "-292275055-05-16T16:47:04.192Z".
inline constexpr size_t kMaxTimestampText = 40;

Error ParseTimestamp(std::string_view text, int64_t* millis);

// Writes the canonical text at out (room for kMaxTimestampText); returns the end.
char* FormatTimestamp(int64_t millis, char* out);
std::string TimestampString(int64_t millis);

// The fixed form of logs, status answers and the audit trail: always three
// fractional digits ("2026-03-02T10:00:00.000Z"), so that lines align and
// sort as text. Reads back with ParseTimestamp.
char* FormatTimestampMillis(int64_t millis, char* out);
std::string TimestampMillisString(int64_t millis);

}  // namespace warden::values

#endif  // WARDEN_RUNTIME_VALUES_TIMESTAMP_H_
