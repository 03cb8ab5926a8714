// Machine-readable diagnostics: JSON for scripts and SARIF 2.1.0 for code
// scanning services (GitHub, GitLab, Azure DevOps, IDE viewers).
//
// Both renderers take the diagnostics already sorted (DiagnosticSink::Sorted)
// and the SourceManager that owns their files, and never throw: text that is
// not valid UTF-8 (a path, a quoted snippet) is replaced with U+FFFD.
//
// Positions are 1-based; columns count Unicode code points, as in the text
// output (SourceFile::Locate). A file-level diagnostic (span.begin ==
// UINT32_MAX) has a file but no position; a diagnostic without a file has
// neither. docs/cli.md shows both formats.
#ifndef WARDEN_COMPILER_DIAGNOSTIC_RENDER_H_
#define WARDEN_COMPILER_DIAGNOSTIC_RENDER_H_

#include <string>
#include <vector>

#include "compiler/diagnostic.h"
#include "compiler/source.h"

// The build may define WARDEN_VERSION from the CMake project version.
#ifndef WARDEN_VERSION
#define WARDEN_VERSION "0.1.0"
#endif

namespace warden {

inline constexpr char kWardenVersion[] = WARDEN_VERSION;

// {"diagnostics": [{"file", "line", "column", "end_line", "end_column",
//   "severity", "code", "slug", "message", "help"}, ...],
//  "errors": N, "warnings": N}
// Absent values are null: no position for file-level diagnostics, no file
// when the diagnostic has none, no help when there is nothing to add.
std::string RenderJson(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources);

// A SARIF 2.1.0 log with one run. tool.driver.rules lists every code of
// AllDiagCodes() (so ruleIndex is the DiagCode's value); each result carries
// its ruleId, ruleIndex, level, message (with help) and a physical location
// whose artifact URI is the path as given, with forward slashes.
std::string RenderSarif(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources);

// The SARIF artifact URI for a path: relative paths stay relative (without a
// leading "./"), absolute ones become file:// URIs; backslashes become
// slashes and characters a URI may not hold are percent-encoded.
std::string PathToUri(const std::string& path);

}  // namespace warden

#endif  // WARDEN_COMPILER_DIAGNOSTIC_RENDER_H_
