// Every layer that reads a duration, timestamp, decimal or IP from outside
// reads it the same way (docs/language.md, "Value syntax"): for each
// spelling of a table (valid and invalid, hand-written and generated) the
// VM's request decoder, the reference evaluator's request decoder, the
// engine's data loading and the reference's data decoding all accept it
// with the same value, or all refuse it. An accepted value is then decided
// by the VM and by the reference evaluator, and both must hand it back in an
// obligation in its canonical spelling.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/reference/reference_evaluator.h"
#include "cli/reference/request.h"
#include "compiler/driver.h"
#include "runtime/data_json.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"
#include "warden/engine.h"

namespace warden {
namespace {

using json = nlohmann::json;

constexpr char kPolicy[] = R"(package agreement.values

schema {
  resource item {
    d: duration
    t: timestamp
    x: decimal
    a: ip
  }
  actions { d, t, x, a, data_d, data_t, data_x, data_a }
}

data dd: duration
data dt: timestamp
data dx: decimal
data da: ip

policy values on item {
  rule rd: permit d obligation echo { v: resource.d }
  rule rt: permit t obligation echo { v: resource.t }
  rule rx: permit x obligation echo { v: resource.x }
  rule ra: permit a obligation echo { v: resource.a }
  rule data_d: permit data_d obligation echo { v: data.dd }
  rule data_t: permit data_t obligation echo { v: data.dt }
  rule data_x: permit data_x obligation echo { v: data.dx }
  rule data_a: permit data_a obligation echo { v: data.da }
}
)";

// One row: a spelling as a JSON value (a string, or for decimals also a
// number), the type's attribute and data names, and the canonical spelling
// every layer must produce, or "" when every layer must refuse it.
struct Row {
  std::string field;      // "d", "t", "x", "a"
  std::string json_text;  // the value as JSON text
  std::string canonical;  // "" = refused
  // Data also takes decimals as strings, durations and timestamps as
  // integers (ms); requests refuse those.
  bool in_requests = true;
};

// The fixed data values that the row under test does not replace.
json DefaultData() {
  return json{{"dd", "1h"}, {"dt", "2026-01-01T00:00:00Z"}, {"dx", 1.5}, {"da", "10.0.0.1"}};
}

class Layers {
 public:
  Layers() {
    BundleBuild build = CompileToBundle(PolicySources::Texts({{"values.warden", kPolicy}}));
    REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
    compilation_ = std::move(build.compilation);
    program_ = *std::move(build.program);
    auto engine = EngineWithData(DefaultData().dump());
    REQUIRE_MESSAGE(engine.ok(), engine.status().ToString());
    request_engine_ = std::move(*engine);
    session_ = std::make_unique<JsonSession>(*request_engine_, StrictDecoder());
  }

  // The canonical text the VM's request path gives back, or "" if refused.
  std::string VmRequest(const Row& row) {
    Decision decision;
    if (!request_engine_->DecideJson(RequestFor(row.field, row.json_text), *session_, &decision))
      return "";
    return VmEcho(decision);
  }

  std::string ReferenceRequest(const Row& row) {
    RequestOptions options;
    options.strict = true;
    DecodedRequest decoded =
        DecodeRequestJson(*compilation_->program, RequestFor(row.field, row.json_text), options);
    if (!decoded.ok) return "";
    decoded.request.data = ReferenceData(DefaultData().dump());
    return ReferenceEcho(decoded.request);
  }

  std::string VmData(const Row& row) {
    absl::StatusOr<std::unique_ptr<Engine>> engine = EngineWithData(DataFor(row));
    if (!engine.ok()) return "";
    JsonSession session(**engine, StrictDecoder());
    Decision decision;
    if (!(*engine)->DecideJson(DataRequestFor(row.field), session, &decision)) return "!request";
    return VmEcho(decision);
  }

  std::string ReferenceData(const Row& row) {
    std::optional<std::vector<std::optional<EvalValue>>> data = DecodeData(DataFor(row));
    if (!data) return "";
    DecodedRequest decoded = DecodeRequestJson(*compilation_->program, DataRequestFor(row.field));
    REQUIRE(decoded.ok);
    decoded.request.data = *data;
    return ReferenceEcho(decoded.request);
  }

