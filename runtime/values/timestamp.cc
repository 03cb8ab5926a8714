#include "runtime/values/timestamp.h"

#include "runtime/values/digits.h"

namespace warden::values {
namespace {

constexpr int64_t kMillisPerDay = 86400000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

unsigned DaysInMonth(unsigned year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

// Exactly `count` digits at text[at]; false if any is missing.
bool Fixed(std::string_view text, size_t at, size_t count, unsigned* out) {
  unsigned v = 0;
  for (size_t k = at; k < at + count; ++k) {
    if (k >= text.size() || !internal::IsDigit(text[k])) return false;
    v = v * 10 + static_cast<unsigned>(text[k] - '0');
  }
  *out = v;
  return true;
}

// The offset at text[i..] in minutes east of UTC; false unless it is all
// that is left.
Error ReadOffset(std::string_view text, size_t i, int64_t* minutes) {
  if (i + 1 == text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    *minutes = 0;
    return Error::kNone;
  }
  unsigned hh = 0, mm = 0;
  if (i + 6 != text.size() || (text[i] != '+' && text[i] != '-') || !Fixed(text, i + 1, 2, &hh) ||
      text[i + 3] != ':' || !Fixed(text, i + 4, 2, &mm))
    return Error::kSyntax;
  if (hh > 23 || mm > 59) return Error::kRange;
  *minutes = (text[i] == '-' ? -1 : 1) * static_cast<int64_t>(hh * 60 + mm);
  return Error::kNone;
}

}  // namespace

Error ParseTimestamp(std::string_view text, int64_t* millis) {
  if (text.empty()) return Error::kEmpty;
  unsigned year, month, day, hour, minute, second;
  if (!Fixed(text, 0, 4, &year) || text.size() < 20 || text[4] != '-' ||
      !Fixed(text, 5, 2, &month) || text[7] != '-' || !Fixed(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !Fixed(text, 11, 2, &hour) || text[13] != ':' ||
      !Fixed(text, 14, 2, &minute) || text[16] != ':' || !Fixed(text, 17, 2, &second))
    return Error::kSyntax;
  size_t i = 19;
  int64_t fraction = 0;
  if (text[i] == '.') {
    size_t begin = ++i;
    while (i < text.size() && internal::IsDigit(text[i])) {
      if (i - begin < 3) fraction = fraction * 10 + (text[i] - '0');
      ++i;
    }
    if (i == begin || i - begin > 9) return Error::kSyntax;
    for (size_t k = i - begin; k < 3; ++k) fraction *= 10;
  }
  if (i >= text.size()) return Error::kSyntax;
  int64_t offset = 0;
  if (Error e = ReadOffset(text, i, &offset); e != Error::kNone) return e;
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59)
    return Error::kRange;
  int64_t seconds =
      ((DaysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offset) * 60 + second;
  // The instant itself must lie in years 0000-9999 (UTC), so that its
  // canonical text reads back: "0000-01-01T00:00:00+00:01" does not.
  constexpr int64_t kFirstSecond = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr int64_t kEndSecond = 253402300800;    // 10000-01-01T00:00:00Z
  if (seconds < kFirstSecond || seconds >= kEndSecond) return Error::kRange;
  *millis = seconds * 1000 + fraction;
  return Error::kNone;
}

namespace {

char* WriteTimestamp(int64_t millis, bool fixed_millis, char* out) {
  int64_t days = millis / kMillisPerDay;
  int64_t rest = millis % kMillisPerDay;
  if (rest < 0) {
    rest += kMillisPerDay;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  if (year >= 0 && year <= 9999) {
    out = internal::WritePadded(out, static_cast<uint64_t>(year), 4);
  } else {
    *out++ = year < 0 ? '-' : '+';
    out = internal::WriteUnsigned(
        out, year < 0 ? 0 - static_cast<uint64_t>(year) : static_cast<uint64_t>(year));
  }
  const uint64_t fields[] = {month, day, static_cast<uint64_t>(rest / 3600000),
                             static_cast<uint64_t>(rest / 60000 % 60),
                             static_cast<uint64_t>(rest / 1000 % 60)};
  const char separators[] = {'-', '-', 'T', ':', ':'};
  for (int k = 0; k < 5; ++k) {
    *out++ = separators[k];
    out = internal::WritePadded(out, fields[k], 2);
  }
  if (uint64_t ms = static_cast<uint64_t>(rest % 1000); ms != 0 || fixed_millis) {
    *out++ = '.';
    out = internal::WritePadded(out, ms, 3);
    while (!fixed_millis && out[-1] == '0') --out;
  }
  *out++ = 'Z';
  return out;
}

}  // namespace

char* FormatTimestamp(int64_t millis, char* out) { return WriteTimestamp(millis, false, out); }

char* FormatTimestampMillis(int64_t millis, char* out) { return WriteTimestamp(millis, true, out); }

std::string TimestampString(int64_t millis) {
  char buffer[kMaxTimestampText];
  return std::string(buffer, FormatTimestamp(millis, buffer));
}

std::string TimestampMillisString(int64_t millis) {
  char buffer[kMaxTimestampText];
  return std::string(buffer, FormatTimestampMillis(millis, buffer));
}

}  // namespace warden::values
