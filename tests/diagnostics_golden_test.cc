// Golden files for diagnostics: every tests/golden/diagnostics/NAME.warden is
// compiled on its own and its rendered diagnostics must equal NAME.expected.
// WARDEN_UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/driver.h"
#include "tests/test_support.h"

namespace warden {
namespace {

namespace fs = std::filesystem;

TEST_CASE("diagnostic golden files") {
  fs::path dir = fs::path(WARDEN_SOURCE_DIR) / "tests" / "golden" / "diagnostics";
  bool update = std::getenv("WARDEN_UPDATE_GOLDEN") != nullptr;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".warden") continue;
    std::string name = entry.path().filename().string();
    auto compilation = CompileSources({{name, testing::ReadFile(entry.path())}});
    std::string rendered;
    for (const Diagnostic& d : compilation->diagnostics.Sorted())
      rendered += RenderText(d, compilation->sources);
    fs::path expected = entry.path();
    expected.replace_extension(".expected");
    if (update) {
      std::ofstream(expected, std::ios::binary) << rendered;
    } else {
      INFO("golden: ", name);
      CHECK(rendered == testing::ReadFile(expected));
    }
    CHECK_MESSAGE(!rendered.empty(), name, " should produce diagnostics");
    ++checked;
  }
  CHECK(checked >= 6);
}

}  // namespace
}  // namespace warden
