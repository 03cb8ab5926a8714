#include "runtime/auth/jwt_verifier.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "runtime/auth/base64url.h"
#include "runtime/auth/file_stamp.h"
#include "runtime/auth/jwk.h"
#include "runtime/strict_json.h"
#include "runtime/values/timestamp.h"

namespace warden::auth {
namespace {

using nlohmann::json;

enum class Alg : unsigned char { kRS256, kPS256, kES256, kEdDSA, kHS256 };
constexpr int kAlgCount = 5;
constexpr const char* kAlgNames[kAlgCount] = {"RS256", "PS256", "ES256", "EdDSA", "HS256"};

std::optional<Alg> AlgFromName(std::string_view name) {
  for (int i = 0; i < kAlgCount; ++i) {
    if (name == kAlgNames[i]) return static_cast<Alg>(i);
  }
  return std::nullopt;
}

// Debian's Abseil has its own string_view type.
absl::string_view AV(std::string_view text) { return absl::string_view(text.data(), text.size()); }
unsigned AlgBit(Alg alg) { return 1u << static_cast<int>(alg); }

// The JWK type an asymmetric algorithm verifies with.
JwkType KeyTypeFor(Alg alg) {
  switch (alg) {
    case Alg::kES256:
      return JwkType::kEcP256;
    case Alg::kEdDSA:
      return JwkType::kEd25519;
    default:
      return JwkType::kRsa;
  }
}

const char* KeyTypeName(JwkType type) {
  switch (type) {
    case JwkType::kRsa:
      return "RSA";
    case JwkType::kEcP256:
      return "EC P-256";
    case JwkType::kEd25519:
      return "Ed25519";
  }
  return "?";
}

// Fetched once: passing EVP_sha256() would make OpenSSL 3 fetch the
// implementation again on every verification (a global lock).
const EVP_MD* Sha256() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
  }();
  return md;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// An HS256 key: the HMAC state keyed once; each verification works on a
// copy (EVP_MAC_CTX_dup), so the secret is not re-hashed per token.
struct HmacState {
  std::string kid;
  MacCtxPtr keyed;
};

absl::StatusOr<MacCtxPtr> KeyedHmac(const std::string& secret) {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return absl::InternalError("OpenSSL has no HMAC");
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (ctx == nullptr ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                   params) != 1) {
    return absl::InternalError("OpenSSL could not key HMAC-SHA256");
  }
  return ctx;
}

// ES256 signatures are R||S, 32 bytes each (RFC 7518, 3.4); OpenSSL wants
// DER: SEQUENCE { INTEGER r, INTEGER s }, minimal and non-negative.
size_t RawEcdsaToDer(std::string_view raw, unsigned char* der /* >= 72 bytes */) {
  auto integer = [](const unsigned char* bytes, unsigned char* out) {
    size_t skip = 0;
    while (skip < 31 && bytes[skip] == 0) ++skip;
    size_t len = 32 - skip;
    bool pad = (bytes[skip] & 0x80) != 0;
    out[0] = 0x02;
    out[1] = static_cast<unsigned char>(len + (pad ? 1 : 0));
    size_t at = 2;
    if (pad) out[at++] = 0;
    std::copy(bytes + skip, bytes + 32, out + at);
    return at + len;
  };
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  unsigned char body[70];
  size_t length = integer(bytes, body);
  length += integer(bytes + 32, body + length);
  der[0] = 0x30;
  der[1] = static_cast<unsigned char>(length);
  std::copy(body, body + length, der + 2);
  return length + 2;
}

