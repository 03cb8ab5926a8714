#include "compiler/ast_dump.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/parser.h"

namespace warden {
namespace {

namespace fs = std::filesystem;

std::string Dump(const std::string& text) {
  SourceManager sources;
  DiagnosticSink sink;
  FileId id = sources.Add("test.warden", text);
  auto file = ParseFile(sources, id, sink);
  std::string diagnostics;
  for (const Diagnostic& d : sink.Sorted()) diagnostics += RenderText(d, sources);
  INFO(diagnostics);
  REQUIRE(file != nullptr);
  return DumpAst(*file, sources.file(id));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("dumps a rule with positions") {
  std::string dump = Dump(
      "package a\n"
      "policy payments on payment combine deny_overrides {\n"
      "  rule maker_checker: deny [approve] if resource.created_by == subject.id\n"
      "}\n");
  CHECK(dump ==
        "file package a @1:9\n"
        "  policy payments on payment combine deny_overrides @2:1\n"
        "    rule maker_checker deny [approve] @3:3\n"
        "      binary == @3:41\n"
        "        member created_by @3:41\n"
        "          name resource @3:41\n"
        "        member id @3:64\n"
        "          name subject @3:64\n");
}

TEST_CASE("dumps literals, types and comments") {
  std::string dump = Dump(
      "package a // p\n"
      "data d: set<string>?\n"
      "const c = [-1, 2.50, 1h, \"x\\n\", true]\n");
  CHECK(dump ==
        "file package a @1:9\n"
        "  data d @2:1\n"
        "    type set optional @2:9\n"
        "      type string @2:13\n"
        "  const c @3:1\n"
        "    set @3:11\n"
        "      int -1 @3:12\n"
        "      decimal 2.50 scaled 25000 @3:16\n"
        "      duration 1h ms 3600000 @3:22\n"
        "      string \"x\\n\" @3:26\n"
        "      bool true @3:33\n"
        "  comment trailing \"// p\" @1:11\n");
}

TEST_CASE("golden dumps") {
  fs::path dir = fs::path(WARDEN_SOURCE_DIR) / "tests" / "golden" / "ast";
  const char* update_env = std::getenv("WARDEN_UPDATE_GOLDEN");
  bool update = update_env != nullptr && std::string(update_env) == "1";
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".warden") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  CHECK(!inputs.empty());
  for (const fs::path& input : inputs) {
    fs::path expected = input;
    expected.replace_extension(".ast");
    INFO("golden: ", input.filename().string());
    std::string dump = Dump(ReadFile(input));
    if (update) {
      std::ofstream(expected, std::ios::binary) << dump;
      continue;
    }
    REQUIRE(fs::exists(expected));
    CHECK(dump == ReadFile(expected));
  }
}

}  // namespace
}  // namespace warden
