// API keys: long-lived credentials for services, created by `warden keys
// create` and presented as `Authorization: ApiKey wdk_<id>_<secret>`.
//
// A key has a public id (16 lowercase hex characters, used to find the
// record) and a 32-byte random secret. Warden stores only a per-key random
// salt and HMAC-SHA256(key = salt, message = secret): a copy of the state
// database lets nobody authenticate, and the secret is shown once, when the
// key is made. Verification recomputes the HMAC and compares it in constant
// time; an unknown id costs the same HMAC as a known one, so timing tells
// nobody which ids exist. Revocation and expiry are reported only after the
// secret matched, so a guesser learns nothing about a key's state.
//
// A key is scoped: the actions and resource types it may be used for (empty =
// all), and it authenticates as one subject with fixed roles and tenant.
#ifndef WARDEN_RUNTIME_AUTH_API_KEYS_H_
#define WARDEN_RUNTIME_AUTH_API_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "runtime/auth/auth_error.h"

namespace warden::auth {

// The key's text: "wdk_" + id + "_" + base64url(secret) without padding.
inline constexpr std::string_view kApiKeyPrefix = "wdk_";
inline constexpr size_t kApiKeyIdChars = 16;      // 8 random bytes in hex
inline constexpr size_t kApiKeySecretBytes = 32;  // 43 base64url characters
inline constexpr size_t kApiKeySaltBytes = 16;
inline constexpr size_t kApiKeyHashBytes = 32;  // SHA-256
inline constexpr size_t kApiKeyChars = 4 + kApiKeyIdChars + 1 + 43;

// Bounds on what a key record may hold, checked by ValidateApiKeyRecord.
inline constexpr size_t kApiKeyMaxFieldBytes = 1024;  // subject, tenant, each list item
inline constexpr size_t kApiKeyMaxListItems = 256;    // roles, actions, resource types
inline constexpr size_t kApiKeyMaxDescriptionBytes = 4096;

struct ApiKeyRecord {
  std::string id;       // public part: 16 lowercase hex characters
  std::string salt;     // random kApiKeySaltBytes bytes
  std::string hash;     // HMAC-SHA256(key = salt, secret): the secret itself is never stored
  std::string subject;  // subject.id the key authenticates as
  std::vector<std::string> roles;
  std::string tenant;                       // "" = none
  std::vector<std::string> actions;         // scope; empty = every action
  std::vector<std::string> resource_types;  // scope; empty = every type
  absl::Time created;
  std::optional<absl::Time> expires;  // refused from this time on
  std::optional<absl::Time> revoked;  // when it was revoked; a revoked key is always refused
  std::string description;
  std::string rotated_from;  // id of the key this one replaced, or ""
};

struct ApiKeySpec {
  std::string subject;
  std::vector<std::string> roles;
  std::string tenant;
  std::vector<std::string> actions;
  std::vector<std::string> resource_types;
  std::optional<absl::Duration> ttl;  // none: the key never expires
  std::string description;
  std::string rotated_from;
};

struct NewApiKey {
  ApiKeyRecord record;
  std::string key;  // "wdk_<id>_<secret>": show it once, never store it
};

// A fresh id, salt and secret from OpenSSL's RAND_bytes. InvalidArgument when
// the spec breaks the bounds above or the ttl is not positive; Internal when
// the random generator fails.
absl::StatusOr<NewApiKey> GenerateApiKey(const ApiKeySpec& spec, absl::Time now);

// Checks a record's shape and bounds (id format, salt and hash sizes, field
// sizes; list items non-empty and free of control characters): the store
// refuses to write records that fail, and reports DataLoss on reading one.
absl::Status ValidateApiKeyRecord(const ApiKeyRecord& record);

// Splits a presented key into its id and decoded secret; false when it is not
// in the format above (wrong prefix or length, bad characters, non-canonical
// base64url).
bool ParseApiKey(std::string_view presented, std::string* id, std::string* secret);

// HMAC-SHA256(key = salt, message = secret), 32 raw bytes.
std::string ApiKeyHash(std::string_view salt, std::string_view secret);

// How many times ApiKeyHash has run in this process. Tests use it to show
// that Verify does the same work for an unknown id as for a known one (the
// unknown id must not be told apart by taking less time).
uint64_t ApiKeyHashCount();

enum class ApiKeyStatus { kActive, kExpired, kRevoked };
ApiKeyStatus StatusOfApiKey(const ApiKeyRecord& record, absl::Time now);
const char* ApiKeyStatusName(ApiKeyStatus status);  // "active", "expired", "revoked"

// The keys the server accepts, in memory. Thread-safe: Verify runs on a
// snapshot, so Replace (when the state store changed) never blocks it for
// longer than a pointer copy.
class ApiKeyTable {
 public:
  ApiKeyTable();

  void Replace(std::vector<ApiKeyRecord> records);

  // Parses `presented`, finds the id, recomputes the HMAC and compares it
  // with CRYPTO_memcmp (also for an unknown id, against a dummy record).
  // Wrong secret or unknown id → kApiKeyUnknown; bad format →
  // kApiKeyMalformed; then revoked → kApiKeyRevoked, expired (expires <=
  // now) → kApiKeyExpired. `out` (may be null) receives the record whenever
  // the secret matched, so callers can log which key was refused.
  AuthError Verify(std::string_view presented, absl::Time now, ApiKeyRecord* out) const;

  size_t size() const;

 private:
  using Map = absl::flat_hash_map<std::string, ApiKeyRecord>;
  std::shared_ptr<const Map> Snapshot() const;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Map> keys_ ABSL_GUARDED_BY(mu_);
};

// kApiKeyScope when the key's scope excludes the action or the resource
// type, else kNone.
AuthError CheckApiKeyScope(const ApiKeyRecord& key, std::string_view action,
                           std::string_view resource_type);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_API_KEYS_H_
