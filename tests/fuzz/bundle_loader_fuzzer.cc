// libFuzzer target: arbitrary bytes through the bundle loader, the verifier
// and, when they accept, the engine deciding an empty and a default request.
// Any crash, sanitizer report or hang is a bug: a hostile bundle must be
// rejected with a Status, and a verified one must run safely.
//
// The first byte picks the mode, so the fuzzer gets past the checksum:
//   0  the rest is a whole bundle file, as read from disk
//   1  the rest is bundle content: a header with its SHA-256 is prepended
//   2  the rest is a .warden source: compile it, then load the bundle
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/driver.h"
#include "runtime/bytecode/bundle.h"
#include "warden/engine.h"

namespace {

std::string Seal(std::string_view content) {
  warden::bc::Program empty;
  std::string bundle = warden::bc::WriteBundle(empty);
  bundle.resize(warden::bc::kBundleHeaderSize);
  uint64_t size = content.size();
  for (int i = 0; i < 8; ++i) bundle[16 + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  bundle.append(content);
  warden::bc::ResealBundle(&bundle);
  return bundle;
}

void Exercise(std::string_view bundle) {
  warden::EngineOptions options;
  options.allow_missing_data = true;
  options.limits.max_bundle_bytes = 1 << 20;
  options.limits.max_table_entries = 1 << 16;
  options.limits.max_code = 1 << 16;
  options.vm.max_loop_iterations = 1 << 12;
  auto engine = warden::Engine::FromBundle(bundle, options);
  if (!engine.ok()) return;
  warden::rt::Frame frame = (*engine)->NewFrame();
  warden::Decision decision;
  (*engine)->Decide(frame, &decision);
  for (int type = -1; type < 2; ++type) {
    frame.set_resource_type(type);
    frame.set_action(type);
    (*engine)->Decide(frame, &decision);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      Exercise(rest);
      break;
    case 1:
      Exercise(Seal(rest));
      break;
    default: {
      warden::BuildOptions options;
      options.compile.parser.max_file_bytes = 64 * 1024;
      auto bundle = warden::CompileToBundle(
                        warden::PolicySources::Texts({{"fuzz.warden", std::string(rest)}}), options)
                        .Bytes();
      if (!bundle.ok()) return 0;
      Exercise(*bundle);
    }
  }
  return 0;
}
