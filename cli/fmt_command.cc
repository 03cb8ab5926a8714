// `warden fmt [--check] PATH...`: rewrite policies in the canonical layout
// (formatter.h), or with --check only list the files that would change.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "compiler/driver.h"
#include "compiler/formatter.h"

namespace warden::cli {
namespace {

struct FmtFlags {
  std::vector<std::string> paths;
  bool check = false;
};

int RunFmt(const FmtFlags& flags) {
  absl::StatusOr<std::vector<std::string>> files = CollectWardenFiles(flags.paths);
  if (!files.ok()) {
    PrintError(std::string(files.status().message()));
    return kExitUsage;
  }
  bool io_error = false;
  bool findings = false;  // a file that does not parse, or would be reformatted
  for (const std::string& path : *files) {
    absl::StatusOr<std::unique_ptr<ParsedFile>> parsed = ReadAndParse(path);
    if (!parsed.ok()) {
      PrintError(std::string(parsed.status().message()));
      io_error = true;
      continue;
    }
    const ParsedFile& file = **parsed;
    if (!file.ok()) {
      // Never format a file that does not parse: report why, leave it alone.
      std::cerr << RenderTextAll(file.sink.Sorted(), file.sources);
      findings = true;
      continue;
    }
    const SourceFile& source = file.sources.file(file.id);
    std::string formatted = FormatFile(*file.ast, source);
    if (formatted == source.text()) continue;
    if (flags.check) {
      std::cout << "would reformat " << path << "\n";
      findings = true;
      continue;
    }
    absl::Status written = WriteFileAtomically(path, formatted);
    if (!written.ok()) {
      PrintError(std::string(written.message()));
      io_error = true;
    }
  }
  if (io_error) return kExitUsage;
  return findings ? kExitFindings : kExitOk;
}

}  // namespace

void AddFmtCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<FmtFlags>();
  CLI::App* command = app.add_subcommand("fmt", "Rewrite policies in the canonical layout");
  command->footer(
      "Files that do not parse are reported and left untouched.\n"
      "Exit codes: 0 done, 1 a file does not parse (or, with --check, would be reformatted), 2 "
      "usage or I/O "
      "error.");
  command->add_flag(
      "--check", flags->check,
      "Change nothing; print `would reformat PATH` for each file not in the canonical "
      "layout and exit 1 if there is any");
  command->add_option("paths", flags->paths, ".warden files, or directories searched recursively")
      ->required()
      ->type_name("PATH");
  command->callback([flags, &exit_code] { exit_code = RunFmt(*flags); });
}

}  // namespace warden::cli
