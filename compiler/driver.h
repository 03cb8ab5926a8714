// The compiler driver: files on disk -> parsed, checked, linted program.
//
// Passes, in order (each needs the ones before it):
//   1. load      read files (directories recurse, sorted for stable output)
//   2. parse     text -> ast::File per file (parser.h)
//   3. resolve   packages, imports (std.* from the stdlib directory), names
//   4. check     schema and types of every expression (checker.h)
//   5. roles     role graph, cycles, static separation of duties, JIT profiles
//   6. lint      security lints (lints.h); only on programs without errors
//   7. codegen   checked program -> bc::Program (codegen.h); only on programs
//                without errors, and only through CompileToBundle (or
//                CompileToEngine, compiler/driver_engine.h, which then loads it)
// Diagnostics from every pass go to one sink; the program is kept only when
// there are no errors.
//
// Entry points: CompilePaths and CompileSources run passes 1-6 (what `warden
// check`, `fmt` and the reference evaluator need); CompileToBundle runs 1-7
// and is the one way to turn sources into bytecode; CompileToEngine also
// loads the result into a warden::Engine.
#ifndef WARDEN_COMPILER_DRIVER_H_
#define WARDEN_COMPILER_DRIVER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "compiler/ast.h"
#include "runtime/bytecode/program.h"
#include "compiler/checked.h"
#include "compiler/codegen.h"
#include "compiler/diagnostic.h"
#include "compiler/parser.h"
#include "compiler/source.h"

namespace warden {

struct CompileOptions {
  ParserOptions parser;
  DiagnosticOptions diagnostics;
  size_t max_files = 10000;
  size_t max_total_rules = 200000;
  // Where `import std.NAME` looks for NAME.warden (under a `std/` folder).
  // Empty: the WARDEN_STDLIB environment variable, else the built-in path.
  std::string stdlib_dir;
  bool run_lints = true;
};

struct Compilation {
  SourceManager sources;
  DiagnosticSink diagnostics;
  // One entry per loaded file, in load order; null where parsing failed.
  std::vector<std::unique_ptr<ast::File>> files;
  // The checked program; null when there were errors.
  std::unique_ptr<CheckedProgram> program;

  explicit Compilation(DiagnosticOptions options) : diagnostics(options) {}
};

// Collects the .warden files under `paths` (files as given; directories
// recursively), sorted. Errors: a path that does not exist or can't be read.
absl::StatusOr<std::vector<std::string>> CollectWardenFiles(const std::vector<std::string>& paths);

// Loads, parses, checks and lints. A Status error only for I/O problems;
// problems in the policies are diagnostics in the result.
absl::StatusOr<std::unique_ptr<Compilation>> CompilePaths(const std::vector<std::string>& paths,
                                                          const CompileOptions& options = {});

// The same for in-memory sources: {path, text} pairs.
std::unique_ptr<Compilation> CompileSources(std::vector<std::pair<std::string, std::string>> files,
                                            const CompileOptions& options = {});

// What a build reads: the .warden files under `paths` (as CollectWardenFiles
// finds them), then the in-memory {path, text} pairs of `texts`.
struct PolicySources {
  std::vector<std::string> paths;
  std::vector<std::pair<std::string, std::string>> texts;

  static PolicySources Paths(std::vector<std::string> paths) { return {std::move(paths), {}}; }
  static PolicySources Texts(std::vector<std::pair<std::string, std::string>> texts) {
    return {{}, std::move(texts)};
  }
};

struct BuildOptions {
  CompileOptions compile;  // passes 1-6
  CodegenOptions codegen;  // pass 7
};

// The result of passes 1-7.
struct BundleBuild {
  // Sources, every diagnostic (warnings too) and the checked program; null
  // only when the inputs could not be read (`program` holds that error).
  std::unique_ptr<Compilation> compilation;
  // The generated program (it passes bc::Verify). Errors: the inputs could
  // not be read (compilation null); the policies have errors
  // (InvalidArgument, the message is every diagnostic rendered as text, and
  // compilation->program is null); code generation failed (Unimplemented,
  // or ResourceExhausted for a limit of CodegenOptions).
  absl::StatusOr<bc::Program> program = absl::UnknownError("not built");

  // The program serialised as a bundle (bc::WriteBundle), or its error.
  absl::StatusOr<std::string> Bytes() const;
};

// Runs every pass, code generation included. Never throws.
BundleBuild CompileToBundle(const PolicySources& sources, const BuildOptions& options = {});

// Every diagnostic rendered by RenderText, one after another (a blank line
// between two).
std::string RenderTextAll(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources);

}  // namespace warden

#endif  // WARDEN_COMPILER_DRIVER_H_
