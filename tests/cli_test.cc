// Runs the real `warden` binary (WARDEN_BINARY) on fixture files written into
// a fresh temporary directory, and checks exit codes and output.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/test_support.h"

namespace warden {
namespace {

using nlohmann::json;

constexpr char kSyntaxError[] = "package a\npolicy p on x {\n  rule r: permit read if (\n}\n";
constexpr char kUnformatted[] = "package    acme.demo\n\n\n\nconst   limit   =   10\n";

using testing::Contains;
using testing::ReadFile;
using testing::Run;
using testing::RunResult;
using testing::TempDir;

TEST_CASE("--help and --version exit 0") {
  RunResult top = Run({"--help"});
  CHECK(top.exit_code == 0);
  CHECK(Contains(top.out, "check"));
  CHECK(Contains(top.out, "fmt"));
  CHECK(Contains(top.out, "compile"));
  for (const char* command : {"check", "fmt", "compile"}) {
    CAPTURE(command);
    RunResult help = Run({command, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(Contains(help.out, "PATH"));
  }
  CHECK(Contains(Run({"check", "--help"}).out, "--format"));
  RunResult version = Run({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(Contains(version.out, "warden "));
}

TEST_CASE("usage errors exit 2 with a message on stderr") {
  TempDir dir;
  std::string good = dir.Write("good.warden", "package acme.demo\n");
  const std::vector<std::vector<std::string>> invocations = {
      {},
      {"frobnicate"},
      {"check"},
      {"check", "--format", "xml", good},
      {"check", "--no-such-flag", good},
      {"check", "--max-diagnostics", "0", good},
      {"check", "--stdlib", dir.path() + "/missing", good},
      {"fmt"},
      {"compile", good},
      {"compile", "--dump=tokens", good},
  };
  for (const auto& args : invocations) {
    std::string joined;
    for (const std::string& arg : args) joined += arg + " ";
    CAPTURE(joined);
    RunResult result = Run(args);
    CHECK(result.exit_code == 2);
    CHECK_FALSE(result.err.empty());
  }
  RunResult ir = Run({"compile", "--dump=ir", good});
  CHECK(ir.exit_code == 0);
  CHECK(Contains(ir.out, "roots ["));
}

TEST_CASE("a missing path exits 2") {
  TempDir dir;
  std::string missing = dir.path() + "/nope.warden";
  for (const char* command : {"check", "fmt"}) {
    CAPTURE(command);
    RunResult result = Run({command, missing});
    CHECK(result.exit_code == 2);
    CHECK(Contains(result.err, "nope.warden"));
    CHECK(result.out.empty());
  }
  RunResult compile = Run({"compile", "--dump=ast", missing});
  CHECK(compile.exit_code == 2);
}

TEST_CASE("check reports a syntax error in text, json and sarif") {
  TempDir dir;
  std::string bad = dir.Write("bad.warden", kSyntaxError);

  RunResult text = Run({"check", bad});
  CHECK(text.exit_code == 1);
  CHECK(Contains(text.out, bad + ":4:1: error[E0003]"));
  CHECK(Contains(text.out, "checked 1 file: 1 error"));

  RunResult as_json = Run({"check", "--format", "json", bad});
  CHECK(as_json.exit_code == 1);
  json doc = json::parse(as_json.out);
  CHECK(doc["errors"].get<int>() >= 1);
  bool found = false;
  for (const json& d : doc["diagnostics"]) {
    if (d["code"] != "E0003") continue;
    found = true;
    CHECK(d["file"] == bad);
    CHECK(d["line"] == 4);
    CHECK(d["column"] == 1);
    CHECK(d["severity"] == "error");
    CHECK(d["slug"] == "syntax-error");
    CHECK(d["message"].is_string());
  }
  CHECK(found);

  RunResult as_sarif = Run({"check", "--format=sarif", bad});
  CHECK(as_sarif.exit_code == 1);
  json log = json::parse(as_sarif.out);
  CHECK(log["version"] == "2.1.0");
  const json& run = log["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "warden");
  found = false;
  for (const json& r : run["results"]) {
    if (r["ruleId"] != "E0003") continue;
    found = true;
    CHECK(r["level"] == "error");
    CHECK(run["tool"]["driver"]["rules"][r["ruleIndex"].get<size_t>()]["id"] == "E0003");
    const json& physical = r["locations"][0]["physicalLocation"];
    CHECK(physical["artifactLocation"]["uri"] == "file://" + bad);
    CHECK(physical["region"]["startLine"] == 4);
    CHECK(physical["region"]["startColumn"] == 1);
  }
  CHECK(found);
}

TEST_CASE("check on a clean file exits 0") {
  TempDir dir;
  std::string good = dir.Write("good.warden", "package acme.demo\n");
  RunResult text = Run({"check", good});
  CHECK(text.exit_code == 0);
  CHECK(Contains(text.out, "checked 1 file: 0 errors, 0 warnings"));
  RunResult as_json = Run({"check", "--strict", "--format", "json", dir.path()});
  CHECK(as_json.exit_code == 0);
  json doc = json::parse(as_json.out);
  CHECK(doc["errors"] == 0);
  CHECK(doc["diagnostics"].empty());
  RunResult as_sarif = Run({"check", "--format", "sarif", good});
  CHECK(as_sarif.exit_code == 0);
  CHECK(json::parse(as_sarif.out)["runs"][0]["results"].empty());
}

TEST_CASE("--strict fails on warnings") {
  TempDir dir;
  // A JIT profile without `max` and `approvals` draws two lint warnings.
  std::string file = dir.Write(
      "jit.warden", "package acme.demo\nrole admin\njit breakglass {\n  grants role admin\n}\n");
  RunResult lenient = Run({"check", file});
  CHECK(lenient.exit_code == 0);
  CHECK(Contains(lenient.out, "warning[W0407]"));
  CHECK(Contains(lenient.out, "0 errors, 2 warnings"));
  RunResult strict = Run({"check", "--strict", file});
  CHECK(strict.exit_code == 1);
  json doc = json::parse(Run({"check", "--strict", "--format", "json", file}).out);
  CHECK(doc["errors"] == 0);
  CHECK(doc["warnings"] == 2);
}

TEST_CASE("--max-diagnostics caps each file with a file-level note") {
  TempDir dir;
  std::string file =
      dir.Write("many.warden",
                "package acme.demo\nrole a extends x1\nrole b extends x2\nrole c extends x3\n");
  RunResult text = Run({"check", "--max-diagnostics", "2", file});
  CHECK(text.exit_code == 1);
  CHECK(Contains(text.out, file + ": note[E0009]"));

  json doc = json::parse(Run({"check", "--max-diagnostics=2", "--format", "json", file}).out);
  REQUIRE(doc["diagnostics"].size() == 3);
  const json& note = doc["diagnostics"][2];
  CHECK(note["code"] == "E0009");
  CHECK(note["file"] == file);
  CHECK(note["line"].is_null());

  json log = json::parse(Run({"check", "--max-diagnostics=2", "--format", "sarif", file}).out);
  const json& result = log["runs"][0]["results"][2];
  CHECK(result["ruleId"] == "E0009");
  CHECK(result["level"] == "note");
  CHECK_FALSE(result["locations"][0]["physicalLocation"].contains("region"));
}

TEST_CASE("fmt --check fails on an unformatted file until fmt rewrites it") {
  TempDir dir;
  std::string file = dir.Write("demo.warden", kUnformatted);
  ::chmod(file.c_str(), 0640);

  RunResult check = Run({"fmt", "--check", file});
  CHECK(check.exit_code == 1);
  CHECK(Contains(check.out, "would reformat " + file));
  CHECK(ReadFile(file) == kUnformatted);  // --check changes nothing

  RunResult fmt = Run({"fmt", dir.path()});
  CHECK(fmt.exit_code == 0);
  std::string formatted = ReadFile(file);
  CHECK(formatted != kUnformatted);
  CHECK(Contains(formatted, "package acme.demo"));
  struct stat info;
  REQUIRE(::stat(file.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0640);
  // No temporary files left behind.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  CHECK(entries == 1);

  RunResult again = Run({"fmt", "--check", file});
  CHECK(again.exit_code == 0);
  CHECK(again.out.empty());
}

TEST_CASE("fmt leaves a file that does not parse alone and exits 1") {
  TempDir dir;
  std::string bad = dir.Write("bad.warden", kSyntaxError);
  RunResult fmt = Run({"fmt", bad});
  CHECK(fmt.exit_code == 1);
  CHECK(Contains(fmt.err, bad + ":4:1: error[E0003]"));
  CHECK(ReadFile(bad) == kSyntaxError);
}

TEST_CASE("compile --dump=ast prints one header per file") {
  TempDir dir;
  std::string a = dir.Write("a.warden", "package acme.a\n");
  std::string b = dir.Write("b.warden", "package acme.b\n");
  RunResult dump = Run({"compile", "--dump=ast", dir.path()});
  CHECK(dump.exit_code == 0);
  CHECK(dump.out.rfind("// " + a + "\n", 0) == 0);
  CHECK(Contains(dump.out, "\n// " + b + "\n"));

  std::string bad = dir.Write("bad.warden", kSyntaxError);
  RunResult failed = Run({"compile", "--dump=ast", bad});
  CHECK(failed.exit_code == 1);
  CHECK(Contains(failed.err, "error[E0003]"));
}

}  // namespace
}  // namespace warden

namespace warden {
namespace {

constexpr char kTestedPolicy[] = R"(package demo.cli

schema {
  resource doc { owner: string }
  actions { read }
}

policy docs on doc {
  rule own: permit read if resource.owner == subject.id
}

test "owners read" {
  given { subject: { id: "ann" }, action: "read", resource: { type: "doc", id: "d", owner: "ann" } }
  expect permit by own
}
)";

TEST_CASE("warden test: results, the closing line, and exit 1 on a failing test") {
  TempDir dir;
  std::string good = dir.Write("good.warden", kTestedPolicy);
  RunResult passed = Run({"test", good});
  CHECK(passed.exit_code == 0);
  CHECK(Contains(passed.out, "ok   owners read"));
  CHECK(Contains(passed.out, "\n1 passed, 0 failed\n"));

  std::string wrong = std::string(kTestedPolicy);
  wrong.replace(wrong.find("expect permit by own"), 20, "expect deny");
  std::string bad = dir.Write("bad.warden", wrong);
  RunResult failed = Run({"test", bad});
  CHECK(failed.exit_code == 1);
  CHECK(Contains(failed.out, "FAIL owners read"));
  CHECK(Contains(failed.out, "\n0 passed, 1 failed\n"));
}

TEST_CASE(
    "warden eval: one decision per JSON line; a bad line is denied and the next still decided") {
  TempDir dir;
  std::string policy = dir.Write("p.warden", kTestedPolicy);
  std::string requests = dir.Write("requests.jsonl",
                                   "{\"subject\":{\"id\":\"ann\"},\"action\":\"read\",\"resource\":"
                                   "{\"type\":\"doc\",\"id\":\"d\","
                                   "\"owner\":\"ann\"}}\n"
                                   "{not json\n"
                                   "{\"subject\":{\"id\":\"bob\"},\"action\":\"read\",\"resource\":"
                                   "{\"type\":\"doc\",\"id\":\"d\","
                                   "\"owner\":\"ann\"}}\n");
  for (const char* engine : {"vm", "reference"}) {
    CAPTURE(engine);
    RunResult result =
        Run({"eval", "--engine", engine, "--policies", policy, "--request", requests});
    std::vector<nlohmann::json> lines;
    std::istringstream out(result.out);
    for (std::string line; std::getline(out, line);) {
      lines.push_back(nlohmann::json::parse(line, nullptr, false));
    }
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["decision"] == "permit");
    CHECK(lines[0]["rules"][0]["name"] == "own");
    CHECK(lines[1].contains("error"));
    CHECK(lines[1]["error"]["code"] == "bad_request");
    CHECK(lines[2]["decision"] == "not_applicable");
  }
}

TEST_CASE("warden eval --explain: the VM prints what the reference prints") {
  TempDir dir;
  std::string policy = dir.Write("p.warden", R"(package demo.explain
schema {
  resource doc { owner: string  level: int }
  actions { read }
}
policy docs on doc combine first_applicable {
  rule own: permit read if
    resource.owner == subject.id
    and 10 / resource.level > 1
  rule guarded: step_up mfa read if resource.level == 0
  rule rest: deny read
}
)");
  std::string requests =
      dir.Write("requests.jsonl", R"({"subject":{"id":"ann"},"action":"read",)"
                                  R"("resource":{"type":"doc","id":"d","owner":"ann","level":0}}
{"subject":{"id":"ann"},"action":"read",)"
                                  R"("resource":{"type":"doc","id":"d","owner":"ann","level":1}}
)");
  RunResult vm =
      Run({"eval", "--explain", "--engine", "vm", "--policies", policy, "--request", requests});
  RunResult reference = Run(
      {"eval", "--explain", "--engine", "reference", "--policies", policy, "--request", requests});
  CHECK(vm.exit_code == 0);
  CHECK(vm.out == reference.out);
  std::istringstream out(vm.out);
  std::string line;
  REQUIRE(std::getline(out, line));
  nlohmann::json first = nlohmann::json::parse(line, nullptr, false);
  REQUIRE(first["explain"].size() == 3);
  CHECK(first["explain"][0]["status"] == "error");
  CHECK(first["explain"][0]["error"] == "`/` by zero");
  CHECK(first["explain"][0]["failed_conditions"][0] ==
        "10 / resource.level > 1 (error: `/` by zero)");
  CHECK(first["explain"][1]["status"] == "fired");
  CHECK(first["explain"][2]["status"] == "not_evaluated");
  CHECK(first["errors"][0]["line"] == 9);  // the division's line, not the rule's (7)
}

}  // namespace
}  // namespace warden