 private:
  static rt::DecoderOptions StrictDecoder() {
    rt::DecoderOptions options;
    options.strict = true;
    return options;
  }
  static std::string RequestFor(const std::string& field, const std::string& value) {
    return absl::StrCat(R"({"action": ")", field, R"(", "resource": {"type": "item", "id": "i", ")",
                        field, R"(": )", value, "}}");
  }
  static std::string DataRequestFor(const std::string& field) {
    return absl::StrCat(R"({"action": "data_)", field,
                        R"(", "resource": {"type": "item", "id": "i"}})");
  }
  // The row's value as written (a DOM would re-print numbers: 1e2 as 100.0).
  static std::string DataFor(const Row& row) {
    json data = DefaultData();
    data.erase("d" + row.field);
    std::string text = data.dump();
    text.pop_back();
    return absl::StrCat(text, R"(, "d)", row.field, R"(": )", row.json_text, "}");
  }

  absl::StatusOr<std::unique_ptr<Engine>> EngineWithData(const std::string& text) {
    auto data = ParseDataJson(text);
    if (!data.ok()) return data.status();
    EngineOptions options;
    options.data = *std::move(data);
    return Engine::FromProgram(program_, std::move(options));
  }

  std::optional<std::vector<std::optional<EvalValue>>> DecodeData(const std::string& text) {
    std::vector<std::optional<EvalValue>> data(compilation_->program->data.size());
    std::vector<RequestError> errors;
    RequestOptions options;
    options.strict = true;
    if (!DecodeDataJson(*compilation_->program, text, options, &data, &errors)) return std::nullopt;
    return data;
  }
  std::vector<std::optional<EvalValue>> ReferenceData(const std::string& text) {
    auto data = DecodeData(text);
    REQUIRE(data.has_value());
    return *data;
  }

  // The echoed value: a JSON string's content, or a JSON number's text.
  static std::string VmEcho(const Decision& decision) {
    if (decision.outcome != rt::Outcome::kPermit || decision.args.size() != 1) return "!decision";
    json value = json::parse(decision.args[0].json);
    return value.is_string() ? value.get<std::string>() : decision.args[0].json;
  }
  std::string ReferenceEcho(const Request& request) {
    ReferenceDecision decision = Decide(*compilation_->program, request);
    if (decision.outcome != rt::Outcome::kPermit || decision.obligations.size() != 1 ||
        decision.obligations[0].values.size() != 1)
      return "!decision";
    const EvalValue& value = decision.obligations[0].values[0].second;
    switch (value.kind) {
      case EvalValue::Kind::kDuration:
        return values::DurationString(value.i);
      case EvalValue::Kind::kTimestamp:
        return values::TimestampString(value.i);
      case EvalValue::Kind::kDecimal:
        return values::DecimalString(value.i);
      case EvalValue::Kind::kIp:
        return values::IpString(value.ip);
      default:
        return "!kind";
    }
  }

  std::unique_ptr<Compilation> compilation_;
  bc::Program program_;
  std::unique_ptr<Engine> request_engine_;
  std::unique_ptr<JsonSession> session_;
};

std::string Quoted(const std::string& text) { return json(text).dump(); }

void AddStrings(std::vector<Row>* rows, const std::string& field,
                const std::vector<std::pair<std::string, std::string>>& table) {
  for (const auto& [text, canonical] : table) rows->push_back({field, Quoted(text), canonical});
}

// ------------------------------------------------------------ durations