bool VerifyAsymmetric(Alg alg, EVP_PKEY* key, std::string_view input, std::string_view sig,
                      const char** why) {
  unsigned char der[72];
  const auto* sig_bytes = reinterpret_cast<const unsigned char*>(sig.data());
  size_t sig_size = sig.size();
  switch (alg) {
    case Alg::kES256:
      if (sig.size() != 64) {
        *why = "an ES256 signature must be 64 bytes (R||S)";
        return false;
      }
      sig_size = RawEcdsaToDer(sig, der);
      sig_bytes = der;
      break;
    case Alg::kEdDSA:
      if (sig.size() != 64) {
        *why = "an Ed25519 signature must be 64 bytes";
        return false;
      }
      break;
    default:
      if (sig.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) {
        *why = "the RSA signature's length is not the modulus length";
        return false;
      }
      break;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  *why = "the signature does not verify";
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), &pctx, alg == Alg::kEdDSA ? nullptr : "SHA256", nullptr,
                              nullptr, key, nullptr) != 1) {
    *why = "OpenSSL could not set up the verification";
    return false;
  }
  if (alg == Alg::kPS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, Sha256()) != 1)) {
    *why = "OpenSSL could not set up RSA-PSS";
    return false;
  }
  return EVP_DigestVerify(ctx.get(), sig_bytes, sig_size,
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

bool VerifyHmac(const EVP_MAC_CTX* keyed, std::string_view input, std::string_view sig,
                const char** why) {
  *why = "the signature does not verify";
  if (sig.size() != 32) {
    *why = "an HS256 signature must be 32 bytes";
    return false;
  }
  MacCtxPtr ctx(EVP_MAC_CTX_dup(keyed));
  unsigned char mac[32];
  size_t mac_size = 0;
  if (ctx == nullptr ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac, &mac_size, sizeof mac) != 1 || mac_size != sizeof mac) {
    *why = "OpenSSL could not compute the HMAC";
    return false;
  }
  return CRYPTO_memcmp(mac, sig.data(), sizeof mac) == 0;
}

// RFC 7519 NumericDate: integer or fractional seconds. Bounded to
// [0, 9999-12-31] so that nothing downstream overflows.
constexpr int64_t kMaxUnixSeconds = 253402300799;

bool NumericDate(const json& value, absl::Time* out) {
  if (value.is_number_unsigned()) {
    auto seconds = value.get<uint64_t>();
    if (seconds > static_cast<uint64_t>(kMaxUnixSeconds)) return false;
    *out = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
    return true;
  }
  if (value.is_number_integer()) {
    auto seconds = value.get<int64_t>();
    if (seconds < 0 || seconds > kMaxUnixSeconds) return false;
    *out = absl::FromUnixSeconds(seconds);
    return true;
  }
  if (value.is_number_float()) {
    double seconds = value.get<double>();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > static_cast<double>(kMaxUnixSeconds)) {
      return false;
    }
    *out = absl::FromUnixMicros(static_cast<int64_t>(std::floor(seconds * 1e6)));
    return true;
  }
  return false;
}

// The three parts of a compact JWS, as given.
struct Parts {
  std::string_view header, payload, signature, signing_input;
};

bool Split(std::string_view token, Parts* parts) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return false;
  }
  parts->header = token.substr(0, first);
  parts->payload = token.substr(first + 1, second - first - 1);
  parts->signature = token.substr(second + 1);
  parts->signing_input = token.substr(0, second);
  return true;
}

// Decodes a base64url part and parses it as a strict JSON object.
AuthError DecodeJsonPart(std::string_view encoded, size_t max_bytes, int max_depth,
                         const char* what, json* out, std::string* detail) {
  if (Base64UrlDecodedSize(encoded.size()) > max_bytes) {
    if (detail) {
      *detail = absl::StrCat("the ", what, " is over ", max_bytes, " bytes");
    }
    return AuthError::kTooLarge;
  }
  std::string bytes;
  if (!Base64UrlDecode(encoded, &bytes)) {
    if (detail) *detail = absl::StrCat("the ", what, " is not valid base64url");
    return AuthError::kBadBase64;
  }
  StrictJsonError error;
  if (!ParseStrictJson(bytes, {.max_depth = max_depth}, out, &error)) {
    if (detail) *detail = absl::StrCat("the ", what, ": ", error.message);
    return AuthError::kMalformed;
  }
  if (!out->is_object()) {
    if (detail) *detail = absl::StrCat("the ", what, " is not a JSON object");
    return AuthError::kMalformed;
  }
  return AuthError::kNone;
}

using KeySet = std::vector<Jwk>;

struct JwksFile {
  std::string path;
  FileStamp stamp;                     // of the loaded keys
  std::shared_ptr<const KeySet> keys;  // replaced whole on reload
  FileStamp failed_stamp;              // the last version that failed, and why
  absl::Status failed;
};

