// The audit log: concurrent appends, resuming, rotation, every kind of
// tampering that verify classifies, and masking of sensitive attributes.
#include "runtime/audit/audit_log.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/driver.h"
#include "nlohmann/json.hpp"
#include "runtime/audit/json_check.h"
#include "runtime/audit/line_format.h"
#include "runtime/audit/rotated_files.h"
#include "tests/test_support.h"

namespace warden::audit {
namespace {

using nlohmann::json;

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) absl::StrAppend(&text, line, "\n");
  WriteFile(path, text);
}

AuditEntry Entry(int i) {
  AuditEntry entry;
  entry.decision_id = absl::StrCat("d-", i);
  entry.time = absl::FromUnixMillis(1772445600000 + i);
  entry.effect = i % 3 == 0 ? "deny" : "permit";
  entry.rules = {absl::StrCat("rule_", i % 5, " (policies/a.warden:", 10 + i % 7, ")")};
  if (i % 3 == 0) entry.reasons = {"not the owner"};
  entry.request = absl::StrCat(R"({"subject":{"id":"u-)", i, R"("},"action":"read"})");
  entry.bundle_hash = std::string(64, 'a');
  return entry;
}

AuditOptions Options(const std::string& path) {
  AuditOptions options;
  options.path = path;
  return options;
}

// Writes `n` entries to a new log at `path`.
void WriteLog(const std::string& path, int n, AuditOptions options = {}) {
  options.path = path;
  auto log = AuditLog::Open(options);
  REQUIRE_MESSAGE(log.ok(), log.status().ToString());
  for (int i = 0; i < n; ++i) (*log)->Append(Entry(i));
  REQUIRE((*log)->Close().ok());
}

VerifyReport Verify(const std::vector<std::string>& files) {
  absl::StatusOr<VerifyReport> report = VerifyAuditFiles(files);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  return *report;
}

std::string Describe(const VerifyReport& report) {
  std::string text;
  for (const VerifyProblem& p : report.problems) {
    absl::StrAppend(&text, p.file, ":", p.line, ": ", p.kind, ": ", p.message, "\n");
  }
  return text;
}

// Re-hashes a line after an edit, as a forger with write access would.
std::string Rehash(const std::string& line) {
  std::string prefix = line.substr(0, line.size() - kHashSuffixSize);
  return absl::StrCat(prefix, std::string(kHashMember), ToHex(Sha256(prefix)), "\"}");
}

std::string HashOf(const std::string& line) { return line.substr(line.size() - 66, 64); }

TEST_CASE("appends from several threads are all written, in one intact chain") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  auto log = AuditLog::Open(Options(path));
  REQUIRE(log.ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) (*log)->Append(Entry(t * kPerThread + i));
    });
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE((*log)->Close().ok());
  AuditStats stats = (*log)->stats();
  CHECK(stats.lines == kThreads * kPerThread);
  CHECK(stats.write_errors == 0);
  CHECK(stats.lines_lost == 0);

  VerifyReport report = Verify({path});
  CHECK_MESSAGE(report.intact(), Describe(report));
  CHECK(report.lines == kThreads * kPerThread);
  CHECK(report.last_seq == kThreads * kPerThread - 1);
  std::vector<std::string> lines = Lines(path);
  REQUIRE(lines.size() == kThreads * kPerThread);
  json first = json::parse(lines[0]);
  CHECK(first["seq"] == 0);
  CHECK(first["prev"] == std::string(64, '0'));
  CHECK(report.last_hash == HashOf(lines.back()));
}

