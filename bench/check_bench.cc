// Checking speed: 10,000 rules spread over 100 files, parsed, checked and
// linted (issue target: under 2 s on a 2-core machine).
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/policy_generator.h"
#include "compiler/driver.h"

namespace {

using warden::bench::MakeSources;

void BM_Check10kRulesIn100Files(benchmark::State& state) {
  auto sources = MakeSources(100, 100);
  size_t bytes = 0;
  for (const auto& [path, text] : sources) bytes += text.size();
  for (auto _ : state) {
    auto compilation = warden::CompileSources(sources);
    if (compilation->program == nullptr || compilation->program->policies.size() != 100) {
      state.SkipWithError("the generated policies did not check clean");
      break;
    }
    benchmark::DoNotOptimize(compilation);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["rules"] = 10000;
}
BENCHMARK(BM_Check10kRulesIn100Files)->Unit(benchmark::kMillisecond)->MinTime(5.0);

}  // namespace