struct Issuer {
  IssuerConfig config;
  unsigned algorithms = 0;  // AlgBit mask
  size_t jwks = SIZE_MAX;   // index into State::files
  std::vector<HmacState> hmac;
};

bool StringIn(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A valid typ (RFC 7515 4.1.9: "application/" may be omitted; compared
// case-insensitively).
bool TypAccepted(absl::string_view typ) {
  if (absl::StartsWithIgnoreCase(typ, "application/")) typ.remove_prefix(12);
  return absl::EqualsIgnoreCase(typ, "JWT") || absl::EqualsIgnoreCase(typ, "at+jwt");
}

}  // namespace

struct TokenVerifier::State {
  VerifierLimits limits;
  std::vector<Issuer> issuers;  // immutable after Create
  absl::flat_hash_map<std::string, size_t> by_issuer;
  absl::Mutex reload_mu;  // one ReloadKeys at a time
  mutable absl::Mutex mu;
  std::vector<JwksFile> files ABSL_GUARDED_BY(mu);

  std::shared_ptr<const KeySet> Keys(const Issuer& issuer) const {
    if (issuer.jwks == SIZE_MAX) return nullptr;
    absl::ReaderMutexLock lock(&mu);
    return files[issuer.jwks].keys;
  }

  AuthError Verify(std::string_view token, absl::Time now, VerifiedToken* out,
                   std::string* detail) const;
  AuthError CheckClaims(const Issuer& issuer, const json& claims, absl::Time now,
                        VerifiedToken* token, std::string* detail) const;
};

namespace {

// The header's alg and kid, after refusing what is never accepted.
AuthError ReadHeader(const json& header, std::string* alg_name, std::string* kid,
                     std::string* detail) {
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) {
    if (detail) *detail = "the header has no string \"alg\"";
    return AuthError::kMalformed;
  }
  *alg_name = alg_it->get_ref<const std::string&>();
  if (absl::EqualsIgnoreCase(*alg_name, "none")) {
    if (detail) *detail = "unsigned tokens (alg none) are never accepted";
    return AuthError::kAlgNone;
  }
  if (auto it = header.find("kid"); it != header.end()) {
    if (!it->is_string()) {
      if (detail) *detail = "the header's \"kid\" is not a string";
      return AuthError::kMalformed;
    }
    *kid = it->get_ref<const std::string&>();
  }
  if (auto it = header.find("typ"); it != header.end()) {
    if (!it->is_string() || !TypAccepted(it->get_ref<const std::string&>())) {
      if (detail) *detail = "the header's \"typ\" is neither JWT nor at+jwt";
      return AuthError::kMalformed;
    }
  }
  // No header extension is understood, so any crit must be refused (RFC
  // 7515, 4.1.11); enc/zip mean an encrypted token (JWE).
  for (const char* refused : {"crit", "enc", "zip"}) {
    if (header.contains(refused)) {
      if (detail) *detail = absl::StrCat("the header's \"", refused, "\" is not supported");
      return AuthError::kUnsupportedHeader;
    }
  }
  return AuthError::kNone;
}

// The HMAC key an HS256 token names, or the issuer's only unnamed one.
AuthError ChooseHmacKey(const Issuer& issuer, const KeySet* keys, const std::string& kid,
                        const HmacState** out, std::string* detail) {
  const HmacState* chosen = nullptr;
  if (!kid.empty()) {
    for (const HmacState& key : issuer.hmac) {
      if (key.kid == kid) chosen = &key;
    }
    if (chosen == nullptr && keys != nullptr &&
        std::any_of(keys->begin(), keys->end(), [&](const Jwk& k) { return k.kid == kid; })) {
      // HS256 naming a public key: the classic confusion attack.
      if (detail)
        *detail = absl::StrCat("kid \"", kid, "\" is a public key; HS256 uses HMAC keys only");
      return AuthError::kKeyAlgMismatch;
    }
  } else {
    size_t unnamed = 0;
    for (const HmacState& key : issuer.hmac) {
      if (key.kid.empty()) {
        chosen = &key;
        ++unnamed;
      }
    }
    if (unnamed > 1) chosen = nullptr;
    if (unnamed == 0 && issuer.hmac.size() == 1) chosen = &issuer.hmac.front();
  }
  if (chosen == nullptr) {
    if (detail) {
      *detail = kid.empty() ? "the token has no kid and the issuer has several HMAC keys"
                            : absl::StrCat("no HMAC key has kid \"", kid, "\"");
    }
    return AuthError::kUnknownKid;
  }
  *out = chosen;
  return AuthError::kNone;
}

// The public key a token names by kid (of the type and pin its alg needs),
// or without a kid the one unambiguous compatible key.
AuthError ChoosePublicKey(const Issuer& issuer, const KeySet* keys, Alg alg,
                          const std::string& alg_name, const std::string& kid, const Jwk** out,
                          std::string* detail) {
  const std::string& iss = issuer.config.issuer;
  const JwkType type = KeyTypeFor(alg);
  const Jwk* chosen = nullptr;
  if (!kid.empty()) {
    if (keys != nullptr) {
      for (const Jwk& key : *keys) {
        if (key.kid == kid) chosen = &key;
      }
    }
    if (chosen == nullptr) {
      bool is_hmac = std::any_of(issuer.hmac.begin(), issuer.hmac.end(),
                                 [&](const HmacState& k) { return k.kid == kid; });
      if (detail) {
        *detail = is_hmac ? absl::StrCat("kid \"", kid, "\" is an HMAC key; ", alg_name,
                                         " needs a public key")
                          : absl::StrCat("issuer \"", iss, "\" has no key with kid \"", kid, "\"");
      }
      return is_hmac ? AuthError::kKeyAlgMismatch : AuthError::kUnknownKid;
    }
    if (chosen->type != type) {
      if (detail) {
        *detail = absl::StrCat("kid \"", kid, "\" is an ", KeyTypeName(chosen->type), " key; ",
                               alg_name, " needs ", KeyTypeName(type));
      }
      return AuthError::kKeyAlgMismatch;
    }
    if (!chosen->alg.empty() && chosen->alg != alg_name) {
      if (detail) {
        *detail = absl::StrCat("kid \"", kid, "\" is pinned to ", chosen->alg, ", not ", alg_name);
      }
      return AuthError::kKeyAlgMismatch;
    }
  } else {
    // Without a kid, only an unambiguous key will do: the single
    // compatible key without a kid, else the single compatible key.
    const Jwk* unnamed = nullptr;
    size_t unnamed_count = 0, compatible_count = 0;
    if (keys != nullptr) {
      for (const Jwk& key : *keys) {
        if (key.type != type || (!key.alg.empty() && key.alg != alg_name)) continue;
        ++compatible_count;
        chosen = &key;
        if (key.kid.empty()) {
          unnamed = &key;
          ++unnamed_count;
        }
      }
    }
    if (unnamed_count == 1) {
      chosen = unnamed;
    } else if (unnamed_count > 1 || compatible_count != 1) {
      chosen = nullptr;
    }
    if (chosen == nullptr) {
      if (detail) {
        *detail = absl::StrCat("the token has no kid and issuer \"", iss, "\" has ",
                               compatible_count, " ", alg_name, " keys");
      }
      return AuthError::kUnknownKid;
    }
  }
  *out = chosen;
  return AuthError::kNone;
}

}  // namespace

