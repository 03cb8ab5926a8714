// Examples in the docs are the files the tests build and run: this keeps the
// copies in the docs identical to them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/builtin_attributes.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"
#include "runtime/bytecode/combining.h"
#include "runtime/bytecode/opcodes.h"

namespace {

std::string Read(const std::string& relative) {
  std::ifstream in(std::string(WARDEN_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST_CASE("docs/embedding.md shows the embedding example and its output verbatim") {
  std::string doc = Read("docs/embedding.md");
  std::string code = Read("docs/examples/embed.cc");
  std::string expected = Read("docs/examples/embed.expected");
  REQUIRE(!code.empty());
  REQUIRE(!expected.empty());
  CHECK(doc.find("```cpp\n" + code + "```") != std::string::npos);
  CHECK(doc.find("```\n" + expected + "```") != std::string::npos);
}

}  // namespace

namespace {

TEST_CASE("docs/bytecode.md lists every opcode with its number and meaning") {
  std::string doc = Read("docs/bytecode.md");
  for (int i = 0; i < warden::bc::kOpCount; ++i) {
    const warden::bc::OpInfo& info = warden::bc::kOpInfo[i];
    std::string meaning = info.meaning;
    // Table cells escape `|`.
    for (size_t at = meaning.find('|'); at != std::string::npos; at = meaning.find('|', at + 2)) {
      meaning.insert(at, "\\");
    }
    CHECK_MESSAGE(
        doc.find("| " + std::to_string(i) + " | `" + info.name + "` |") != std::string::npos,
        info.name);
    CHECK_MESSAGE(doc.find(meaning) != std::string::npos, info.name);
  }
}

}  // namespace

namespace {

// Every ```warden block of docs/*.md that is a whole package compiles without
// errors. Fragments (a rule, an import line) are shown in context and skipped;
// so is the built-in schema written out for reference (redeclaring built-ins
// is an error by design).
TEST_CASE("docs: every ```warden package compiles") {
  std::vector<std::string> docs;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(WARDEN_SOURCE_DIR) + "/docs")) {
    if (entry.path().extension() == ".md") docs.push_back(entry.path().filename().string());
  }
  std::sort(docs.begin(), docs.end());
  warden::CompileOptions options;
  options.stdlib_dir = std::string(WARDEN_SOURCE_DIR) + "/stdlib-policies";
  int compiled = 0;
  for (const std::string& name : docs) {
    std::string doc = Read("docs/" + name);
    const std::string open = "```warden\n";
    for (size_t at = doc.find(open); at != std::string::npos; at = doc.find(open, at + 1)) {
      size_t begin = at + open.size();
      size_t end = doc.find("```", begin);
      REQUIRE(end != std::string::npos);
      std::string block = doc.substr(begin, end - begin);
      if (block.rfind("package ", 0) != 0 || block.rfind("package builtin.reference", 0) == 0)
        continue;
      CAPTURE(name);
      CAPTURE(block);
      auto compilation = warden::CompileSources({{"doc.warden", block}}, options);
      std::string errors;
      for (const warden::Diagnostic& d : compilation->diagnostics.Sorted()) {
        if (d.severity == warden::Severity::kError)
          errors += warden::RenderText(d, compilation->sources);
      }
      CHECK_MESSAGE(errors.empty(), errors);
      ++compiled;
    }
  }
  CHECK(compiled >= 10);
}

}  // namespace

namespace {

// The text of the section of `doc` that starts with `heading`, up to the next
// heading of the same level.
std::string Section(const std::string& doc, const std::string& heading) {
  size_t begin = doc.find("\n" + heading + "\n");
  if (begin == std::string::npos) return "";
  std::string level = heading.substr(0, heading.find(' ') + 1);
  size_t end = doc.find("\n" + level, begin + heading.size() + 1);
  return doc.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// The table row of `section` whose first cell starts with `cell`, or "".
std::string Row(const std::string& section, const std::string& cell) {
  size_t at = section.find("\n| " + cell);
  if (at == std::string::npos) return "";
  size_t end = section.find('\n', at + 1);
  return section.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
}

TEST_CASE("docs/language.md lists every combining algorithm with its meaning") {
  std::string section = Section(Read("docs/language.md"), "## Combining algorithms");
  REQUIRE(!section.empty());
  for (const warden::bc::AlgorithmInfo& info : warden::bc::kAlgorithmInfo) {
    std::string row = Row(section, std::string("`") + info.keyword + "`");
    CAPTURE(info.keyword);
    CHECK(!row.empty());
    CHECK(row.find(info.meaning) != std::string::npos);
  }
}

}  // namespace

namespace {

TEST_CASE("docs/language.md lists every builtin with its meaning") {
  std::string section = Section(Read("docs/language.md"), "## Functions and methods");
  REQUIRE(!section.empty());
  for (const warden::bc::BuiltinInfo& info : warden::bc::kBuiltinInfo) {
    std::string row = Row(section, std::string("`") + info.usage + "` |");
    CAPTURE(info.usage);
    CHECK(!row.empty());
    CHECK(row.find(info.meaning) != std::string::npos);
  }
}

}  // namespace

namespace {

// How docs/language.md's built-in schema spells an attribute's type.
std::string Spelling(const warden::BuiltinAttribute& attribute) {
  using T = warden::BuiltinType;
  static const std::map<T, std::string> kSpelling = {
      {T::kBool, "bool"},
      {T::kInt, "int"},
      {T::kDecimal, "decimal"},
      {T::kString, "string"},
      {T::kDuration, "duration"},
      {T::kTimestamp, "timestamp"},
      {T::kIp, "ip"},
      {T::kStrings, "set<string>"},
      {T::kRecord, "{"},
      {T::kAuthKind, "enum { none, token, api_key }"}};
  return kSpelling.at(attribute.type) + (attribute.optional ? "?" : "");
}

TEST_CASE("docs/language.md's built-in schema lists every built-in attribute with its type") {
  const std::string section = Section(Read("docs/language.md"), "### Built-in schema");
  const size_t begin = section.find("package builtin.reference");
  REQUIRE(begin != std::string::npos);
  const std::string block = section.substr(begin, section.find("```", begin) - begin);
  for (const warden::BuiltinAttribute& attribute : warden::kBuiltinAttributes) {
    const std::string field = std::string(attribute.name) + ": " + Spelling(attribute);
    CAPTURE(attribute.record);
    CAPTURE(field);
    // Under its record: the record's last dotted part opens before the field.
    const std::string record(attribute.record);
    const std::string opener = record.substr(record.rfind('.') + 1) +
                               (record.find('.') == std::string::npos ? " {" : ": {");
    const size_t opened = block.find(opener);
    REQUIRE(opened != std::string::npos);
    CHECK(block.find(field, opened) != std::string::npos);
  }
}

}  // namespace
