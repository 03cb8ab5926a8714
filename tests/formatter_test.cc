#include "compiler/formatter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/ast_dump.h"
#include "compiler/parser.h"

namespace warden {
namespace {

namespace fs = std::filesystem;

struct Parsed {
  SourceManager sources;
  DiagnosticSink sink;
  FileId id = kNoFile;
  std::unique_ptr<ast::File> file;
};

std::unique_ptr<Parsed> Parse(std::string text, std::string path = "test.warden") {
  auto parsed = std::make_unique<Parsed>();
  parsed->id = parsed->sources.Add(std::move(path), std::move(text));
  parsed->file = ParseFile(parsed->sources, parsed->id, parsed->sink);
  return parsed;
}

std::string Diagnostics(const Parsed& parsed) {
  std::string out;
  for (const Diagnostic& d : parsed.sink.Sorted()) out += RenderText(d, parsed.sources);
  return out;
}

// Formats `text`; fails the test when it does not parse.
std::string Format(const std::string& text, const FormatOptions& options = {}) {
  auto parsed = Parse(text);
  INFO(Diagnostics(*parsed));
  REQUIRE(parsed->file != nullptr);
  return FormatFile(*parsed->file, parsed->sources.file(parsed->id), options);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool UpdateGolden() {
  const char* update = std::getenv("WARDEN_UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

std::vector<std::string> CommentTexts(const ast::File& file) {
  std::vector<std::string> texts;
  for (const ast::Comment& comment : file.comments) texts.push_back(comment.text);
  std::sort(texts.begin(), texts.end());
  return texts;
}

// The AST dump without positions and comments: what the file means.
std::string Shape(const Parsed& parsed) {
  std::istringstream dump(DumpAst(*parsed.file, parsed.sources.file(parsed.id)));
  std::string out;
  for (std::string line; std::getline(dump, line);) {
    if (line.find("  comment ") == 0) continue;
    out += line.substr(0, line.rfind(" @"));
    out += '\n';
  }
  return out;
}

// Formats `text` and checks that the result parses to the same AST, keeps
// every comment, and is a fixed point of the formatter.
void CheckRoundTrip(const std::string& text, const std::string& path) {
  INFO("file: ", path);
  auto original = Parse(text, path);
  if (original->file == nullptr) return;  // not a valid file: nothing to format
  std::string once = FormatFile(*original->file, original->sources.file(original->id));
  auto reparsed = Parse(once, path);
  INFO("formatted:\n", once);
  INFO(Diagnostics(*reparsed));
  REQUIRE(reparsed->file != nullptr);
  CHECK(Shape(*reparsed) == Shape(*original));
  CHECK(CommentTexts(*reparsed->file) == CommentTexts(*original->file));
  std::string twice = FormatFile(*reparsed->file, reparsed->sources.file(reparsed->id));
  CHECK(twice == once);
}

// ---------------------------------------------------------------- table-driven cases

struct Case {
  const char* name;
  const char* input;
  const char* expected;
};

const Case kCases[] = {
    {"package and imports", "package   a.b\nimport x.y   import z as w\nrole r",
     "package a.b\n\nimport x.y\nimport z as w\n\nrole r\n"},
    {"one-liners of one kind stay together",
     "package a\nrole a\nrole b extends a\nchallenge mfa\nchallenge otp\nconst x = 1\nconst y: int "
     "= 2",
     "package a\n\nrole a\nrole b extends a\n\nchallenge mfa\nchallenge otp\n\nconst x = 1\n"
     "const y: int = 2\n"},
    {"left associativity needs parentheses on the right",
     "package a\nconst x = a - (b - c) + (d + e) - f\nconst y = (a - b) - c",
     "package a\n\nconst x = a - (b - c) + (d + e) - f\nconst y = a - b - c\n"},
    {"precedence",
     "package a\nconst x = (a + b) * c\nconst y = a + (b * c)\nconst z = -(a + b)\n"
     "const w = (-a).b\nconst v = (a or b) and c\nconst u = not (a and b)\n"
     "const t = not (a == b)\nconst s = (not a) == b",
     "package a\n\nconst x = (a + b) * c\nconst y = a + b * c\nconst z = -(a + b)\n"
     "const w = (-a).b\nconst v = (a or b) and c\nconst u = not (a and b)\n"
     "const t = not a == b\nconst s = (not a) == b\n"},
    {"quantifiers as operands are parenthesized",
     "package a\nconst x = (any r in subject.roles: r == \"x\") and y\n"
     "const y = all r in s: r > 1 and r < 5\nconst z = not (any x in s: x)",
     "package a\n\nconst x = (any r in subject.roles: r == \"x\") and y\n"
     "const y = all r in s: r > 1 and r < 5\nconst z = not (any x in s: x)\n"},
    {"negative literals",
     "package a\nconst x = (-5).abs()\nconst y = a - -5\nconst z = - -5\nconst w = -2.50 * 3",
     "package a\n\nconst x = (-5).abs()\nconst y = a - -5\nconst z = - -5\nconst w = -2.50 * 3\n"},
    {"suffix operators",
     "package a\nconst x = (a has b) matches \"r\"\nconst y = (a in b) in c\nconst z = a in (b in "
     "c)\n"
     "const w = a not in [1, 2,]\nconst v = x has role a.b\nconst u = (a + b).c(d, e)",
     "package a\n\nconst x = (a has b) matches \"r\"\nconst y = a in b in c\nconst z = a in (b in "
     "c)\n"
     "const w = a not in [1, 2]\nconst v = x has role a.b\nconst u = (a + b).c(d, e)\n"},
    {"strings are re-escaped", "package a\nconst x = \"q\\\"b\\\\n\\n\\r\\t\\u{1}\\u{e9}\"",
     "package a\n\nconst x = \"q\\\"b\\\\n\\n\\r\\t\\u{1}\xc3\xa9\"\n"},
    {"literals as written", "package a\nconst x = 007 + 1.50 + 1h30m",
     "package a\n\nconst x = 007 + 1.50 + 1h30m\n"},
    {"rule on one line",
     "package a\npolicy p on doc { rule r : permit [read,write,] if a==b because \"why\" "
     "obligation log {level: 1,} advice hint {} advice x }",
     "package a\n\npolicy p on doc {\n  rule r: permit [read, write] if a == b\n"
     "      because \"why\"\n      obligation log { level: 1 }\n      advice hint {}\n"
     "      advice x\n}\n"},
    {"single-line rules group, multi-line rules stand apart",
     "package a\npolicy p on * combine first_applicable {\nrule a: permit *\nrule b: deny read\n"
     "rule c: deny read because \"x\"\nrule d: step_up mfa read\n}",
     "package a\n\npolicy p on * combine first_applicable {\n  rule a: permit *\n"
     "  rule b: deny read\n\n  rule c: deny read\n      because \"x\"\n\n"
     "  rule d: step_up mfa read\n}\n"},
    {"empty blocks", "package a\nschema {}\npolicy p on x {}\npolicyset s {}\njit j {}\nrisk r {}",
     "package a\n\nschema {}\n\npolicy p on x {}\n\npolicyset s {}\n\njit j {}\n\nrisk r {}\n"},
    {"jit clauses keep their order",
     "package a\njit j { requires mfa max 1h grants role a, b approvals 2 of role c }",
     "package a\n\njit j {\n  requires mfa\n  max 1h\n  grants role a, b\n  approvals 2 of role "
     "c\n}\n"},
    {"risk and limit",
     "package a\nrisk s { +30 if a -5 if b }\nlimit l: 5 per 1m by subject.id, resource.id",
     "package a\n\nrisk s {\n  +30 if a\n  -5 if b\n}\n\nlimit l: 5 per 1m by subject.id, "
     "resource.id\n"},
    {"def",
     "package a\ndef f(x: int, y: set<string>?): bool = x > 1\ndef g = true\ndef h(): int = 1",
     "package a\n\ndef f(x: int, y: set<string>?): bool = x > 1\ndef g = true\ndef h(): int = 1\n"},
    {"json keys",
     "package a\ntest \"t\" { given { \"a b\": 1, \"ok\": null, \"in\": true, x: -1.5 } expect "
     "permit }",
     "package a\n\ntest \"t\" {\n  given { \"a b\": 1, ok: null, \"in\": true, x: -1.5 }\n  expect "
     "permit\n}\n"},
    {"comments trail and lead",
     "// head\npackage a // pkg\n/* before */ role r /* after */ // end\n"
     "role s\n  // tail\n",
     "// head\npackage a  // pkg\n\n/* before */\nrole r  /* after */ // end\nrole s\n// tail\n"},
    {"a comment inside an empty block keeps it open",
     "package a\npolicy p on x {\n  // nothing yet\n}\n",
     "package a\n\npolicy p on x {\n  // nothing yet\n}\n"},
    {"a line comment inside a line moves above it", "package a\nconst x = [1, // one\n 2]\n",
     "package a\n\n// one\nconst x = [1, 2]\n"},
    // Invisible and direction-changing characters stay visible as escapes
    // ("Trojan Source"); ordinary non-ASCII text stays as it is.
    {"invisible characters in strings are escaped",
     "package a\nconst x = \"admin\\u{202E}\\u{200B}\\u{FEFF}é\"\n",
     "package a\n\nconst x = \"admin\\u{202E}\\u{200B}\\u{FEFF}é\"\n"},
};

TEST_CASE("formatting cases") {
  for (const Case& c : kCases) {
    SUBCASE(c.name) {
      std::string formatted = Format(c.input);
      CHECK(formatted == c.expected);
      CheckRoundTrip(c.input, c.name);
    }
  }
}

// `-(-5)` is a negation of the literal -5: it prints as `- -5`, stably.
TEST_CASE("a doubly negated literal prints stably") {
  std::string once = Format("package a\nconst x = -(-5)\nconst y = -(-(-2.5))\n");
  CHECK(once == "package a\n\nconst x = - -5\nconst y = - - -2.5\n");
  CHECK(Format(once) == once);
}

// Long left-deep chains are printed without recursion.
TEST_CASE("a long chain does not exhaust the stack") {
  std::string text = "package a\nconst x = a0";
  for (int i = 1; i < 500; ++i) text += " and a" + std::to_string(i);
  std::string once = Format(text);
  CHECK(once.size() > text.size());
  CHECK(Format(once) == once);
}

TEST_CASE("long conditions wrap at and/or") {
  std::string input =
      "package a\npolicy p on doc {\n"
      "rule r: permit read if subject.department == resource.department and "
      "resource.status == \"published\" and (subject.level >= 3 or resource.public)\n}\n";
  std::string expected =
      "package a\n\npolicy p on doc {\n"
      "  rule r: permit read if subject.department == resource.department\n"
      "      and resource.status == \"published\"\n"
      "      and (subject.level >= 3 or resource.public)\n}\n";
  CHECK(Format(input) == expected);

  FormatOptions narrow;
  narrow.max_line_width = 40;
  std::string nested = "package a\nconst x = 1\ndef d = a or b and c and d\n";
  CHECK(Format(nested, narrow) == "package a\n\nconst x = 1\n\ndef d = a or b and c and d\n");
  narrow.max_line_width = 19;
  CHECK(Format(nested, narrow) == "package a\n\nconst x = 1\n\ndef d =\n  a\n  or b and c and d\n");
  narrow.max_line_width = 12;
  CHECK(Format(nested, narrow) ==
        "package a\n\nconst x = 1\n\ndef d =\n  a\n  or b\n      and c\n      and d\n");
}

// Token boundaries outside strings and comments: places where a comment
// may be inserted without changing the file's meaning.
std::vector<size_t> TokenBoundaries(const std::string& text) {
  std::vector<size_t> out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
      size_t end = text[i + 1] == '/' ? text.find('\n', i) : text.find("*/", i + 2);
      if (end == std::string::npos) break;
      i = end;
    } else if ((c == ' ' || c == '\n') && i > 0 && text[i - 1] != ' ' && text[i - 1] != '\n') {
      out.push_back(i);
    }
  }
  return out;
}

// A comment of each kind at every token boundary of the golden inputs: the
// formatter must keep it, stay idempotent and not change the AST.
TEST_CASE("a comment anywhere survives formatting") {
  fs::path dir = fs::path(WARDEN_SOURCE_DIR) / "tests" / "golden" / "fmt";
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().ends_with(".input.warden")) {
      inputs.push_back(entry.path());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& input : inputs) {
    std::string text = ReadFile(input);
    for (size_t at : TokenBoundaries(text)) {
      for (const char* comment : {" /* x */ ", " // x\n", "\n\n/* a\nb */\n\n"}) {
        std::string edited = text;
        edited.insert(at, comment);
        CheckRoundTrip(edited, absl::StrCat(input.filename().string(), " +", at));
      }
    }
  }
}

// ---------------------------------------------------------------- golden files

fs::path SourceDir() { return fs::path(WARDEN_SOURCE_DIR); }

TEST_CASE("golden files") {
  fs::path dir = SourceDir() / "tests" / "golden" / "fmt";
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".input.warden")) inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  CHECK(inputs.size() >= 6);
  for (const fs::path& input : inputs) {
    std::string name = input.filename().string();
    name.resize(name.size() - std::string(".input.warden").size());
    fs::path expected_path = dir / (name + ".expected.warden");
    INFO("golden: ", name);
    std::string formatted = Format(ReadFile(input));
    if (UpdateGolden()) {
      WriteFile(expected_path, formatted);
      continue;
    }
    REQUIRE(fs::exists(expected_path));
    CHECK(formatted == ReadFile(expected_path));
  }
}

// ---------------------------------------------------------------- every file in the repository

TEST_CASE("formatting is idempotent and keeps every comment") {
  std::vector<fs::path> files;
  for (const char* root : {"examples", "stdlib-policies", "tests", "docs"}) {
    fs::path dir = SourceDir() / root;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".warden") {
        files.push_back(entry.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  CHECK(!files.empty());
  for (const fs::path& path : files) CheckRoundTrip(ReadFile(path), path.string());
}

}  // namespace
}  // namespace warden
