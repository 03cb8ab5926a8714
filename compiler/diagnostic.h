// Diagnostics: what policy authors see when a file is wrong.
//
// A Diagnostic has a stable code (diagnostic_codes.h), a severity, the span
// it is about, a lowercase message that quotes user text in backticks, and
// an optional help line. A DiagnosticSink collects them, caps how many one
// file may produce, and hands them out sorted by location.
#ifndef WARDEN_COMPILER_DIAGNOSTIC_H_
#define WARDEN_COMPILER_DIAGNOSTIC_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "compiler/diagnostic_codes.h"
#include "compiler/source.h"

namespace warden {

enum class Severity { kError, kWarning, kNote };
const char* SeverityName(Severity severity);

enum class DiagCode {
#define WARDEN_DIAG_ENUM(name, code, severity, slug, summary) name,
  WARDEN_DIAGNOSTIC_CODES(WARDEN_DIAG_ENUM)
#undef WARDEN_DIAG_ENUM
};

struct DiagCodeInfo {
  DiagCode id;
  const char* code;   // "E0102"
  Severity severity;  // default severity
  const char* slug;   // "unknown-name"
  const char* summary;
};
const DiagCodeInfo& Info(DiagCode code);
const std::vector<DiagCodeInfo>& AllDiagCodes();

struct Diagnostic {
  DiagCode code;
  Severity severity;
  Span span;
  std::string message;
  std::string help;  // empty when there is nothing useful to add
};

struct DiagnosticOptions {
  // Per-file cap; OPA stops at 10 errors, we show a few more of all kinds.
  size_t max_per_file = 50;
};

class DiagnosticSink {
 public:
  explicit DiagnosticSink(DiagnosticOptions options = {}) : options_(options) {}

  // Records a diagnostic with the code's default severity.
  void Report(DiagCode code, Span span, std::string message, std::string help = {});
  void Add(Diagnostic diagnostic);

  bool has_errors() const { return error_count_ > 0; }
  size_t error_count() const { return error_count_; }
  size_t warning_count() const { return warning_count_; }
  // True once `file` reached its cap; further reports for it are dropped.
  bool Saturated(FileId file) const;

  // All diagnostics, sorted by file, position, then code; duplicates removed.
  std::vector<Diagnostic> Sorted() const;

 private:
  DiagnosticOptions options_;
  std::vector<Diagnostic> diagnostics_;
  absl::flat_hash_map<FileId, size_t> per_file_;
  // (file, begin, end, code, message) of every diagnostic kept, so a repeat
  // neither shows twice nor uses up the file's cap.
  absl::flat_hash_set<std::string> seen_;
  size_t error_count_ = 0;
  size_t warning_count_ = 0;
};

// Renders `file:line:col: severity[CODE]: message`, the source line, a caret
// line under the span, and `help:` when present.
std::string RenderText(const Diagnostic& diagnostic, const SourceManager& sources);

}  // namespace warden

#endif  // WARDEN_COMPILER_DIAGNOSTIC_H_
