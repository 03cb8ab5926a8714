// UTF-8 helpers for the parser and the formatter.
#ifndef WARDEN_COMPILER_INTERNAL_UTF8_H_
#define WARDEN_COMPILER_INTERNAL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace warden::internal {

// Byte offset of the first invalid UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are invalid), or npos.
size_t FindInvalidUtf8(std::string_view text);

// Appends `code_point` encoded as UTF-8; false for surrogates or > U+10FFFF.
bool AppendUtf8(uint32_t code_point, std::string* out);

// True for code points that are invisible or change the direction of text
// (zero-width characters, bidi embeddings and isolates, C1 controls): they
// can make source read differently from how it parses ("Trojan Source").
bool IsInvisibleCodePoint(uint32_t code_point);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_UTF8_H_