TokenVerifier::TokenVerifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
TokenVerifier::~TokenVerifier() = default;

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::Create(
    std::vector<IssuerConfig> issuers, VerifierLimits limits) {
  try {
    if (limits.max_token_bytes == 0 || limits.max_header_bytes == 0 ||
        limits.max_payload_bytes == 0 || limits.max_json_depth < 2) {
      return absl::InvalidArgumentError("JWT verifier limits must be positive (json depth >= 2)");
    }
    if (issuers.empty()) return absl::InvalidArgumentError("no token issuers are configured");
    auto state = std::make_unique<State>();
    state->limits = limits;
    std::vector<JwksFile> files;  // moved into the state at the end
    for (IssuerConfig& config : issuers) {
      std::string name = absl::StrCat("issuer \"", config.issuer, "\"");
      auto error = [&](std::string_view message) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": ", std::string(message)));
      };
      if (config.issuer.empty()) return absl::InvalidArgumentError("an issuer has an empty name");
      if (state->by_issuer.contains(config.issuer)) return error("is configured twice");
      if (config.audiences.empty()) return error("no audiences are configured");
      for (const auto& audience : config.audiences) {
        if (audience.empty()) return error("an audience is empty");
      }
      Issuer issuer;
      for (const auto& name_of_alg : config.algorithms) {
        if (absl::EqualsIgnoreCase(name_of_alg, "none"))
          return error("algorithm \"none\" is never accepted");
        auto alg = AlgFromName(name_of_alg);
        if (!alg) {
          return error(absl::StrCat("algorithm \"", name_of_alg,
                                    "\" is not supported (RS256, PS256, ES256, EdDSA, HS256)"));
        }
        issuer.algorithms |= AlgBit(*alg);
      }
      if (issuer.algorithms == 0) return error("no algorithms are configured");
      if (config.leeway < absl::ZeroDuration() || config.leeway > absl::Minutes(5)) {
        return error("leeway must be between 0 and 5 minutes");
      }
      if (config.max_lifetime <= absl::ZeroDuration())
        return error("max_lifetime must be positive");
      bool asymmetric = (issuer.algorithms & ~AlgBit(Alg::kHS256)) != 0;
      if (asymmetric && config.jwks_file.empty()) {
        return error("RS256, PS256, ES256 and EdDSA need a jwks_file");
      }
      if ((issuer.algorithms & AlgBit(Alg::kHS256)) != 0 && config.hmac_keys.empty()) {
        return error("HS256 needs hmac_keys");
      }
      for (size_t i = 0; i < config.hmac_keys.size(); ++i) {
        const HmacKey& key = config.hmac_keys[i];
        if (key.secret.size() < 32) {
          return error(
              absl::StrCat("HMAC key ", i, " (kid \"", key.kid, "\") is shorter than 32 bytes"));
        }
        for (size_t j = 0; j < i; ++j) {
          if (config.hmac_keys[j].kid == key.kid) {
            return error(absl::StrCat("two HMAC keys have the kid \"", key.kid, "\""));
          }
        }
        auto keyed = KeyedHmac(key.secret);
        if (!keyed.ok()) return keyed.status();
        issuer.hmac.push_back(HmacState{key.kid, *std::move(keyed)});
      }
      if (!config.jwks_file.empty()) {
        // Issuers sharing a file share its keys (and its reloads).
        for (size_t f = 0; f < files.size(); ++f) {
          if (files[f].path == config.jwks_file) issuer.jwks = f;
        }
        if (issuer.jwks == SIZE_MAX) {
          JwksFile file;
          file.path = config.jwks_file;
          file.stamp = Stamp(file.path);
          auto keys = LoadJwksFile(file.path);
          if (!keys.ok()) {
            return absl::Status(keys.status().code(),
                                absl::StrCat(name, ": ", keys.status().message()));
          }
          file.keys = std::make_shared<const KeySet>(*std::move(keys));
          issuer.jwks = files.size();
          files.push_back(std::move(file));
        }
      }
      state->by_issuer.emplace(config.issuer, state->issuers.size());
      issuer.config = std::move(config);
      state->issuers.push_back(std::move(issuer));
    }
    {
      absl::MutexLock lock(&state->mu);
      state->files = std::move(files);
    }
    return std::unique_ptr<TokenVerifier>(new TokenVerifier(std::move(state)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("JWT verifier: ", e.what()));
  }
}

