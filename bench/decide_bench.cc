// Decision speed: the examples' payment policies with the request already
// in a frame, and flat scaling as unrelated policies are added.
//
//   cmake -S . -B build/vmrel -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARDEN_WERROR=ON
//   cmake --build build/vmrel --target decide_bench
//   ./build/vmrel/bench/decide_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
//
// A counting global operator new reports heap allocations per decision as
// the `allocs/decision` counter (the target is 0).
//
// BM_DecodeAndDecidePayments: the same request as a ~600-byte JSON text,
// decoded by the VM's decoder (runtime/request_decoder.h) and decided;
// BM_DecodePayments: the decoding alone (target for both: <= 2 us).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "runtime/request_decoder.h"
#include "warden/engine.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace warden {
namespace {

std::string ReadExample(const std::string& path) {
  auto files = CollectWardenFiles({std::string(WARDEN_SOURCE_DIR) + "/" + path});
  std::string text;
  if (!files.ok() || files->empty()) return text;
  FILE* f = std::fopen((*files)[0].c_str(), "rb");
  if (f == nullptr) return text;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) text.append(buffer, n);
  std::fclose(f);
  return text;
}

// The payments example plus `extra` policies on 100 other resource types.
std::unique_ptr<Engine> Build(int extra) {
  std::vector<std::pair<std::string, std::string>> sources;
  sources.emplace_back("payments.warden", ReadExample("examples/payments/payments.warden"));
  if (extra > 0) {
    std::string schema = "package acme.other\nschema {\n";
    for (int t = 0; t < 100; ++t)
      absl::StrAppend(&schema, "  resource other", t, " { owner: string }\n");
    absl::StrAppend(&schema, "  actions { read, write }\n}\n");
    sources.emplace_back("other_schema.warden", schema);
    for (int start = 0; start < extra; start += 10000) {
      std::string text = "package acme.other\n";
      for (int i = start; i < std::min(extra, start + 10000); ++i) {
        absl::StrAppend(&text, "policy p", i, " on other", i % 100, " { rule r", i,
                        ": permit read if resource.owner == subject.id }\n");
      }
      sources.emplace_back(absl::StrCat("other", start, ".warden"), text);
    }
  }
  BuildOptions options;
  options.compile.run_lints = false;
  EngineOptions engine_options;
  engine_options.data.emplace_back("sanctioned_countries",
                                   DataValue::List({DataValue::String("KP")}));
  engine_options.data.emplace_back("blocked_networks",
                                   DataValue::List({DataValue::String("203.0.113.0/24")}));
  EngineBuild build =
      CompileToEngine(PolicySources::Texts(std::move(sources)), options, std::move(engine_options));
  if (build.compilation->program == nullptr) {
    std::fprintf(stderr, "the benchmark's policies do not compile\n");
    std::abort();
  }
  if (!build.engine.ok()) std::abort();
  return *std::move(build.engine);
}

// "approver approves within their limit": 19 candidate rules, a permit
// with an obligation, a risk score.
void Fill(const Engine& e, rt::Frame& f) {
  const bc::Program& p = e.program();
  auto slot = [&](const char* path) { return static_cast<uint32_t>(e.SlotOf(path)); };
  f.set_now_millis(1772445600000);
  f.set_action(p.FindAction("approve"));
  f.set_resource_type(p.FindResourceType("payment"));
  f.SetString(slot("resource.type"), "payment");
  f.SetString(slot("resource.id"), "p-5");
  f.SetString(slot("subject.id"), "anna");
  f.SetStringSet(slot("subject.roles"), {"payment_approver"});
  f.SetString(slot("subject.department"), "ops");
  f.SetInt(slot("subject.auth.auth_age"), 10 * 60 * 1000);
  f.SetInt(slot("resource.payment.amount"), 800 * 10000);
  f.SetString(slot("resource.payment.department"), "ops");
  f.SetString(slot("resource.payment.created_by"), "carl");
  f.SetInt(slot("resource.payment.status"), 1);  // pending
  f.SetString(slot("resource.payment.beneficiary_country"), "FR");
  f.SetString(slot("resource.payment.beneficiary_iban"), "FR7630006000011234567890189");
  bc::IpNet ip;
  ip.bytes[0] = 198;
  ip.bytes[1] = 51;
  ip.bytes[2] = 100;
  ip.bytes[3] = 20;
  ip.prefix = 32;
  f.SetIp(slot("context.ip"), ip);
  f.SetBool(slot("context.device.known"), true);
}

