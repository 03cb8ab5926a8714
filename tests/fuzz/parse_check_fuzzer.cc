// libFuzzer target: arbitrary bytes as a .warden file through parse, check
// and lints. Any crash, sanitizer report, hang or exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::CompileOptions options;
  options.parser.max_file_bytes = 64 * 1024;
  auto compilation = warden::CompileSources(
      {{"fuzz.warden", std::string(reinterpret_cast<const char*>(data), size)}}, options);
  for (const auto& diagnostic : compilation->diagnostics.Sorted()) {
    (void)warden::RenderText(diagnostic, compilation->sources);
  }
  return 0;
}
