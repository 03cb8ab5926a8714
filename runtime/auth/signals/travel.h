// Impossible travel: the great-circle distance from the subject's last
// sign-in place, over the time elapsed since, against a maximum plausible
// speed. Feeds context.geo.impossible_travel and context.geo.travel_speed_kmh
// (see risk_signals.h).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_TRAVEL_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_TRAVEL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "runtime/auth/signals/state_table.h"
#include "runtime/auth/state_rows.h"

namespace warden::auth {

// Great-circle distance on a sphere of the Earth's mean radius (6371.0088
// km), in kilometres. Degrees in; NaN in, NaN out.
double HaversineKm(double lat1, double lon1, double lat2, double lon2);

struct LastSignIn {
  absl::Time time;
  double latitude = 0;
  double longitude = 0;
  std::string country;  // ISO alpha-2 or ""
  bool operator==(const LastSignIn&) const = default;
};

struct TravelCheck {
  bool impossible = false;
  int64_t speed_kmh = 0;  // 0 below min_distance_km; INT64_MAX for "no time at all"
};

// `impossible` when the distance is at least min_distance_km (GeoIP is
// approximate: nearby places within that distance are never suspicious) and
// the speed needed exceeds max_speed_kmh. Zero elapsed time (or `now`
// before `last.time`, i.e. clock skew between servers: the absolute time
// difference is used) with a distance at or above min_distance_km is
// impossible at any speed limit. Coordinates that are not finite or out of
// range give {false, 0}.
TravelCheck CheckTravel(const LastSignIn& last, absl::Time now, double lat, double lon,
                        double max_speed_kmh, double min_distance_km);

// The last sign-in per subject. Thread-safe, bounded (least recently updated
// subjects are evicted). Persisted value: "1|UNIX_MICROS|LAT|LON|COUNTRY".
class LastSignIns final : public PersistedTable {
 public:
  explicit LastSignIns(size_t max_entries = 1'000'000);

  std::optional<LastSignIn> Get(std::string_view subject) const;
  // Keeps the newer of the stored and the given sign-in (requests may finish
  // out of order). Ignored when the coordinates are not finite or out of
  // range; a country that is not 1-8 letters or digits is stored as "".
  void Record(std::string_view subject, const LastSignIn& sign_in);
  void Forget(std::string_view subject);

  // Persistence: the PersistedTable surface (state_rows.h).
  void Import(std::string_view key, std::string_view value) override;
  StateRows TakeDirty() override;
  StateRows Snapshot() const override;
  size_t rejected_rows() const override { return rejected_.load(std::memory_order_relaxed); }
  size_t size() const override { return table_.size(); }
  size_t dropped_deletions() const override { return table_.dropped_deletions(); }

  static std::string Encode(const LastSignIn& sign_in);
  static std::optional<LastSignIn> Decode(std::string_view value);

 private:
  signals_internal::StateTable<LastSignIn> table_;
  std::atomic<size_t> rejected_{0};
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_TRAVEL_H_
