// `warden test PATH...`: compile policies and run their `test` blocks on the
// bytecode VM and the reference evaluator (cli/reference/test_runner.h;
// `--engine` picks one); print one line per test and a closing
// `N passed, N failed`.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/reference/test_runner.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"

namespace warden::cli {
namespace {

struct TestFlags {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string stdlib;
  std::string engine = "both";
};

nlohmann::json ToJson(const TestOutcome& outcome) {
  nlohmann::json errors = nlohmann::json::array();
  for (const ReferenceError& error : outcome.decision.errors) {
    errors.push_back({{"code", rt::EvalErrorCode(error.code)},
                      {"rule", error.rule},
                      {"message", error.message},
                      {"file", error.file},
                      {"line", error.line}});
  }
  for (const RequestError& error : outcome.request_errors) {
    errors.push_back(
        {{"code", error.code}, {"rule", ""}, {"message", error.message}, {"path", error.path}});
  }
  nlohmann::json vm = nullptr;
  if (outcome.vm_ran) {
    vm = {{"actual", outcome.vm_actual}, {"errors", outcome.vm_errors}};
  } else if (!outcome.vm_skipped.empty()) {
    vm = {{"skipped", outcome.vm_skipped}};
  }
  return {{"name", outcome.name},
          {"package", outcome.package},
          {"file", outcome.file},
          {"line", outcome.line},
          {"passed", outcome.passed},
          {"expected", outcome.expected},
          {"actual", outcome.actual},
          {"message", outcome.passed ? nlohmann::json(nullptr) : nlohmann::json(outcome.message)},
          {"errors", errors},
          {"vm", vm},
          {"disagreement", outcome.disagreement.empty() ? nlohmann::json(nullptr)
                                                        : nlohmann::json(outcome.disagreement)}};
}

int RunTest(const TestFlags& flags) {
  BuildOptions options;
  options.compile.stdlib_dir = flags.stdlib;
  BundleBuild build = CompileToBundle(PolicySources::Paths(flags.paths), options);
  if (build.compilation == nullptr) {
    PrintError(std::string(build.program.status().message()));
    return kExitUsage;
  }
  const Compilation& compilation = *build.compilation;
  if (compilation.program == nullptr) {
    std::vector<Diagnostic> diagnostics = compilation.diagnostics.Sorted();
    if (flags.format == "json") {
      std::cout << RenderJson(diagnostics, compilation.sources);
    } else {
      std::cout << RenderTextAll(diagnostics, compilation.sources) << "\n";
    }
    return kExitFindings;
  }
  TestRunOptions run_options;
  run_options.engine = flags.engine == "vm"          ? TestEngine::kVm
                       : flags.engine == "reference" ? TestEngine::kReference
                                                     : TestEngine::kBoth;
  std::vector<TestOutcome> outcomes = RunTests(build, run_options);
  size_t passed = 0;
  size_t failed = 0;
  for (const TestOutcome& outcome : outcomes) (outcome.passed ? passed : failed)++;
  // A name is user text: keep the output valid UTF-8 JSON whatever it holds.
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  if (flags.format == "json") {
    nlohmann::json results = nlohmann::json::array();
    for (const TestOutcome& outcome : outcomes) results.push_back(ToJson(outcome));
    nlohmann::json out = {{"tests", results}, {"passed", passed}, {"failed", failed}};
    std::cout << out.dump(2, ' ', false, kReplace) << "\n";
  } else {
    std::string text;
    for (const TestOutcome& outcome : outcomes) {
      std::string where = absl::StrCat(" (", outcome.file, ":", outcome.line, ")");
      if (outcome.passed) {
        absl::StrAppend(&text, "ok   ", outcome.name, where, "\n");
      } else {
        absl::StrAppend(&text, "FAIL ", outcome.name, where, ": ", outcome.message, "\n");
      }
    }
    // Tests the VM could not run (a construct the bytecode does not support
    // yet): said once per reason, never silently.
    std::map<std::string, size_t> skipped;
    for (const TestOutcome& outcome : outcomes) {
      if (!outcome.vm_skipped.empty() && outcome.passed) ++skipped[outcome.vm_skipped];
    }
    for (const auto& [reason, count] : skipped) {
      absl::StrAppend(&text, "note: ", count, count == 1 ? " test" : " tests",
                      " ran on the reference evaluator only: ", reason, "\n");
    }
    absl::StrAppend(&text, passed, " passed, ", failed, " failed\n");
    std::cout << text;
  }
  return failed > 0 ? kExitFindings : kExitOk;
}

}  // namespace

void AddTestCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<TestFlags>();
  CLI::App* command = app.add_subcommand("test", "Run the `test` blocks of policies");
  command->footer(
      "Exit codes: 0 every test passed, 1 a test failed or the policies have errors, 2 usage or "
      "I/O error.");
  command->add_option("paths", flags->paths, ".warden files, or directories searched recursively")
      ->required()
      ->type_name("PATH");
  command->add_option("--format", flags->format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT")
      ->capture_default_str();
  command
      ->add_option("--engine", flags->engine,
                   "Evaluators to run every test on: both (the bytecode VM and the reference "
                   "evaluator, which must agree), vm or reference")
      ->check(CLI::IsMember({"both", "vm", "reference"}))
      ->type_name("ENGINE")
      ->capture_default_str();
  command
      ->add_option("--stdlib", flags->stdlib,
                   "Directory with std/NAME.warden for `import std.NAME` "
                   "(default: $WARDEN_STDLIB, else the installed standard library)")
      ->check(CLI::Validator(CLI::ExistingDirectory).description(""))
      ->type_name("DIR");
  command->callback([flags, &exit_code] { exit_code = RunTest(*flags); });
}

}  // namespace warden::cli
