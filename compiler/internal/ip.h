// IP addresses and CIDR networks as written in policies and requests.
#ifndef WARDEN_COMPILER_INTERNAL_IP_H_
#define WARDEN_COMPILER_INTERNAL_IP_H_

#include <optional>
#include <string>

#include "compiler/checked.h"

namespace warden::internal {

// "192.0.2.1", "10.0.0.0/8", "2001:db8::/32". Host bits below the prefix
// must be zero in a network ("10.0.0.1/8" is rejected as ambiguous).
std::optional<IpNetwork> ParseIpNetwork(const std::string& text);
std::string FormatIpNetwork(const IpNetwork& network);
// True when `address` lies inside `network` (same family).
bool NetworkContains(const IpNetwork& network, const IpNetwork& address);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_IP_H_
