#include "runtime/auth/check/authenticate.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

// Debian's Abseil has its own string_view type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Reads a secret named by the configuration: never from the file itself.
absl::StatusOr<std::string> ReadSecret(const HmacKeySource& source, std::string_view issuer) {
  if (!source.secret_env.empty()) {
    const char* value = std::getenv(source.secret_env.c_str());
    if (value == nullptr || *value == '\0')
      return absl::InvalidArgumentError(absl::StrCat("auth: issuer ", Av(issuer),
                                                     ": the environment variable ",
                                                     source.secret_env, " is not set"));
    return std::string(value);
  }
  std::ifstream in(source.secret_file, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat("auth: issuer ", Av(issuer), ": cannot read ", source.secret_file));
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

std::optional<Refusal> Refuse(AuthError error, std::string detail = {},
                              std::string failed_subject = {}) {
  return Refusal{error, std::move(detail), std::move(failed_subject)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthConfig& config,
                                                                     StateStore& store) {
  std::unique_ptr<Authenticator> auth(new Authenticator(config, store));
  if (config.issuers.empty()) return auth;
  std::vector<IssuerConfig> issuers;
  for (const IssuerSettings& settings : config.issuers) {
    IssuerConfig issuer = settings.verify;
    for (const HmacKeySource& source : settings.hmac_key_sources) {
      absl::StatusOr<std::string> secret = ReadSecret(source, issuer.issuer);
      if (!secret.ok()) return secret.status();
      issuer.hmac_keys.push_back(HmacKey{source.kid, *std::move(secret)});
    }
    issuers.push_back(std::move(issuer));
  }
  absl::StatusOr<std::unique_ptr<TokenVerifier>> verifier =
      TokenVerifier::Create(std::move(issuers));
  if (!verifier.ok()) return verifier.status();
  auth->verifier_ = *std::move(verifier);
  if (config.token_cache_entries > 0)
    auth->cache_ = std::make_unique<TokenCache>(config.token_cache_entries);
  return auth;
}

absl::Status Authenticator::Load(absl::Time now) {
  if (absl::Status status = ReloadFromStore(now); !status.ok()) return status;
  absl::StatusOr<int64_t> version = store_.DataVersion();
  if (!version.ok()) return version.status();
  data_version_ = *version;
  return absl::OkStatus();
}

absl::Status Authenticator::ReloadFromStore(absl::Time now) {
  absl::StatusOr<Revocations> loaded = store_.LoadRevocations(now);
  if (!loaded.ok()) return loaded.status();
  absl::StatusOr<std::vector<ApiKeyRecord>> keys = store_.ListApiKeys();
  if (!keys.ok()) return keys.status();
  auto shared = std::make_shared<const Revocations>(*std::move(loaded));
  {
    absl::MutexLock lock(&revocations_mutex_);
    revocations_ = std::move(shared);
  }
  api_keys_.Replace(*std::move(keys));
  return absl::OkStatus();
}

void Authenticator::Poll(absl::Time now, SourceReports& reports) {
  absl::StatusOr<int64_t> version = store_.DataVersion();
  absl::Status state = version.status();
  if (version.ok() && *version != data_version_) {
    state = ReloadFromStore(now);
    if (state.ok()) data_version_ = *version;
  }
  // Reported once per change of outcome: a store that stays broken would
  // otherwise log at every poll.
  if (!state.ok() && state.message() != last_state_error_) {
    reports.Refused(UpdateSource::kState, store_.path(), state, now);
  } else if (state.ok() && !last_state_error_.empty()) {
    reports.Loaded(UpdateSource::kState, store_.path(), now);  // readable again
  }
  last_state_error_ = std::string(state.message());
  if (verifier_ == nullptr) return;
  (void)verifier_->ReloadKeys([&](const std::string& path, const absl::Status& result) {
    if (result.ok()) {
      reports.Loaded(UpdateSource::kJwks, path, now);
    } else {
      reports.Refused(UpdateSource::kJwks, path, result, now);
    }
  });
}

std::optional<Refusal> Authenticator::Authenticate(const CheckBody& check, std::string_view ip_key,
                                                   const FailedAttempts& attempts, absl::Time now,
                                                   Identity* identity) const {
  // A locked-out address or API key gets no verification at all, so
  // guessing cannot continue, and the answer does not say whether the
  // guess was right.
  std::string key_lock;
  if (std::string key_id, secret;
      !check.api_key.empty() && ParseApiKey(check.api_key, &key_id, &secret))
    key_lock = absl::StrCat("k:", key_id);
  if ((!ip_key.empty() && attempts.Get(ip_key, now).locked) ||
      (!key_lock.empty() && attempts.Get(key_lock, now).locked))
    return Refuse(AuthError::kLockedOut, "too many failed attempts: try again later");
  if (!check.token.empty()) return VerifyToken(check.token, now, identity);
  if (!check.api_key.empty()) return VerifyApiKey(check, key_lock, now, identity);
  return Refuse(AuthError::kNoCredential);
}

std::optional<Refusal> Authenticator::VerifyToken(std::string_view token, absl::Time now,
                                                  Identity* identity) const {
  if (verifier_ == nullptr)
    return Refuse(AuthError::kUnknownIssuer, "no token issuer is configured");
  std::shared_ptr<const VerifiedToken> cached =
      cache_ != nullptr ? cache_->Find(token, now) : nullptr;
  if (cached != nullptr) {
    identity->token = std::static_pointer_cast<const MappedToken>(cached);
  } else {
    auto mapped = std::make_shared<MappedToken>();
    std::string detail;
    const AuthError error = verifier_->Verify(token, now, mapped.get(), &detail);
    if (error != AuthError::kNone) {
      // Verify names the subject only when the signature held.
      std::string failed_subject =
          mapped->subject.empty() ? std::string() : absl::StrCat("s:", mapped->subject);
      return Refuse(error, std::move(detail), std::move(failed_subject));
    }
    MapClaims(MappingFor(mapped->issuer), *mapped);
    identity->token = mapped;
    if (cache_ != nullptr) cache_->Insert(token, identity->token, now);
  }
  if (const AuthError revoked = CheckRevoked(*identity->token); revoked != AuthError::kNone)
    return Refuse(revoked);
  identity->subject = identity->token->subject;
  return std::nullopt;
}

std::optional<Refusal> Authenticator::VerifyApiKey(const CheckBody& check,
                                                   std::string_view key_lock, absl::Time now,
                                                   Identity* identity) const {
  if (!config_.api_keys) return Refuse(AuthError::kApiKeyUnknown, "API keys are not accepted here");
  ApiKeyRecord record;
  const AuthError error = api_keys_.Verify(check.api_key, now, &record);
  if (error != AuthError::kNone) return Refuse(error, {}, std::string(key_lock));
  if (const AuthError scope = CheckApiKeyScope(record, check.action_name, check.resource_type);
      scope != AuthError::kNone)
    return Refuse(scope);
  identity->subject = record.subject;
  identity->key = std::move(record);
  return std::nullopt;
}

AuthError Authenticator::CheckRevoked(const VerifiedToken& token) const {
  std::shared_ptr<const Revocations> revoked;
  {
    absl::MutexLock lock(&revocations_mutex_);
    revoked = revocations_;
  }
  if (revoked == nullptr) return AuthError::kStateUnavailable;
  if (!token.jti.empty() && revoked->jtis.contains(token.jti)) return AuthError::kRevokedToken;
  if (revoked->subjects.empty()) return AuthError::kNone;
  for (std::string_view issuer : {std::string_view(token.issuer), std::string_view()}) {
    auto it = revoked->subjects.find(RevokedSubjectKey(issuer, token.subject));
    if (it != revoked->subjects.end() && token.issued_at < it->second)
      return AuthError::kRevokedSubject;
  }
  return AuthError::kNone;
}

const ClaimMapping& Authenticator::MappingFor(std::string_view issuer) const {
  static const ClaimMapping kDefault;
  for (const IssuerSettings& settings : config_.issuers) {
    if (settings.verify.issuer == issuer) return settings.claims;
  }
  return kDefault;
}

}  // namespace warden::auth