TEST_CASE("the line format: members in order, times in UTC with milliseconds") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  auto log = AuditLog::Open(Options(path));
  REQUIRE(log.ok());
  AuditEntry entry = Entry(7);
  entry.effect = "step_up";
  entry.challenge = "mfa";
  entry.error_code = "bad_request";
  entry.reasons = {"quote \" backslash \\ newline \n tab \t", "bad utf-8 \xff end"};
  entry.request = "{\"subject\":\n  {\"id\": \"u-1\"}\r\n}\n";
  (*log)->Append(entry);
  entry.request = "not json";
  entry.time = absl::FromUnixMillis(-1);
  (*log)->Append(entry);
  entry.request = "[1, 2]";
  entry.time = absl::InfiniteFuture();
  (*log)->Append(entry);
  REQUIRE((*log)->Flush().ok());
  std::vector<std::string> lines = Lines(path);  // visible before Close
  REQUIRE(lines.size() == 3);
  REQUIRE((*log)->Close().ok());

  std::vector<std::string> keys;
  nlohmann::ordered_json line = nlohmann::ordered_json::parse(lines[0]);
  for (auto it = line.begin(); it != line.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"seq", "id", "time", "effect", "challenge", "rules",
                                         "reasons", "error", "request", "bundle", "prev", "hash"});
  CHECK(line["time"] == "2026-03-02T10:00:00.007Z");
  CHECK(line["challenge"] == "mfa");
  CHECK(line["error"] == "bad_request");
  CHECK(line["reasons"][0] == "quote \" backslash \\ newline \n tab \t");
  CHECK(line["reasons"][1] == "bad utf-8 \xEF\xBF\xBD end");
  CHECK(line["request"] == nlohmann::ordered_json::parse(R"({"subject":{"id":"u-1"}})"));
  CHECK(json::parse(lines[1])["request"] == json::parse(R"({"unparsed":true})"));
  CHECK(json::parse(lines[1])["time"] == "1969-12-31T23:59:59.999Z");
  CHECK(json::parse(lines[2])["time"] == "9999-12-31T23:59:59.999Z");
  CHECK(json::parse(lines[2])["request"] == json::parse(R"({"unparsed":true})"));
  VerifyReport report = Verify({path});
  CHECK_MESSAGE(report.intact(), Describe(report));
}

TEST_CASE("reopening resumes the chain where it ended") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  WriteLog(path, 5);
  auto log = AuditLog::Open(Options(path));
  REQUIRE(log.ok());
  CHECK((*log)->stats().next_seq == 5);
  for (int i = 5; i < 8; ++i) (*log)->Append(Entry(i));
  REQUIRE((*log)->Close().ok());
  VerifyReport report = Verify({path});
  CHECK_MESSAGE(report.intact(), Describe(report));
  CHECK(report.lines == 8);
  CHECK(report.last_seq == 7);
}

TEST_CASE("an incomplete last line is reported by verify and cut off on open") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  WriteLog(path, 3);
  std::string torn = "{\"seq\":3,\"id\":\"d-3\",\"ti";
  WriteFile(path, ReadFile(path) + torn);

  VerifyReport before = Verify({path});
  REQUIRE(before.problems.size() == 1);
  CHECK(before.problems[0].kind == "truncated");
  CHECK(before.problems[0].line == 4);

  auto log = AuditLog::Open(Options(path));
  REQUIRE(log.ok());
  CHECK((*log)->stats().torn_bytes_dropped == torn.size());
  CHECK((*log)->stats().notice.find("incomplete last line") != std::string::npos);
  (*log)->Append(Entry(3));
  REQUIRE((*log)->Close().ok());
  VerifyReport after = Verify({path});
  CHECK_MESSAGE(after.intact(), Describe(after));
  CHECK(after.lines == 4);
}

TEST_CASE("Open refuses to resume after a last line that is not intact") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  WriteLog(path, 3);
  std::vector<std::string> lines = Lines(path);
  lines.back().replace(lines.back().find("permit"), 6, "permiT");
  WriteLines(path, lines);
  auto log = AuditLog::Open(Options(path));
  CHECK(absl::IsFailedPrecondition(log.status()));
  CHECK(log.status().message().find("warden audit verify") != std::string_view::npos);

  CHECK(absl::IsInvalidArgument(AuditLog::Open(Options("")).status()));
  CHECK(!AuditLog::Open(Options(dir.File("missing/dir/audit.log"))).ok());
}

