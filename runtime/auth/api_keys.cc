#include "runtime/auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

// Debian's absl::string_view is its own type, not std::string_view.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsBase64Url(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

absl::Status CheckField(std::string_view name, std::string_view value, size_t max) {
  if (value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(name), " is longer than ", max, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckList(std::string_view name, const std::vector<std::string>& items) {
  if (items.size() > kApiKeyMaxListItems) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(name), " has more than ", kApiKeyMaxListItems, " items"));
  }
  for (const std::string& item : items) {
    if (item.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(name), " has an empty item"));
    }
    // The store keeps lists newline-separated.
    if (std::any_of(item.begin(), item.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(name), " has an item with a control character"));
    }
    if (absl::Status s = CheckField(name, item, kApiKeyMaxFieldBytes); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool Contains(const std::vector<std::string>& items, std::string_view value) {
  return std::find(items.begin(), items.end(), value) != items.end();
}

// Stands in for the record of an unknown id, so that a miss costs the same
// HMAC and comparison as a hit.
const ApiKeyRecord& DummyRecord() {
  static const ApiKeyRecord* const dummy = [] {
    auto* record = new ApiKeyRecord;
    record->salt.assign(kApiKeySaltBytes, '\x5a');
    record->hash.assign(kApiKeyHashBytes, '\0');
    return record;
  }();
  return *dummy;
}

}  // namespace

absl::Status ValidateApiKeyRecord(const ApiKeyRecord& r) {
  if (r.id.size() != kApiKeyIdChars || !IsLowerHex(r.id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("key id must be ", kApiKeyIdChars, " lowercase hex characters"));
  }
  if (r.salt.size() != kApiKeySaltBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key salt must be ", kApiKeySaltBytes, " bytes"));
  }
  if (r.hash.size() != kApiKeyHashBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key hash must be ", kApiKeyHashBytes, " bytes"));
  }
  if (r.subject.empty()) return absl::InvalidArgumentError("key subject is empty");
  if (absl::Status s = CheckField("subject", r.subject, kApiKeyMaxFieldBytes); !s.ok()) return s;
  if (absl::Status s = CheckField("tenant", r.tenant, kApiKeyMaxFieldBytes); !s.ok()) return s;
  if (absl::Status s = CheckField("description", r.description, kApiKeyMaxDescriptionBytes);
      !s.ok()) {
    return s;
  }
  if (!r.rotated_from.empty() &&
      (r.rotated_from.size() != kApiKeyIdChars || !IsLowerHex(r.rotated_from))) {
    return absl::InvalidArgumentError("rotated_from is not a key id");
  }
  if (absl::Status s = CheckList("roles", r.roles); !s.ok()) return s;
  if (absl::Status s = CheckList("actions", r.actions); !s.ok()) return s;
  return CheckList("resource types", r.resource_types);
}

namespace {
std::atomic<uint64_t> hash_count{0};
}  // namespace

uint64_t ApiKeyHashCount() { return hash_count.load(std::memory_order_relaxed); }

std::string ApiKeyHash(std::string_view salt, std::string_view secret) {
  hash_count.fetch_add(1, std::memory_order_relaxed);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
           reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out,
           &length) == nullptr) {
    return std::string();  // never equal to a stored 32-byte hash
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

absl::StatusOr<NewApiKey> GenerateApiKey(const ApiKeySpec& spec, absl::Time now) {
  if (spec.ttl.has_value() && *spec.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the key's lifetime must be positive");
  }
  unsigned char id_bytes[kApiKeyIdChars / 2];
  unsigned char salt[kApiKeySaltBytes];
  unsigned char secret[kApiKeySecretBytes];
  if (RAND_bytes(id_bytes, sizeof id_bytes) != 1 || RAND_bytes(salt, sizeof salt) != 1 ||
      RAND_bytes(secret, sizeof secret) != 1) {
    return absl::InternalError("the random number generator failed (RAND_bytes)");
  }
  const std::string_view secret_view(reinterpret_cast<const char*>(secret), sizeof secret);

  NewApiKey made;
  ApiKeyRecord& r = made.record;
  r.id = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(id_bytes), sizeof id_bytes));
  r.salt.assign(reinterpret_cast<const char*>(salt), sizeof salt);
  r.hash = ApiKeyHash(r.salt, secret_view);
  r.subject = spec.subject;
  r.roles = spec.roles;
  r.tenant = spec.tenant;
  r.actions = spec.actions;
  r.resource_types = spec.resource_types;
  r.created = now;
  if (spec.ttl.has_value()) r.expires = now + *spec.ttl;
  r.description = spec.description;
  r.rotated_from = spec.rotated_from;
  if (absl::Status s = ValidateApiKeyRecord(r); !s.ok()) return s;

  std::string encoded;
  absl::WebSafeBase64Escape(Absl(secret_view), &encoded);  // no padding
  made.key = absl::StrCat(Absl(kApiKeyPrefix), r.id, "_", encoded);
  OPENSSL_cleanse(secret, sizeof secret);
  return made;
}

