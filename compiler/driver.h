// The compiler driver: files on disk -> parsed, checked, linted program.
//
// Passes, in order (each needs the ones before it):
//   1. load      read files (directories recurse, sorted for stable output)
//   2. parse     text -> ast::File per file (parser.h)
//   3. resolve   packages, imports (std.* from the stdlib directory), names
//   4. check     schema and types of every expression (checker.h)
//   5. roles     role graph, cycles, static separation of duties, JIT profiles
//   6. lint      security lints (lints.h); only on programs without errors
// Diagnostics from every pass go to one sink; the program is kept only when
// there are no errors.
#ifndef WARDEN_COMPILER_DRIVER_H_
#define WARDEN_COMPILER_DRIVER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "compiler/ast.h"
#include "compiler/checked.h"
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

}  // namespace warden

#endif  // WARDEN_COMPILER_DRIVER_H_