AuthError TokenVerifier::Verify(std::string_view token, absl::Time now, VerifiedToken* out,
                                std::string* detail) const {
  try {
    return state_->Verify(token, now, out, detail);
  } catch (const std::exception& e) {
    // Not expected (json access is type-checked); a refusal, never a permit.
    if (detail) *detail = absl::StrCat("internal error: ", e.what());
    return AuthError::kMalformed;
  }
}

AuthError TokenVerifier::State::Verify(std::string_view token, absl::Time now, VerifiedToken* out,
                                       std::string* detail) const {
  if (token.size() > limits.max_token_bytes) {
    if (detail) *detail = absl::StrCat("the token is over ", limits.max_token_bytes, " bytes");
    return AuthError::kTooLarge;
  }
  Parts parts;
  if (!Split(token, &parts)) {
    if (detail) *detail = "a JWT has exactly three dot-separated parts";
    return AuthError::kMalformed;
  }
  json header;
  if (AuthError e = DecodeJsonPart(parts.header, limits.max_header_bytes, limits.max_json_depth,
                                   "header", &header, detail);
      e != AuthError::kNone) {
    return e;
  }
  std::string alg_name, kid;
  if (AuthError e = ReadHeader(header, &alg_name, &kid, detail); e != AuthError::kNone) return e;

  // The payload is parsed before the signature is checked because `iss`
  // chooses the keys; nothing of it leaves here unless the signature holds.
  json claims;
  if (AuthError e = DecodeJsonPart(parts.payload, limits.max_payload_bytes, limits.max_json_depth,
                                   "payload", &claims, detail);
      e != AuthError::kNone) {
    return e;
  }
  auto iss_it = claims.find("iss");
  if (iss_it == claims.end() || !iss_it->is_string()) {
    if (detail) *detail = "the payload has no string \"iss\"";
    return AuthError::kMissingClaim;
  }
  const std::string& iss = iss_it->get_ref<const std::string&>();
  auto issuer_it = by_issuer.find(iss);
  if (issuer_it == by_issuer.end()) {
    if (detail) *detail = absl::StrCat("no issuer \"", iss, "\" is configured");
    return AuthError::kUnknownIssuer;
  }
  const Issuer& issuer = issuers[issuer_it->second];
  auto alg = AlgFromName(alg_name);
  if (!alg || (issuer.algorithms & AlgBit(*alg)) == 0) {
    if (detail) {
      *detail = absl::StrCat("issuer \"", iss, "\" does not accept alg \"", alg_name,
                             "\" (accepts ", absl::StrJoin(issuer.config.algorithms, ", "), ")");
    }
    return AuthError::kAlgNotAllowed;
  }

  std::string signature;
  if (!Base64UrlDecode(parts.signature, &signature)) {
    if (detail) *detail = "the signature is not valid base64url";
    return AuthError::kBadBase64;
  }

  // The key: by kid, or the one key that can verify this alg.
  std::shared_ptr<const KeySet> keys = Keys(issuer);
  const char* why = nullptr;
  bool verified = false;
  std::shared_ptr<EVP_PKEY> jwks_key;  // the JWKS key that verified, if one did
  if (*alg == Alg::kHS256) {
    const HmacState* chosen = nullptr;
    if (AuthError e = ChooseHmacKey(issuer, keys.get(), kid, &chosen, detail);
        e != AuthError::kNone)
      return e;
    verified = VerifyHmac(chosen->keyed.get(), parts.signing_input, signature, &why);
  } else {
    const Jwk* chosen = nullptr;
    if (AuthError e = ChoosePublicKey(issuer, keys.get(), *alg, alg_name, kid, &chosen, detail);
        e != AuthError::kNone)
      return e;
    verified = VerifyAsymmetric(*alg, chosen->key.get(), parts.signing_input, signature, &why);
    jwks_key = chosen->key;
  }
  if (!verified) {
    if (detail) *detail = why != nullptr ? why : "the signature does not verify";
    return AuthError::kBadSignature;
  }

  VerifiedToken verified_token;
  verified_token.issuer = iss;
  verified_token.alg = alg_name;
  verified_token.kid = kid;
  if (AuthError e = CheckClaims(issuer, claims, now, &verified_token, detail);
      e != AuthError::kNone) {
    // The signature holds, so `sub` is the issuer's word: the caller may
    // count this refusal as a failed attempt for that subject.
    if (out != nullptr) {
      *out = VerifiedToken{};
      out->issuer = iss;
      if (auto sub = claims.find("sub"); sub != claims.end() && sub->is_string())
        out->subject = sub->get<std::string>();
    }
    return e;
  }
  if (out != nullptr) {
    verified_token.jwks_key = jwks_key;
    verified_token.by_jwks_key = jwks_key != nullptr;
    verified_token.claims = std::move(claims);
    *out = std::move(verified_token);
  }
  return AuthError::kNone;
}