std::vector<Row> DurationRows() {
  std::vector<Row> rows;
  AddStrings(&rows, "d",
             {
                 {"0s", "0s"},
                 {"0ms", "0s"},
                 {"0d", "0s"},
                 {"1ms", "1ms"},
                 {"1s", "1s"},
                 {"90s", "1m30s"},
                 {"1h30m", "1h30m"},
                 {"1d", "1d"},
                 {"2d3h4m5s6ms", "2d3h4m5s6ms"},
                 {"1000ms", "1s"},
                 {"60m", "1h"},
                 {"24h", "1d"},
                 {"0h0m", "0s"},
                 {"007m", "7m"},
                 {"1h0m", "1h"},
                 {"36h", "1d12h"},
                 {"1d25h", "2d1h"},
                 {"1m61s", "2m1s"},
                 {"999ms", "999ms"},
                 {"1s1ms", "1s1ms"},
                 {"1h1s", "1h1s"},
                 {"1d1ms", "1d1ms"},
                 {"106751991167d", "106751991167d"},
                 {"9223372036854775807ms", "106751991167d7h12m55s807ms"},
                 {"106751991168d", ""},
                 {"9223372036854775808ms", ""},
                 {"106751991167d7h12m55s808ms", ""},
                 {"", ""},
                 {"s", ""},
                 {"ms", ""},
                 {"1", ""},
                 {"m5", ""},
                 {"1.5h", ""},
                 {"1H", ""},
                 {"1MS", ""},
                 {"1 h", ""},
                 {" 1h", ""},
                 {"1h ", ""},
                 {"1h 30m", ""},
                 {"-1h", ""},
                 {"+1h", ""},
                 {"30m1h", ""},
                 {"5m5m", ""},
                 {"1s1m", ""},
                 {"1ms1s", ""},
                 {"1h1h", ""},
                 {"1m1d", ""},
                 {"1m30s1m", ""},
                 {"1x", ""},
                 {"1hr", ""},
                 {"1min", ""},
                 {"1sec", ""},
                 {"1mss", ""},
                 {"1msm", ""},
                 {"1us", ""},
                 {"1ns", ""},
                 {"1w", ""},
                 {"1y", ""},
                 {"1h30", ""},
                 {"h30m", ""},
                 {"1_000ms", ""},
                 {"1e3ms", ""},
                 {"0x10s", ""},
                 {"\xef\xbc\x91s", ""},  // a fullwidth digit one
                 {"1h\n", ""},
                 {"PT1H", ""},
                 {"01:00:00", ""},
             });
  // Every pair of units: valid when the first is the larger one.
  const char* kUnits[] = {"d", "h", "m", "s", "ms"};
  const int64_t kMillis[] = {86400000, 3600000, 60000, 1000, 1};
  for (int first = 0; first < 5; ++first) {
    for (int second = 0; second < 5; ++second) {
      std::string text = absl::StrCat("2", kUnits[first], "3", kUnits[second]);
      std::string canonical =
          first < second ? values::DurationString(2 * kMillis[first] + 3 * kMillis[second]) : "";
      rows.push_back({"d", Quoted(text), canonical});
    }
  }
  // Each unit alone, at zero, one, a carry and a large count.
  for (int unit = 0; unit < 5; ++unit) {
    for (int64_t n : {0, 1, 59, 60, 1000, 100000}) {
      std::string text = absl::StrCat(n, kUnits[unit]);
      rows.push_back({"d", Quoted(text), values::DurationString(n * kMillis[unit])});
    }
  }
  // Not strings: JSON numbers, booleans and null are refused.
  rows.push_back({"d", "90000", "1m30s", /*in_requests=*/false});  // data: an integer is ms
  rows.push_back({"d", "-1", "-1ms", /*in_requests=*/false});
  for (const char* other : {"1.5", "true", "null", "[]", "{}"}) rows.push_back({"d", other, ""});
  return rows;
}