TEST_CASE("rotation continues the chain across files") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  AuditOptions options;
  options.max_file_bytes = 2000;
  WriteLog(path, 60, options);

  std::vector<std::string> files = FindAuditFiles(path);
  REQUIRE(files.size() >= 4);
  CHECK(files.front() == path + ".000001");
  CHECK(files.back() == path);
  for (const std::string& file : files) {
    CHECK(std::filesystem::file_size(file) <= 2000);
  }
  VerifyReport report = Verify(files);
  CHECK_MESSAGE(report.intact(), Describe(report));
  CHECK(report.lines == 60);
  CHECK(report.files == files.size());

  SUBCASE("a later start is fine when the earlier files were rotated away") {
    std::vector<std::string> tail(files.begin() + 2, files.end());
    VerifyReport partial = Verify(tail);
    CHECK_MESSAGE(partial.intact(), Describe(partial));
  }
  SUBCASE("the active file alone is missing the start of the chain") {
    VerifyReport active = Verify({path});
    REQUIRE(active.problems.size() == 1);
    CHECK(active.problems[0].kind == "removed");
  }
  SUBCASE("removing a middle file is detected") {
    std::filesystem::remove(files[1]);
    VerifyReport gap = Verify(FindAuditFiles(path));
    REQUIRE_MESSAGE(gap.problems.size() == 1, Describe(gap));
    CHECK(gap.problems[0].kind == "removed");
    CHECK(gap.problems[0].file == files[2]);
    CHECK(gap.problems[0].line == 1);
    CHECK(gap.problems[0].message.find("a whole file may be missing") != std::string::npos);
  }
  SUBCASE("files given out of order are detected") {
    std::vector<std::string> swapped = files;
    std::swap(swapped[1], swapped[2]);
    CHECK(!Verify(swapped).intact());
  }
  SUBCASE("reopening after rotation appends to the same chain") {
    WriteLog(path, 10, options);
    VerifyReport more = Verify(FindAuditFiles(path));
    CHECK_MESSAGE(more.intact(), Describe(more));
    CHECK(more.lines == 70);
  }
  SUBCASE("a crash between rename and create resumes from the newest rotated file") {
    std::filesystem::rename(path, RotatedPath(path, files.size()));
    WriteLog(path, 5, options);
    VerifyReport resumed = Verify(FindAuditFiles(path));
    CHECK_MESSAGE(resumed.intact(), Describe(resumed));
    CHECK(resumed.lines == 65);
  }
}

TEST_CASE("keep_files deletes the oldest rotated files") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  AuditOptions options;
  options.max_file_bytes = 1500;
  options.keep_files = 2;
  WriteLog(path, 60, options);
  std::vector<std::pair<uint64_t, std::string>> rotated = ListRotated(path);
  REQUIRE(rotated.size() == 2);
  CHECK(rotated[0].first > 1);
  VerifyReport report = Verify(FindAuditFiles(path));
  CHECK_MESSAGE(report.intact(), Describe(report));
  CHECK(report.first_seq > 0);
}

TEST_CASE("every fsync policy and a tiny queue write everything") {
  for (FsyncPolicy policy :
       {FsyncPolicy::kEveryLine, FsyncPolicy::kInterval, FsyncPolicy::kOnClose}) {
    CAPTURE(static_cast<int>(policy));
    TempDir dir;
    std::string path = dir.File("audit.log");
    AuditOptions options = Options(path);
    options.fsync = policy;
    options.fsync_interval = absl::Milliseconds(5);
    options.queue_limit = 1;  // Append blocks until the writer takes each entry
    auto log = AuditLog::Open(options);
    REQUIRE(log.ok());
    std::thread other([&] {
      for (int i = 0; i < 200; ++i) (*log)->Append(Entry(i));
    });
    for (int i = 200; i < 400; ++i) {
      (*log)->Append(Entry(i));
      if (i % 50 == 0) CHECK((*log)->Flush().ok());
    }
    other.join();
    CHECK((*log)->Flush().ok());
    CHECK(Lines(path).size() == 400);
    CHECK((*log)->Close().ok());
    CHECK((*log)->Close().ok());  // idempotent
    (*log)->Append(Entry(400));   // after Close: counted, not written
    CHECK((*log)->stats().lines_lost == 1);
    VerifyReport report = Verify({path});
    CHECK_MESSAGE(report.intact(), Describe(report));
    CHECK(report.lines == 400);
  }
}

TEST_CASE("the request validator agrees with nlohmann on objects") {
  const std::vector<std::string> texts = {
      "{}", " {} ", "{\"a\":1}", "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}",
      "{\"n\":-0.5e+10,\"m\":0,\"k\":1E3}", "{\"s\":\"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\"}",
      "{\"s\":\"\\ud83d\\ude00\"}", "{\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\"}",
      // rejected
      "", "[]", "1", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}",
      "{\"a\":.5}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":nul}", "{a:1}", "{\"a\":1}}",
      "{\"a\":1} x", "{\"s\":\"\x01\"}", "{\"s\":\"\\x\"}", "{\"s\":\"\\u12\"}",
      "{\"s\":\"\\ud83d\"}", "{\"s\":\"\\ude00\"}", "{\"s\":\"\xff\"}", "{\"s\":\"\xc0\xaf\"}",
      "{\"s\":\"\xed\xa0\x80\"}", "{\"s\":\"abc", "{\"a\":[1,2}", "{'a':1}", "{\"a\":NaN}",
      "{\"a\":+1}"};
  for (const std::string& text : texts) {
    CAPTURE(text);
    bool expected = json::accept(text) && text.find('{') != std::string::npos &&
                    text[text.find_first_not_of(' ')] == '{';
    CHECK(IsJsonObject(text) == expected);
  }
  std::string deep(64, '[');
  CHECK(IsJsonObject("{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}"));
  CHECK(!IsJsonObject("{\"a\":" + deep + std::string(64, ']') + "}"));
}

