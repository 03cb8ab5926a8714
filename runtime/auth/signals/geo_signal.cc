// Where the client is (the City database: context.geo.{country, city,
// latitude, longitude}) and whether the subject could have travelled there
// from its last permitted sign-in (context.geo.{impossible_travel,
// travel_speed_kmh}, raised as impossible_travel). A permit with a place
// becomes the subject's last sign-in.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/signal_registry.h"
#include "runtime/auth/signals/travel.h"

namespace warden::auth {
namespace {

// The decimal text of a coordinate (4 places, the decimal type's precision).
void AppendCoordinate(double value, std::string* out) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.4f", value);
  out->append(buffer, n > 0 ? static_cast<size_t>(n) : 0);
}

class GeoSignal final : public Signal {
 public:
  explicit GeoSignal(const AuthConfig& config)
      : config_(config), last_signins_(config.max_subjects) {}

  std::vector<StoredTable> tables() override { return {{"last_signin", &last_signins_}}; }

  std::optional<SignalFailure> Look(CheckFacts& facts, std::string* /*signals*/) const override {
    if (!facts.ip || facts.network->geo_city == nullptr) return std::nullopt;
    absl::StatusOr<std::optional<GeoLocation>> found =
        facts.network->geo_city->LookupCity(facts.ip_net);
    if (!found.ok())
      return SignalFailure{AuthError::kGeoIpUnavailable, std::string(found.status().message())};
    facts.place = *std::move(found);
    return std::nullopt;
  }

  void Compute(const CheckFacts& facts, ContextWriter& out) const override {
    std::string& r = out.Member(ContextKey::geo);
    r.push_back('{');
    TravelCheck travel{false, 0};
    if (const std::optional<GeoLocation>& place = facts.place) {
      auto member = [&](std::string_view name) -> std::string* {
        if (r.back() != '{') r.push_back(',');
        AppendJsonString(name, &r);
        r.push_back(':');
        return &r;
      };
      if (!place->country.empty()) AppendJsonString(place->country, member("country"));
      if (!place->city.empty()) AppendJsonString(place->city, member("city"));
      if (place->latitude && place->longitude) {
        AppendCoordinate(*place->latitude, member("latitude"));
        AppendCoordinate(*place->longitude, member("longitude"));
        if (std::optional<LastSignIn> last = last_signins_.Get(facts.subject)) {
          travel = CheckTravel(*last, facts.now, *place->latitude, *place->longitude,
                               config_.max_travel_speed_kmh, config_.min_travel_distance_km);
        }
      }
      if (r.back() != '{') r.push_back(',');
    }
    if (travel.impossible) out.Raise("impossible_travel");
    absl::StrAppend(&r, "\"impossible_travel\":", travel.impossible ? "true" : "false",
                    ",\"travel_speed_kmh\":", travel.speed_kmh, "}");
  }

  void Record(const CheckFacts& facts, const DecidedFacts& decided,
              std::string* /*signals*/) override {
    const std::optional<GeoLocation>& place = facts.place;
    if (!decided.permit() || !place || !place->latitude || !place->longitude) return;
    last_signins_.Record(
        facts.subject, LastSignIn{facts.now, *place->latitude, *place->longitude, place->country});
  }

 private:
  const AuthConfig& config_;
  LastSignIns last_signins_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeGeoSignal(const SignalDeps& deps) {
  return std::make_unique<GeoSignal>(deps.config);
}

}  // namespace warden::auth
