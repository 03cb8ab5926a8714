// How the server shows what became of the check service's file and state
// updates (auth::SourceReports): a log line per refusal, the metrics
// warden_refused_updates_total{source} and warden_state_write_errors_total,
// and the "sources" object of /v1/status (docs/operations.md, "Failure
// modes").
#ifndef WARDEN_RUNTIME_SERVER_SOURCES_H_
#define WARDEN_RUNTIME_SERVER_SOURCES_H_

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/auth/source_status.h"

namespace warden::server {

// Logs (warn) every refusal reported since the last call; from one thread.
void LogSourceEvents(auth::SourceReports& reports);

// Appends the two metrics in the Prometheus text format.
void AppendSourceMetrics(const auth::SourceReports& reports, std::string* out);

// {"jwks": [{"path", "last_ok", "last_error", "last_error_at", "refused"}], …}:
// every source by name, each a list of its files (state: one).
nlohmann::json SourcesJson(const auth::SourceReports& reports);

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_SOURCES_H_
