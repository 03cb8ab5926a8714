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

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_UTF8_H_
