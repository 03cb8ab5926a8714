#include "runtime/auth/signals/ip_list.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/values/ip.h"

namespace warden::auth {
namespace {

__extension__ using U128 = unsigned __int128;

// A list file beyond this is almost certainly a mistake (the largest public
// feeds are a few MB); refusing it keeps start-up memory predictable.
constexpr std::streamoff kMaxFileBytes = 256 << 20;

// The inclusive range of 128-bit keys a network covers; IPv4 lives in the
// IPv4-mapped block ::ffff:0:0/96 so both families share one sorted vector.
std::pair<U128, U128> KeyRange(const bc::IpNet& ip) {
  U128 key = 0;
  int prefix = ip.prefix;
  if (ip.v6) {
    for (int i = 0; i < 16; ++i) key = (key << 8) | ip.bytes[i];
    prefix = std::min(prefix, 128);
  } else {
    key = (U128{0xffff} << 32) | (U128{ip.bytes[0]} << 24) | (U128{ip.bytes[1]} << 16) |
          (U128{ip.bytes[2]} << 8) | U128{ip.bytes[3]};
    prefix = std::min(prefix, 32) + 96;
  }
  U128 host = prefix >= 128 ? U128{0} : (~U128{0} >> prefix);
  return {key & ~host, key | host};
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<bc::IpNet> ParseIpNet(std::string_view text) {
  bc::IpNet ip;
  if (values::ParseIp(text, &ip) != values::Error::kNone) return std::nullopt;
  return ip;
}

bool ParseIpAddress(std::string_view text, bc::IpNet* out) {
  return values::ParseIp(text, out, values::IpForm::kAddressOnly) == values::Error::kNone;
}

absl::StatusOr<IpList> IpList::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    return absl::NotFoundError(
        absl::StrCat("IP list ", path, ": cannot open: ", std::strerror(error)));
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("IP list ", path, ": ", size,
                                                   " bytes, more than the limit of ",
                                                   static_cast<int64_t>(kMaxFileBytes)));
  }
  in.seekg(0, std::ios::beg);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("IP list ", path, ": read error"));
  return Parse(text.str(), path);
}

absl::StatusOr<IpList> IpList::Parse(std::string_view text, std::string_view name_for_errors) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  IpList list;
  std::vector<Range> ranges;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    bc::IpNet ip;
    if (values::Error e = values::ParseIp(line, &ip); e != values::Error::kNone) {
      std::string why = "not an IP address or CIDR network";
      if (e == values::Error::kHostBits || e == values::Error::kPrefix)
        why = "not a valid CIDR network (host bits set, or the prefix is too long)";
      return absl::InvalidArgumentError(absl::StrCat(std::string(name_for_errors), ":", line_number,
                                                     ": ", why, ": `",
                                                     std::string(line.substr(0, 80)), "`"));
    }
    auto [first, last] = KeyRange(ip);
    ranges.push_back(Range{first, last});
    ++list.entries_;
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  for (const Range& range : ranges) {
    // Merge overlapping and adjacent ranges (last + 1 cannot overflow when
    // the previous range is not the very top, which is checked first).
    if (!list.ranges_.empty() &&
        (list.ranges_.back().last == ~U128{0} || range.first <= list.ranges_.back().last + 1)) {
      list.ranges_.back().last = std::max(list.ranges_.back().last, range.last);
    } else {
      list.ranges_.push_back(range);
    }
  }
  return list;
}

bool IpList::Contains(const bc::IpNet& ip) const {
  // A mapped IPv6 address yields the same keys as its IPv4 form.
  auto [first, last] = KeyRange(ip);
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), first,
                             [](U128 key, const Range& range) { return key < range.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return first >= it->first && last <= it->last;
}

void IpListSet::Add(std::string name, IpList list) {
  lists_.emplace_back(std::move(name), std::move(list));
}

absl::StatusOr<IpListSet> IpListSet::LoadFiles(
    const std::vector<std::pair<std::string, std::string>>& named_paths) {
  IpListSet set;
  for (const auto& [name, path] : named_paths) {
    absl::StatusOr<IpList> list = IpList::LoadFile(path);
    if (!list.ok()) return list.status();
    set.Add(name, *std::move(list));
  }
  return set;
}

bool IpListSet::AnyContains(const bc::IpNet& ip, std::string* which) const {
  for (const auto& [name, list] : lists_) {
    if (list.Contains(ip)) {
      if (which != nullptr) *which = name;
      return true;
    }
  }
  return false;
}

}  // namespace warden::auth
