// The conformance suite: every tests/conformance/*.warden file is compiled on
// its own and its `test` blocks run through the reference evaluator, by the
// same code as `warden test` (compiler/test_runner.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"
#include "compiler/reference/test_runner.h"

namespace warden {
namespace {

std::vector<std::string> ConformanceFiles() {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(WARDEN_SOURCE_DIR) + "/tests/conformance")) {
    if (entry.path().extension() == ".warden") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("conformance suite") {
  CompileOptions options;
  options.stdlib_dir = std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies";
  size_t total = 0;
  for (const std::string& path : ConformanceFiles()) {
    CAPTURE(path);
    auto compiled = CompilePaths({path}, options);
    REQUIRE(compiled.ok());
    const Compilation& compilation = **compiled;
    std::string diagnostics;
    for (const Diagnostic& d : compilation.diagnostics.Sorted()) {
      if (d.severity == Severity::kError) diagnostics += RenderText(d, compilation.sources);
    }
    CAPTURE(diagnostics);
    REQUIRE(compilation.program != nullptr);
    std::vector<TestOutcome> outcomes = RunTests(compilation);
    CHECK(!outcomes.empty());
    for (const TestOutcome& outcome : outcomes) {
      INFO(outcome.file, ":", outcome.line, ": ", outcome.name, ": ", outcome.message);
      CHECK(outcome.passed);
    }
    total += outcomes.size();
  }
  MESSAGE("conformance cases: ", total);
  CHECK(total >= 150);
}

// `warden test examples/ stdlib-policies/` must pass: the examples are the
// documentation's promises.
TEST_CASE("examples and the standard library pass their tests") {
  CompileOptions options;
  options.stdlib_dir = std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies";
  auto compiled = CompilePaths({std::string(WARDEN_SOURCE_DIR) + "/examples",
                                std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies"},
                               options);
  REQUIRE(compiled.ok());
  REQUIRE((*compiled)->program != nullptr);
  std::vector<TestOutcome> outcomes = RunTests(**compiled);
  CHECK(outcomes.size() >= 70);
  for (const TestOutcome& outcome : outcomes) {
    INFO(outcome.name, ": ", outcome.message);
    CHECK(outcome.passed);
  }
}

}  // namespace
}  // namespace warden
