#include "compiler/internal/ip.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace warden::internal {

std::optional<IpNetwork> ParseIpNetwork(const std::string& text) {
  IpNetwork network;
  std::string address = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string::npos) {
    address = text.substr(0, slash);
    std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !absl::SimpleAtoi(digits, &prefix))
      return std::nullopt;
  }
  if (inet_pton(AF_INET, address.c_str(), network.bytes) == 1) {
    network.v6 = false;
    if (prefix > 32) return std::nullopt;
    network.prefix = prefix < 0 ? 32 : prefix;
  } else if (inet_pton(AF_INET6, address.c_str(), network.bytes) == 1) {
    network.v6 = true;
    if (prefix > 128) return std::nullopt;
    network.prefix = prefix < 0 ? 128 : prefix;
  } else {
    return std::nullopt;
  }
  int total_bits = network.v6 ? 128 : 32;
  for (int bit = network.prefix; bit < total_bits; ++bit) {
    if (network.bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return network;
}

std::string FormatIpNetwork(const IpNetwork& network) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(network.v6 ? AF_INET6 : AF_INET, network.bytes, buffer, sizeof(buffer));
  int full = network.v6 ? 128 : 32;
  return network.prefix == full ? std::string(buffer) : absl::StrCat(buffer, "/", network.prefix);
}

bool NetworkContains(const IpNetwork& network, const IpNetwork& address) {
  if (network.v6 != address.v6 || address.prefix < network.prefix) return false;
  int full_bytes = network.prefix / 8;
  if (std::memcmp(network.bytes, address.bytes, full_bytes) != 0) return false;
  int rest = network.prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (network.bytes[full_bytes] & mask) == (address.bytes[full_bytes] & mask);
}

}  // namespace warden::internal
