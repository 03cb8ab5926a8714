#include "compiler/driver_engine.h"

#include <utility>

namespace warden {

EngineBuild CompileToEngine(const PolicySources& sources, const BuildOptions& options,
                            EngineOptions engine_options) {
  BundleBuild bundle = CompileToBundle(sources, options);
  EngineBuild build;
  build.compilation = std::move(bundle.compilation);
  if (!bundle.program.ok()) {
    build.engine = bundle.program.status();
    return build;
  }
  build.engine = Engine::FromProgram(*std::move(bundle.program), std::move(engine_options));
  build.load_failed = !build.engine.ok();
  return build;
}

}  // namespace warden
