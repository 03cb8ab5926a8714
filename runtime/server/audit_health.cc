#include "runtime/server/audit_health.h"

#include "runtime/server/log.h"

namespace warden::server {

std::string_view AuditModeName(AuditMode mode) {
  return mode == AuditMode::kAsync ? "async" : "durable";
}

std::string_view AuditFailureName(AuditFailure failure) {
  return failure == AuditFailure::kServe ? "serve" : "deny";
}

audit::AuditOptions AuditOptionsFor(const AuditConfig& config) {
  audit::AuditOptions options;
  options.path = config.path;
  options.max_file_bytes = config.max_file_bytes;
  options.keep_files = config.keep_files;
  // Durable mode answers after the fsync of each write: every_line is the
  // group commit (one write and one fsync per batch the writer takes).
  options.fsync = config.mode == AuditMode::kDurable || config.fsync == "every_line"
                      ? audit::FsyncPolicy::kEveryLine
                  : config.fsync == "on_close" ? audit::FsyncPolicy::kOnClose
                                               : audit::FsyncPolicy::kInterval;
  options.fsync_interval = config.fsync_interval;
  options.on_writable = AuditWritableLogger(config);
  return options;
}

std::function<void(bool writable, const std::string& error)> AuditWritableLogger(
    const AuditConfig& config) {
  const AuditFailure on_failure = config.on_failure;
  const std::string path = config.path;
  return [on_failure, path](bool writable, const std::string& error) {
    if (writable) {
      Log("info", "the audit log is writable again", {{"path", path}});
      return;
    }
    Log("error",
        on_failure == AuditFailure::kDeny
            ? "the audit log cannot be written; decision requests are denied (audit_unavailable)"
            : "the audit log cannot be written; decisions are still served (on_failure: serve)",
        {{"path", path}, {"error", error}});
  };
}

nlohmann::json AuditStatusJson(const AuditConfig& config, const audit::AuditStats& stats) {
  return {{"path", config.path},
          {"mode", AuditModeName(config.mode)},
          {"on_failure", AuditFailureName(config.on_failure)},
          {"writable", stats.writable},
          {"lines", stats.lines},
          {"queued", stats.queued},
          {"write_errors", stats.write_errors},
          {"lines_lost", stats.lines_lost},
          {"last_error", stats.last_error}};
}

}  // namespace warden::server
