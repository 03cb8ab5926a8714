// libFuzzer target: arbitrary bytes as a JSON request, decoded by the VM's
// decoder (runtime/request_decoder.h) for the payments example and decided,
// leniently and strictly, with one long-lived session each (as a server
// reuses them). Any crash, sanitizer report or hang is a bug: every input
// must end in a decision or a structured request error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "compiler/codegen.h"
#include "compiler/driver.h"
#include "warden/engine.h"

namespace {

struct State {
  std::unique_ptr<warden::Engine> engine;
  std::unique_ptr<warden::JsonSession> lenient;
  std::unique_ptr<warden::JsonSession> strict;
};

State* Build() {
  auto* state = new State;
  auto compilation = warden::CompilePaths({std::string(WARDEN_SOURCE_DIR) + "/examples/payments"});
  if (!compilation.ok() || (*compilation)->program == nullptr) std::abort();
  auto program = warden::GenerateBytecode(*(*compilation)->program, (*compilation)->sources);
  if (!program.ok()) std::abort();
  warden::EngineOptions options;
  options.allow_missing_data = true;
  auto engine = warden::Engine::FromProgram(std::move(*program), std::move(options));
  if (!engine.ok()) std::abort();
  state->engine = std::move(*engine);
  warden::rt::DecoderOptions lenient;
  lenient.now_millis = 1772445600000;
  lenient.max_depth = 16;
  lenient.max_set_elements = 256;
  warden::rt::DecoderOptions strict = lenient;
  strict.strict = true;
  state->lenient = std::make_unique<warden::JsonSession>(*state->engine, lenient);
  state->strict = std::make_unique<warden::JsonSession>(*state->engine, strict);
  return state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static State* state = Build();
  std::string_view json(reinterpret_cast<const char*>(data), size);
  warden::Decision decision;
  bool ok = state->engine->DecideJson(json, *state->lenient, &decision);
  if (!ok && decision.outcome != warden::rt::Outcome::kDeny) std::abort();  // fail closed
  if (!ok && state->lenient->errors().empty()) std::abort();
  bool strict_ok = state->engine->DecideJson(json, *state->strict, &decision);
  if (strict_ok && !ok) std::abort();  // strict accepts less
  return 0;
}
