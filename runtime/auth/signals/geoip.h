// Geolocation and anonymous-network flags from MaxMind databases
// (libmaxminddb). Open reads the file into a private, sealed memory file
// and maps that, never the operator's file: truncating or rewriting the file
// in place cannot touch a database in use (it would be SIGBUS on a mapped
// file). The cost is the database's size in memory per open copy (a reload
// holds two until the last check on the old one ends). Feeds context.geo.{country, city, latitude,
// longitude} (City databases) and context.network.{anonymous, hosting, tor}
// (Anonymous-IP databases); see risk_signals.h.
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_GEOIP_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_GEOIP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/bytecode/program.h"

namespace warden::auth {

struct GeoLocation {
  std::string country;  // ISO 3166-1 alpha-2 ("GB"); "" when the record has none
  std::string city;     // English name; "" when the record has none
  std::optional<double> latitude, longitude;
  // Extras from the same record (absent when the database has none).
  std::optional<int64_t> accuracy_radius_km;  // location.accuracy_radius
  std::string time_zone;                      // IANA name, location.time_zone
};

struct AnonymousIp {
  bool anonymous = false;          // is_anonymous
  bool vpn = false;                // is_anonymous_vpn
  bool hosting = false;            // is_hosting_provider
  bool tor = false;                // is_tor_exit_node
  bool residential_proxy = false;  // is_residential_proxy
  bool public_proxy = false;       // is_public_proxy (extra)
};

// The largest .mmdb file Open copies (GeoIP2 City is about 130 MB).
inline constexpr size_t kMaxGeoIpBytes = size_t{1} << 30;

// One open .mmdb file. Lookups are const and thread-safe (libmaxminddb only
// reads the mapping). Reload by opening a new database and swapping it in.
class GeoIpDatabase {
 public:
  ~GeoIpDatabase();
  GeoIpDatabase(const GeoIpDatabase&) = delete;
  GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

  // Errors: missing or unreadable file, not a MaxMind DB, corrupt metadata.
  static absl::StatusOr<std::unique_ptr<GeoIpDatabase>> Open(const std::string& path);

  // nullopt: the database has no record for the address (or the address is
  // IPv6 and the database IPv4-only). An error status: the record is
  // corrupt, or a field has the wrong type; callers should fail closed. The
  // address of `ip` is used (its prefix is ignored); IPv4-mapped IPv6 is
  // looked up as IPv4.
  absl::StatusOr<std::optional<GeoLocation>> LookupCity(const bc::IpNet& ip) const;
  absl::StatusOr<std::optional<AnonymousIp>> LookupAnonymous(const bc::IpNet& ip) const;

  // The metadata's database_type, e.g. "GeoLite2-City", "GeoIP2-Anonymous-IP".
  std::string database_type() const;
  const std::string& path() const { return path_; }

 private:
  struct Handle;
  GeoIpDatabase(std::string path, std::unique_ptr<Handle> handle);

  std::string path_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_GEOIP_H_
