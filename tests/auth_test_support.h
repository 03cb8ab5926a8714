// Test keys and tokens for the authentication front-end, generated with
// OpenSSL at run time (no key material is committed): RSA-2048, EC P-256
// and Ed25519 keys, their JWKS, and tokens minted from header and payload
// JSON with any of RS256, PS256, ES256, EdDSA and HS256 — plus the raw
// pieces (base64url, signatures, PEM/DER) to build malformed tokens.
// Header-only and free of doctest, so tools and benchmarks can include it;
// helpers abort on an OpenSSL failure (a broken test setup, not a result).
#ifndef WARDEN_TESTS_AUTH_TEST_SUPPORT_H_
#define WARDEN_TESTS_AUTH_TEST_SUPPORT_H_

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace warden::auth::testing {

using PKey = std::shared_ptr<EVP_PKEY>;

[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "auth_test_support: %s failed\n", what);
  std::abort();
}

inline PKey Adopt(EVP_PKEY* key, const char* what) {
  if (key == nullptr) Fail(what);
  return PKey(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

inline PKey GenerateRsaKey(size_t bits = 2048) {
  return Adopt(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), "RSA key generation");
}
inline PKey GenerateEcP256Key() {
  return Adopt(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), "P-256 key generation");
}
inline PKey GenerateEd25519Key() {
  return Adopt(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "Ed25519 key generation");
}

// base64url without padding (RFC 7515), independent of the code under test.
inline std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

// A big-number parameter of a key, big-endian, left-padded to `width`.
inline std::string BnParam(const PKey& key, const char* name, int width = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), name, &bn) != 1) Fail(name);
  int size = width > 0 ? width : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  return out;
}

inline const char* KeyTypeOf(const PKey& key) {
  if (EVP_PKEY_is_a(key.get(), "RSA")) return "RSA";
  if (EVP_PKEY_is_a(key.get(), "EC")) return "EC";
  if (EVP_PKEY_is_a(key.get(), "ED25519")) return "OKP";
  Fail("unknown key type");
}

// The public JWK of a key; `alg` empty leaves the key unpinned.
inline nlohmann::json PublicJwk(const PKey& key, const std::string& kid,
                                const std::string& alg = "") {
  nlohmann::json jwk = {{"kty", KeyTypeOf(key)}};
  if (!kid.empty()) jwk["kid"] = kid;
  if (!alg.empty()) jwk["alg"] = alg;
  jwk["use"] = "sig";
  std::string kty = jwk["kty"];
  if (kty == "RSA") {
    jwk["n"] = Base64Url(BnParam(key, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = Base64Url(BnParam(key, OSSL_PKEY_PARAM_RSA_E));
  } else if (kty == "EC") {
    jwk["crv"] = "P-256";
    jwk["x"] = Base64Url(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    jwk["y"] = Base64Url(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  } else {
    unsigned char raw[32];
    size_t size = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key.get(), raw, &size) != 1) Fail("Ed25519 public key");
    jwk["crv"] = "Ed25519";
    jwk["x"] = Base64Url(std::string_view(reinterpret_cast<const char*>(raw), size));
  }
  return jwk;
}

inline std::string JwksJson(const std::vector<nlohmann::json>& keys) {
  return nlohmann::json{{"keys", keys}}.dump();
}

// The public key as PEM (SubjectPublicKeyInfo) or DER: what an attacker
// feeds as an HMAC secret in the algorithm-confusion attack.
inline std::string PublicKeyPem(const PKey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio, key.get()) != 1) Fail("PEM export");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}
inline std::string PublicKeyDer(const PKey& key) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key.get(), &der);
  if (size <= 0) Fail("DER export");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

inline std::string HmacSha256(std::string_view secret, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
           &size) == nullptr) {
    Fail("HMAC");
  }
  return std::string(reinterpret_cast<char*>(mac), size);
}

