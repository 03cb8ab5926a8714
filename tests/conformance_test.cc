// The conformance suite: every tests/conformance/*.warden file is compiled on
// its own and its `test` blocks run on both evaluators — the bytecode VM and
// the reference evaluator — by the same code as `warden test`
// (cli/reference/test_runner.h). A test fails when either evaluator
// misses the expectation or the two disagree (outcome, challenge, deciding
// rules, error codes and the lines of the failing expressions, and the
// explanations: every candidate rule's status, error and failed conditions).
//
// Files the code generator does not support yet run on the reference only;
// they are listed in kReferenceOnly, and a file that becomes supported (or
// one that is not listed but skipped) fails the suite so the list stays
// true.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli/reference/test_runner.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"

namespace warden {
namespace {

// Conformance files the bytecode cannot run yet, and why.
// None today: the bytecode runs the whole suite.
const std::set<std::string> kReferenceOnly = {};

// Checks one compilation's outcomes; returns how many ran on the VM.
size_t CheckOutcomes(const std::vector<TestOutcome>& outcomes) {
  size_t on_vm = 0;
  for (const TestOutcome& outcome : outcomes) {
    INFO(outcome.file, ":", outcome.line, ": ", outcome.name, ": ", outcome.message);
    CHECK(outcome.passed);
    CHECK(outcome.disagreement.empty());
    if (outcome.vm_ran) ++on_vm;
  }
  return on_vm;
}

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
  BuildOptions options;
  options.compile.stdlib_dir = std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies";
  options.codegen.explain_conjuncts = true;  // explanations are compared
  size_t total = 0;
  size_t total_vm = 0;
  for (const std::string& path : ConformanceFiles()) {
    CAPTURE(path);
    BundleBuild build = CompileToBundle(PolicySources::Paths({path}), options);
    REQUIRE(build.compilation != nullptr);
    const Compilation& compilation = *build.compilation;
    std::string diagnostics;
    for (const Diagnostic& d : compilation.diagnostics.Sorted()) {
      if (d.severity == Severity::kError) diagnostics += RenderText(d, compilation.sources);
    }
    CAPTURE(diagnostics);
    REQUIRE(compilation.program != nullptr);
    TestRunOptions run;
    run.compare_explain = true;  // the VM must explain as the reference does
    std::vector<TestOutcome> outcomes = RunTests(build, run);
    CHECK(!outcomes.empty());
    size_t on_vm = CheckOutcomes(outcomes);
    std::string name = std::filesystem::path(path).filename().string();
    if (kReferenceOnly.contains(name)) {
      CHECK_MESSAGE(on_vm == 0, name, " now runs on the VM: remove it from kReferenceOnly");
      if (!outcomes.empty()) {
        MESSAGE(name, ": reference evaluator only: ", outcomes.front().vm_skipped);
      }
    } else {
      for (const TestOutcome& outcome : outcomes) {
        INFO(outcome.name, ": ", outcome.vm_skipped);
        CHECK_MESSAGE(outcome.vm_ran, "the VM did not run a conformance test");
      }
    }
    total += outcomes.size();
    total_vm += on_vm;
  }
  MESSAGE("conformance cases: ", total, ", of which on both evaluators: ", total_vm);
  CHECK(total >= 150);
  CHECK(total_vm >= 150);
}

// `warden test examples/ stdlib-policies/` must pass on both evaluators: the
// examples are the documentation's promises.
TEST_CASE("examples and the standard library pass their tests") {
  BuildOptions options;
  options.compile.stdlib_dir = std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies";
  options.codegen.explain_conjuncts = true;
  BundleBuild build =
      CompileToBundle(PolicySources::Paths({std::string(WARDEN_SOURCE_DIR) + "/examples",
                                            std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies"}),
                      options);
  REQUIRE(build.compilation != nullptr);
  REQUIRE(build.compilation->program != nullptr);
  TestRunOptions run;
  run.compare_explain = true;
  std::vector<TestOutcome> outcomes = RunTests(build, run);
  CHECK(outcomes.size() >= 70);
  // Every example and stdlib test runs on both evaluators.
  CHECK(CheckOutcomes(outcomes) == outcomes.size());
}

}  // namespace
}  // namespace warden