AuthError TokenVerifier::State::CheckClaims(const Issuer& issuer, const json& claims,
                                            absl::Time now, VerifiedToken* token,
                                            std::string* detail) const {
  const IssuerConfig& config = issuer.config;
  auto missing = [&](std::string_view message) {
    if (detail) *detail = std::string(message);
    return AuthError::kMissingClaim;
  };
  // Dates: exp always; iat when the lifetime is bounded; nbf and
  // auth_time when present. A wrong type or absurd value counts as missing.
  auto date = [&](const char* name, bool required, std::optional<absl::Time>* value) {
    auto it = claims.find(name);
    if (it == claims.end()) return !required;
    absl::Time time;
    if (!NumericDate(*it, &time)) return false;
    *value = time;
    return true;
  };
  std::optional<absl::Time> exp, iat, nbf, auth_time;
  const bool bounded = config.max_lifetime != absl::InfiniteDuration();
  if (!date("exp", true, &exp)) return missing("\"exp\" is missing or not a valid NumericDate");
  if (!date("iat", bounded, &iat)) return missing("\"iat\" is missing or not a valid NumericDate");
  if (!date("nbf", false, &nbf)) return missing("\"nbf\" is not a valid NumericDate");
  if (!date("auth_time", false, &auth_time)) {
    return missing("\"auth_time\" is not a valid NumericDate");
  }

  if (*exp + config.leeway <= now) {
    if (detail) {
      *detail =
          absl::StrCat("the token expired at ", values::TimestampString(absl::ToUnixMillis(*exp)),
                       " (leeway ", absl::FormatDuration(config.leeway), ")");
    }
    return AuthError::kExpired;
  }
  for (auto [name, value] :
       {std::pair{"nbf", &nbf}, std::pair{"iat", &iat}, std::pair{"auth_time", &auth_time}}) {
    if (value->has_value() && **value - config.leeway > now) {
      if (detail) {
        *detail =
            absl::StrCat("the token's ", name, " is ",
                         values::TimestampString(absl::ToUnixMillis(**value)), ", in the future");
      }
      return AuthError::kNotYetValid;
    }
  }
  if (iat && *exp - *iat > config.max_lifetime) {
    if (detail) {
      *detail =
          absl::StrCat("the token lives ", absl::FormatDuration(*exp - *iat), "; issuer \"",
                       config.issuer, "\" allows ", absl::FormatDuration(config.max_lifetime));
    }
    return AuthError::kLifetimeTooLong;
  }

  auto aud = claims.find("aud");
  if (aud == claims.end()) return missing("\"aud\" is missing");
  bool audience_ok = false;
  if (aud->is_string()) {
    audience_ok = StringIn(config.audiences, aud->get_ref<const std::string&>());
  } else if (aud->is_array()) {
    for (const json& entry : *aud) {
      if (!entry.is_string()) return missing("\"aud\" holds a value that is not a string");
      audience_ok = audience_ok || StringIn(config.audiences, entry.get_ref<const std::string&>());
    }
  } else {
    return missing("\"aud\" is neither a string nor an array of strings");
  }
  if (!audience_ok) {
    if (detail) {
      *detail = absl::StrCat("the token's aud is ", aud->dump(-1, ' ', true),
                             "; accepted: ", absl::StrJoin(config.audiences, ", "));
    }
    return AuthError::kWrongAudience;
  }

  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return missing("\"sub\" is missing or not a non-empty string");
  }
  auto optional_string = [&](const char* name, std::string* value) {
    auto it = claims.find(name);
    if (it == claims.end()) return true;
    if (!it->is_string()) return false;
    *value = it->get<std::string>();
    return true;
  };
  if (!optional_string("jti", &token->jti)) return missing("\"jti\" is not a string");
  if (!optional_string("acr", &token->acr)) return missing("\"acr\" is not a string");
  if (auto amr = claims.find("amr"); amr != claims.end()) {
    if (!amr->is_array()) return missing("\"amr\" is not an array of strings");
    for (const json& method : *amr) {
      if (!method.is_string()) return missing("\"amr\" is not an array of strings");
      token->amr.push_back(method.get<std::string>());
    }
  }
  for (const std::string& name : config.required_claims) {
    auto it = claims.find(name);
    if (it == claims.end() || it->is_null()) {
      return missing(absl::StrCat("required claim \"", name, "\" is missing"));
    }
  }
  token->subject = sub->get<std::string>();
  token->expires_at = *exp;
  if (iat) token->issued_at = *iat;
  token->not_before = nbf;
  token->auth_time = auth_time;
  return AuthError::kNone;
}

