// `warden compile [-o BUNDLE] [--dump=ast|ir|bytecode] PATH...`: compile
// policies into a verified bundle (-o), and/or print what a compiler stage
// produced, for debugging and golden tests (`ir` is the checked program).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/ast_dump.h"
#include "compiler/checked_dump.h"
#include "compiler/driver.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/bytecode/disasm.h"

namespace warden::cli {
namespace {

struct CompileFlags {
  std::vector<std::string> paths;
  std::string dump;
  std::string output;    // -o: the bundle to write
  bool explain = false;  // keep permit rules' conjuncts (CodegenOptions::explain_conjuncts)
};

// Accepts the stages that can be dumped; says which ones are still to come.
std::string CheckStage(std::string& stage) {
  if (stage == "ast" || stage == "ir" || stage == "bytecode") return {};
  return absl::StrCat("unknown stage `", stage, "`; the stages are ast, ir and bytecode");
}

// Compiles every path into one program: a bundle (-o) and/or its listing.
int RunCodegen(const CompileFlags& flags) {
  BuildOptions options;
  options.codegen.explain_conjuncts = flags.explain;
  BundleBuild build = CompileToBundle(PolicySources::Paths(flags.paths), options);
  if (build.compilation == nullptr) {
    PrintError(std::string(build.program.status().message()));
    return kExitUsage;
  }
  const Compilation& c = *build.compilation;
  std::vector<Diagnostic> diagnostics = c.diagnostics.Sorted();
  if (!diagnostics.empty()) std::cerr << RenderTextAll(diagnostics, c.sources);
  if (c.program == nullptr) return kExitFindings;
  if (flags.dump == "ir") std::cout << DumpChecked(*c.program, c.sources);
  const absl::StatusOr<bc::Program>& program = build.program;
  if (!program.ok()) {
    PrintError(std::string(program.status().message()));
    return kExitFindings;
  }
  if (flags.dump == "bytecode") std::cout << bc::Disassemble(*program);
  if (!flags.output.empty()) {
    if (absl::Status status = WriteFileAtomically(flags.output, bc::WriteBundle(*program));
        !status.ok()) {
      PrintError(std::string(status.message()));
      return kExitUsage;
    }
  }
  return kExitOk;
}

int RunCompile(const CompileFlags& flags) {
  if (flags.dump != "ast") return RunCodegen(flags);
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
  CLI::App* command = app.add_subcommand(
      "compile", "Compile policies into a bundle, or print what a stage produced");
  command->footer("Exit codes: 0 done, 1 the policies have errors, 2 usage or I/O error.");
  auto* dump =
      command
          ->add_option(
              "--dump", flags->dump,
              "Print the output of a stage: ast (one `// PATH` header per file, then the tree "
              "with line:col of each node), ir (the checked, typed program) or bytecode (the whole "
              "program's listing)")
          ->check(CLI::Validator(CheckStage, "", "stage"))
          ->type_name("STAGE");
  auto* output =
      command
          ->add_option("-o,--output", flags->output, "Write the compiled, verified bundle to FILE")
          ->type_name("FILE");
  command->add_flag(
      "--explain", flags->explain,
      "Keep each permit rule's conditions as separate blocks, so `warden eval "
      "--explain` on the bundle can list the conditions that failed (a larger bundle)");
  (void)dump;
  (void)output;
  command->add_option("paths", flags->paths, ".warden files, or directories searched recursively")
      ->required()
      ->type_name("PATH");
  command->callback([flags, &exit_code] {
    if (flags->dump.empty() && flags->output.empty()) {
      PrintError("compile needs -o FILE or --dump=STAGE");
      exit_code = kExitUsage;
      return;
    }
    if (flags->dump == "ast" && !flags->output.empty()) {
      PrintError("--dump=ast prints each file's syntax tree; it cannot be combined with -o");
      exit_code = kExitUsage;
      return;
    }
    exit_code = RunCompile(*flags);
  });
}

}  // namespace warden::cli
