// The `warden` command line: one file per command, wired up in main.cc.
//
// Each Add*Command registers a CLI11 subcommand whose callback runs the
// command and stores its exit code. Commands print results on stdout and
// problems with the invocation or the file system on stderr, and never throw
// on purpose; main.cc turns anything that escapes into exit code 2.
//
// Exit codes, shared by every command (docs/cli.md):
//   0  success, nothing to report
//   1  findings: errors in the policies (or warnings with --strict), files
//      that `fmt --check` would reformat
//   2  the command could not run: bad usage, unreadable or missing paths
#ifndef WARDEN_CLI_COMMANDS_H_
#define WARDEN_CLI_COMMANDS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "compiler/ast.h"
#include "compiler/diagnostic.h"
#include "compiler/driver.h"
#include "compiler/parser.h"
#include "compiler/source.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace warden::auth {
class StateStore;
}  // namespace warden::auth

namespace warden::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

void AddCheckCommand(CLI::App& app, int& exit_code);
void AddFmtCommand(CLI::App& app, int& exit_code);
void AddCompileCommand(CLI::App& app, int& exit_code);
void AddTestCommand(CLI::App& app, int& exit_code);          // test_command.cc
void AddEvalCommand(CLI::App& app, int& exit_code);          // eval_command.cc
void AddDisasmCommand(CLI::App& app, int& exit_code);        // disasm_command.cc
void AddAuditCommand(CLI::App& app, int& exit_code);         // audit_command.cc
void AddServeCommand(CLI::App& app, int& exit_code);         // serve_command.cc
void AddCheckRequestCommand(CLI::App& app, int& exit_code);  // check_request_command.cc
void AddStateCommand(CLI::App& app, int& exit_code);         // state_command.cc
void AddKeysCommand(CLI::App& app, int& exit_code);          // keys_command.cc
void AddTokensCommand(CLI::App& app, int& exit_code);        // tokens_command.cc

// ---------------------------------------------------------------- files.cc

// Reads a whole file. A file larger than `max_bytes` is not read: the error is
// ResourceExhausted, so callers can tell it from I/O failures.
absl::StatusOr<std::string> ReadFileText(const std::string& path, size_t max_bytes);

// Replaces `path` with `contents` atomically: writes a temporary file in the
// same directory, keeps the original's permission bits, then renames it over
// the original (following a symlink to its target).
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

// One file read and parsed on its own, for the commands that work file by
// file (fmt, compile --dump=ast).
struct ParsedFile {
  SourceManager sources;
  DiagnosticSink sink;
  FileId id = kNoFile;
  std::unique_ptr<ast::File> ast;  // null when the file has syntax errors
  bool ok() const { return ast != nullptr && !sink.has_errors(); }
};

// Reads and parses `path`. A Status error only when the file can't be read; a
// file over the size limit becomes an E0002 diagnostic like the parser's.
absl::StatusOr<std::unique_ptr<ParsedFile>> ReadAndParse(const std::string& path,
                                                         const ParserOptions& options = {});

// Prints `message` on stderr as `warden: message`.
void PrintError(const std::string& message);

// RenderTextAll (diagnostics as text, blank lines between) is in compiler/driver.h.

// Compiles `paths` for a command that needs a checked program. On an I/O
// error or a failed check it prints the problem (diagnostics as text on
// stderr) and returns null with `*exit_code` set to kExitUsage or
// kExitFindings.
std::unique_ptr<Compilation> CompileOrReport(const std::vector<std::string>& paths,
                                             const std::string& stdlib_dir, int* exit_code);

// ---------------------------------------------------------------- state_command.cc
// Shared by the commands that work on the auth state database (state, keys,
// tokens).

// Adds the required `--state PATH` flag (or env WARDEN_STATE).
CLI::Option* AddStatePathFlag(CLI::App* command, std::string* path);

// Opens the state database at `path`; on failure prints the reason and
// returns null with `*exit_code` set (2: the command could not run).
std::unique_ptr<auth::StateStore> OpenStateOrReport(const std::string& path, bool create,
                                                    int* exit_code);

// "90d", "24h", "1h30m", "0s" (the policy language's duration syntax) into
// `*out`; false, with the problem printed as `FLAG: ...`, otherwise.
bool ParseDurationFlag(const std::string& flag, const std::string& text, absl::Duration* out);

// An RFC 3339 time ("2026-11-28T10:00:00Z"); false, with the problem printed,
// otherwise.
bool ParseTimeFlag(const std::string& flag, const std::string& text, absl::Time* out);

// RFC 3339 in UTC, to the second: "2026-11-28T10:00:00Z".
std::string FormatUtc(absl::Time time);

}  // namespace warden::cli

#endif  // WARDEN_CLI_COMMANDS_H_