namespace {

// Gives every key of `fresh` that `old` holds unchanged (the same kid and
// material; a new alg pin or use is not a new key) the old key object:
// verifications cached by it stay valid, those by any other key expire.
void KeepUnchangedKeys(const KeySet& old, std::vector<Jwk>* fresh) {
  for (Jwk& key : *fresh) {
    for (const Jwk& before : old) {
      if (before.kid == key.kid && EVP_PKEY_eq(before.key.get(), key.key.get()) == 1) {
        key.key = before.key;
        break;
      }
    }
  }
}

}  // namespace

absl::Status TokenVerifier::ReloadKeys(const KeysReadObserver& on_read) {
  absl::MutexLock reload(&state_->reload_mu);
  std::vector<std::pair<size_t, std::string>> paths;
  {
    absl::ReaderMutexLock lock(&state_->mu);
    for (size_t i = 0; i < state_->files.size(); ++i) paths.emplace_back(i, state_->files[i].path);
  }
  absl::Status first_error;
  for (const auto& [index, path] : paths) {
    // Stamp before reading: a write racing the read changes the stamp
    // again, so the next reload picks it up.
    FileStamp stamp = Stamp(path);
    {
      absl::ReaderMutexLock lock(&state_->mu);
      const JwksFile& file = state_->files[index];
      if (stamp == file.stamp) continue;
      if (!file.failed.ok() && stamp == file.failed_stamp) {
        if (first_error.ok()) first_error = file.failed;
        continue;
      }
    }
    absl::StatusOr<std::vector<Jwk>> keys;
    try {
      keys = LoadJwksFile(path);
    } catch (const std::exception& e) {
      keys = absl::InternalError(absl::StrCat(path, ": ", e.what()));
    }
    if (on_read) on_read(path, keys.status());
    absl::MutexLock lock(&state_->mu);
    JwksFile& file = state_->files[index];
    if (keys.ok()) {
      if (file.keys != nullptr) KeepUnchangedKeys(*file.keys, &*keys);
      file.keys = std::make_shared<const KeySet>(*std::move(keys));
      file.stamp = stamp;
      file.failed = absl::OkStatus();
    } else {
      // Keep serving the previous keys: a half-written or broken file must
      // not lock every client out.
      file.failed = keys.status();
      file.failed_stamp = stamp;
      if (first_error.ok()) first_error = keys.status();
    }
  }
  return first_error;
}

size_t TokenVerifier::KeyCount(std::string_view issuer) const {
  auto it = state_->by_issuer.find(AV(issuer));
  if (it == state_->by_issuer.end()) return 0;
  auto keys = state_->Keys(state_->issuers[it->second]);
  return keys == nullptr ? 0 : keys->size();
}

namespace {

std::optional<std::string> UnverifiedClaim(std::string_view token, const char* name) {
  try {
    VerifierLimits limits;
    Parts parts;
    if (token.size() > limits.max_token_bytes || !Split(token, &parts)) return std::nullopt;
    json claims;
    if (DecodeJsonPart(parts.payload, limits.max_payload_bytes, limits.max_json_depth, "payload",
                       &claims, nullptr) != AuthError::kNone) {
      return std::nullopt;
    }
    auto it = claims.find(name);
    if (it == claims.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> TokenVerifier::UnverifiedSubject(std::string_view token) {
  return UnverifiedClaim(token, "sub");
}

std::optional<std::string> TokenVerifier::UnverifiedIssuer(std::string_view token) {
  return UnverifiedClaim(token, "iss");
}

}  // namespace warden::auth
