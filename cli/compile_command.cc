// `warden compile --dump=ast PATH...`: print what a compiler stage produced,
// for debugging and golden tests. Only the AST stage exists so far; `ir`,
// `bytecode` and writing a bundle with -o come with the code generator.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/ast_dump.h"
#include "compiler/driver.h"

namespace warden::cli {
namespace {

struct CompileFlags {
  std::vector<std::string> paths;
  std::string dump;
};

// Accepts the stages that can be dumped; says which ones are still to come.
std::string CheckStage(std::string& stage) {
  if (stage == "ast") return {};
  if (stage == "ir" || stage == "bytecode") {
    return absl::StrCat("--dump=", stage, " is not implemented yet; only --dump=ast is available");
  }
  return absl::StrCat("unknown stage `", stage,
                      "`; the stages are ast (ir and bytecode are not implemented yet)");
}

int RunCompile(const CompileFlags& flags) {
  absl::StatusOr<std::vector<std::string>> files = CollectWardenFiles(flags.paths);
  if (!files.ok()) {
    PrintError(std::string(files.status().message()));
    return kExitUsage;
  }
  bool io_error = false;
  bool findings = false;
  bool first = true;
  for (const std::string& path : *files) {
    absl::StatusOr<std::unique_ptr<ParsedFile>> parsed = ReadAndParse(path);
    if (!parsed.ok()) {
      PrintError(std::string(parsed.status().message()));
      io_error = true;
      continue;
    }
    const ParsedFile& file = **parsed;
    if (!file.ok()) {
      std::cerr << RenderTextAll(file.sink.Sorted(), file.sources);
      findings = true;
      continue;
    }
    std::string dump = DumpAst(*file.ast, file.sources.file(file.id));
    if (!dump.empty() && dump.back() != '\n') dump += '\n';
    std::cout << (first ? "" : "\n") << "// " << path << "\n" << dump;
    first = false;
  }
  if (io_error) return kExitUsage;
  return findings ? kExitFindings : kExitOk;
}

}  // namespace

void AddCompileCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<CompileFlags>();
  CLI::App* command =
      app.add_subcommand("compile", "Compile policies and print what a stage produced");
  command->footer("Exit codes: 0 done, 1 a file does not parse, 2 usage or I/O error.");
  command
      ->add_option("--dump", flags->dump,
                   "Print the output of a stage: ast (one `// PATH` header per file, then the tree "
                   "with line:col of each node)")
      ->required()
      ->check(CLI::Validator(CheckStage, "", "stage"))
      ->type_name("STAGE");
  command->add_option("paths", flags->paths, ".warden files, or directories searched recursively")
      ->required()
      ->type_name("PATH");
  command->callback([flags, &exit_code] { exit_code = RunCompile(*flags); });
}

}  // namespace warden::cli
