#include "compiler/diagnostic.h"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace warden {
namespace {

TEST_CASE("every diagnostic code is unique and documented in docs/language.md") {
  std::ifstream in(std::string(WARDEN_SOURCE_DIR) + "/docs/language.md");
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string doc = buffer.str();
  std::set<std::string> codes;
  for (const DiagCodeInfo& info : AllDiagCodes()) {
    CHECK(codes.insert(info.code).second);
    CHECK_MESSAGE(
        doc.find(std::string("| `") + info.code + "` | `" + info.slug + "`") != std::string::npos,
        info.code);
  }
}

TEST_CASE("diagnostics are sorted, deduplicated and capped per file") {
  DiagnosticOptions options;
  options.max_per_file = 3;
  DiagnosticSink sink(options);
  sink.Report(DiagCode::kUnknownName, Span{0, 20, 21}, "b");
  sink.Report(DiagCode::kUnknownName, Span{0, 5, 6}, "a");
  sink.Report(DiagCode::kUnknownName, Span{0, 5, 6}, "a");
  sink.Report(DiagCode::kUnknownName, Span{0, 30, 31}, "c");
  sink.Report(DiagCode::kUnknownName, Span{0, 40, 41}, "d");
  auto sorted = sink.Sorted();
  REQUIRE(sorted.size() == 4);  // a, b, c, then the cap note; the repeat of a costs nothing
  CHECK(sorted[0].message == "a");
  CHECK(sorted[1].message == "b");
  CHECK(sorted[2].message == "c");
  CHECK(sorted.back().code == DiagCode::kTooManyDiagnostics);
}

TEST_CASE("text rendering has a caret under the span, counting code points") {
  SourceManager sources;
  FileId id = sources.Add("f.warden", "package a\nconst é = xyz\n");
  Diagnostic d{DiagCode::kUnknownName, Severity::kError, Span{id, 21, 24}, "unknown name `xyz`",
               "did you mean `x`?"};
  std::string text = RenderText(d, sources);
  CHECK(text ==
        "f.warden:2:11: error[E0102]: unknown name `xyz`\n"
        "  |\n"
        "2 | const é = xyz\n"
        "  |           ^^^\n"
        "  = help: did you mean `x`?\n");
}

}  // namespace
}  // namespace warden
