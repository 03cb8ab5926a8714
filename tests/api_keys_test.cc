// API keys (runtime/auth/api_keys.h): generation, the key format, verification
// in constant time, expiry, revocation and scope.
#include "runtime/auth/api_keys.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795000000);

NewApiKey MustGenerate(ApiKeySpec spec = {}) {
  if (spec.subject.empty()) spec.subject = "svc-reports";
  absl::StatusOr<NewApiKey> made = GenerateApiKey(spec, kNow);
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  return *std::move(made);
}

// The key with one character of its secret changed (staying canonical).
std::string WrongSecret(const std::string& key) {
  std::string wrong = key;
  char& c = wrong[kApiKeyPrefix.size() + kApiKeyIdChars + 5];
  c = c == 'A' ? 'B' : 'A';
  return wrong;
}

TEST_CASE("a new key: format, stored hash, no secret in the record") {
  ApiKeySpec spec;
  spec.subject = "svc-reports";
  spec.roles = {"reader"};
  spec.tenant = "acme";
  spec.actions = {"read", "list"};
  spec.resource_types = {"document"};
  spec.ttl = absl::Hours(24 * 90);
  spec.description = "nightly export";
  NewApiKey made = MustGenerate(spec);
  const ApiKeyRecord& r = made.record;

  CHECK(made.key.size() == kApiKeyChars);
  CHECK(made.key.substr(0, 4) == "wdk_");
  CHECK(made.key.substr(4, 16) == r.id);
  CHECK(made.key[20] == '_');
  CHECK(r.id.size() == 16);
  CHECK(std::all_of(r.id.begin(), r.id.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  CHECK(r.salt.size() == kApiKeySaltBytes);
  CHECK(r.hash.size() == kApiKeyHashBytes);
  CHECK(r.subject == "svc-reports");
  CHECK(r.roles == std::vector<std::string>{"reader"});
  CHECK(r.tenant == "acme");
  CHECK(r.actions == std::vector<std::string>{"read", "list"});
  CHECK(r.resource_types == std::vector<std::string>{"document"});
  CHECK(r.created == kNow);
  CHECK(r.expires == kNow + absl::Hours(24 * 90));
  CHECK_FALSE(r.revoked.has_value());
  CHECK(r.description == "nightly export");
  CHECK(ValidateApiKeyRecord(r).ok());

  std::string id, secret;
  REQUIRE(ParseApiKey(made.key, &id, &secret));
  CHECK(id == r.id);
  CHECK(secret.size() == kApiKeySecretBytes);
  CHECK(r.hash == ApiKeyHash(r.salt, secret));
  CHECK(r.hash != ApiKeyHash(std::string(16, '\0'), secret));  // salted
  const std::string encoded = made.key.substr(21);
  for (const std::string* field : {&r.salt, &r.hash, &r.description, &r.subject}) {
    CHECK(field->find(secret) == std::string::npos);
    CHECK(field->find(encoded) == std::string::npos);
  }

  NewApiKey other = MustGenerate(spec);
  CHECK(other.key != made.key);
  CHECK(other.record.id != r.id);
  CHECK(other.record.salt != r.salt);
}

TEST_CASE("HMAC-SHA256 known answer (RFC 4231 test case 2)") {
  CHECK(absl::BytesToHexString(ApiKeyHash("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("GenerateApiKey refuses bad specs") {
  ApiKeySpec spec;
  CHECK(GenerateApiKey(spec, kNow).status().code() == absl::StatusCode::kInvalidArgument);
  spec.subject = "s";
  spec.ttl = absl::ZeroDuration();
  CHECK(GenerateApiKey(spec, kNow).status().code() == absl::StatusCode::kInvalidArgument);
  spec.ttl = -absl::Hours(1);
  CHECK(GenerateApiKey(spec, kNow).status().code() == absl::StatusCode::kInvalidArgument);
  spec.ttl.reset();
  spec.subject = std::string(kApiKeyMaxFieldBytes + 1, 's');
  CHECK_FALSE(GenerateApiKey(spec, kNow).ok());
  spec.subject = "s";
  spec.roles = {"a\nb"};
  CHECK_FALSE(GenerateApiKey(spec, kNow).ok());
  spec.roles = {""};
  CHECK_FALSE(GenerateApiKey(spec, kNow).ok());
  spec.roles = std::vector<std::string>(kApiKeyMaxListItems + 1, "r");
  CHECK_FALSE(GenerateApiKey(spec, kNow).ok());
  spec.roles.clear();
  spec.description = std::string(kApiKeyMaxDescriptionBytes + 1, 'd');
  CHECK_FALSE(GenerateApiKey(spec, kNow).ok());
  spec.description.clear();
  spec.rotated_from = "not an id";
  CHECK_FALSE(GenerateApiKey(spec, kNow).ok());
}

TEST_CASE("Verify: the right key, a wrong secret, an unknown id") {
  NewApiKey made = MustGenerate();
  NewApiKey stranger = MustGenerate();  // never put into the table
  ApiKeyTable table;
  CHECK(table.size() == 0);
  table.Replace({made.record});
  CHECK(table.size() == 1);

  ApiKeyRecord out;
  CHECK(table.Verify(made.key, kNow, &out) == AuthError::kNone);
  CHECK(out.id == made.record.id);
  CHECK(out.subject == "svc-reports");
  CHECK(table.Verify(made.key, kNow, nullptr) == AuthError::kNone);

  out = ApiKeyRecord();
  CHECK(table.Verify(WrongSecret(made.key), kNow, &out) == AuthError::kApiKeyUnknown);
  CHECK(out.id.empty());  // nothing about the key leaks
  CHECK(table.Verify(stranger.key, kNow, &out) == AuthError::kApiKeyUnknown);
  CHECK(out.id.empty());
  // The right secret under another (unknown) id.
  std::string swapped = made.key;
  swapped.replace(4, 16, stranger.record.id);
  CHECK(table.Verify(swapped, kNow, nullptr) == AuthError::kApiKeyUnknown);

  table.Replace({});
  CHECK(table.size() == 0);
  CHECK(table.Verify(made.key, kNow, nullptr) == AuthError::kApiKeyUnknown);
}

TEST_CASE("Verify: malformed keys") {
  NewApiKey made = MustGenerate();
  ApiKeyTable table;
  table.Replace({made.record});
  const std::string& key = made.key;
  std::string upper_id = key;
  upper_id[5] = 'A';
  std::string bad_separator = key;
  bad_separator[20] = '-';
  std::string bad_char = key;
  bad_char[30] = '+';
  // 32 bytes use 256 of the last character's 258 bits: its low 2 bits must be 0.
  std::string non_canonical = key;
  {
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const size_t index = std::string_view(alphabet).find(key.back());
    non_canonical.back() = alphabet[index | 1];
  }
  const std::vector<std::string> malformed = {
      "",
      "wdk_",
      "wdk",
      key.substr(0, key.size() - 1),
      key + "A",
      key + "=",
      "wdx_" + key.substr(4),
      "WDK_" + key.substr(4),
      " " + key.substr(1),
      upper_id,
      bad_separator,
      bad_char,
      non_canonical,
      std::string(kApiKeyChars, '_'),
      std::string(1 << 20, 'w'),
      "Bearer " + key,
  };
  for (const std::string& presented : malformed) {
    CAPTURE(presented.substr(0, 80));
    CHECK(table.Verify(presented, kNow, nullptr) == AuthError::kApiKeyMalformed);
  }
}

TEST_CASE("Verify: expired and revoked, only after the secret matched") {
  ApiKeySpec spec;
  spec.ttl = absl::Hours(1);
  NewApiKey expiring = MustGenerate(spec);
  NewApiKey revoked = MustGenerate();
  revoked.record.revoked = kNow + absl::Minutes(5);
  ApiKeyTable table;
  table.Replace({expiring.record, revoked.record});

  CHECK(table.Verify(expiring.key, kNow + absl::Minutes(59), nullptr) == AuthError::kNone);
  CHECK(table.Verify(expiring.key, kNow + absl::Hours(1), nullptr) == AuthError::kApiKeyExpired);
  ApiKeyRecord out;
  CHECK(table.Verify(expiring.key, kNow + absl::Hours(2), &out) == AuthError::kApiKeyExpired);
  CHECK(out.id == expiring.record.id);  // known, for the log
  CHECK(table.Verify(WrongSecret(expiring.key), kNow + absl::Hours(2), nullptr) ==
        AuthError::kApiKeyUnknown);

  CHECK(table.Verify(revoked.key, kNow, nullptr) == AuthError::kApiKeyRevoked);
  CHECK(table.Verify(WrongSecret(revoked.key), kNow, nullptr) == AuthError::kApiKeyUnknown);
  // Revoked and expired: revoked wins.
  revoked.record.expires = kNow;
  table.Replace({revoked.record});
  CHECK(table.Verify(revoked.key, kNow + absl::Hours(1), nullptr) == AuthError::kApiKeyRevoked);

  CHECK(StatusOfApiKey(expiring.record, kNow) == ApiKeyStatus::kActive);
  CHECK(StatusOfApiKey(expiring.record, kNow + absl::Hours(1)) == ApiKeyStatus::kExpired);
  CHECK(StatusOfApiKey(revoked.record, kNow) == ApiKeyStatus::kRevoked);
  CHECK(std::string(ApiKeyStatusName(ApiKeyStatus::kActive)) == "active");
  CHECK(std::string(ApiKeyStatusName(ApiKeyStatus::kExpired)) == "expired");
  CHECK(std::string(ApiKeyStatusName(ApiKeyStatus::kRevoked)) == "revoked");
}

// The HMACs one Verify of `presented` computes.
uint64_t HashesPerVerify(const ApiKeyTable& table, const std::string& presented) {
  const uint64_t before = ApiKeyHashCount();
  (void)table.Verify(presented, kNow, nullptr);
  return ApiKeyHashCount() - before;
}

TEST_CASE("Verify: an unknown id does the work of a known one (the HMAC runs for both)") {
  // By structure rather than by the clock: without the dummy record an
  // unknown id would cost a hash lookup only, and the count would be 0.
  std::vector<ApiKeyRecord> records;
  for (int i = 0; i < 100; ++i) records.push_back(MustGenerate().record);
  NewApiKey known = MustGenerate();
  records.push_back(known.record);
  ApiKeyTable table;
  table.Replace(records);
  CHECK(HashesPerVerify(table, known.key) == 1);
  CHECK(HashesPerVerify(table, WrongSecret(known.key)) == 1);
  CHECK(HashesPerVerify(table, MustGenerate().key) == 1);  // unknown id
  CHECK(HashesPerVerify(ApiKeyTable(), known.key) == 1);   // empty table
  CHECK(HashesPerVerify(table, "not a key") == 0);         // malformed: no secret to hash
}

TEST_CASE("scope: empty lists allow everything; otherwise both must match") {
  ApiKeyRecord key;
  CHECK(CheckApiKeyScope(key, "read", "document") == AuthError::kNone);
  key.actions = {"read", "list"};
  CHECK(CheckApiKeyScope(key, "read", "document") == AuthError::kNone);
  CHECK(CheckApiKeyScope(key, "list", "anything") == AuthError::kNone);
  CHECK(CheckApiKeyScope(key, "delete", "document") == AuthError::kApiKeyScope);
  CHECK(CheckApiKeyScope(key, "", "document") == AuthError::kApiKeyScope);
  key.resource_types = {"document"};
  CHECK(CheckApiKeyScope(key, "read", "document") == AuthError::kNone);
  CHECK(CheckApiKeyScope(key, "read", "payment") == AuthError::kApiKeyScope);
  CHECK(CheckApiKeyScope(key, "read", "Document") == AuthError::kApiKeyScope);
  key.actions.clear();
  CHECK(CheckApiKeyScope(key, "delete", "document") == AuthError::kNone);
  CHECK(CheckApiKeyScope(key, "delete", "payment") == AuthError::kApiKeyScope);
}

TEST_CASE("the table can be replaced while other threads verify") {
  NewApiKey a = MustGenerate(), b = MustGenerate();
  ApiKeyTable table;
  table.Replace({a.record});
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread verifier([&] {
    while (!stop) {
      AuthError e = table.Verify(a.key, kNow, nullptr);
      if (e != AuthError::kNone && e != AuthError::kApiKeyUnknown) ++bad;
    }
  });
  for (int i = 0; i < 500; ++i) {
    table.Replace(i % 2 == 0 ? std::vector<ApiKeyRecord>{a.record, b.record}
                             : std::vector<ApiKeyRecord>{b.record});
  }
  stop = true;
  verifier.join();
  CHECK(bad == 0);
}

TEST_CASE("ValidateApiKeyRecord") {
  ApiKeyRecord r = MustGenerate().record;
  CHECK(ValidateApiKeyRecord(r).ok());
  ApiKeyRecord bad = r;
  bad.id = "0123456789ABCDEF";
  CHECK_FALSE(ValidateApiKeyRecord(bad).ok());
  bad = r;
  bad.salt.pop_back();
  CHECK_FALSE(ValidateApiKeyRecord(bad).ok());
  bad = r;
  bad.hash += "x";
  CHECK_FALSE(ValidateApiKeyRecord(bad).ok());
  bad = r;
  bad.subject.clear();
  CHECK_FALSE(ValidateApiKeyRecord(bad).ok());
  bad = r;
  bad.actions = {"read\x01"};
  CHECK_FALSE(ValidateApiKeyRecord(bad).ok());
  bad = r;
  bad.resource_types = {std::string(kApiKeyMaxFieldBytes + 1, 't')};
  CHECK_FALSE(ValidateApiKeyRecord(bad).ok());
}

}  // namespace
}  // namespace warden::auth