// ---------------------------------------------------------------- tampering

void CheckOneProblem(const VerifyReport& report, const std::string& kind, uint64_t line) {
  REQUIRE_MESSAGE(report.problems.size() == 1, Describe(report));
  CHECK(report.problems[0].kind == kind);
  CHECK(report.problems[0].line == line);
}

TEST_CASE("tampering is detected and classified") {
  TempDir dir;
  std::string path = dir.File("audit.log");
  WriteLog(path, 12);
  const std::vector<std::string> original = Lines(path);
  REQUIRE(original.size() == 12);  // line k holds seq k-1
  std::vector<std::string> lines = original;

  SUBCASE("a byte edited in a field") {
    size_t at = lines[4].find("\"effect\":\"") + 10;
    lines[4][at] = lines[4][at] == 'p' ? 'q' : 'p';
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "edited", 5);
  }
  SUBCASE("a seq edited") {
    lines[4].replace(0, 8, "{\"seq\":44");
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "edited", 5);
  }
  SUBCASE("a line removed") {
    lines.erase(lines.begin() + 4);
    WriteLines(path, lines);
    VerifyReport report = Verify({path});
    CheckOneProblem(report, "removed", 5);
    CHECK(report.problems[0].message.find("seq 4") != std::string::npos);
  }
  SUBCASE("several lines removed") {
    lines.erase(lines.begin() + 4, lines.begin() + 7);
    WriteLines(path, lines);
    VerifyReport report = Verify({path});
    CheckOneProblem(report, "removed", 5);
    CHECK(report.problems[0].message.find("3 line(s) missing") != std::string::npos);
  }
  SUBCASE("the first line removed") {
    lines.erase(lines.begin());
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "removed", 1);
  }
  SUBCASE("a forged line inserted, with a recomputed hash and a plausible seq and prev") {
    std::string forged = lines[5];  // seq 5, prev = hash of seq 4
    forged.replace(forged.find("\"effect\":\"") + 10, 4, "perm");
    forged.replace(forged.find("\"id\":\"d-5\""), 10, "\"id\":\"d-X\"");
    lines.insert(lines.begin() + 5, Rehash(forged));
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "inserted", 6);
  }
  SUBCASE("a forged line inserted after the real one") {
    std::string forged = lines[5];
    forged.replace(forged.find("\"id\":\"d-5\""), 10, "\"id\":\"d-X\"");
    lines.insert(lines.begin() + 6, Rehash(forged));
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "inserted", 7);
  }
  SUBCASE("two lines swapped") {
    std::swap(lines[5], lines[6]);
    WriteLines(path, lines);
    VerifyReport report = Verify({path});
    REQUIRE_MESSAGE(report.problems.size() == 1, Describe(report));
    CHECK(report.problems[0].kind == "reordered");
  }
  SUBCASE("a line moved far back") {
    std::string moved = lines[9];
    lines.erase(lines.begin() + 9);
    lines.insert(lines.begin() + 2, moved);
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "reordered", 3);
  }
  SUBCASE("a line replaced by a forged one with a recomputed hash") {
    std::string forged = lines[5];
    forged.replace(forged.find("\"id\":\"d-5\""), 10, "\"id\":\"d-X\"");
    lines[5] = Rehash(forged);
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "broken_link", 7);
  }
  SUBCASE("the last line truncated") {
    std::string text = ReadFile(path);
    WriteFile(path, text.substr(0, text.size() - 20));
    CheckOneProblem(Verify({path}), "truncated", 12);
  }
  SUBCASE("a line that is not an audit line") {
    lines[3] = "hello";
    WriteLines(path, lines);
    CheckOneProblem(Verify({path}), "malformed", 4);
  }
  SUBCASE("a missing file is an error, not a report") {
    CHECK(absl::IsNotFound(VerifyAuditFiles({dir.File("nope.log")}).status()));
  }
}

// ---------------------------------------------------------------- masking

constexpr char kPolicy[] = R"(package acme.audit

schema {
  subject {
    sensitive ssn: string
    profile: { nickname: string  sensitive phone: string }
  }
  resource document {
    owner: string
    sensitive title: string
    review: { sensitive notes: string  due: timestamp }
    reviewers: set<{ name: string, sensitive pin: string,
                     history: set<{ when: timestamp, sensitive comment: string }> }>
  }
  resource folder {
    title: string
  }
  context {
    sensitive secret: { a: string  b: int }
  }
  actions { read }
}

