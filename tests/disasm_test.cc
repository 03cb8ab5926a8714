// The disassembler: a golden listing of one representative bundle.
//
// tests/golden/disasm/representative.warden is compiled as `warden compile`
// does, written as a bundle, read back, and its listing compared byte for
// byte with representative.disasm. After a deliberate change to the
// listing, the code generator or the bundle format, regenerate it with
//   WARDEN_UPDATE_GOLDEN=1 ./build/release/tests/disasm_test
// and review the diff of the .disasm file like code.
#include "runtime/bytecode/disasm.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/driver.h"
#include "runtime/bytecode/bundle.h"
#include "tests/test_support.h"

namespace warden {
namespace {

namespace fs = std::filesystem;

TEST_CASE("disassembler golden file: a representative bundle") {
  const fs::path dir = fs::path(WARDEN_SOURCE_DIR) / "tests" / "golden" / "disasm";
  const fs::path source = dir / "representative.warden";
  const fs::path golden = dir / "representative.disasm";
  REQUIRE_MESSAGE(fs::exists(source), source.string(), " is missing");
  // Compiled under its file name alone, so the listing does not depend on
  // where the tree is checked out.
  BundleBuild build =
      CompileToBundle(PolicySources::Texts({{"representative.warden", testing::ReadFile(source)}}));
  REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
  REQUIRE(build.compilation->diagnostics.Sorted().empty());  // clean, lints included
  absl::StatusOr<std::string> bytes = build.Bytes();
  REQUIRE(bytes.ok());
  auto loaded = bc::ReadBundle(*bytes);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
  const std::string listing = bc::Disassemble(*loaded);
  CHECK(listing == bc::Disassemble(*build.program));  // the bundle keeps everything listed

  const char* update = std::getenv("WARDEN_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(golden, std::ios::binary) << listing;
    MESSAGE("rewrote ", golden.string(), ": review the diff");
    return;
  }
  REQUIRE_MESSAGE(fs::exists(golden), golden.string(),
                  " is missing: run with WARDEN_UPDATE_GOLDEN=1 to write it");
  const std::string expected = testing::ReadFile(golden);
  if (listing != expected) {
    // The first differing line, to read before the whole diff.
    size_t at = 0;
    while (at < listing.size() && at < expected.size() && listing[at] == expected[at]) ++at;
    size_t line_start = expected.rfind('\n', at == 0 ? 0 : at - 1);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    INFO("first difference near: ", expected.substr(line_start, 120));
    CHECK(listing == expected);
  }
  // The golden covers what it claims to: the tables and code of this bundle.
  for (const char* part : {"attributes:", "record shapes:", "constants:", "roles:", "risk signin:",
                           "FORNEXT", "MATCH", "HOUR", "WEEKDAY", "FIELD", "LIMEXC"}) {
    CHECK_MESSAGE(expected.find(part) != std::string::npos, part);
  }
}

}  // namespace
}  // namespace warden
