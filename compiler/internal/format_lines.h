// The formatter's output model: a list of lines, each tied to the source
// range of the AST tokens printed on it, and the pass that attaches the
// file's comments to those lines and renders the text. formatter.cc explains
// the attachment rules; this file implements them.
#ifndef WARDEN_COMPILER_INTERNAL_FORMAT_LINES_H_
#define WARDEN_COMPILER_INTERNAL_FORMAT_LINES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ast.h"
#include "compiler/source.h"

namespace warden::internal {

struct FormatLine {
  int indent = 0;    // columns
  std::string text;  // without indentation; never contains a line break
  // Byte range in the source of the AST tokens printed on this line, from the
  // start of the first to the end of the last one the AST locates. Keywords
  // and punctuation the AST does not locate may lie just outside it. Lines
  // come in source order and their ranges do not overlap.
  uint32_t begin = 0;
  uint32_t end = 0;
  bool blank_before = false;  // the layout wants a blank line before this line
  bool item = false;          // starts a block-level item: comments before it keep blank lines
  bool opens_block = false;   // ends with `{`: the next line starts a block
  bool closes_block = false;  // a closing bracket: comments before it are indented one level deeper
};

// Renders `lines` with every comment of `comments` placed exactly once.
// `indent_step` is the indentation of one block level.
std::string RenderLines(const std::vector<FormatLine>& lines,
                        const std::vector<ast::Comment>& comments, const SourceFile& source,
                        int indent_step);

}  // namespace warden::internal

#endif  // WARDEN_COMPILER_INTERNAL_FORMAT_LINES_H_
