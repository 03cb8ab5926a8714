#include "runtime/auth/signals/travel.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

using signals_internal::After;

constexpr double kEarthRadiusKm = 6371.0088;
constexpr double kPi = 3.14159265358979323846;

bool ValidCoordinates(double lat, double lon) {
  return std::isfinite(lat) && std::isfinite(lon) && std::fabs(lat) <= 90 && std::fabs(lon) <= 180;
}

bool ValidCountry(std::string_view country) {
  if (country.size() > 8) return false;
  for (char c : country) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = kPi / 180;
  double dlat = (lat2 - lat1) * kRad;
  double dlon = (lon2 - lon1) * kRad;
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(lat1 * kRad) *
                                                           std::cos(lat2 * kRad) *
                                                           std::sin(dlon / 2) * std::sin(dlon / 2);
  // Rounding can push `a` a hair outside [0, 1] for antipodal points.
  // (Comparisons, not fmin/fmax, so that NaN stays NaN.)
  if (a > 1) a = 1;
  if (a < 0) a = 0;
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(a));
}

TravelCheck CheckTravel(const LastSignIn& last, absl::Time now, double lat, double lon,
                        double max_speed_kmh, double min_distance_km) {
  if (!ValidCoordinates(lat, lon) || !ValidCoordinates(last.latitude, last.longitude)) return {};
  double distance = HaversineKm(last.latitude, last.longitude, lat, lon);
  if (!(distance >= min_distance_km)) return {};
  double hours = absl::ToDoubleHours(absl::AbsDuration(now - last.time));
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  TravelCheck check;
  // 2^63 as a double: anything at or above it does not fit.
  constexpr double kLimit = 9223372036854775808.0;
  double speed = hours > 0 ? distance / hours : std::numeric_limits<double>::infinity();
  double rounded = std::round(speed);
  check.speed_kmh = rounded >= kLimit ? kMax : static_cast<int64_t>(rounded);
  check.impossible = hours <= 0 || speed > max_speed_kmh;
  return check;
}

LastSignIns::LastSignIns(size_t max_entries) : table_(max_entries) {}

std::optional<LastSignIn> LastSignIns::Get(std::string_view subject) const {
  return table_.Read(subject, [](const LastSignIn* value) {
    return value == nullptr ? std::optional<LastSignIn>() : std::optional<LastSignIn>(*value);
  });
}

void LastSignIns::Record(std::string_view subject, const LastSignIn& sign_in) {
  if (!ValidCoordinates(sign_in.latitude, sign_in.longitude)) return;
  LastSignIn stored = sign_in;
  if (!ValidCountry(stored.country)) stored.country.clear();
  table_.Update(subject, [&](LastSignIn& value, bool existed) {
    if (!existed || value.time <= stored.time) value = stored;
    return After::kKeep;
  });
}

void LastSignIns::Forget(std::string_view subject) { table_.Erase(subject); }

std::string LastSignIns::Encode(const LastSignIn& sign_in) {
  using signals_internal::DoubleText;
  return absl::StrCat("1|", signals_internal::TimeText(sign_in.time), "|",
                      DoubleText(sign_in.latitude), "|", DoubleText(sign_in.longitude), "|",
                      sign_in.country);
}

std::optional<LastSignIn> LastSignIns::Decode(std::string_view value) {
  std::vector<std::string_view> fields = signals_internal::SplitFields(value);
  LastSignIn sign_in;
  if (fields.size() != 5 || fields[0] != "1" ||
      !signals_internal::ParseTime(fields[1], &sign_in.time) ||
      !signals_internal::ParseDouble(fields[2], &sign_in.latitude) ||
      !signals_internal::ParseDouble(fields[3], &sign_in.longitude) ||
      !ValidCoordinates(sign_in.latitude, sign_in.longitude) || !ValidCountry(fields[4]))
    return std::nullopt;
  sign_in.country = std::string(fields[4]);
  return sign_in;
}

void LastSignIns::Import(std::string_view key, std::string_view value) {
  std::optional<LastSignIn> sign_in = Decode(value);
  if (key.empty() || !sign_in) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  table_.Put(key, *std::move(sign_in));
}

StateRows LastSignIns::TakeDirty() { return table_.TakeDirty(&LastSignIns::Encode); }
StateRows LastSignIns::Snapshot() const { return table_.Snapshot(&LastSignIns::Encode); }

}  // namespace warden::auth