// A JWS signature over `input` in the JOSE encoding: RSA PKCS#1 v1.5
// (RS256), RSA-PSS with a digest-length salt (PS256), raw R||S (ES256),
// Ed25519 (EdDSA).
inline std::string Sign(const PKey& key, std::string_view alg, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const bool eddsa = alg == "EdDSA";
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx, &pctx, eddsa ? nullptr : EVP_sha256(), nullptr, key.get()) != 1) {
    Fail("signing setup");
  }
  if (alg == "PS256" && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) {
    Fail("PSS setup");
  }
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  size_t size = 0;
  if (EVP_DigestSign(ctx, nullptr, &size, data, input.size()) != 1) Fail("signature size");
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &size, data,
                     input.size()) != 1) {
    Fail("signing");
  }
  sig.resize(size);
  EVP_MD_CTX_free(ctx);
  if (alg != "ES256") return sig;
  // DER SEQUENCE { r, s } -> R||S, 32 bytes each.
  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
  if (ecdsa == nullptr) Fail("ECDSA DER");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

// A compact JWS from exact header and payload texts (so tests can send
// duplicate keys, bad JSON...), signed with `key` (ignored for HS256, which
// uses `secret`).
inline std::string MintRaw(std::string_view header_json, std::string_view payload_json,
                           std::string_view alg, const PKey& key, std::string_view secret = {}) {
  std::string input = Base64Url(header_json) + "." + Base64Url(payload_json);
  std::string sig = alg == "HS256" ? HmacSha256(secret, input) : Sign(key, alg, input);
  return input + "." + Base64Url(sig);
}

// A token whose alg is the header's "alg".
inline std::string MintToken(const nlohmann::json& header, const nlohmann::json& payload,
                             const PKey& key) {
  return MintRaw(header.dump(), payload.dump(), header.at("alg").get<std::string>(), key);
}
inline std::string MintHs256(const nlohmann::json& header, const nlohmann::json& payload,
                             std::string_view secret) {
  return MintRaw(header.dump(), payload.dump(), "HS256", nullptr, secret);
}

inline nlohmann::json Header(const std::string& alg, const std::string& kid = "") {
  nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  return header;
}

// Claims valid at `now_unix` for `lifetime_s` seconds (issued a minute ago).
inline nlohmann::json Claims(const std::string& iss, const std::string& aud, const std::string& sub,
                             int64_t now_unix, int64_t lifetime_s = 3600) {
  return {{"iss", iss},
          {"aud", aud},
          {"sub", sub},
          {"iat", now_unix - 60},
          {"nbf", now_unix - 60},
          {"exp", now_unix - 60 + lifetime_s},
          {"jti", "jti-" + sub + "-" + std::to_string(now_unix)}};
}

// One key of each asymmetric type plus an HMAC secret, with their JWKS
// (kids "rsa-1", "ec-1", "ed-1"; pinned to RS256/ES256/EdDSA when `pin`).
struct TestKeys {
  PKey rsa = GenerateRsaKey();
  PKey ec = GenerateEcP256Key();
  PKey ed = GenerateEd25519Key();
  std::string hmac_secret = "0123456789abcdef0123456789abcdef-test-secret";

  std::string Jwks(bool pin = false) const {
    return JwksJson({PublicJwk(rsa, "rsa-1", pin ? "RS256" : ""),
                     PublicJwk(ec, "ec-1", pin ? "ES256" : ""),
                     PublicJwk(ed, "ed-1", pin ? "EdDSA" : "")});
  }
  // The key and kid for an alg ("HS256": no key, kid "hs-1").
  const PKey& KeyFor(std::string_view alg) const {
    if (alg == "ES256") return ec;
    if (alg == "EdDSA") return ed;
    return rsa;
  }
  static std::string KidFor(std::string_view alg) {
    if (alg == "ES256") return "ec-1";
    if (alg == "EdDSA") return "ed-1";
    if (alg == "HS256") return "hs-1";
    return "rsa-1";
  }
  std::string Mint(const std::string& alg, const nlohmann::json& payload) const {
    return MintRaw(Header(alg, KidFor(alg)).dump(), payload.dump(), alg, KeyFor(alg), hmac_secret);
  }
};

}  // namespace warden::auth::testing

#endif  // WARDEN_TESTS_AUTH_TEST_SUPPORT_H_
