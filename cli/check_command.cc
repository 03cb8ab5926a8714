// `warden check PATH...`: load, parse, type-check and lint policies, then
// report the diagnostics as text, JSON or SARIF.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"

namespace warden::cli {
namespace {

struct CheckFlags {
  std::vector<std::string> paths;
  std::string format = "text";
  bool strict = false;
  std::string stdlib;
  size_t max_diagnostics = DiagnosticOptions{}.max_per_file;
};

std::string Count(size_t n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

int RunCheck(const CheckFlags& flags) {
  CompileOptions options;
  options.stdlib_dir = flags.stdlib;
  options.diagnostics.max_per_file = flags.max_diagnostics;
  absl::StatusOr<std::unique_ptr<Compilation>> compiled = CompilePaths(flags.paths, options);
  if (!compiled.ok()) {
    PrintError(std::string(compiled.status().message()));
    return kExitUsage;
  }
  const Compilation& compilation = **compiled;
  std::vector<Diagnostic> diagnostics = compilation.diagnostics.Sorted();
  size_t errors = 0;
  size_t warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::kError) ++errors;
    if (d.severity == Severity::kWarning) ++warnings;
  }

  if (flags.format == "json") {
    std::cout << RenderJson(diagnostics, compilation.sources);
  } else if (flags.format == "sarif") {
    std::cout << RenderSarif(diagnostics, compilation.sources);
  } else {
    std::string out = RenderTextAll(diagnostics, compilation.sources);
    if (!out.empty()) out += "\n";
    absl::StrAppend(&out, "checked ", Count(compilation.files.size(), "file"), ": ",
                    Count(errors, "error"), ", ", Count(warnings, "warning"), "\n");
    std::cout << out;
  }
  if (errors > 0 || (flags.strict && warnings > 0)) return kExitFindings;
  return kExitOk;
}

}  // namespace

void AddCheckCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* command =
      app.add_subcommand("check", "Parse, type-check and lint policies; report diagnostics");
  command->footer(
      "Exit codes: 0 clean, 1 errors (or warnings with --strict), 2 usage or I/O error.");
  command->add_option("paths", flags->paths, ".warden files, or directories searched recursively")
      ->required()
      ->type_name("PATH");
  command->add_option("--format", flags->format, "Output format: text, json or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->type_name("FORMAT")
      ->capture_default_str();
  command->add_flag("--strict", flags->strict, "Fail (exit 1) on warnings too");
  command
      ->add_option("--stdlib", flags->stdlib,
                   "Directory with std/NAME.warden for `import std.NAME` "
                   "(default: $WARDEN_STDLIB, else the installed standard library)")
      ->check(CLI::Validator(CLI::ExistingDirectory).description(""))
      ->type_name("DIR");
  command
      ->add_option("--max-diagnostics", flags->max_diagnostics,
                   "Diagnostics reported per file before the rest are dropped")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->type_name("N")
      ->capture_default_str();
  command->callback([flags, &exit_code] { exit_code = RunCheck(*flags); });
}

}  // namespace warden::cli
