// The server's Prometheus metrics (GET /metrics; docs/api.md, "Metrics").
//
// Each request thread owns a WorkerMetrics and is its only writer, so the
// hot path does plain relaxed increments without contention; the renderer
// sums the workers. Per-policy counts sit behind the worker's own mutex,
// which nobody else holds except while rendering.
#ifndef WARDEN_RUNTIME_SERVER_METRICS_H_
#define WARDEN_RUNTIME_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "runtime/audit/audit_log.h"
#include "runtime/decision.h"
#include "runtime/server/policy_store.h"

namespace warden::server {

// Latency buckets' upper bounds, in microseconds.
inline constexpr std::array<uint64_t, 14> kLatencyBucketsMicros = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};

class WorkerMetrics {
 public:
  void CountDecision(rt::Outcome outcome, absl::string_view policy);
  void CountError(absl::string_view code);
  void ObserveLatency(uint64_t nanos);
  void CountRequest() { Add(requests_, 1); }

 private:
  friend class Metrics;
  static void Add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, 4> by_outcome_{};  // indexed by rt::Outcome
  std::array<std::atomic<uint64_t>, kLatencyBucketsMicros.size() + 1> latency_{};
  std::atomic<uint64_t> latency_sum_nanos_{0};
  std::atomic<uint64_t> requests_{0};
  std::mutex mutex_;  // guards the maps
  absl::flat_hash_map<std::string, std::array<uint64_t, 4>> by_policy_;
  absl::flat_hash_map<std::string, uint64_t> errors_;
};

class Metrics {
 public:
  // A new worker's metrics; stays valid for the Metrics' lifetime.
  WorkerMetrics& AddWorker();

  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused_peer{0};
  std::atomic<uint64_t> connections_refused_limit{0};
  std::atomic<uint64_t> timeouts_total{0};
  std::atomic<uint64_t> audit_lines{0};

  // The Prometheus text exposition (version 0.0.4). `audit`: the audit
  // log's stats; null when there is no audit log.
  std::string Render(const LoadedPolicies* current, const ReloadStatus& reloads,
                     const audit::AuditStats* audit = nullptr) const;

 private:
  mutable std::mutex mutex_;  // guards workers_ (the list, not their counters)
  std::deque<WorkerMetrics> workers_;
};

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_METRICS_H_
