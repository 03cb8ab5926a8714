// The authentication front-end's configuration: the "auth" object of the
// server's configuration file (docs/authentication.md, "Configuration").
// Secrets are never written in the file itself: HMAC keys name an
// environment variable or a file.
#ifndef WARDEN_RUNTIME_AUTH_AUTH_CONFIG_H_
#define WARDEN_RUNTIME_AUTH_AUTH_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "runtime/auth/jwt_verifier.h"

namespace warden::auth {

struct HmacKeySource {
  std::string kid;
  std::string secret_env;   // the name of an environment variable holding the secret
  std::string secret_file;  // or a file holding it (trailing newline ignored)
};

// Where a token's claims go in `subject`.
struct ClaimMapping {
  std::string subject = "sub";                 // subject.id
  std::vector<std::string> roles = {"roles"};  // subject.roles: the union of these claims
  std::string tenant;                          // subject.tenant ("" = not mapped)
  // Declared subject attributes filled from claims: attribute -> claim.
  // Claim names may be dotted paths into objects ("realm_access.roles").
  std::vector<std::pair<std::string, std::string>> attributes;
  // amr values that count as multi-factor authentication (subject.auth.mfa);
  // an acr listed in mfa_acr_values counts too.
  std::vector<std::string> mfa_methods = {"mfa", "otp", "hwk", "sc"};
  std::vector<std::string> mfa_acr_values;
};

// One token issuer: what the verifier checks (its hmac_keys are filled
// from hmac_key_sources when the service starts), where the secrets come
// from, and how claims map to the subject.
struct IssuerSettings {
  IssuerConfig verify;
  std::vector<HmacKeySource> hmac_key_sources;
  ClaimMapping claims;
};

struct IpListSettings {
  std::string name;  // shown in the signals ("listed_ip:NAME")
  std::string file;
};

struct AuthConfig {
  bool enabled = false;  // an "auth" object is present
  std::string state;     // the SQLite state database
  bool create_state = false;
  std::vector<IssuerSettings> issuers;
  bool api_keys = true;                 // accept Warden API keys
  size_t token_cache_entries = 100000;  // 0: no cache
  std::vector<IpListSettings> ip_lists;
  std::string geoip_city;       // a MaxMind City (or Country) database; "" = no geolocation
  std::string geoip_anonymous;  // a MaxMind Anonymous-IP database; "" = none
  double max_travel_speed_kmh = 1000;
  double min_travel_distance_km = 100;
  int lockout_after = 5;
  absl::Duration attempts_window = absl::Minutes(15);
  absl::Duration base_lockout = absl::Minutes(1);
  absl::Duration max_lockout = absl::Hours(1);
  std::string hours_time_zone = "UTC";
  int hours_min_samples = 20;
  double hours_unusual_below = 0.02;
  size_t devices_per_subject = 20;
  size_t max_subjects = 1'000'000;  // bound of every per-subject table
  size_t max_buckets = 1'000'000;   // rate-limit buckets kept in memory
  absl::Duration flush_interval = absl::Seconds(5);
  absl::Duration poll_interval = absl::Seconds(1);  // revocations and API keys
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_AUTH_CONFIG_H_
