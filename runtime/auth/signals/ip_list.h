// IP reputation lists: plain-text files of addresses and CIDR networks
// (IPv4 and IPv6), loaded once and searched in O(log n). Feeds
// context.network.listed (see risk_signals.h).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_IP_LIST_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_IP_LIST_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/bytecode/program.h"

namespace warden::auth {

// "192.0.2.1", "10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.1" (kept as
// written: v6 with the mapped bytes). Host bits below the prefix must be
// zero. nullopt when not an address or network.
std::optional<bc::IpNet> ParseIpNet(std::string_view text);
// One address only (no "/prefix"), e.g. a request's client address; false
// (and *out untouched) otherwise.
bool ParseIpAddress(std::string_view text, bc::IpNet* out);

// An immutable set of networks. Thread-safe for concurrent reads; reload by
// building a new list and swapping it in.
//
// File format: one address or network a line; `#` starts a comment (whole
// line or after an entry); blank lines, surrounding spaces, CRLF line ends
// and a UTF-8 BOM are accepted. IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n) is
// the same as a.b.c.d/n, in the list and in lookups. A line that is not an
// address or network, or a network with host bits set ("10.0.0.1/8"), is an
// error "NAME:LINE: ..." so that a typo never silently shrinks a blocklist.
class IpList {
 public:
  IpList() = default;

  static absl::StatusOr<IpList> LoadFile(const std::string& path);
  static absl::StatusOr<IpList> Parse(std::string_view text, std::string_view name_for_errors);

  // True when the address (or the whole network, for a network) lies inside
  // an entry of the list.
  bool Contains(const bc::IpNet& ip) const;
  // The number of entries as listed (after parsing, before merging).
  size_t size() const { return entries_; }
  bool empty() const { return entries_ == 0; }
  // The number of disjoint ranges searched (overlapping entries merged).
  size_t range_count() const { return ranges_.size(); }

 private:
  __extension__ using U128 = unsigned __int128;
  struct Range {
    U128 first;
    U128 last;
  };
  std::vector<Range> ranges_;  // sorted, disjoint, non-adjacent
  size_t entries_ = 0;
};

// Several named lists ("tor-exits", "abuse", ...), searched in the order
// they were added.
class IpListSet {
 public:
  void Add(std::string name, IpList list);
  // Loads each (name, path); the first error wins.
  static absl::StatusOr<IpListSet> LoadFiles(
      const std::vector<std::pair<std::string, std::string>>& named_paths);

  // True when any list contains the address; `which` (may be null) gets the
  // first such list's name.
  bool AnyContains(const bc::IpNet& ip, std::string* which) const;
  size_t size() const { return lists_.size(); }
  const std::vector<std::pair<std::string, IpList>>& lists() const { return lists_; }

 private:
  std::vector<std::pair<std::string, IpList>> lists_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_IP_LIST_H_
