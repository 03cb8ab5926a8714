// A fast, allocation-free JSON validator for the request member of audit
// lines: nlohmann's accept() costs ~3 µs per request, more than the rest of
// formatting a line and hashing it together.
#ifndef WARDEN_RUNTIME_AUDIT_JSON_CHECK_H_
#define WARDEN_RUNTIME_AUDIT_JSON_CHECK_H_

#include <cstddef>
#include <string_view>

namespace warden::audit {

inline constexpr int kMaxJsonDepth = 64;

// True when `text` is one JSON object (RFC 8259, surrounding whitespace
// allowed) with valid UTF-8 and at most kMaxJsonDepth levels of nesting.
bool IsJsonObject(std::string_view text);

// The length of the valid UTF-8 sequence starting at text[i], or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i);

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_JSON_CHECK_H_