bool ParseApiKey(std::string_view presented, std::string* id, std::string* secret) {
  if (presented.size() != kApiKeyChars ||
      presented.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix)
    return false;
  std::string_view rest = presented.substr(kApiKeyPrefix.size());
  std::string_view id_part = rest.substr(0, kApiKeyIdChars);
  if (!IsLowerHex(id_part) || rest[kApiKeyIdChars] != '_') return false;
  std::string_view encoded = rest.substr(kApiKeyIdChars + 1);
  if (!IsBase64Url(encoded)) return false;
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(Absl(encoded), &decoded) || decoded.size() != kApiKeySecretBytes)
    return false;
  // One spelling per key: the last character's unused low bits must be zero.
  std::string canonical;
  absl::WebSafeBase64Escape(decoded, &canonical);
  if (canonical != encoded) return false;
  *id = std::string(id_part);
  *secret = std::move(decoded);
  return true;
}

ApiKeyStatus StatusOfApiKey(const ApiKeyRecord& record, absl::Time now) {
  if (record.revoked.has_value()) return ApiKeyStatus::kRevoked;
  if (record.expires.has_value() && *record.expires <= now) return ApiKeyStatus::kExpired;
  return ApiKeyStatus::kActive;
}

const char* ApiKeyStatusName(ApiKeyStatus status) {
  switch (status) {
    case ApiKeyStatus::kActive:
      return "active";
    case ApiKeyStatus::kExpired:
      return "expired";
    case ApiKeyStatus::kRevoked:
      return "revoked";
  }
  return "unknown";
}

ApiKeyTable::ApiKeyTable() : keys_(std::make_shared<const Map>()) {}

void ApiKeyTable::Replace(std::vector<ApiKeyRecord> records) {
  auto map = std::make_shared<Map>();
  map->reserve(records.size());
  for (ApiKeyRecord& record : records) {
    std::string id = record.id;
    (*map)[std::move(id)] = std::move(record);
  }
  std::shared_ptr<const Map> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(keys_, std::move(map));
  }
  // `old` is freed here, outside the lock.
}

std::shared_ptr<const ApiKeyTable::Map> ApiKeyTable::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return keys_;
}

size_t ApiKeyTable::size() const { return Snapshot()->size(); }

AuthError ApiKeyTable::Verify(std::string_view presented, absl::Time now, ApiKeyRecord* out) const {
  std::string id, secret;
  if (!ParseApiKey(presented, &id, &secret)) return AuthError::kApiKeyMalformed;
  std::shared_ptr<const Map> keys = Snapshot();
  auto it = keys->find(id);
  const bool known = it != keys->end();
  const ApiKeyRecord& record = known ? it->second : DummyRecord();
  const std::string computed = ApiKeyHash(record.salt, secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  // Both sides are kApiKeyHashBytes long for a valid record; a record whose
  // hash has another size (never written by the store) cannot match.
  const bool equal = computed.size() == kApiKeyHashBytes &&
                     record.hash.size() == kApiKeyHashBytes &&
                     CRYPTO_memcmp(computed.data(), record.hash.data(), kApiKeyHashBytes) == 0;
  if (!known || !equal) return AuthError::kApiKeyUnknown;
  if (out != nullptr) *out = record;
  switch (StatusOfApiKey(record, now)) {
    case ApiKeyStatus::kRevoked:
      return AuthError::kApiKeyRevoked;
    case ApiKeyStatus::kExpired:
      return AuthError::kApiKeyExpired;
    case ApiKeyStatus::kActive:
      break;
  }
  return AuthError::kNone;
}

AuthError CheckApiKeyScope(const ApiKeyRecord& key, std::string_view action,
                           std::string_view resource_type) {
  if (!key.actions.empty() && !Contains(key.actions, action)) return AuthError::kApiKeyScope;
  if (!key.resource_types.empty() && !Contains(key.resource_types, resource_type))
    return AuthError::kApiKeyScope;
  return AuthError::kNone;
}

}  // namespace warden::auth
