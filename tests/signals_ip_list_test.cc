// IP reputation lists: parsing (comments, blank lines, CRLF, errors with
// line numbers), IPv4, IPv6 and IPv4-mapped IPv6 lookups, merging, files.
#include "runtime/auth/signals/ip_list.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/test_support.h"

namespace warden::auth {
namespace {

bc::IpNet Ip(const std::string& text) {
  std::optional<bc::IpNet> ip = ParseIpNet(text);
  REQUIRE_MESSAGE(ip.has_value(), text);
  return *ip;
}

IpList MustParse(std::string_view text) {
  absl::StatusOr<IpList> list = IpList::Parse(text, "test.txt");
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  return *std::move(list);
}

std::string ParseError(std::string_view text) {
  absl::StatusOr<IpList> list = IpList::Parse(text, "bad.txt");
  REQUIRE_FALSE(list.ok());
  return std::string(list.status().message());
}

TEST_CASE("ParseIpNet and ParseIpAddress") {
  CHECK(ParseIpNet("192.0.2.1").has_value());
  CHECK(ParseIpNet("192.0.2.1")->prefix == 32);
  CHECK_FALSE(ParseIpNet("192.0.2.1")->v6);
  CHECK(ParseIpNet("10.0.0.0/8")->prefix == 8);
  CHECK(ParseIpNet("2001:db8::/32")->v6);
  CHECK(*ParseIpNet("::ffff:192.0.2.1") == *ParseIpNet("192.0.2.1"));  // mapped IPv6 is IPv4
  CHECK_FALSE(ParseIpNet("10.0.0.1/8").has_value());                   // host bits
  CHECK_FALSE(ParseIpNet("10.0.0.0/33").has_value());
  CHECK_FALSE(ParseIpNet("10.0.0.0/").has_value());
  CHECK_FALSE(ParseIpNet("10.0.0.0/x").has_value());
  CHECK_FALSE(ParseIpNet("").has_value());
  CHECK_FALSE(ParseIpNet("300.1.1.1").has_value());
  CHECK_FALSE(ParseIpNet(std::string(200, '1')).has_value());
  bc::IpNet ip;
  CHECK(ParseIpAddress("2001:db8::1", &ip));
  CHECK(ip.v6);
  CHECK_FALSE(ParseIpAddress("10.0.0.0/8", &ip));
  CHECK_FALSE(ParseIpAddress("nope", &ip));
}

TEST_CASE("IPv4 entries, comments and blank lines") {
  IpList list = MustParse(
      "# abuse list\n"
      "\n"
      "10.0.0.0/8\n"
      "  192.0.2.1   # a single host, inline comment\n"
      "\t198.51.100.0/24\r\n"
      "   \n");
  CHECK(list.size() == 3);
  CHECK(list.Contains(Ip("10.1.2.3")));
  CHECK(list.Contains(Ip("10.255.255.255")));
  CHECK(list.Contains(Ip("10.0.0.0")));
  CHECK_FALSE(list.Contains(Ip("11.0.0.0")));
  CHECK_FALSE(list.Contains(Ip("9.255.255.255")));
  CHECK(list.Contains(Ip("192.0.2.1")));
  CHECK_FALSE(list.Contains(Ip("192.0.2.2")));
  CHECK_FALSE(list.Contains(Ip("192.0.2.0")));
  CHECK(list.Contains(Ip("198.51.100.77")));
  // Networks: contained only when wholly inside.
  CHECK(list.Contains(Ip("10.20.0.0/16")));
  CHECK_FALSE(list.Contains(Ip("192.0.2.0/24")));
  CHECK_FALSE(list.Contains(Ip("0.0.0.0/0")));
}

TEST_CASE("IPv6 and IPv4-mapped IPv6") {
  IpList list = MustParse("2001:db8::/32\n::ffff:203.0.113.0/120\n192.0.2.0/24\n");
  CHECK(list.Contains(Ip("2001:db8::1")));
  CHECK(list.Contains(Ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(list.Contains(Ip("2001:db9::")));
  CHECK_FALSE(list.Contains(Ip("::1")));
  // A mapped entry matches plain IPv4, and a mapped address matches an IPv4 entry.
  CHECK(list.Contains(Ip("203.0.113.9")));
  CHECK(list.Contains(Ip("::ffff:203.0.113.9")));
  CHECK(list.Contains(Ip("::ffff:192.0.2.200")));
  CHECK_FALSE(list.Contains(Ip("::ffff:192.0.3.1")));
  // IPv4 never matches an IPv6 entry that is not the mapped block, and the
  // reverse: 192.0.2.1 is not ::c000:201 (the deprecated compatible form).
  CHECK_FALSE(list.Contains(Ip("::192.0.2.1")));
}

TEST_CASE("IPv6 list does not match IPv4 and the reverse") {
  IpList v6 = MustParse("8000::/1\n2001:db8::/32\n");
  CHECK(v6.Contains(Ip("8000::1")));
  CHECK(v6.Contains(Ip("2001:db8::1")));
  CHECK_FALSE(v6.Contains(Ip("8.8.8.8")));
  CHECK_FALSE(v6.Contains(Ip("::ffff:8.8.8.8")));
  IpList v4 = MustParse("0.0.0.0/0\n");
  CHECK(v4.Contains(Ip("8.8.8.8")));
  CHECK(v4.Contains(Ip("::ffff:8.8.8.8")));
  CHECK_FALSE(v4.Contains(Ip("2001:db8::1")));
  CHECK_FALSE(v4.Contains(Ip("::1")));
  IpList all = MustParse("0.0.0.0/0\n::/0\n");
  CHECK(all.Contains(Ip("2001:db8::1")));
  CHECK(all.Contains(Ip("255.255.255.255")));
  CHECK(all.Contains(Ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK(all.range_count() == 1);
  // An IPv6 network that spans the mapped block ::ffff:0:0/96 covers IPv4 too.
  CHECK(MustParse("::/64\n").Contains(Ip("8.8.8.8")));
}

TEST_CASE("overlapping and adjacent entries merge") {
  IpList list = MustParse("10.0.0.0/24\n10.0.1.0/24\n10.0.0.128/25\n10.0.0.5\n10.0.3.0/24\n");
  CHECK(list.size() == 5);
  CHECK(list.range_count() == 2);
  CHECK(list.Contains(Ip("10.0.0.0/23")));  // spans two adjacent entries
  CHECK(list.Contains(Ip("10.0.1.255")));
  CHECK_FALSE(list.Contains(Ip("10.0.2.0")));
  CHECK(list.Contains(Ip("10.0.3.0")));
  CHECK_FALSE(list.Contains(Ip("10.0.0.0/22")));
}

TEST_CASE("empty lists") {
  for (std::string_view text : {"", "\n\n", "# only comments\n# here\n", "\xEF\xBB\xBF"}) {
    IpList list = MustParse(text);
    CHECK(list.size() == 0);
    CHECK(list.empty());
    CHECK_FALSE(list.Contains(Ip("10.0.0.1")));
    CHECK_FALSE(list.Contains(Ip("::1")));
  }
  IpList none;
  CHECK_FALSE(none.Contains(Ip("10.0.0.1")));
}

TEST_CASE("a byte order mark is skipped") {
  IpList list = MustParse(
      "\xEF\xBB\xBF"
      "10.0.0.0/8\n");
  CHECK(list.Contains(Ip("10.9.9.9")));
}

TEST_CASE("bad lines are errors with file and line") {
  std::string error = ParseError("10.0.0.0/8\n# fine\n\nnot-an-ip\n");
  CHECK(error.find("bad.txt:4:") == 0);
  CHECK(testing::Contains(error, "not-an-ip"));
  error = ParseError("10.0.0.1/8\n");
  CHECK(error.find("bad.txt:1:") == 0);
  CHECK(testing::Contains(error, "host bits"));
  CHECK(ParseError("1.2.3.4\r\n2001:db8::/129\r\n").find("bad.txt:2:") == 0);
  CHECK(ParseError("10.0.0.0/8 10.1.0.0/16\n").find("bad.txt:1:") == 0);
  CHECK(ParseError("a\n").find("bad.txt:1:") == 0);
  // A very long line is quoted only in part.
  error = ParseError(std::string(10000, 'x'));
  CHECK(error.size() < 300);
}

TEST_CASE("LoadFile") {
  testing::TempDir dir;
  std::string path = dir.path() + "/tor.txt";
  testing::WriteFile(path, "# tor exits\n185.220.101.0/24\n2a0b:f4c2::/40\n");
  absl::StatusOr<IpList> list = IpList::LoadFile(path);
  REQUIRE(list.ok());
  CHECK(list->size() == 2);
  CHECK(list->Contains(Ip("185.220.101.4")));
  CHECK(list->Contains(Ip("2a0b:f4c2::1")));

  testing::WriteFile(path, "185.220.101.0/24\n\nbogus\n");
  list = IpList::LoadFile(path);
  REQUIRE_FALSE(list.ok());
  CHECK(std::string(list.status().message()).find(path + ":3:") == 0);

  list = IpList::LoadFile(dir.path() + "/missing.txt");
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().code() == absl::StatusCode::kNotFound);
  CHECK(testing::Contains(std::string(list.status().message()), "missing.txt"));

  testing::WriteFile(path, "");
  list = IpList::LoadFile(path);
  REQUIRE(list.ok());
  CHECK(list->empty());
}

TEST_CASE("IpListSet names the first list that matches") {
  IpListSet set;
  set.Add("tor", MustParse("185.220.101.0/24\n"));
  set.Add("abuse", MustParse("185.220.0.0/16\n2001:db8::/32\n"));
  std::string which;
  CHECK(set.AnyContains(Ip("185.220.101.1"), &which));
  CHECK(which == "tor");
  CHECK(set.AnyContains(Ip("185.220.1.1"), &which));
  CHECK(which == "abuse");
  CHECK(set.AnyContains(Ip("2001:db8::5"), nullptr));
  which = "unchanged";
  CHECK_FALSE(set.AnyContains(Ip("8.8.8.8"), &which));
  CHECK(which == "unchanged");
  CHECK(set.size() == 2);

  testing::TempDir dir;
  testing::WriteFile(dir.path() + "/a.txt", "10.0.0.0/8\n");
  testing::WriteFile(dir.path() + "/b.txt", "oops\n");
  absl::StatusOr<IpListSet> loaded = IpListSet::LoadFiles({{"a", dir.path() + "/a.txt"}});
  REQUIRE(loaded.ok());
  CHECK(loaded->AnyContains(Ip("10.1.1.1"), &which));
  CHECK(which == "a");
  loaded = IpListSet::LoadFiles({{"a", dir.path() + "/a.txt"}, {"b", dir.path() + "/b.txt"}});
  REQUIRE_FALSE(loaded.ok());
  CHECK(testing::Contains(std::string(loaded.status().message()), "b.txt:1:"));
}

TEST_CASE("a large list stays correct") {
  std::string text;
  for (int i = 0; i < 4096; i += 2) {  // every other /24 of 10.0.0.0/12
    text += "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24\n";
  }
  IpList list = MustParse(text);
  CHECK(list.size() == 2048);
  CHECK(list.range_count() == 2048);
  for (int i = 0; i < 4096; ++i) {
    std::string ip = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".9";
    CHECK(list.Contains(Ip(ip)) == (i % 2 == 0));
  }
}

}  // namespace
}  // namespace warden::auth
