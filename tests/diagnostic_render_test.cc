#include "compiler/diagnostic_render.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace warden {
namespace {

using nlohmann::json;

// Byte offset of the first occurrence of `needle` in `text`.
uint32_t Offset(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return static_cast<uint32_t>(at);
}

struct Fixture {
  SourceManager sources;
  std::vector<Diagnostic> diagnostics;
  std::string text = "package a\nconst x = \"h\xC3\xA9llo\" + y\n";
  FileId file = sources.Add("policies/a.warden", text);

  Fixture() {
    // `y` sits after a two-byte code point: byte column 22, code point column 21.
    uint32_t y = Offset(text, "y\n");
    diagnostics.push_back(Diagnostic{DiagCode::kUnknownName, Severity::kError, Span{file, y, y + 1},
                                     "unknown name `y`", "declare it with `const y = ...`"});
    uint32_t x = Offset(text, "x =");
    diagnostics.push_back(Diagnostic{DiagCode::kSecretLiteral, Severity::kWarning,
                                     Span{file, x, x + 1}, "`x` looks like a secret", ""});
    diagnostics.push_back(Diagnostic{
        DiagCode::kTooManyDiagnostics, Severity::kNote, Span{file, UINT32_MAX, UINT32_MAX},
        "stopped after 50 diagnostics in this file", "fix the ones shown and run again"});
  }
};

TEST_CASE("json lists every field and counts errors and warnings") {
  Fixture f;
  json doc = json::parse(RenderJson(f.diagnostics, f.sources));
  REQUIRE(doc["diagnostics"].size() == 3);
  CHECK(doc["errors"] == 1);
  CHECK(doc["warnings"] == 1);

  const json& error = doc["diagnostics"][0];
  CHECK(error["file"] == "policies/a.warden");
  CHECK(error["line"] == 2);
  CHECK(error["column"] == 21);  // code points, not bytes
  CHECK(error["end_line"] == 2);
  CHECK(error["end_column"] == 22);
  CHECK(error["severity"] == "error");
  CHECK(error["code"] == "E0102");
  CHECK(error["slug"] == "unknown-name");
  CHECK(error["message"] == "unknown name `y`");
  CHECK(error["help"] == "declare it with `const y = ...`");

  const json& warning = doc["diagnostics"][1];
  CHECK(warning["severity"] == "warning");
  CHECK(warning["code"] == "W0401");
  CHECK(warning["line"] == 2);
  CHECK(warning["column"] == 7);
  CHECK(warning["help"].is_null());
}

TEST_CASE("json file-level and file-less diagnostics have no position") {
  Fixture f;
  f.diagnostics.push_back(Diagnostic{DiagCode::kImportCycle, Severity::kError, Span{},
                                     "packages `a` and `b` import each other", ""});
  json doc = json::parse(RenderJson(f.diagnostics, f.sources));
  const json& note = doc["diagnostics"][2];
  CHECK(note["file"] == "policies/a.warden");
  CHECK(note["severity"] == "note");
  CHECK(note["code"] == "E0009");
  CHECK(note["line"].is_null());
  CHECK(note["column"].is_null());
  CHECK(note["end_line"].is_null());
  CHECK(note["end_column"].is_null());
  const json& global = doc["diagnostics"][3];
  CHECK(global["file"].is_null());
  CHECK(global["line"].is_null());
  CHECK(doc["errors"] == 2);
}

TEST_CASE("json of no diagnostics") {
  SourceManager sources;
  json doc = json::parse(RenderJson({}, sources));
  CHECK(doc["diagnostics"].is_array());
  CHECK(doc["diagnostics"].empty());
  CHECK(doc["errors"] == 0);
  CHECK(doc["warnings"] == 0);
}

TEST_CASE("json survives invalid utf-8") {
  SourceManager sources;
  FileId file = sources.Add("bad\xFF.warden", "package a\n");
  std::vector<Diagnostic> diagnostics{
      Diagnostic{DiagCode::kInvalidUtf8, Severity::kError, Span{file, 0, 1}, "byte `\xFF`", ""}};
  json doc = json::parse(RenderJson(diagnostics, sources));
  CHECK(doc["diagnostics"][0]["file"] == "bad\xEF\xBF\xBD.warden");
  json sarif = json::parse(RenderSarif(diagnostics, sources));
  CHECK(sarif["runs"][0]["results"][0]["message"]["text"] == "byte `\xEF\xBF\xBD`");
}

TEST_CASE("sarif has the 2.1.0 envelope and the tool with every rule") {
  Fixture f;
  json log = json::parse(RenderSarif(f.diagnostics, f.sources));
  CHECK(log["version"] == "2.1.0");
  CHECK(log["$schema"].get<std::string>().find("sarif") != std::string::npos);
  REQUIRE(log["runs"].size() == 1);
  const json& run = log["runs"][0];
  CHECK(run["columnKind"] == "unicodeCodePoints");
  const json& driver = run["tool"]["driver"];
  CHECK(driver["name"] == "warden");
  CHECK(driver["version"] == kWardenVersion);
  const json& rules = driver["rules"];
  REQUIRE(rules.size() == AllDiagCodes().size());
  for (size_t i = 0; i < AllDiagCodes().size(); ++i) {
    const DiagCodeInfo& info = AllDiagCodes()[i];
    CAPTURE(info.code);
    CHECK(rules[i]["id"] == info.code);
    CHECK(rules[i]["name"] == info.slug);
    CHECK(rules[i]["shortDescription"]["text"] == info.summary);
    CHECK(rules[i]["defaultConfiguration"]["level"] == SeverityName(info.severity));
  }
}

TEST_CASE("sarif results point at rules and regions") {
  Fixture f;
  json log = json::parse(RenderSarif(f.diagnostics, f.sources));
  const json& run = log["runs"][0];
  const json& results = run["results"];
  REQUIRE(results.size() == 3);

  const json& error = results[0];
  CHECK(error["ruleId"] == "E0102");
  size_t index = error["ruleIndex"].get<size_t>();
  CHECK(run["tool"]["driver"]["rules"][index]["id"] == "E0102");
  CHECK(error["level"] == "error");
  CHECK(error["message"]["text"] == "unknown name `y`\nhelp: declare it with `const y = ...`");
  REQUIRE(error["locations"].size() == 1);
  const json& physical = error["locations"][0]["physicalLocation"];
  CHECK(physical["artifactLocation"]["uri"] == "policies/a.warden");
  CHECK(physical["region"]["startLine"] == 2);
  CHECK(physical["region"]["startColumn"] == 21);
  CHECK(physical["region"]["endLine"] == 2);
  CHECK(physical["region"]["endColumn"] == 22);

  const json& warning = results[1];
  CHECK(warning["level"] == "warning");
  CHECK(warning["ruleId"] == "W0401");
  CHECK(warning["message"]["text"] == "`x` looks like a secret");
  CHECK(run["tool"]["driver"]["rules"][warning["ruleIndex"].get<size_t>()]["id"] == "W0401");

  // A file-level note has the file but no region.
  const json& note = results[2];
  CHECK(note["level"] == "note");
  CHECK(note["ruleId"] == "E0009");
  const json& note_location = note["locations"][0]["physicalLocation"];
  CHECK(note_location["artifactLocation"]["uri"] == "policies/a.warden");
  CHECK_FALSE(note_location.contains("region"));
}

TEST_CASE("sarif result without a file has no location") {
  SourceManager sources;
  std::vector<Diagnostic> diagnostics{
      Diagnostic{DiagCode::kImportCycle, Severity::kError, Span{}, "cycle", ""}};
  json log = json::parse(RenderSarif(diagnostics, sources));
  const json& result = log["runs"][0]["results"][0];
  CHECK(result["ruleId"] == "E0104");
  CHECK(result["locations"].empty());
}

TEST_CASE("sarif spans across lines") {
  SourceManager sources;
  std::string text = "package a\npolicy p on x {\n}\n";
  FileId file = sources.Add("p.warden", text);
  uint32_t begin = Offset(text, "policy");
  uint32_t end = static_cast<uint32_t>(text.size() - 1);
  std::vector<Diagnostic> diagnostics{Diagnostic{DiagCode::kSyntaxError, Severity::kError,
                                                 Span{file, begin, end}, "whole policy", ""}};
  json region = json::parse(RenderSarif(
      diagnostics, sources))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
  CHECK(region["startLine"] == 2);
  CHECK(region["startColumn"] == 1);
  CHECK(region["endLine"] == 3);
  CHECK(region["endColumn"] == 2);
}

TEST_CASE("artifact uris") {
  CHECK(PathToUri("policies/a.warden") == "policies/a.warden");
  CHECK(PathToUri("./policies/a.warden") == "policies/a.warden");
  CHECK(PathToUri("policies\\win\\a.warden") == "policies/win/a.warden");
  CHECK(PathToUri("my policies/a b.warden") == "my%20policies/a%20b.warden");
  CHECK(PathToUri("/abs/a.warden") == "file:///abs/a.warden");
  CHECK(PathToUri("C:\\repo\\a.warden") == "file:///C:/repo/a.warden");
  CHECK(PathToUri("ab:c/d.warden") == "ab%3Ac/d.warden");
  CHECK(PathToUri("r\xC3\xA9gles/a.warden") == "r%C3%A9gles/a.warden");
  CHECK(PathToUri("100%.warden") == "100%25.warden");
}

}  // namespace
}  // namespace warden
