#include "runtime/auth/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/auth/base64url.h"
#include "runtime/strict_json.h"

namespace warden::auth {
namespace {

using nlohmann::json;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

std::shared_ptr<EVP_PKEY> SharePkey(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

absl::Status KeyError(std::string_view where, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("JWKS ", std::string(where), ": ", std::string(message)));
}

// A base64url member that must be present; strict decoding.
absl::StatusOr<std::string> Bytes(const json& jwk, const char* name, std::string_view where) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return KeyError(where, absl::StrCat("member \"", name, "\" is missing or not a string"));
  }
  std::string out;
  if (!Base64UrlDecode(it->get_ref<const std::string&>(), &out) || out.empty()) {
    return KeyError(where, absl::StrCat("member \"", name, "\" is not valid base64url"));
  }
  return out;
}

// Builds a provider-native key from parameters (EVP_PKEY_fromdata): such
// keys are never exported or converted while threads verify with them.
absl::StatusOr<std::shared_ptr<EVP_PKEY>> FromData(const char* type, OSSL_PARAM_BLD* bld,
                                                   std::string_view where) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 ||
      key == nullptr) {
    return KeyError(where, "OpenSSL rejected the key parameters");
  }
  return SharePkey(key);
}

absl::Status ParseRsa(const json& jwk, const JwksLimits& limits, std::string_view where, Jwk* out) {
  auto n = Bytes(jwk, "n", where);
  if (!n.ok()) return n.status();
  auto e = Bytes(jwk, "e", where);
  if (!e.ok()) return e.status();
  // RFC 7518 forbids leading zero octets, but some encoders add one; they
  // change neither the value nor the size check below.
  std::string_view modulus = *n, exponent = *e;
  while (!modulus.empty() && modulus.front() == '\0') modulus.remove_prefix(1);
  while (!exponent.empty() && exponent.front() == '\0') exponent.remove_prefix(1);
  if (modulus.empty()) return KeyError(where, "RSA modulus is zero");
  int top_bits = 0;
  for (auto top = static_cast<unsigned char>(modulus.front()); top != 0; top >>= 1) ++top_bits;
  int bits = static_cast<int>(modulus.size() - 1) * 8 + top_bits;
  if (bits < limits.min_rsa_bits) {
    return KeyError(where, absl::StrCat("RSA modulus is ", bits, " bits; at least ",
                                        limits.min_rsa_bits, " are required"));
  }
  if (bits > limits.max_rsa_bits) {
    return KeyError(where, absl::StrCat("RSA modulus is ", bits, " bits; at most ",
                                        limits.max_rsa_bits, " are accepted"));
  }
  if ((static_cast<unsigned char>(modulus.back()) & 1) == 0)
    return KeyError(where, "RSA modulus is even");
  // An odd exponent of at most 64 bits (OpenSSL's own bound for large moduli).
  if (exponent.empty() || exponent.size() > 8 ||
      (static_cast<unsigned char>(exponent.back()) & 1) == 0 ||
      (exponent.size() == 1 && exponent.front() == '\1')) {
    return KeyError(where, "RSA exponent must be odd, greater than 1 and at most 64 bits");
  }
  auto to_bn = [](std::string_view bytes) {
    return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()), nullptr));
  };
  BnPtr bn_n = to_bn(modulus), bn_e = to_bn(exponent);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bn_n == nullptr || bn_e == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return KeyError(where, "out of memory building the RSA key");
  }
  auto key = FromData("RSA", bld.get(), where);
  if (!key.ok()) return key.status();
  out->type = JwkType::kRsa;
  out->bits = bits;
  out->key = *std::move(key);
  return absl::OkStatus();
}

absl::Status ParseEc(const json& jwk, std::string_view where, Jwk* out) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return KeyError(where, "EC key has no \"crv\"");
  if (*crv != "P-256") {
    return KeyError(where, absl::StrCat("EC curve \"", crv->get_ref<const std::string&>(),
                                        "\" is not supported (only P-256, for ES256)"));
  }
  auto x = Bytes(jwk, "x", where);
  if (!x.ok()) return x.status();
  auto y = Bytes(jwk, "y", where);
  if (!y.ok()) return y.status();
  // RFC 7518, 6.2.1.2: the full coordinate length, 32 octets for P-256.
  if (x->size() != 32 || y->size() != 32)
    return KeyError(where, "P-256 coordinates must be 32 bytes each");
  std::string point = absl::StrCat("\x04", *x, *y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return KeyError(where, "out of memory building the EC key");
  }
  auto key = FromData("EC", bld.get(), where);
  if (!key.ok()) return KeyError(where, "the EC point is not on P-256");
  // Belt and braces: an invalid point would make every signature check a
  // question of OpenSSL internals (invalid-curve attacks).
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return KeyError(where, "the EC point is not on P-256");
  }
  out->type = JwkType::kEcP256;
  out->bits = 256;
  out->key = *std::move(key);
  return absl::OkStatus();
}

