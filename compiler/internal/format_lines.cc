#include "compiler/internal/format_lines.h"

#include <algorithm>
#include <string_view>

#include "compiler/internal/format_expr.h"

namespace warden::internal {
namespace {

using CommentRef = const ast::Comment*;

// Comments that were adjacent in the source (each starts on the line where
// the previous one ends) print together on one line.
struct Group {
  std::vector<CommentRef> comments;
  bool blank_before = false;  // the source had a blank line before the group
};

struct Attached {
  std::vector<Group> leading;        // own-line comments before the line
  std::vector<CommentRef> moved;     // comments from inside the line that cannot trail it
  std::vector<CommentRef> trailing;  // printed after the line's text
};

class LineTable {
 public:
  explicit LineTable(const std::string& text) : text_(text) {
    starts_.push_back(0);
    for (uint32_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  // 0-based line of the byte at `offset`.
  size_t LineOf(uint32_t offset) const {
    return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                               starts_.begin()) -
           1;
  }
  // Line of the last byte of [begin, end).
  size_t LastLineOf(uint32_t begin, uint32_t end) const {
    return LineOf(end > begin ? end - 1 : begin);
  }
  // Whether only white space with at least one empty line separates `offset`
  // from the text before (or after) it.
  bool BlankBefore(uint32_t offset) const {
    int newlines = 0;
    for (uint32_t i = std::min<uint32_t>(offset, text_.size()); i > 0 && IsSpace(text_[i - 1]);
         --i) {
      newlines += text_[i - 1] == '\n';
    }
    return newlines >= 2;
  }
  bool BlankAfter(uint32_t offset) const {
    int newlines = 0;
    for (uint32_t i = offset; i < text_.size() && IsSpace(text_[i]); ++i) {
      newlines += text_[i] == '\n';
    }
    return newlines >= 2;
  }

 private:
  static bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
  }
  const std::string& text_;
  std::vector<uint32_t> starts_;
};

bool IsLineComment(const ast::Comment& comment) { return comment.text.starts_with("//"); }

// Assigns every comment to exactly one line (index lines.size() stands for
// the end of the file).
std::vector<Attached> Attach(const std::vector<FormatLine>& lines,
                             const std::vector<CommentRef>& comments, const LineTable& table) {
  std::vector<Attached> attached(lines.size() + 1);
  size_t next = 0;            // the first line that starts after the comment
  long gap = -2;              // the line the current gap follows (-1: start of file)
  bool chain = false;         // comments so far in this gap trail the line before it
  size_t chain_line = 0;      // where the last trailing comment (or the line) ends
  size_t group_end_line = 0;  // where the last leading comment of this gap ends
  for (CommentRef comment : comments) {
    uint32_t begin = comment->span.begin;
    while (next < lines.size() && lines[next].begin <= begin) ++next;
    long prev = static_cast<long>(next) - 1;
    if (prev >= 0 && begin < lines[prev].end) {
      // Inside the line's tokens: a block comment after other text can trail
      // it; a line comment or an own-line comment goes above it.
      Attached& home = attached[prev];
      if (comment->own_line || IsLineComment(*comment)) {
        home.moved.push_back(comment);
      } else {
        home.trailing.push_back(comment);
      }
      continue;
    }
    if (prev != gap) {
      gap = prev;
      chain = prev >= 0;
      if (chain) chain_line = table.LastLineOf(lines[prev].begin, lines[prev].end);
    }
    size_t line = table.LineOf(begin);
    size_t end_line = table.LastLineOf(begin, comment->span.end);
    if (chain && line == chain_line) {
      attached[prev].trailing.push_back(comment);
      chain_line = end_line;
      continue;
    }
    chain = false;
    std::vector<Group>& leading = attached[next].leading;
    if (leading.empty() || line != group_end_line) {
      leading.push_back(Group{{}, table.BlankBefore(begin)});
    }
    leading.back().comments.push_back(comment);
    group_end_line = end_line;
  }
  return attached;
}

struct OutLine {
  std::string code;                  // indentation and text
  std::vector<CommentRef> trailing;  // comments after the code
  bool blank = false;
};

std::string Join(const std::vector<CommentRef>& comments) {
  std::string out;
  for (CommentRef comment : comments) {
    if (!out.empty()) out += ' ';
    out += comment->text;
  }
  return out;
}

// Trailing comments on consecutive lines start in one column, two spaces
// after the longest code among them.
std::string Emit(const std::vector<OutLine>& out) {
  std::string text;
  size_t i = 0;
  while (i < out.size()) {
    if (out[i].trailing.empty()) {
      text += out[i].code;
      text += '\n';
      ++i;
      continue;
    }
    size_t run_end = i;
    size_t column = 0;
    while (run_end < out.size() && !out[run_end].trailing.empty()) {
      column = std::max(column, DisplayWidth(out[run_end].code) + 2);
      ++run_end;
    }
    for (; i < run_end; ++i) {
      text += out[i].code;
      text.append(column - DisplayWidth(out[i].code), ' ');
      text += Join(out[i].trailing);
      text += '\n';
    }
  }
  return text;
}

}  // namespace

std::string RenderLines(const std::vector<FormatLine>& lines,
                        const std::vector<ast::Comment>& comments, const SourceFile& source,
                        int indent_step) {
  LineTable table(source.text());
  std::vector<CommentRef> sorted;
  sorted.reserve(comments.size());
  for (const ast::Comment& comment : comments) sorted.push_back(&comment);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](CommentRef a, CommentRef b) { return a->span.begin < b->span.begin; });
  std::vector<Attached> attached = Attach(lines, sorted, table);

  std::vector<OutLine> out;
  auto blank = [&out] {
    if (!out.empty() && !out.back().blank) out.push_back(OutLine{{}, {}, true});
  };
  auto code = [&out](int indent, std::string text) {
    out.push_back(
        OutLine{std::string(static_cast<size_t>(std::max(indent, 0)), ' ') + text, {}, false});
  };
  for (size_t i = 0; i <= lines.size(); ++i) {
    bool eof = i == lines.size();
    const Attached& here = attached[i];
    bool item = eof || lines[i].item;
    bool closes = eof || lines[i].closes_block;
    bool block_start = i == 0 || lines[i - 1].opens_block;
    int comment_indent = eof ? 0 : lines[i].indent + (lines[i].closes_block ? indent_step : 0);

    bool want_blank = !eof && lines[i].blank_before;
    if (!here.leading.empty() && item && !block_start && here.leading.front().blank_before) {
      want_blank = true;
    }
    if (want_blank) blank();
    for (size_t g = 0; g < here.leading.size(); ++g) {
      if (g > 0 && item && here.leading[g].blank_before) blank();
      code(comment_indent, Join(here.leading[g].comments));
    }
    if (!here.leading.empty() && item && !closes &&
        table.BlankAfter(here.leading.back().comments.back()->span.end)) {
      blank();
    }
    for (CommentRef comment : here.moved) code(comment_indent, comment->text);
    if (eof) break;
    code(lines[i].indent, lines[i].text);
    out.back().trailing = here.trailing;
  }
  while (!out.empty() && out.back().blank) out.pop_back();
  return Emit(out);
}

}  // namespace warden::internal
