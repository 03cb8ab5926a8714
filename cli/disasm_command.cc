// `warden disasm BUNDLE`: load and verify a bundle, print its bytecode.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/bytecode/disasm.h"

namespace warden::cli {
namespace {

int RunDisasm(const std::string& path) {
  bc::ProgramLimits limits;
  absl::StatusOr<std::string> bytes = ReadFileText(path, limits.max_bundle_bytes);
  if (!bytes.ok()) {
    PrintError(std::string(bytes.status().message()));
    return kExitUsage;
  }
  std::string hash;
  absl::StatusOr<bc::Program> program = bc::ReadBundle(*bytes, limits, &hash);
  if (!program.ok()) {
    PrintError(absl::StrCat(path, ": ", program.status().message()));
    return kExitFindings;
  }
  std::cout << "; " << path << "\n; sha256 " << hash << "\n" << bc::Disassemble(*program);
  return kExitOk;
}

}  // namespace

void AddDisasmCommand(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  CLI::App* command =
      app.add_subcommand("disasm", "Verify a compiled bundle and print its bytecode");
  command->footer(
      "Exit codes: 0 done, 1 the bundle is corrupt or fails verification, 2 usage or I/O error.");
  command->add_option("bundle", *path, "A bundle written by `warden compile -o`")
      ->required()
      ->type_name("BUNDLE");
  command->callback([path, &exit_code] { exit_code = RunDisasm(*path); });
}

}  // namespace warden::cli
