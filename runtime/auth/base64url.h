// base64url without padding (RFC 7515, section 2 and appendix C), strict:
// JWS parts must decode to exactly one byte string, so that two different
// encodings never verify as the same token.
#ifndef WARDEN_RUNTIME_AUTH_BASE64URL_H_
#define WARDEN_RUNTIME_AUTH_BASE64URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace warden::auth {

// Encodes without '=' padding.
std::string Base64UrlEncode(std::string_view bytes);

// Decodes into `out` (replaced). Rejects '=', whitespace, characters outside
// [A-Za-z0-9_-], a length of 1 mod 4, and non-zero unused trailing bits (a
// non-canonical encoding). Returns false on any of them.
bool Base64UrlDecode(std::string_view text, std::string* out);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// The number of bytes `encoded_length` characters decode to (an upper bound
// when the text is invalid): lets callers check size limits before decoding.
constexpr size_t Base64UrlDecodedSize(size_t encoded_length) {
  return encoded_length / 4 * 3 + (encoded_length % 4 == 0 ? 0 : encoded_length % 4 - 1);
}

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_BASE64URL_H_
