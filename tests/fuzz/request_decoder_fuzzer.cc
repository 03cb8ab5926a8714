// libFuzzer target: arbitrary bytes as a JSON request, decoded by the VM's
// decoder (runtime/request_decoder.h) for the payments example and for
// tests/conformance/records.warden (sets of records with nested records and
// sets) and decided, leniently and strictly, with one long-lived session each
// (as a server reuses them). Any crash, sanitizer report or hang is a bug: every input
// must end in a decision or a structured request error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "warden/engine.h"

namespace {

struct Target {
  std::unique_ptr<warden::Engine> engine;
  std::unique_ptr<warden::JsonSession> lenient;
  std::unique_ptr<warden::JsonSession> strict;
};

Target Build(const std::string& path) {
  Target target;
  warden::EngineOptions options;
  options.allow_missing_data = true;
  warden::EngineBuild build =
      warden::CompileToEngine(warden::PolicySources::Paths({std::string(WARDEN_SOURCE_DIR) + path}),
                              {}, std::move(options));
  if (!build.engine.ok()) std::abort();
  target.engine = *std::move(build.engine);
  warden::rt::DecoderOptions lenient;
  lenient.now_millis = 1772445600000;
  lenient.max_depth = 16;
  lenient.max_set_elements = 256;
  warden::rt::DecoderOptions strict = lenient;
  strict.strict = true;
  target.lenient = std::make_unique<warden::JsonSession>(*target.engine, lenient);
  target.strict = std::make_unique<warden::JsonSession>(*target.engine, strict);
  return target;
}

void Exercise(Target& target, std::string_view json) {
  warden::Decision decision;
  bool ok = target.engine->DecideJson(json, *target.lenient, &decision);
  if (!ok && decision.outcome != warden::rt::Outcome::kDeny) std::abort();  // fail closed
  if (!ok && target.lenient->errors().empty()) std::abort();
  bool strict_ok = target.engine->DecideJson(json, *target.strict, &decision);
  if (strict_ok && !ok) std::abort();  // strict accepts less
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Target* payments = new Target(Build("/examples/payments"));
  static Target* records = new Target(Build("/tests/conformance/records.warden"));
  std::string_view json(reinterpret_cast<const char*>(data), size);
  Exercise(*payments, json);
  Exercise(*records, json);
  return 0;
}
