#include "runtime/values/ip.h"

#include <cstring>

#include "runtime/values/digits.h"

namespace warden::values {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseV4(std::string_view text, uint8_t* out) {
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0 && (i >= text.size() || text[i++] != '.')) return false;
    size_t begin = i;
    unsigned value = 0;
    while (i < text.size() && internal::IsDigit(text[i]) && i - begin < 4)
      value = value * 10 + static_cast<unsigned>(text[i++] - '0');
    size_t digits = i - begin;
    if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && text[begin] == '0'))
      return false;
    out[part] = static_cast<uint8_t>(value);
  }
  return i == text.size();
}

// Reads groups into groups[], noting where "::" stands; false on bad text.
bool ReadV6Groups(std::string_view text, uint16_t* groups, int* count, int* gap) {
  size_t i = 0;
  if (text.substr(0, 2) == "::") {
    *gap = 0;
    i = 2;
  }
  while (i < text.size()) {
    if (*count == 8) return false;
    size_t begin = i;
    unsigned value = 0;
    while (i < text.size() && HexValue(text[i]) >= 0 && i - begin < 5)
      value = value * 16 + static_cast<unsigned>(HexValue(text[i++]));
    if (i < text.size() && text[i] == '.') {  // the last 32 bits as IPv4
      uint8_t v4[4];
      if (*count > 6 || !ParseV4(text.substr(begin), v4)) return false;
      groups[(*count)++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      groups[(*count)++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      return true;
    }
    if (i == begin || i - begin > 4) return false;
    groups[(*count)++] = static_cast<uint16_t>(value);
    if (i == text.size()) break;
    if (text[i++] != ':' || i == text.size()) return false;  // a lone trailing ':'
    if (text[i] == ':') {
      if (*gap >= 0) return false;  // a second "::"
      *gap = *count;
      ++i;
    }
  }
  return true;
}

bool ParseV6(std::string_view text, uint8_t* out) {
  if (text.empty() || (text[0] == ':' && text.substr(0, 2) != "::")) return false;
  uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;
  if (!ReadV6Groups(text, groups, &count, &gap)) return false;
  if (gap < 0 ? count != 8 : count > 7) return false;  // "::" stands for at least one group
  uint16_t full[8] = {};
  int tail = gap < 0 ? 0 : count - gap;
  for (int k = 0; k < count - tail; ++k) full[k] = groups[k];
  for (int k = 0; k < tail; ++k) full[8 - tail + k] = groups[gap + k];
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k]);
  }
  return true;
}

// "/24" -> 24: "0" or digits without a leading zero, at most `max`.
Error ParsePrefix(std::string_view digits, int max, uint8_t* out) {
  if (digits.empty() || digits.size() > 3) return Error::kSyntax;
  unsigned value = 0;
  for (char c : digits) {
    if (!internal::IsDigit(c)) return Error::kSyntax;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (digits.size() > 1 && digits[0] == '0') return Error::kSyntax;
  if (value > static_cast<unsigned>(max)) return Error::kPrefix;
  *out = static_cast<uint8_t>(value);
  return Error::kNone;
}

// ::ffff:a.b.c.d/p (p >= 96) is a.b.c.d/(p - 96).
void UnmapV4(IpNet* ip) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!ip->v6 || ip->prefix < 96 || std::memcmp(ip->bytes, kMapped, 12) != 0) return;
  std::memmove(ip->bytes, ip->bytes + 12, 4);
  std::memset(ip->bytes + 4, 0, 12);
  ip->prefix = static_cast<uint8_t>(ip->prefix - 96);
  ip->v6 = false;
}

char* FormatV6(const uint8_t* bytes, char* out) {
  uint16_t groups[8];
  for (int k = 0; k < 8; ++k)
    groups[k] = static_cast<uint16_t>(bytes[2 * k] << 8 | bytes[2 * k + 1]);
  int best = -1, best_length = 1;  // RFC 5952 4.2.2: a single zero group stays "0"
  for (int k = 0; k < 8;) {
    int end = k;
    while (end < 8 && groups[end] == 0) ++end;
    if (end - k > best_length) {
      best = k;
      best_length = end - k;
    }
    k = end == k ? k + 1 : end;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      *out++ = ':';
      *out++ = ':';
      k += best_length - 1;
      continue;
    }
    if (k > 0 && k != best + best_length) *out++ = ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int digit = (groups[k] >> shift) & 0xf;
      if (digit != 0 || started || shift == 0) {
        *out++ = kHex[digit];
        started = true;
      }
    }
  }
  return out;
}

}  // namespace

Error ParseIp(std::string_view text, IpNet* out, IpForm form) {
  if (text.empty()) return Error::kEmpty;
  std::string_view address = text;
  std::string_view prefix;
  bool has_prefix = false;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    prefix = text.substr(slash + 1);
    has_prefix = true;
    if (form == IpForm::kAddressOnly) return Error::kSyntax;
  }
  IpNet ip;
  if (ParseV4(address, ip.bytes)) {
    ip.v6 = false;
  } else if (ParseV6(address, ip.bytes)) {
    ip.v6 = true;
  } else {
    return Error::kSyntax;
  }
  int max = ip.v6 ? 128 : 32;
  ip.prefix = static_cast<uint8_t>(max);
  if (has_prefix) {
    if (Error e = ParsePrefix(prefix, max, &ip.prefix); e != Error::kNone) return e;
  }
  for (int bit = ip.prefix; bit < max; ++bit) {
    if (ip.bytes[bit / 8] & (0x80 >> (bit % 8))) return Error::kHostBits;
  }
  UnmapV4(&ip);
  *out = ip;
  return Error::kNone;
}

char* FormatIp(const IpNet& ip, char* out) {
  if (ip.v6) {
    out = FormatV6(ip.bytes, out);
  } else {
    for (int k = 0; k < 4; ++k) {
      if (k > 0) *out++ = '.';
      out = internal::WriteUnsigned(out, ip.bytes[k]);
    }
  }
  if (ip.prefix != (ip.v6 ? 128 : 32)) {
    *out++ = '/';
    out = internal::WriteUnsigned(out, ip.prefix);
  }
  return out;
}

std::string IpString(const IpNet& ip) {
  char buffer[kMaxIpText];
  return std::string(buffer, FormatIp(ip, buffer));
}

}  // namespace warden::values
