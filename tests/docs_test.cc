// Examples in the docs are the files the tests build and run: this keeps the
// copies in the docs identical to them.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "compiler/bytecode/opcodes.h"

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
