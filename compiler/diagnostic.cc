#include "compiler/diagnostic.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "compiler/internal/utf8.h"

namespace warden {

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

const std::vector<DiagCodeInfo>& AllDiagCodes() {
  static const std::vector<DiagCodeInfo>* const kCodes = new std::vector<DiagCodeInfo>{
#define WARDEN_DIAG_INFO(name, code, severity, slug, summary) \
  DiagCodeInfo{DiagCode::name, code, Severity::severity, slug, summary},
      WARDEN_DIAGNOSTIC_CODES(WARDEN_DIAG_INFO)
#undef WARDEN_DIAG_INFO
  };
  return *kCodes;
}

const DiagCodeInfo& Info(DiagCode code) { return AllDiagCodes()[static_cast<size_t>(code)]; }

void DiagnosticSink::Report(DiagCode code, Span span, std::string message, std::string help) {
  Add(Diagnostic{code, Info(code).severity, span, std::move(message), std::move(help)});
}

bool DiagnosticSink::Saturated(FileId file) const {
  auto it = per_file_.find(file);
  return it != per_file_.end() && it->second >= options_.max_per_file;
}

void DiagnosticSink::Add(Diagnostic diagnostic) {
  std::string key =
      absl::StrCat(diagnostic.span.file, ":", diagnostic.span.begin, ":", diagnostic.span.end, ":",
                   static_cast<int>(diagnostic.code), ":", diagnostic.message);
  if (!seen_.insert(std::move(key)).second) return;
  size_t& count = per_file_[diagnostic.span.file];
  if (count > options_.max_per_file) return;
  if (count == options_.max_per_file) {
    ++count;
    diagnostics_.push_back(Diagnostic{
        DiagCode::kTooManyDiagnostics, Severity::kNote,
        Span{diagnostic.span.file, UINT32_MAX, UINT32_MAX},
        absl::StrCat("stopped after ", options_.max_per_file, " diagnostics in this file"),
        "fix the ones shown and run again"});
    return;
  }
  ++count;
  if (diagnostic.severity == Severity::kError) ++error_count_;
  if (diagnostic.severity == Severity::kWarning) ++warning_count_;
  diagnostics_.push_back(std::move(diagnostic));
}

std::vector<Diagnostic> DiagnosticSink::Sorted() const {
  std::vector<Diagnostic> sorted = diagnostics_;
  auto key = [](const Diagnostic& d) {
    return std::make_tuple(d.span.file, d.span.begin, d.span.end, static_cast<int>(d.code),
                           std::string_view(d.message));
  };
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  sorted.erase(
      std::unique(sorted.begin(), sorted.end(),
                  [&](const Diagnostic& a, const Diagnostic& b) { return key(a) == key(b); }),
      sorted.end());
  return sorted;
}

std::string RenderText(const Diagnostic& d, const SourceManager& sources) {
  const DiagCodeInfo& info = Info(d.code);
  std::string out;
  if (!d.span.valid() || d.span.file >= sources.size()) {
    absl::StrAppend(&out, SeverityName(d.severity), "[", info.code, "]: ", d.message, "\n");
    if (!d.help.empty()) absl::StrAppend(&out, "  = help: ", d.help, "\n");
    return out;
  }
  const SourceFile& file = sources.file(d.span.file);
  if (d.span.begin == UINT32_MAX) {  // a file-level note
    absl::StrAppend(&out, file.path(), ": ", SeverityName(d.severity), "[", info.code,
                    "]: ", d.message, "\n");
    if (!d.help.empty()) absl::StrAppend(&out, "  = help: ", d.help, "\n");
    return out;
  }
  LineCol start = file.Locate(d.span.begin);
  absl::StrAppend(&out, file.path(), ":", start.line, ":", start.column, ": ",
                  SeverityName(d.severity), "[", info.code, "]: ", d.message, "\n");
  std::string_view line = file.Line(start.line);
  std::string gutter = absl::StrCat(start.line);
  std::string pad(gutter.size(), ' ');
  // Tabs become single spaces so the caret lines up with what a terminal
  // shows; invisible and text-direction characters become U+FFFD so the
  // line cannot reorder itself on screen. Both keep one column each.
  std::string shown;
  for (size_t i = 0; i < line.size();) {
    auto byte = static_cast<unsigned char>(line[i]);
    size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    length = std::min(length, line.size() - i);
    uint32_t code_point = length == 1 ? byte : byte & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(line[i + k]) & 0x3F);
    }
    if (line[i] == '\t') {
      shown.push_back(' ');
    } else if (length > 1 && internal::IsInvisibleCodePoint(code_point)) {
      shown += "\xEF\xBF\xBD";
    } else {
      shown.append(line.substr(i, length));
    }
    i += length;
  }
  absl::StrAppend(&out, pad, " |\n", gutter, " | ", shown, "\n", pad, " | ");
  // Caret width: the span's code points on its first line, at least one.
  LineCol end = file.Locate(d.span.end);
  uint32_t width = 1;
  if (end.line == start.line && end.column > start.column) {
    width = end.column - start.column;
  } else if (end.line != start.line) {
    uint32_t line_columns = 1;
    for (unsigned char c : line) {
      if ((c & 0xC0) != 0x80) ++line_columns;
    }
    width = line_columns > start.column ? line_columns - start.column : 1;
  }
  absl::StrAppend(&out, std::string(start.column - 1, ' '), std::string(width, '^'), "\n");
  if (!d.help.empty()) absl::StrAppend(&out, pad, " = help: ", d.help, "\n");
  return out;
}

}  // namespace warden