absl::Status ParseOkp(const json& jwk, std::string_view where, Jwk* out) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return KeyError(where, "OKP key has no \"crv\"");
  if (*crv != "Ed25519") {
    return KeyError(where, absl::StrCat("OKP curve \"", crv->get_ref<const std::string&>(),
                                        "\" is not supported (only Ed25519, for EdDSA)"));
  }
  auto x = Bytes(jwk, "x", where);
  if (!x.ok()) return x.status();
  if (x->size() != 32) return KeyError(where, "an Ed25519 public key must be 32 bytes");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (key == nullptr) return KeyError(where, "OpenSSL rejected the Ed25519 key");
  out->type = JwkType::kEd25519;
  out->bits = 256;
  out->key = SharePkey(key);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Jwk> ParseJwk(const json& jwk, const JwksLimits& limits, std::string_view where) {
  if (!jwk.is_object()) return KeyError(where, "is not a JSON object");
  Jwk out;
  auto optional_string = [&](const char* name, std::string* value) -> absl::Status {
    auto it = jwk.find(name);
    if (it == jwk.end()) return absl::OkStatus();
    if (!it->is_string())
      return KeyError(where, absl::StrCat("member \"", name, "\" is not a string"));
    *value = it->get<std::string>();
    return absl::OkStatus();
  };
  if (auto status = optional_string("kid", &out.kid); !status.ok()) return status;
  if (auto status = optional_string("kty", &out.kty); !status.ok()) return status;
  if (auto status = optional_string("alg", &out.alg); !status.ok()) return status;
  if (auto status = optional_string("use", &out.use); !status.ok()) return status;
  if (out.kty.empty()) return KeyError(where, "member \"kty\" is missing");
  if (!out.use.empty() && out.use != "sig") {
    return KeyError(where,
                    absl::StrCat("\"use\" is \"", out.use, "\"; only \"sig\" keys verify tokens"));
  }
  if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    bool verify = false;
    if (ops->is_array()) {
      for (const auto& op : *ops) verify = verify || (op.is_string() && op == "verify");
    }
    if (!verify) return KeyError(where, "\"key_ops\" does not include \"verify\"");
  }
  if (out.kty == "oct") {
    // HS256 secrets come from the issuer's hmac_keys only: a symmetric key
    // next to public keys invites algorithm confusion.
    return KeyError(where, "symmetric (\"oct\") keys are not accepted in a JWKS; use hmac_keys");
  }
  // A JWKS is public; private members mean a secret leaked into the file.
  for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(secret)) {
      return KeyError(where, absl::StrCat("holds private key material (\"", secret,
                                          "\"); a JWKS file must hold public keys only"));
    }
  }
  absl::Status status;
  const char* allowed[2] = {nullptr, nullptr};
  if (out.kty == "RSA") {
    status = ParseRsa(jwk, limits, where, &out);
    allowed[0] = "RS256";
    allowed[1] = "PS256";
  } else if (out.kty == "EC") {
    status = ParseEc(jwk, where, &out);
    allowed[0] = "ES256";
  } else if (out.kty == "OKP") {
    status = ParseOkp(jwk, where, &out);
    allowed[0] = "EdDSA";
  } else {
    return KeyError(where, absl::StrCat("key type \"", out.kty, "\" is not supported"));
  }
  if (!status.ok()) return status;
  if (!out.alg.empty() && out.alg != (allowed[0] ? allowed[0] : "") &&
      out.alg != (allowed[1] ? allowed[1] : "")) {
    return KeyError(where, absl::StrCat("\"alg\" \"", out.alg, "\" is not supported for a ",
                                        out.kty, " key here"));
  }
  return out;
}

absl::StatusOr<std::vector<Jwk>> ParseJwks(std::string_view document, const JwksLimits& limits) {
  if (document.size() > limits.max_document_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("JWKS is ", document.size(), " bytes; at most ",
                                                   limits.max_document_bytes, " are accepted"));
  }
  json root;
  StrictJsonError error;
  if (!ParseStrictJson(document, {.max_depth = limits.max_json_depth}, &root, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("JWKS: ", error.message));
  }
  if (!root.is_object()) return absl::InvalidArgumentError("JWKS: not a JSON object");
  auto keys = root.find("keys");
  if (keys == root.end() || !keys->is_array()) {
    return absl::InvalidArgumentError("JWKS: member \"keys\" is missing or not an array");
  }
  if (keys->empty()) return absl::InvalidArgumentError("JWKS: \"keys\" is empty");
  if (keys->size() > limits.max_keys) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS: ", keys->size(), " keys; at most ", limits.max_keys, " are accepted"));
  }
  std::vector<Jwk> out;
  out.reserve(keys->size());
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& entry = (*keys)[i];
    std::string where = absl::StrCat("key ", i);
    if (entry.is_object()) {
      if (auto kid = entry.find("kid"); kid != entry.end() && kid->is_string()) {
        absl::StrAppend(&where, " (kid \"", kid->get_ref<const std::string&>(), "\")");
      }
    }
    auto key = ParseJwk(entry, limits, where);
    if (!key.ok()) return key.status();
    // Selection is by kid: two keys with one kid would make it ambiguous.
    if (!key->kid.empty()) {
      for (const Jwk& other : out) {
        if (other.kid == key->kid) return KeyError(where, "duplicates the kid of an earlier key");
      }
    }
    out.push_back(*std::move(key));
  }
  return out;
}

absl::StatusOr<std::vector<Jwk>> LoadJwksFile(const std::string& path, const JwksLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open JWKS file ", path));
  std::string text;
  // Read at most one byte past the limit: a huge file is refused unread.
  text.resize(limits.max_document_bytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::UnavailableError(absl::StrCat("cannot read JWKS file ", path));
  text.resize(static_cast<size_t>(in.gcount()));
  auto keys = ParseJwks(text, limits);
  if (!keys.ok()) {
    return absl::Status(keys.status().code(), absl::StrCat(path, ": ", keys.status().message()));
  }
  return keys;
}

}  // namespace warden::auth
