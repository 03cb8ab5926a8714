// The values library (runtime/values): why a spelling is refused, the
// canonical text of values no spelling reaches (negative durations,
// timestamps outside years 0000-9999, extremes), IPv4-mapped networks, and
// that the canonical text of any value reads back as the same value.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/error.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"

namespace warden::values {
namespace {

Error DurationError(const char* text) {
  int64_t millis = 0;
  return ParseDuration(text, &millis);
}
Error TimestampError(const char* text) {
  int64_t millis = 0;
  return ParseTimestamp(text, &millis);
}
Error DecimalError(const char* text) {
  int64_t scaled = 0;
  return ParseDecimal(text, &scaled);
}
Error IpError(const char* text, IpForm form = IpForm::kAddressOrNetwork) {
  IpNet ip;
  return ParseIp(text, &ip, form);
}
IpNet Ip(const char* text) {
  IpNet ip;
  REQUIRE(ParseIp(text, &ip) == Error::kNone);
  return ip;
}

TEST_CASE("a refusal names its reason") {
  CHECK(DurationError("") == Error::kEmpty);
  CHECK(DurationError("1x") == Error::kUnit);
  CHECK(DurationError("30m1h") == Error::kUnitOrder);
  CHECK(DurationError("5m5m") == Error::kUnitOrder);
  CHECK(DurationError("1.5h") == Error::kUnit);  // `.` is no unit
  CHECK(DurationError("h") == Error::kSyntax);
  CHECK(DurationError("106751991168d") == Error::kRange);

  CHECK(TimestampError("") == Error::kEmpty);
  CHECK(TimestampError("2026-03-02") == Error::kSyntax);
  CHECK(TimestampError("2025-02-29T00:00:00Z") == Error::kRange);
  CHECK(TimestampError("2026-03-02T24:00:00Z") == Error::kRange);
  CHECK(TimestampError("0000-01-01T00:00:00+00:01") == Error::kRange);  // UTC year -1

  CHECK(DecimalError("") == Error::kEmpty);
  CHECK(DecimalError("0.00001") == Error::kPrecision);
  CHECK(DecimalError("1e2") == Error::kSyntax);
  CHECK(DecimalError("922337203685477.5808") == Error::kRange);

  CHECK(IpError("") == Error::kEmpty);
  CHECK(IpError("10.0.0.1/33") == Error::kPrefix);
  CHECK(IpError("10.0.0.1/8") == Error::kHostBits);
  CHECK(IpError("10.0.0.0/08") == Error::kSyntax);
  CHECK(IpError("256.0.0.1") == Error::kSyntax);
  CHECK(IpError("10.0.0.0/8", IpForm::kAddressOnly) == Error::kSyntax);
  CHECK(IpError("10.0.0.1", IpForm::kAddressOnly) == Error::kNone);

  CHECK(std::string(ErrorText(Error::kUnitOrder)) ==
        "must list units from largest to smallest, each once");
  CHECK(std::string(ErrorText(Error::kHostBits)) == "has host bits set below the prefix");
}

TEST_CASE("values no spelling reaches still have a canonical text") {
  CHECK(DurationString(0) == "0s");
  CHECK(DurationString(-300000) == "-5m");
  CHECK(DurationString(-1) == "-1ms");
  CHECK(DurationString(INT64_MIN) == "-106751991167d7h12m55s808ms");
  CHECK(DurationString(INT64_MAX) == "106751991167d7h12m55s807ms");

  CHECK(TimestampString(0) == "1970-01-01T00:00:00Z");
  CHECK(TimestampString(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(TimestampString(253402300800000) == "+10000-01-01T00:00:00Z");
  CHECK(TimestampString(-62167219200001) == "-1-12-31T23:59:59.999Z");
  CHECK(TimestampString(INT64_MIN) == "-292275055-05-16T16:47:04.192Z");
  // The fixed form of logs and the audit trail: always milliseconds.
  CHECK(TimestampMillisString(0) == "1970-01-01T00:00:00.000Z");
  CHECK(TimestampMillisString(1772445600250) == "2026-03-02T10:00:00.250Z");
  CHECK(TimestampMillisString(-1) == "1969-12-31T23:59:59.999Z");

  CHECK(DecimalString(0) == "0.0");
  CHECK(DecimalString(INT64_MIN) == "-922337203685477.5808");
  CHECK(DecimalString(INT64_MAX) == "922337203685477.5807");
  CHECK(DecimalString(-1) == "-0.0001");
  CHECK(DecimalString(8000000) == "800.0");
}

TEST_CASE("IPv4-mapped IPv6 is IPv4, up to a /96") {
  CHECK(Ip("::ffff:10.0.0.1") == Ip("10.0.0.1"));
  CHECK(Ip("::ffff:10.0.0.0/104") == Ip("10.0.0.0/8"));
  CHECK(Ip("::ffff:0:0/96") == Ip("0.0.0.0/0"));
  CHECK(Ip("::/80").v6);  // wider than the mapped block: IPv6
  CHECK(IpString(Ip("::ffff:0:0/112")) == "0.0.0.0/16");
  CHECK(InNetwork(Ip("10.0.0.0/8"), Ip("::ffff:10.1.2.3")));
  CHECK_FALSE(InNetwork(Ip("::/0"), Ip("10.0.0.1")));  // never across families
  CHECK_FALSE(InNetwork(Ip("0.0.0.0/0"), Ip("::1")));
  CHECK(InNetwork(Ip("10.0.0.0/8"), Ip("10.1.0.0/16")));
  CHECK_FALSE(InNetwork(Ip("10.1.0.0/16"), Ip("10.0.0.0/8")));
}

TEST_CASE("the canonical text of any value reads back as that value") {
  std::mt19937_64 random(20261207);
  for (int k = 0; k < 20000; ++k) {
    int64_t millis = static_cast<int64_t>(random() % (uint64_t{1} << 62));
    int64_t back = -1;
    REQUIRE(ParseDuration(DurationString(millis), &back) == Error::kNone);
    CHECK(back == millis);

    // Years 0000-9999 only: the range a spelling can write.
    int64_t stamp = static_cast<int64_t>(random() % uint64_t{315537897600000}) - 62167219200000;
    REQUIRE(ParseTimestamp(TimestampString(stamp), &back) == Error::kNone);
    CHECK(back == stamp);

    int64_t scaled = static_cast<int64_t>(random());
    if (scaled == INT64_MIN) continue;
    REQUIRE(ParseDecimal(DecimalString(scaled), &back) == Error::kNone);
    CHECK(back == scaled);

    IpNet ip;
    ip.v6 = random() % 2 == 0;
    int bits = ip.v6 ? 128 : 32;
    ip.prefix = static_cast<uint8_t>(random() % (bits + 1));
    for (int bit = 0; bit < ip.prefix; ++bit) {
      if (random() % 2) ip.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    // A mapped block written as IPv6 reads back as IPv4: skip those.
    bool mapped = ip.v6 && ip.prefix >= 96 && ip.bytes[10] == 0xff && ip.bytes[11] == 0xff;
    for (int b = 0; b < 10 && mapped; ++b) mapped = ip.bytes[b] == 0;
    if (mapped) continue;
    IpNet read;
    REQUIRE(ParseIp(IpString(ip), &read) == Error::kNone);
    CHECK(read == ip);
  }
}

}  // namespace
}  // namespace warden::values
