// Source files and spans.
//
// Every AST node and diagnostic carries a Span: a file id and a half-open
// byte range into that file's text. Line and column are computed on demand
// from the file's line table, so spans stay two words wide.
#ifndef WARDEN_COMPILER_SOURCE_H_
#define WARDEN_COMPILER_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

using FileId = uint32_t;
inline constexpr FileId kNoFile = UINT32_MAX;

struct Span {
  FileId file = kNoFile;
  uint32_t begin = 0;  // byte offset of the first byte
  uint32_t end = 0;    // byte offset one past the last byte

  bool valid() const { return file != kNoFile; }
  // The smallest span covering both (same file assumed).
  static Span Cover(const Span& a, const Span& b);
};

// 1-based line and column; columns count Unicode code points.
struct LineCol {
  uint32_t line = 0;
  uint32_t column = 0;
};

class SourceFile {
 public:
  SourceFile(FileId id, std::string path, std::string text);

  FileId id() const { return id_; }
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }

  LineCol Locate(uint32_t offset) const;
  // The text of 1-based line `line`, without its line break.
  std::string_view Line(uint32_t line) const;
  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }

 private:
  FileId id_;
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

// Owns every file of one compilation; FileIds index into it.
class SourceManager {
 public:
  FileId Add(std::string path, std::string text);
  const SourceFile& file(FileId id) const { return *files_[id]; }
  size_t size() const { return files_.size(); }
  // The text of `span` on one line: runs of white space (the line breaks of
  // a long condition) become one space. "?" for a span it does not hold.
  // Explanations quote failed conditions this way, on both evaluators.
  std::string OneLineText(Span span) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace warden

#endif  // WARDEN_COMPILER_SOURCE_H_
