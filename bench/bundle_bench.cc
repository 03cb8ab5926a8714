// Bundle speed: compiling 10,000 rules into a bundle (parse, check, lint,
// codegen, serialise; target under 2 s) and loading a 100,000-rule bundle
// (read, verify, build the engine's indexes; target under 200 ms).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/policy_generator.h"
#include "compiler/driver.h"
#include "runtime/bytecode/bundle.h"
#include "warden/engine.h"

namespace {

std::string BuildBundle(int files, int rules_per_file) {
  auto bundle = warden::CompileToBundle(
                    warden::PolicySources::Texts(warden::bench::MakeSources(files, rules_per_file)))
                    .Bytes();
  return bundle.ok() ? *std::move(bundle) : std::string();
}

void BM_Compile10kRulesToBundle(benchmark::State& state) {
  auto sources = warden::bench::MakeSources(100, 100);
  size_t bundle_bytes = 0;
  for (auto _ : state) {
    warden::BundleBuild build = warden::CompileToBundle(warden::PolicySources::Texts(sources));
    if (build.compilation->program == nullptr) {
      state.SkipWithError("the generated policies did not check clean");
      break;
    }
    if (!build.program.ok()) {
      state.SkipWithError(build.program.status().ToString().c_str());
      break;
    }
    std::string bundle = warden::bc::WriteBundle(*build.program);
    bundle_bytes = bundle.size();
    benchmark::DoNotOptimize(bundle);
  }
  state.counters["rules"] = 10000;
  state.counters["bundle_bytes"] = static_cast<double>(bundle_bytes);
}
BENCHMARK(BM_Compile10kRulesToBundle)->Unit(benchmark::kMillisecond)->MinTime(5.0);

void BM_Load100kRuleBundle(benchmark::State& state) {
  static const std::string* const bundle = new std::string(BuildBundle(1000, 100));
  if (bundle->empty()) {
    state.SkipWithError("could not build the 100,000-rule bundle");
    return;
  }
  for (auto _ : state) {
    auto engine = warden::Engine::FromBundle(*bundle);
    if (!engine.ok()) {
      state.SkipWithError(engine.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(engine);
  }
  state.counters["rules"] = 100000;
  state.counters["bundle_bytes"] = static_cast<double>(bundle->size());
}
BENCHMARK(BM_Load100kRuleBundle)->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
