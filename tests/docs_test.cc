// Examples in the docs are the files the tests build and run: this keeps the
// copies in the docs identical to them.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

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
