// Stage 2 of /v1/check: authenticate. Verifies the credential (a JWT against
// its issuer's keys, or a Warden API key), refuses revoked ones and keys out
// of scope, and refuses without looking at the credential while the address
// or API key is locked out. Owns what verification needs: the token
// verifier and cache, the API keys and the revocations (reloaded from the
// state store when another process changed them).
#ifndef WARDEN_RUNTIME_AUTH_CHECK_AUTHENTICATE_H_
#define WARDEN_RUNTIME_AUTH_CHECK_AUTHENTICATE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "runtime/auth/api_keys.h"
#include "runtime/auth/auth_config.h"
#include "runtime/auth/auth_error.h"
#include "runtime/auth/check/check_body.h"
#include "runtime/auth/check/claims.h"
#include "runtime/auth/jwt_verifier.h"
#include "runtime/auth/signals/attempts.h"
#include "runtime/auth/source_status.h"
#include "runtime/auth/state_store.h"
#include "runtime/auth/token_cache.h"

namespace warden::auth {

// Who the verified credential says the caller is: a token or an API key.
struct Identity {
  std::shared_ptr<const MappedToken> token;  // null for an API key
  std::optional<ApiKeyRecord> key;           // set for an API key
  std::string subject;                       // the subject's id
};

// A refused check: answered as a deny with the reason code.
struct Refusal {
  AuthError error = AuthError::kNone;
  std::string detail;  // "" for the code's meaning
  // The failed-attempt key of the subject or API key the refused credential
  // names ("s:…", "k:…"), when it is known to be theirs; else "".
  std::string failed_subject;
};

class Authenticator {
 public:
  // Reads the HMAC secrets and loads the issuers' keys. `config` and `store`
  // must outlive the authenticator.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const AuthConfig& config,
                                                               StateStore& store);
  // Loads the API keys and revocations from the store (at start-up).
  absl::Status Load(absl::Time now);

  // Verifies the check's credential into *identity. `ip_key` is the client
  // address's failed-attempt key ("" without one).
  std::optional<Refusal> Authenticate(const CheckBody& check, std::string_view ip_key,
                                      const FailedAttempts& attempts, absl::Time now,
                                      Identity* identity) const;

  // Reloads revocations and API keys if another process changed the store,
  // and the issuers' JWKS files if they changed (from the control thread).
  // Every JWKS file read and every failed state read goes to `reports`.
  void Poll(absl::Time now, SourceReports& reports);

 private:
  explicit Authenticator(const AuthConfig& config, StateStore& store)
      : config_(config), store_(store) {}
  absl::Status ReloadFromStore(absl::Time now);
  std::optional<Refusal> VerifyToken(std::string_view token, absl::Time now,
                                     Identity* identity) const;
  std::optional<Refusal> VerifyApiKey(const CheckBody& check, std::string_view key_lock,
                                      absl::Time now, Identity* identity) const;
  AuthError CheckRevoked(const VerifiedToken& token) const;
  const ClaimMapping& MappingFor(std::string_view issuer) const;

  const AuthConfig& config_;
  StateStore& store_;
  std::unique_ptr<TokenVerifier> verifier_;  // null: no issuers
  std::unique_ptr<TokenCache> cache_;        // null: caching off
  ApiKeyTable api_keys_;
  mutable absl::Mutex revocations_mutex_;
  std::shared_ptr<const Revocations> revocations_ ABSL_GUARDED_BY(revocations_mutex_);
  int64_t data_version_ = -1;
  std::string last_state_error_;  // of the last Poll ("" when it read the store)
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_AUTHENTICATE_H_
