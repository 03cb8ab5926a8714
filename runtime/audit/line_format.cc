#include "runtime/audit/line_format.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/audit/audit_log.h"
#include "runtime/audit/json_check.h"
#include "runtime/values/timestamp.h"

namespace warden::audit {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendStringArray(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, items[i]);
  }
  out->push_back(']');
}

// The request as written: a JSON object on one line, or the unparsed marker.
// In valid JSON a raw CR, LF or tab can only be whitespace, so it becomes a
// space.
void AppendRequest(std::string* out, std::string_view request) {
  size_t begin = request.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos || !IsJsonObject(request)) {
    out->append(kUnparsedRequest);
    return;
  }
  size_t end = request.find_last_not_of(" \t\r\n");
  for (size_t i = begin; i <= end; ++i) {
    char c = request[i];
    out->push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
}

}  // namespace

Digest Sha256(std::string_view bytes) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  return digest;
}

std::string ToHex(const Digest& digest) {
  std::string hex(64, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = kHexDigits[digest[i] >> 4];
    hex[2 * i + 1] = kHexDigits[digest[i] & 0xF];
  }
  return hex;
}

bool FromHex(std::string_view hex, Digest* out) {
  if (hex.size() != 64) return false;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = value(hex[2 * i]);
    int lo = value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        ++i;
        continue;
      case '\\':
        out->append("\\\\");
        ++i;
        continue;
      case '\n':
        out->append("\\n");
        ++i;
        continue;
      case '\r':
        out->append("\\r");
        ++i;
        continue;
      case '\t':
        out->append("\\t");
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHexDigits[c >> 4]);
      out->push_back(kHexDigits[c & 0xF]);
      ++i;
      continue;
    }
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out->append(text.substr(i, length));
      i += length;
    }
  }
  out->push_back('"');
}

void AppendTime(std::string* out, absl::Time time) {
  // RFC 3339 has four-digit years: clamp to 0001-01-01 .. 9999-12-31.
  int64_t millis = std::clamp<int64_t>(absl::ToUnixMillis(time), -62135596800000, 253402300799999);
  char text[values::kMaxTimestampText];
  out->push_back('"');
  out->append(text, values::FormatTimestampMillis(millis, text));
  out->push_back('"');
}

void FormatLine(const AuditEntry& entry, uint64_t seq, const Digest& prev, std::string* out,
                Digest* hash) {
  size_t start = out->size();
  absl::StrAppend(out, "{\"seq\":", seq, ",\"id\":");
  AppendJsonString(out, entry.decision_id);
  out->append(",\"time\":");
  AppendTime(out, entry.time);
  out->append(",\"effect\":");
  AppendJsonString(out, entry.effect);
  out->append(",\"challenge\":");
  AppendJsonString(out, entry.challenge);
  out->append(",\"rules\":");
  AppendStringArray(out, entry.rules);
  out->append(",\"reasons\":");
  AppendStringArray(out, entry.reasons);
  out->append(",\"error\":");
  AppendJsonString(out, entry.error_code);
  out->append(",\"request\":");
  AppendRequest(out, entry.request);
  out->append(",\"bundle\":");
  AppendJsonString(out, entry.bundle_hash);
  out->append(",\"prev\":\"");
  out->append(ToHex(prev));
  out->push_back('"');
  *hash = Sha256(std::string_view(*out).substr(start));
  out->append(kHashMember);
  out->append(ToHex(*hash));
  out->append("\"}\n");
}

ParsedLine ParseLine(std::string_view line) {
  ParsedLine parsed;
  if (line.size() >= kHashSuffixSize && line.substr(line.size() - 2) == "\"}") {
    size_t at = line.size() - kHashSuffixSize;
    if (line.substr(at, kHashMember.size()) == kHashMember &&
        FromHex(line.substr(at + kHashMember.size(), 64), &parsed.hash)) {
      parsed.has_hash = true;
      parsed.hash_ok = Sha256(line.substr(0, at)) == parsed.hash;
    }
  }
  if (!parsed.has_hash) {
    parsed.problem = "the line does not end with a \"hash\" member";
    return parsed;
  }
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    parsed.problem = "the line is not a JSON object";
    return parsed;
  }
  static constexpr const char* kMembers[] = {"seq",       "id",     "time",    "effect",
                                             "challenge", "rules",  "reasons", "error",
                                             "request",   "bundle", "prev",    "hash"};
  size_t index = 0;
  for (auto it = json.begin(); it != json.end(); ++it, ++index) {
    if (index >= std::size(kMembers) || it.key() != kMembers[index]) {
      parsed.problem = absl::StrCat("unexpected member \"", it.key(), "\"");
      return parsed;
    }
  }
  if (index != std::size(kMembers)) {
    parsed.problem = "members are missing";
    return parsed;
  }
  auto is_string_array = [](const nlohmann::ordered_json& value) {
    if (!value.is_array()) return false;
    for (const auto& item : value) {
      if (!item.is_string()) return false;
    }
    return true;
  };
  if (!json["seq"].is_number_unsigned() || !json["id"].is_string() || !json["time"].is_string() ||
      !json["effect"].is_string() || !json["challenge"].is_string() ||
      !is_string_array(json["rules"]) || !is_string_array(json["reasons"]) ||
      !json["error"].is_string() || !json["request"].is_object() || !json["bundle"].is_string() ||
      !json["prev"].is_string() ||
      !FromHex(json["prev"].get_ref<const std::string&>(), &parsed.prev)) {
    parsed.problem = "a member has the wrong type";
    return parsed;
  }
  parsed.seq = json["seq"].get<uint64_t>();
  parsed.parsed = true;
  return parsed;
}

}  // namespace warden::audit