void RunDecisions(benchmark::State& state, const Engine& engine) {
  rt::Frame frame = engine.NewFrame();
  Fill(engine, frame);
  Decision decision;
  engine.Decide(frame, &decision);  // warm the thread's scratch memory and the decision
  if (decision.outcome != rt::Outcome::kPermit) state.SkipWithError("expected permit");
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    engine.Decide(frame, &decision);
    benchmark::DoNotOptimize(decision.outcome);
  }
  uint64_t allocations = g_allocations.load() - before;
  state.counters["allocs/decision"] = benchmark::Counter(static_cast<double>(allocations) /
                                                         static_cast<double>(state.iterations()));
}

void BM_DecidePayments(benchmark::State& state) {
  static std::unique_ptr<Engine> engine = Build(0);
  RunDecisions(state, *engine);
}
BENCHMARK(BM_DecidePayments);

void BM_DecideWithUnrelatedPolicies(benchmark::State& state) {
  static std::vector<std::pair<int, std::unique_ptr<Engine>>> engines;
  int extra = static_cast<int>(state.range(0));
  const Engine* engine = nullptr;
  for (auto& [n, e] : engines) {
    if (n == extra) engine = e.get();
  }
  if (engine == nullptr) {
    engines.emplace_back(extra, Build(extra));
    engine = engines.back().second.get();
  }
  RunDecisions(state, *engine);
}
BENCHMARK(BM_DecideWithUnrelatedPolicies)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000);

// The request of Fill() as JSON, padded with realistic extra context to ~600 bytes.
const char* kPaymentsJson = R"({
  "subject": {"id": "anna", "roles": ["payment_approver"], "department": "ops",
              "auth": {"mfa": false, "auth_age": "10m", "methods": ["pwd"]}},
  "action": "approve",
  "resource": {"type": "payment", "id": "p-5", "amount": 800.00, "department": "ops",
               "created_by": "carl", "status": "pending", "beneficiary_country": "FR",
               "beneficiary_iban": "FR7630006000011234567890189"},
  "context": {"ip": "198.51.100.20", "time": "2026-03-02T10:00:00Z",
              "device": {"id": "laptop-4471", "known": true},
              "geo": {"country": "FR", "impossible_travel": false},
              "network": {"anonymous": false, "tor": false}}
})";

void BM_DecodeAndDecidePayments(benchmark::State& state) {
  static std::unique_ptr<Engine> engine = Build(0);
  JsonSession session(*engine);
  Decision decision;
  std::string_view json = kPaymentsJson;
  if (!engine->DecideJson(json, session, &decision) || decision.outcome != rt::Outcome::kPermit) {
    state.SkipWithError("expected permit");
    return;
  }
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    engine->DecideJson(json, session, &decision);
    benchmark::DoNotOptimize(decision.outcome);
  }
  uint64_t allocations = g_allocations.load() - before;
  state.counters["allocs/request"] = benchmark::Counter(static_cast<double>(allocations) /
                                                        static_cast<double>(state.iterations()));
  state.counters["bytes"] = static_cast<double>(json.size());
}
BENCHMARK(BM_DecodeAndDecidePayments);

void BM_DecodePayments(benchmark::State& state) {
  static std::unique_ptr<Engine> engine = Build(0);
  JsonSession session(*engine);
  std::string_view json = kPaymentsJson;
  if (!session.decoder().Decode(json, &session.frame())) {
    state.SkipWithError("the request does not decode");
    return;
  }
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    bool ok = session.decoder().Decode(json, &session.frame());
    benchmark::DoNotOptimize(ok);
  }
  uint64_t allocations = g_allocations.load() - before;
  state.counters["allocs/request"] = benchmark::Counter(static_cast<double>(allocations) /
                                                        static_cast<double>(state.iterations()));
  state.counters["bytes"] = static_cast<double>(json.size());
}
BENCHMARK(BM_DecodePayments);

}  // namespace
}  // namespace warden
