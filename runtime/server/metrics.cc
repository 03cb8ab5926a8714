// Prometheus text rendering of the server's metrics.
#include "runtime/server/metrics.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace warden::server {
namespace {

// A label value, escaped as the exposition format requires.
std::string Label(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Header(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

constexpr rt::Outcome kOutcomes[] = {rt::Outcome::kNotApplicable, rt::Outcome::kPermit,
                                     rt::Outcome::kStepUp, rt::Outcome::kDeny};

void RenderAudit(const audit::AuditStats& audit, std::string* out) {
  Header(out, "warden_audit_writable", "gauge",
         "1 while the audit log can be written; 0 from a write error until a write succeeds.");
  absl::StrAppend(out, "warden_audit_writable ", audit.writable ? 1 : 0, "\n");
  Header(out, "warden_audit_write_errors_total", "counter",
         "Failed audit writes, fsyncs and rotations (each retry counts).");
  absl::StrAppend(out, "warden_audit_write_errors_total ", audit.write_errors, "\n");
  Header(out, "warden_audit_lines_lost_total", "counter",
         "Audit entries not queued: the queue was full while the log could not be written, or "
         "the log was closed.");
  absl::StrAppend(out, "warden_audit_lines_lost_total ", audit.lines_lost, "\n");
  Header(out, "warden_audit_queued", "gauge", "Audit entries waiting for the writer.");
  absl::StrAppend(out, "warden_audit_queued ", audit.queued, "\n");
}

}  // namespace

void WorkerMetrics::CountDecision(rt::Outcome outcome, absl::string_view policy) {
  const size_t index = static_cast<size_t>(outcome);
  Add(by_outcome_[index], 1);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_policy_.find(policy);
  if (it == by_policy_.end())
    it = by_policy_.emplace(std::string(policy), std::array<uint64_t, 4>{}).first;
  ++it->second[index];
}

void WorkerMetrics::CountError(absl::string_view code) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[code];
}

void WorkerMetrics::ObserveLatency(uint64_t nanos) {
  const uint64_t micros = nanos / 1000;
  size_t bucket = 0;
  while (bucket < kLatencyBucketsMicros.size() && micros >= kLatencyBucketsMicros[bucket]) ++bucket;
  Add(latency_[bucket], 1);
  Add(latency_sum_nanos_, nanos);
}

WorkerMetrics& Metrics::AddWorker() {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.emplace_back();
}

std::string Metrics::Render(const LoadedPolicies* current, const ReloadStatus& reloads,
                            const audit::AuditStats* audit) const {
  std::array<uint64_t, 4> by_outcome{};
  std::map<std::string, std::array<uint64_t, 4>> by_policy;
  std::map<std::string, uint64_t> errors;
  std::array<uint64_t, kLatencyBucketsMicros.size() + 1> latency{};
  uint64_t latency_sum = 0;
  uint64_t requests = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const WorkerMetrics& w : workers_) {
      for (size_t i = 0; i < 4; ++i)
        by_outcome[i] += w.by_outcome_[i].load(std::memory_order_relaxed);
      for (size_t i = 0; i < latency.size(); ++i)
        latency[i] += w.latency_[i].load(std::memory_order_relaxed);
      latency_sum += w.latency_sum_nanos_.load(std::memory_order_relaxed);
      requests += w.requests_.load(std::memory_order_relaxed);
      std::lock_guard<std::mutex> worker_lock(const_cast<WorkerMetrics&>(w).mutex_);
      for (const auto& [policy, counts] : w.by_policy_) {
        auto& total = by_policy[policy];
        for (size_t i = 0; i < 4; ++i) total[i] += counts[i];
      }
      for (const auto& [code, count] : w.errors_) errors[code] += count;
    }
  }

  std::string out;
  Header(&out, "warden_decisions_total", "counter", "Decisions by outcome.");
  for (rt::Outcome o : kOutcomes) {
    absl::StrAppend(&out, "warden_decisions_total{effect=\"", rt::OutcomeName(o), "\"} ",
                    by_outcome[static_cast<size_t>(o)], "\n");
  }
  Header(&out, "warden_policy_decisions_total", "counter",
         "Decisions by outcome and the policy of the first deciding rule (\"\" when none).");
  for (const auto& [policy, counts] : by_policy) {
    for (rt::Outcome o : kOutcomes) {
      if (counts[static_cast<size_t>(o)] == 0) continue;
      absl::StrAppend(&out, "warden_policy_decisions_total{policy=\"", Label(policy),
                      "\",effect=\"", rt::OutcomeName(o), "\"} ", counts[static_cast<size_t>(o)],
                      "\n");
    }
  }
  Header(&out, "warden_errors_total", "counter",
         "Request and evaluation errors by stable code (docs/api.md).");
  for (const auto& [code, count] : errors)
    absl::StrAppend(&out, "warden_errors_total{code=\"", Label(code), "\"} ", count, "\n");

  Header(&out, "warden_decision_duration_seconds", "histogram",
         "Time to decode, decide and render one decision request (batches: the whole batch).");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBucketsMicros.size(); ++i) {
    cumulative += latency[i];
    absl::StrAppend(&out, "warden_decision_duration_seconds_bucket{le=\"",
                    absl::StrFormat("%g", static_cast<double>(kLatencyBucketsMicros[i]) / 1e6),
                    "\"} ", cumulative, "\n");
  }
  cumulative += latency.back();
  absl::StrAppend(&out, "warden_decision_duration_seconds_bucket{le=\"+Inf\"} ", cumulative, "\n");
  absl::StrAppend(&out, "warden_decision_duration_seconds_sum ",
                  absl::StrFormat("%.9f", static_cast<double>(latency_sum) / 1e9), "\n");
  absl::StrAppend(&out, "warden_decision_duration_seconds_count ", cumulative, "\n");

  Header(&out, "warden_requests_total", "counter", "HTTP requests answered, all endpoints.");
  absl::StrAppend(&out, "warden_requests_total ", requests, "\n");
  Header(&out, "warden_connections_open", "gauge", "Open client connections.");
  absl::StrAppend(&out, "warden_connections_open ", connections_open.load(), "\n");
  Header(&out, "warden_connections_total", "counter", "Accepted client connections.");
  absl::StrAppend(&out, "warden_connections_total ", connections_total.load(), "\n");
  Header(&out, "warden_connections_refused_total", "counter",
         "Connections refused: peer credentials not allowed, or too many connections.");
  absl::StrAppend(&out, "warden_connections_refused_total{reason=\"peer\"} ",
                  connections_refused_peer.load(), "\n");
  absl::StrAppend(&out, "warden_connections_refused_total{reason=\"limit\"} ",
                  connections_refused_limit.load(), "\n");
  Header(&out, "warden_timeouts_total", "counter",
         "Connections closed by an idle, header, body or write timeout.");
  absl::StrAppend(&out, "warden_timeouts_total ", timeouts_total.load(), "\n");
  Header(&out, "warden_audit_lines_total", "counter", "Decisions handed to the audit log.");
  absl::StrAppend(&out, "warden_audit_lines_total ", audit_lines.load(), "\n");
  if (audit != nullptr) RenderAudit(*audit, &out);

  Header(&out, "warden_bundle_info", "gauge", "The serving bundle (value 1), by SHA-256.");
  if (current != nullptr) {
    absl::StrAppend(&out, "warden_bundle_info{hash=\"", current->engine->bundle_hash(),
                    "\",generation=\"", current->generation, "\"} 1\n");
    Header(&out, "warden_bundle_loaded_timestamp_seconds", "gauge",
           "When the serving bundle was loaded (Unix time).");
    absl::StrAppend(
        &out, "warden_bundle_loaded_timestamp_seconds ",
        absl::StrFormat("%.3f", absl::ToDoubleSeconds(current->loaded_at - absl::UnixEpoch())),
        "\n");
    Header(&out, "warden_bundle_load_duration_seconds", "gauge",
           "How long compiling (or reading) and verifying the serving bundle took.");
    absl::StrAppend(&out, "warden_bundle_load_duration_seconds ",
                    absl::StrFormat("%.6f", absl::ToDoubleSeconds(current->load_duration)), "\n");
  }
  Header(&out, "warden_reloads_total", "counter", "Policy reloads by result.");
  absl::StrAppend(&out, "warden_reloads_total{result=\"ok\"} ", reloads.succeeded, "\n");
  absl::StrAppend(&out, "warden_reloads_total{result=\"failed\"} ", reloads.failed, "\n");
  return out;
}

}  // namespace warden::server
