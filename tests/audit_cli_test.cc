// `warden audit verify`, run as the real binary (WARDEN_BINARY) on logs that
// the library writes into a fresh temporary directory.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/audit/audit_log.h"
#include "tests/test_support.h"

namespace warden::audit {
namespace {

using nlohmann::json;

using testing::ReadFile;
using testing::Run;
using testing::RunResult;
using testing::TempDir;

// Writes `n` decisions to the log at `path`.
void WriteLog(const std::string& path, int n, uint64_t max_file_bytes = uint64_t{64} << 20) {
  AuditOptions options;
  options.path = path;
  options.max_file_bytes = max_file_bytes;
  auto log = AuditLog::Open(options);
  REQUIRE_MESSAGE(log.ok(), log.status().ToString());
  for (int i = 0; i < n; ++i) {
    AuditEntry entry;
    entry.decision_id = absl::StrCat("d-", i);
    entry.time = absl::FromUnixMillis(1772445600000 + i);
    entry.effect = "permit";
    entry.rules = {"owner_reads (documents.warden:40)"};
    entry.request = R"({"subject":{"id":"u-1"},"action":"read"})";
    entry.bundle_hash = std::string(64, 'b');
    (*log)->Append(std::move(entry));
  }
  REQUIRE((*log)->Close().ok());
}

std::string LastHash(const std::string& path) {
  std::string text = ReadFile(path);
  return text.substr(text.size() - 67, 64);  // before `"}\n`
}

TEST_CASE("an intact log: exit 0 and a closing line with the last hash") {
  TempDir dir;
  std::string log = dir.path() + "/audit.log";
  WriteLog(log, 20);
  RunResult result = Run({"audit", "verify", log});
  CHECK(result.exit_code == 0);
  CHECK(result.out == absl::StrCat("audit: 20 lines in 1 file, chain intact (last seq 19, hash ",
                                   LastHash(log), ")\n"));
  CHECK(result.err.empty());
}

TEST_CASE("a tampered log: one line per problem, exit 1") {
  TempDir dir;
  std::string log = dir.path() + "/audit.log";
  WriteLog(log, 20);
  std::string text = ReadFile(log);
  // Line 5 (seq 4) says deny now.
  size_t line5 = 0;
  for (int i = 0; i < 4; ++i) line5 = text.find('\n', line5) + 1;
  size_t at = text.find("\"permit\"", line5);
  text.replace(at, 8, "\"deny\"");
  std::ofstream(log, std::ios::binary | std::ios::trunc) << text;

  RunResult result = Run({"audit", "verify", log});
  CHECK(result.exit_code == 1);
  CHECK(result.out == absl::StrCat(log,
                                   ":5: edited: the line does not match its hash: it was changed "
                                   "after it was written\n"
                                   "audit: 20 lines in 1 file, 1 problem\n"));

  RunResult as_json = Run({"audit", "verify", "--format", "json", log});
  CHECK(as_json.exit_code == 1);
  json report = json::parse(as_json.out);
  CHECK(report["intact"] == false);
  CHECK(report["lines"] == 20);
  REQUIRE(report["problems"].size() == 1);
  CHECK(report["problems"][0]["file"] == log);
  CHECK(report["problems"][0]["line"] == 5);
  CHECK(report["problems"][0]["kind"] == "edited");
}

TEST_CASE("the active log brings in its rotated files; a missing one is reported") {
  TempDir dir;
  std::string log = dir.path() + "/audit.log";
  WriteLog(log, 30, 2000);
  RunResult intact = Run({"audit", "verify", "--format", "json", log});
  CHECK(intact.exit_code == 0);
  json report = json::parse(intact.out);
  CHECK(report["intact"] == true);
  CHECK(report["lines"] == 30);
  REQUIRE(report["files"].size() >= 3);
  CHECK(report["files"][0] == log + ".000001");
  CHECK(report["files"].back() == log);

  std::filesystem::remove(log + ".000002");
  RunResult gap = Run({"audit", "verify", log});
  CHECK(gap.exit_code == 1);
  CHECK(gap.out.find(absl::StrCat(log, ".000003:1: removed: ")) != std::string::npos);
  CHECK(gap.out.find(", 1 problem\n") != std::string::npos);
}

TEST_CASE("usage and I/O errors exit 2") {
  TempDir dir;
  RunResult missing = Run({"audit", "verify", dir.path() + "/nope.log"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("warden: cannot open") != std::string::npos);
  CHECK(Run({"audit", "verify"}).exit_code == 2);
  CHECK(Run({"audit"}).exit_code == 2);
  CHECK(Run({"audit", "verify", "--format", "xml", dir.path()}).exit_code == 2);
  RunResult help = Run({"audit", "verify", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("FILE") != std::string::npos);
}

}  // namespace
}  // namespace warden::audit
