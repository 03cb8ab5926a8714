// How the server opens the audit log and reports its health (docs/audit.md, "When the
// log cannot be written"): the log line on every change of writability and
// the "audit" object of /v1/status. The metrics are in metrics.cc.
#ifndef WARDEN_RUNTIME_SERVER_AUDIT_HEALTH_H_
#define WARDEN_RUNTIME_SERVER_AUDIT_HEALTH_H_

#include <functional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "runtime/audit/audit_log.h"
#include "runtime/server/config.h"

namespace warden::server {

std::string_view AuditModeName(AuditMode mode);           // "durable" | "async"
std::string_view AuditFailureName(AuditFailure failure);  // "deny" | "serve"

// The audit log's options for the server's configuration (durable mode fsyncs
// every write: the group commit), with AuditWritableLogger as its hook.
audit::AuditOptions AuditOptionsFor(const AuditConfig& config);

// The AuditOptions::on_writable hook: logs an error when the log stops being
// writable (saying what the server now does) and an info line when it is
// writable again.
std::function<void(bool writable, const std::string& error)> AuditWritableLogger(
    const AuditConfig& config);

// {"path", "mode", "on_failure", "writable", "lines", "queued", "write_errors",
//  "lines_lost", "last_error"}.
nlohmann::json AuditStatusJson(const AuditConfig& config, const audit::AuditStats& stats);

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_AUDIT_HEALTH_H_