// ------------------------------------------------------------ timestamps

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysIn(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

std::vector<Row> TimestampRows() {
  std::vector<Row> rows;
  AddStrings(&rows, "t",
             {
                 {"2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"},
                 {"2026-03-02t10:00:00z", "2026-03-02T10:00:00Z"},
                 {"2026-03-02T10:00:00+01:00", "2026-03-02T09:00:00Z"},
                 {"2026-03-02T10:00:00-05:30", "2026-03-02T15:30:00Z"},
                 {"2026-03-02T10:00:00+00:00", "2026-03-02T10:00:00Z"},
                 {"2026-03-02T10:00:00-00:00", "2026-03-02T10:00:00Z"},
                 {"2026-03-02T10:00:00+23:59", "2026-03-01T10:01:00Z"},
                 {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"},
                 {"2026-03-02T10:00:00.5Z", "2026-03-02T10:00:00.5Z"},
                 {"2026-03-02T10:00:00.25Z", "2026-03-02T10:00:00.25Z"},
                 {"2026-03-02T10:00:00.250Z", "2026-03-02T10:00:00.25Z"},
                 {"2026-03-02T10:00:00.000Z", "2026-03-02T10:00:00Z"},
                 {"2026-03-02T10:00:00.123456789Z", "2026-03-02T10:00:00.123Z"},
                 {"2026-03-02T10:00:00.1239Z", "2026-03-02T10:00:00.123Z"},
                 {"2026-03-02T10:00:00.999999Z", "2026-03-02T10:00:00.999Z"},
                 {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
                 {"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
                 {"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
                 {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
                 {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
                 {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"},
                 {"2026-12-31T23:59:59Z", "2026-12-31T23:59:59Z"},
                 {"", ""},
                 {"2026-03-02", ""},
                 {"10:00:00Z", ""},
                 {"2026-03-02T10:00:00", ""},
                 {"2026-03-02 10:00:00Z", ""},
                 {"2026-3-2T10:00:00Z", ""},
                 {"2026-03-02T10:00Z", ""},
                 {"2026-03-02T1:00:00Z", ""},
                 {"2026-13-01T00:00:00Z", ""},
                 {"2026-00-01T00:00:00Z", ""},
                 {"2026-01-00T00:00:00Z", ""},
                 {"2025-02-29T00:00:00Z", ""},
                 {"1900-02-29T00:00:00Z", ""},
                 {"2026-04-31T00:00:00Z", ""},
                 {"2026-03-02T24:00:00Z", ""},
                 {"2026-03-02T10:60:00Z", ""},
                 {"2026-03-02T10:00:60Z", ""},
                 {"2026-03-02T10:00:00.Z", ""},
                 {"2026-03-02T10:00:00.1234567890Z", ""},
                 {"2026-03-02T10:00:00+0100", ""},
                 {"2026-03-02T10:00:00+01", ""},
                 {"2026-03-02T10:00:00+24:00", ""},
                 {"2026-03-02T10:00:00+01:60", ""},
                 {"2026-03-02T10:00:00Z ", ""},
                 {" 2026-03-02T10:00:00Z", ""},
                 {"10000-01-01T00:00:00Z", ""},
                 {"26-03-02T10:00:00Z", ""},
                 {"2026-03-02T10:00:00UTC", ""},
                 {"2026-03-02T10:00:00+01:00Z", ""},
                 {"2026/03/02T10:00:00Z", ""},
                 {"2026-03-02T10:00:00,5Z", ""},
                 {"+2026-03-02T10:00:00Z", ""},
                 {"1772445600000", ""},
                 {"Mon, 02 Mar 2026 10:00:00 GMT", ""},
                 // The instant in UTC must stay in years 0000-9999 as well.
                 {"0000-01-01T00:00:00+00:01", ""},
                 {"0000-01-01T00:01:00+00:01", "0000-01-01T00:00:00Z"},
                 {"9999-12-31T23:59:59-23:59", ""},
                 {"9999-12-31T00:00:00-23:59", "9999-12-31T23:59:00Z"},
             });
  // Around the end of every month, in a leap year and in a common one.
  for (int year : {2023, 2024}) {
    for (int month = 1; month <= 12; ++month) {
      for (int day = 28; day <= 32; ++day) {
        std::string text = absl::StrFormat("%04d-%02d-%02dT08:15:30Z", year, month, day);
        rows.push_back({"t", Quoted(text), day <= DaysIn(year, month) ? text : ""});
      }
    }
  }
  rows.push_back(
      {"t", "1772445600000", "2026-03-02T10:00:00Z", /*in_requests=*/false});  // data: ms
  for (const char* other : {"true", "null", "[]", "1.5"}) rows.push_back({"t", other, ""});
  return rows;
}

// ------------------------------------------------------------ decimals

// A decimal spelling as a JSON number (when JSON takes it) and as a string:
// requests take numbers only, data both.
void AddDecimal(std::vector<Row>* rows, const std::string& text, const std::string& canonical) {
  bool spaced = text.find(' ') != std::string::npos;  // JSON allows spaces around a number
  if (!spaced && json::accept(text) && json::parse(text).is_number())
    rows->push_back({"x", text, canonical});
  rows->push_back({"x", Quoted(text), canonical, /*in_requests=*/false});
}

std::vector<Row> DecimalRows() {
  std::vector<Row> rows;
  const std::pair<std::string, std::string> kTable[] = {
      {"0", "0.0"},
      {"5", "5.0"},
      {"-5", "-5.0"},
      {"10.5", "10.5"},
      {"10.50", "10.5"},
      {"10.5000", "10.5"},
      {"800.0", "800.0"},
      {"-0.0001", "-0.0001"},
      {"0.0001", "0.0001"},
      {"-0", "0.0"},
      {"-0.0", "0.0"},
      {"123456.789", "123456.789"},
      {"922337203685477.5807", "922337203685477.5807"},
      {"-922337203685477.5807", "-922337203685477.5807"},
      {"922337203685477", "922337203685477.0"},
      {"007.5", "7.5"},
      {"0.00001", ""},
      {"1.00000", ""},
      {"922337203685477.5808", ""},
      {"-922337203685477.5808", ""},
      {"922337203685478", ""},
      {"9223372036854775807", ""},
      {"1e2", ""},
      {"1E2", ""},
      {"1.0e2", ""},
      {"1e-2", ""},
      {"+5", ""},
      {".5", ""},
      {"5.", ""},
      {"", ""},
      {"1,5", ""},
      {" 1.5", ""},
      {"1.5 ", ""},
      {"NaN", ""},
      {"Infinity", ""},
      {"0x10", ""},
      {"1.5.5", ""},
      {"--1", ""},
      {"1_000", ""},
      {"1.5e", ""},
      {"ten", ""},
  };
  for (const auto& [text, canonical] : kTable) AddDecimal(&rows, text, canonical);
  // Whole parts by every count of fractional digits; five or more are refused.
  for (const char* whole : {"0", "1", "-1", "123456", "-98765"}) {
    std::string fraction;
    for (int digits = 1; digits <= 6; ++digits) {
      fraction += static_cast<char>('0' + digits);
      std::string text = absl::StrCat(whole, ".", fraction);
      int64_t scaled = 0;
      std::string canonical;
      if (digits <= 4) {
        REQUIRE(values::ParseDecimal(text, &scaled) == values::Error::kNone);
        canonical = values::DecimalString(scaled);
      }
      AddDecimal(&rows, text, canonical);
    }
  }
  for (const char* other : {"true", "null", "[]"}) rows.push_back({"x", other, ""});
  return rows;
}

// ------------------------------------------------------------ IP addresses

std::vector<Row> IpRows() {
  std::vector<Row> rows;
  AddStrings(&rows, "a",
             {
                 {"10.0.0.1", "10.0.0.1"},
                 {"0.0.0.0", "0.0.0.0"},
                 {"255.255.255.255", "255.255.255.255"},
                 {"10.0.0.0/8", "10.0.0.0/8"},
                 {"0.0.0.0/0", "0.0.0.0/0"},
                 {"10.0.0.1/32", "10.0.0.1"},
                 {"::", "::"},
                 {"::1", "::1"},
                 {"::/0", "::/0"},
                 {"2001:db8::1", "2001:db8::1"},
                 {"2001:DB8::1", "2001:db8::1"},
                 {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
                 {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                 {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
                 {"2001:db8::/32", "2001:db8::/32"},
                 {"2001:db8:0:0:0:0:0:0/32", "2001:db8::/32"},
                 {"2001:db8::1/128", "2001:db8::1"},
                 {"fe80::1", "fe80::1"},
                 {"FE80::ABCD", "fe80::abcd"},
                 {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
                 {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
                 {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
                 {"1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8"},
                 {"1::8", "1::8"},
                 {"::ffff:10.0.0.1", "10.0.0.1"},
                 {"::FFFF:10.0.0.1", "10.0.0.1"},
                 {"::ffff:a00:1", "10.0.0.1"},
                 {"0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1"},
                 {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
                 {"::ffff:0:0/96", "0.0.0.0/0"},
                 {"::ffff:10.0.0.1/128", "10.0.0.1"},
                 {"::10.0.0.1", "::a00:1"},
                 {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
                 {"", ""},
                 {"10.0.0", ""},
                 {"10.0.0.0.1", ""},
                 {"256.0.0.1", ""},
                 {"10.0.0.01", ""},
                 {"010.0.0.1", ""},
                 {"10.0.0.1/33", ""},
                 {"10.0.0.1/8", ""},
                 {"10.0.0.0/08", ""},
                 {"10.0.0.0/+8", ""},
                 {"10.0.0.0/", ""},
                 {"10.0.0.0/-1", ""},
                 {"10.0.0.0/ 8", ""},
                 {"10.0.0.0/8/8", ""},
                 {" 10.0.0.1", ""},
                 {"10.0.0.1 ", ""},
                 {"1.2.3.4%eth0", ""},
                 {"[::1]", ""},
                 {"fe80::1%eth0", ""},
                 {":::", ""},
                 {"1::2::3", ""},
                 {"1:2:3:4:5:6:7:8:9", ""},
                 {"1:2:3:4:5:6:7:8::", ""},
                 {"1:2:3:4:5:6:7::8", ""},
                 {"12345::", ""},
                 {"g::1", ""},
                 {"::1/129", ""},
                 {"2001:db8::1/32", ""},
                 {"1.2.3.4:80", ""},
                 {"localhost", ""},
                 {"0x0a.0.0.1", ""},
                 {"10.0.0.a", ""},
                 {"::ffff:256.0.0.1", ""},
                 {"::ffff:10.0.0.1/97", ""},
                 {"10.0.0.1.", ""},
                 {".10.0.0.1", ""},
                 {"1:2:3:4:5:6:7:10.0.0.1", ""},
             });
  // Every prefix of an IPv4 and an IPv6 network: only those that keep the
  // address's bits (10 = 0b00001010 needs /7; 2001:db8 needs /29) are valid.
  for (int prefix = 0; prefix <= 33; ++prefix) {
    std::string text = absl::StrCat("10.0.0.0/", prefix);
    std::string canonical = prefix < 7 || prefix > 32 ? "" : prefix == 32 ? "10.0.0.0" : text;
    rows.push_back({"a", Quoted(text), canonical});
  }
  for (int prefix = 0; prefix <= 129; ++prefix) {
    std::string text = absl::StrCat("2001:db8::/", prefix);
    std::string canonical = prefix < 29 || prefix > 128 ? "" : prefix == 128 ? "2001:db8::" : text;
    rows.push_back({"a", Quoted(text), canonical});
  }
  for (const char* other : {"167772161", "true", "null", "[10, 0, 0, 1]"})
    rows.push_back({"a", other, ""});
  return rows;
}

void CheckAgreement(const std::vector<Row>& rows, size_t minimum) {
  CHECK(rows.size() >= minimum);
  Layers layers;
  for (const Row& row : rows) {
    CAPTURE(row.json_text);
    std::string in_requests = row.in_requests ? row.canonical : "";
    CHECK(layers.VmRequest(row) == in_requests);
    CHECK(layers.ReferenceRequest(row) == in_requests);
    CHECK(layers.VmData(row) == row.canonical);
    CHECK(layers.ReferenceData(row) == row.canonical);
  }
}

TEST_CASE("durations: every layer reads every spelling alike") {
  CheckAgreement(DurationRows(), 100);
}

TEST_CASE("timestamps: every layer reads every spelling alike") {
  CheckAgreement(TimestampRows(), 100);
}

TEST_CASE("decimals: every layer reads every spelling alike") {
  CheckAgreement(DecimalRows(), 100);
}

TEST_CASE("IP addresses and networks: every layer reads every spelling alike") {
  CheckAgreement(IpRows(), 100);
}

}  // namespace
}  // namespace warden
