// The driver's last step: policy sources -> a loaded warden::Engine.
//
// CompileToBundle (driver.h) runs passes 1-7; CompileToEngine then loads the
// program as Engine::FromProgram does (verified like any bundle). It lives
// in its own target, warden_driver, because it links the runtime: the
// compiler itself only emits the bytecode format and never links the runtime.
#ifndef WARDEN_COMPILER_DRIVER_ENGINE_H_
#define WARDEN_COMPILER_DRIVER_ENGINE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "compiler/driver.h"
#include "warden/engine.h"

namespace warden {

struct EngineBuild {
  // As BundleBuild::compilation: null only when the inputs could not be read.
  std::unique_ptr<Compilation> compilation;
  // The loaded engine. Errors: every error of BundleBuild::program, then the
  // engine's own (EngineOptions: data, limits).
  absl::StatusOr<std::unique_ptr<Engine>> engine = absl::UnknownError("not built");
  // The error is the engine's own (loading the program with EngineOptions:
  // data, limits), not one of the driver's passes.
  bool load_failed = false;
};

// Runs every pass of the driver and loads the program. Never throws.
EngineBuild CompileToEngine(const PolicySources& sources, const BuildOptions& options = {},
                            EngineOptions engine_options = {});

}  // namespace warden

#endif  // WARDEN_COMPILER_DRIVER_ENGINE_H_