policy p on document {
  rule r: permit read if resource.owner == subject.id
}
)";

std::unique_ptr<bc::Program> CompilePolicy() {
  BundleBuild build = CompileToBundle(PolicySources::Texts({{"audit.warden", kPolicy}}));
  REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
  return std::make_unique<bc::Program>(*std::move(build.program));
}

TEST_CASE("masking replaces the values of sensitive attributes") {
  std::unique_ptr<bc::Program> program = CompilePolicy();
  RequestMasker masker(*program);
  CHECK(!masker.empty());

  json masked = json::parse(masker.Mask(R"({
    "subject": {"id": "u-1", "ssn": "123-45-6789", "profile": {"nickname": "al", "phone": "555"}},
    "action": "read",
    "resource": {"type": "document", "id": "d-1", "owner": "u-1", "title": "Layoffs 2026",
                 "review": {"notes": "secret notes", "due": "2026-03-02T10:00:00Z"}},
    "context": {"secret": {"a": "x", "b": 2}, "ip": "10.0.0.1"}
  })"));
  CHECK(masked["subject"]["id"] == "u-1");
  CHECK(masked["subject"]["ssn"] == "<redacted>");
  CHECK(masked["subject"]["profile"]["nickname"] == "al");
  CHECK(masked["subject"]["profile"]["phone"] == "<redacted>");
  CHECK(masked["action"] == "read");
  CHECK(masked["resource"]["owner"] == "u-1");
  CHECK(masked["resource"]["title"] == "<redacted>");
  CHECK(masked["resource"]["review"]["notes"] == "<redacted>");
  CHECK(masked["resource"]["review"]["due"] == "2026-03-02T10:00:00Z");
  CHECK(masked["context"]["secret"] == "<redacted>");  // the whole record
  CHECK(masked["context"]["ip"] == "10.0.0.1");

  // Sensitive fields of records held in sets, at any depth, in every member.
  json members = json::parse(masker.Mask(R"({"action": "read", "resource": {"type": "document",
    "id": "d", "reviewers": [
      {"name": "a", "pin": "1111", "history": [{"when": "2026-01-01T00:00:00Z", "comment": "c1"}]},
      {"name": "b", "pin": "2222", "history": []}]}})"));
  const json& reviewers = members["resource"]["reviewers"];
  REQUIRE(reviewers.size() == 2);
  CHECK(reviewers[0]["name"] == "a");
  CHECK(reviewers[0]["pin"] == "<redacted>");
  CHECK(reviewers[1]["pin"] == "<redacted>");
  CHECK(reviewers[0]["history"][0]["when"] == "2026-01-01T00:00:00Z");
  CHECK(reviewers[0]["history"][0]["comment"] == "<redacted>");

  // `title` is sensitive on documents only.
  json folder = json::parse(masker.Mask(
      R"({"subject":{"id":"u"},"action":"read","resource":{"type":"folder","id":"f","title":"Q3"}})"));
  CHECK(folder["resource"]["title"] == "Q3");

  // Never the raw text of something that is not a JSON object.
  for (const char* bad : {"{\"subject\": {\"ssn\": \"123\"", "[1]", "", "\"ssn 123\""}) {
    CAPTURE(bad);
    CHECK(MaskRequest(*program, bad) == "{\"unparsed\":true}");
  }
  std::string deep = std::string(200, '[') + std::string(200, ']');
  CHECK(masker.Mask("{\"subject\":" + deep + "}") == "{\"unparsed\":true}");
  // Masked output is one line.
  CHECK(masker.Mask("{\n\"action\": \"read\"\n}") == "{\"action\":\"read\"}");
}

TEST_CASE("a masked request goes into the log as is") {
  std::unique_ptr<bc::Program> program = CompilePolicy();
  RequestMasker masker(*program);
  TempDir dir;
  std::string path = dir.File("audit.log");
  auto log = AuditLog::Open(Options(path));
  REQUIRE(log.ok());
  AuditEntry entry = Entry(0);
  entry.request = masker.Mask(R"({"subject":{"id":"u","ssn":"123-45-6789"},"action":"read"})");
  (*log)->Append(entry);
  REQUIRE((*log)->Close().ok());
  std::string text = ReadFile(path);
  CHECK(text.find("123-45-6789") == std::string::npos);
  CHECK(text.find(R"("request":{"subject":{"id":"u","ssn":"<redacted>"},"action":"read"})") !=
        std::string::npos);
}

}  // namespace
}  // namespace warden::audit
