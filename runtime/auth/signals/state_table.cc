#include "runtime/auth/signals/state_table.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/numbers.h"

namespace warden::auth::signals_internal {

std::vector<std::string_view> SplitFields(std::string_view value, char separator) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t end = value.find(separator, start);
    if (end == std::string_view::npos) {
      fields.push_back(value.substr(start));
      return fields;
    }
    fields.push_back(value.substr(start, end - start));
    start = end + 1;
  }
}

bool ParseInt64(std::string_view text, int64_t* out) {
  // SimpleAtoi tolerates surrounding spaces and '+'; the codec does not.
  if (text.empty() || text.size() > 20) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!(c >= '0' && c <= '9') && !(i == 0 && c == '-' && text.size() > 1)) return false;
  }
  return absl::SimpleAtoi(Av(text), out);
}

bool ParseDouble(std::string_view text, double* out) {
  if (text.empty() || text.size() > 40) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
      return false;  // no "nan", "inf", spaces
  }
  double value = 0;
  if (!absl::SimpleAtod(Av(text), &value) || !std::isfinite(value)) return false;
  *out = value;
  return true;
}

std::string TimeText(absl::Time time) { return std::to_string(absl::ToUnixMicros(time)); }

bool ParseTime(std::string_view text, absl::Time* out) {
  int64_t micros = 0;
  if (!ParseInt64(text, &micros)) return false;
  // The saturated ends stand for the infinite times they came from.
  if (micros == std::numeric_limits<int64_t>::min()) {
    *out = absl::InfinitePast();
  } else if (micros == std::numeric_limits<int64_t>::max()) {
    *out = absl::InfiniteFuture();
  } else {
    *out = absl::FromUnixMicros(micros);
  }
  return true;
}

std::string DoubleText(double value) {
  char buffer[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    double back = 0;
    if (absl::SimpleAtod(buffer, &back) && back == value) break;
  }
  return buffer;
}

}  // namespace warden::auth::signals_internal
