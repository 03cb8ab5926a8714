// IP addresses and CIDR networks: the one IP struct of the tree (the
// compiler's IpNetwork and the bytecode's IpNet are this type).
//
//   ip       = address [ "/" prefix ]
//   address  = ipv4 | ipv6
//   ipv4     = octet "." octet "." octet "." octet   octet 0-255, no leading zero
//   ipv6     = RFC 4291 text: up to 8 groups of 1-4 hex digits (either case),
//              one "::" for one or more zero groups, an ipv4 as the last 32 bits
//   prefix   = "0" | nonzero-digit { digit }          at most 32 (IPv4) or 128
//
// No zone ("%eth0"), brackets, spaces or leading zeros in octets or
// prefixes. A network's bits below its prefix must be zero ("10.0.0.1/8" is
// refused: it is ambiguous whether the address or the network was meant).
//
// IPv4-mapped IPv6 (::ffff:0:0/96) IS IPv4: "::ffff:10.0.0.1" is the value
// 10.0.0.1, and "::ffff:10.0.0.0/104" is 10.0.0.0/8, so `ip in 10.0.0.0/8`
// holds for a client that a dual-stack socket reports as ::ffff:10.0.0.1.
// A mapped network wider than /96 stays IPv6.
//
// Canonical: dotted quad for IPv4; RFC 5952 for IPv6 (lower case, no leading
// zeros, the longest run of two or more zero groups, the first of equals,
// written "::"); "/prefix" only for a network narrower than one address.
#ifndef WARDEN_RUNTIME_VALUES_IP_H_
#define WARDEN_RUNTIME_VALUES_IP_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/values/error.h"

namespace warden::values {

// IPv4 uses bytes[0..3]; the other bytes are zero, so == compares values.
struct IpNet {
  uint8_t bytes[16] = {};
  uint8_t prefix = 0;  // 32 or 128 for one address
  bool v6 = false;
  bool operator==(const IpNet&) const = default;
};

// "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" is 43 bytes.
inline constexpr size_t kMaxIpText = 48;

enum class IpForm : uint8_t {
  kAddressOrNetwork,
  kAddressOnly,  // a "/prefix" is kSyntax
};
Error ParseIp(std::string_view text, IpNet* out, IpForm form = IpForm::kAddressOrNetwork);

// Writes the canonical text at out (room for kMaxIpText); returns the end.
char* FormatIp(const IpNet& ip, char* out);
std::string IpString(const IpNet& ip);

// True when `address` (an address or a narrower network) lies inside
// `network`; never across families. Inline: the VM's IN and INNET run it.
inline bool InNetwork(const IpNet& network, const IpNet& address) {
  if (network.v6 != address.v6 || address.prefix < network.prefix) return false;
  int full_bytes = network.prefix / 8;
  if (std::memcmp(network.bytes, address.bytes, full_bytes) != 0) return false;
  int rest = network.prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (network.bytes[full_bytes] & mask) == (address.bytes[full_bytes] & mask);
}

}  // namespace warden::values

#endif  // WARDEN_RUNTIME_VALUES_IP_H_
