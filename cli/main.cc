// The `warden` command: check, format and compile policies (docs/cli.md).
//
// main() is the only place that deals with CLI11's exceptions: usage errors
// print CLI11's message and exit 2, --help and --version exit 0, and anything
// else that escapes a command becomes an internal error with exit code 2.
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/diagnostic_render.h"

namespace warden::cli {
namespace {

int Main(int argc, char** argv) {
  CLI::App app("Warden: check, format and compile authorization policies.", "warden");
  app.set_version_flag("--version", absl::StrCat("warden ", kWardenVersion),
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer(
      "Run `warden COMMAND --help` for a command's flags.\n"
      "Exit codes: 0 success, 1 findings, 2 usage or I/O error.");
  int exit_code = kExitOk;
  AddCheckCommand(app, exit_code);
  AddFmtCommand(app, exit_code);
  AddCompileCommand(app, exit_code);
  AddTestCommand(app, exit_code);
  AddEvalCommand(app, exit_code);
  AddDisasmCommand(app, exit_code);
  AddAuditCommand(app, exit_code);
  AddServeCommand(app, exit_code);
  AddStateCommand(app, exit_code);
  AddKeysCommand(app, exit_code);
  AddTokensCommand(app, exit_code);
  AddCheckRequestCommand(app, exit_code);
  try {
    app.parse(argc, argv);  // runs the chosen command's callback
  } catch (const CLI::ParseError& e) {
    // Prints help or the version on stdout (code 0), or the error on stderr.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  std::cout.flush();
  if (!std::cout) {
    PrintError("cannot write to standard output");
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace
}  // namespace warden::cli

int main(int argc, char** argv) {
  try {
    return warden::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "warden: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "warden: internal error\n";
  }
  return warden::cli::kExitUsage;
}
