// Parsing: text of one .warden file -> ast::File, or diagnostics.
//
// This is the only door to ANTLR: the generated lexer and parser are used in
// parser.cc and nowhere else. Everything ANTLR can throw is caught here, and
// every limit below turns into a diagnostic rather than a crash, a hang or an
// unbounded allocation.
#ifndef WARDEN_COMPILER_PARSER_H_
#define WARDEN_COMPILER_PARSER_H_

#include <cstddef>
#include <memory>

#include "compiler/ast.h"
#include "compiler/diagnostic.h"
#include "compiler/source.h"

namespace warden {

struct ParserOptions {
  // Largest file accepted, in bytes.
  size_t max_file_bytes = 8 * 1024 * 1024;
  // Deepest nesting of brackets, braces and parentheses, and of expressions.
  int max_nesting_depth = 64;
  // Syntax errors reported per file before the parser gives up on it.
  int max_syntax_errors = 10;
  // Rules one file may declare.
  size_t max_rules_per_file = 20000;
};

// Parses one file already added to `sources`. Returns null when the file has
// syntax errors (they are in `sink`); a non-null result may still carry
// literal errors in `sink`.
std::unique_ptr<ast::File> ParseFile(const SourceManager& sources, FileId file,
                                     DiagnosticSink& sink, const ParserOptions& options = {});

// Resolves the escapes of a string literal body (without quotes). Returns
// false and the byte offset of the bad escape when it is malformed.
bool UnescapeString(std::string_view body, std::string* out, size_t* error_offset);

}  // namespace warden

#endif  // WARDEN_COMPILER_PARSER_H_
