// The server's configuration: everything `warden serve` flags set, and more
// (docs/operations.md, "Configuration"). Read from a JSON file (comments
// allowed); flags override the file.
#ifndef WARDEN_RUNTIME_SERVER_CONFIG_H_
#define WARDEN_RUNTIME_SERVER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/auth/auth_config.h"

namespace warden::server {

// A Unix domain socket to listen on, and who may connect to it.
struct SocketConfig {
  std::string path;                    // empty: not listening
  uint32_t mode = 0660;                // file mode of the socket
  std::string group;                   // owning group (name or number); empty: the server's
  std::vector<uint32_t> allowed_uids;  // peers (SO_PEERCRED); both lists empty: any peer
  std::vector<uint32_t> allowed_gids;  // a peer is allowed if its uid OR gid is listed
};

struct LimitsConfig {
  size_t max_body_bytes = size_t{1} << 20;
  size_t max_header_bytes = 16 << 10;
  size_t max_batch = 1000;        // requests in one batch or AuthZEN evaluations call
  size_t max_connections = 1024;  // open connections, all listeners together
  absl::Duration idle_timeout = absl::Seconds(60);  // keep-alive wait for the next request
  absl::Duration header_timeout =
      absl::Seconds(10);  // from a request's first byte to its header's end
  absl::Duration body_timeout = absl::Seconds(10);   // from the header's end to the body's end
  absl::Duration write_timeout = absl::Seconds(10);  // a response's write
  absl::Duration drain_timeout = absl::Seconds(10);  // on SIGTERM, for requests in flight
};

// durable: a decision is answered only after its audit line is fsynced (one
// fsync covers every request waiting at that moment); async: answered at
// once, the line follows (a crash can lose what was queued; docs/audit.md).
enum class AuditMode { kDurable, kAsync };
// What the server does while the audit log cannot be written: deny answers
// every decision request with deny `audit_unavailable`; serve keeps
// deciding, and reports it (log, metrics, /v1/status).
enum class AuditFailure { kDeny, kServe };

struct AuditConfig {
  std::string path;  // empty: no audit log
  AuditMode mode = AuditMode::kDurable;
  AuditFailure on_failure = AuditFailure::kDeny;
  double sample = 1.0;               // the fraction of decisions written (0..1)
  std::vector<std::string> effects;  // only these outcomes; empty: all
  uint64_t max_file_bytes = uint64_t{64} << 20;
  int keep_files = 0;              // rotated files kept; 0: all
  std::string fsync = "interval";  // every_line | interval | on_close; mode async only
  absl::Duration fsync_interval = absl::Seconds(1);
};

struct ServerConfig {
  SocketConfig socket;
  SocketConfig admin_socket = [] {
    SocketConfig admin;
    admin.mode = 0600;  // stricter than the decision socket
    return admin;
  }();
  std::optional<uint16_t> tcp_port;  // loopback TCP (127.0.0.1), if set; 0 picks a port
  std::string policies;              // a directory of .warden files, or a bundle
  std::string data;                  // a JSON file of `data` values
  std::string stdlib;                // where `import std.*` resolves (sources only)
  int threads = 0;                   // 0: one per core
  LimitsConfig limits;
  AuditConfig audit;
  auth::AuthConfig auth;  // /v1/check; disabled unless the file has an "auth" object
  bool watch = true;      // reload when the policy files change
  absl::Duration watch_interval = absl::Seconds(1);
  bool strict_requests = false;     // unknown attributes / wrong types are bad requests
  std::string log_format = "json";  // json | text
};

// Parses a configuration file's text; unknown keys are errors, so a typo
// never silently falls back to a default.
absl::StatusOr<ServerConfig> ParseServerConfig(const std::string& text);
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_CONFIG_H_
