// The audit line format (docs/audit.md), shared by the writer and the
// verifier: one JSON object per line, members in a fixed order, the last one
// `"hash"` = SHA-256 of every byte of the line before `,"hash":`. Since that
// prefix holds `"prev"` (the previous line's hash), each hash commits to the
// whole chain before it.
#ifndef WARDEN_RUNTIME_AUDIT_LINE_FORMAT_H_
#define WARDEN_RUNTIME_AUDIT_LINE_FORMAT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace warden::audit {

struct AuditEntry;

using Digest = std::array<unsigned char, 32>;

inline constexpr std::string_view kHashMember = ",\"hash\":\"";
// `,"hash":"` + 64 hex digits + `"}`: every line ends with it.
inline constexpr size_t kHashSuffixSize = kHashMember.size() + 64 + 2;
// The value written for a request that is not a JSON object.
inline constexpr std::string_view kUnparsedRequest = "{\"unparsed\":true}";

Digest Sha256(std::string_view bytes);
std::string ToHex(const Digest& digest);
// Parses exactly 64 lower-case hex digits.
bool FromHex(std::string_view hex, Digest* out);

// Appends `text` as a JSON string literal; invalid UTF-8 becomes U+FFFD so the
// line always parses.
void AppendJsonString(std::string* out, std::string_view text);

// Appends "2026-03-02T10:00:00.000Z" (quoted; years clamped to 0001-9999).
void AppendTime(std::string* out, absl::Time time);

// Appends one complete line (with its newline) for `entry` to `out` and
// stores its hash in `*hash`. `prev` is the previous line's hash.
void FormatLine(const AuditEntry& entry, uint64_t seq, const Digest& prev, std::string* out,
                Digest* hash);

// The parts of a line the chain needs. `hash_ok`: the stored hash matches
// the bytes; `parsed`: the line is an audit line (JSON, members in order,
// well-typed) — a line can be one without the other.
struct ParsedLine {
  bool has_hash = false;  // the line ends with a well-formed hash member
  bool hash_ok = false;
  bool parsed = false;
  std::string problem;  // why `parsed` is false
  uint64_t seq = 0;
  Digest prev{};
  Digest hash{};  // as stored
};

// `line` without its newline.
ParsedLine ParseLine(std::string_view line);

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_LINE_FORMAT_H_
