// The server's HTTP API, independent of the transport (docs/api.md): a
// parsed request in, a response out. The transport (http_server.cc) and the
// HTTP fuzzer both drive it through ApiWorker::Handle.
//
// One ApiWorker per request thread: it owns that thread's JSON session,
// decision and output buffers, so steady-state decisions reuse memory and
// need no locks.
#ifndef WARDEN_RUNTIME_SERVER_API_H_
#define WARDEN_RUNTIME_SERVER_API_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/server/config.h"
#include "runtime/server/metrics.h"
#include "runtime/server/policy_store.h"

namespace warden::audit {
class AuditLog;
}
namespace warden::auth {
class CheckService;
}

namespace warden::server {

struct HttpRequest {
  std::string_view method;  // "GET", "POST", …
  std::string_view target;  // the path and query
  std::string_view content_type;
  std::string_view request_id;  // X-Request-ID, echoed back (AuthZEN)
  std::string_view body;
};

struct HttpResponse {
  unsigned status = 200;
  std::string_view content_type = "application/json";
  std::string_view allow;  // for 405
  std::string request_id;
  std::string decision_id;  // X-Decision-Id, also in the audit log
  std::string body;
  bool close = false;  // close the connection after this response
  // Durable audit mode: send the response only once the audit log's entry
  // of this ticket is fsynced (AuditLog::WhenDurable); 0: send it now.
  uint64_t audit_ticket = 0;
  void Reset();
};

// What every worker shares.
struct ServerContext {
  const ServerConfig* config = nullptr;
  PolicyStore* store = nullptr;
  Metrics* metrics = nullptr;
  audit::AuditLog* audit = nullptr;    // null: no audit log
  auth::CheckService* auth = nullptr;  // null: /v1/check is not configured
  std::atomic<bool> draining{false};
};

// The stable error codes of the API (docs/api.md, "Errors"). Every error
// body is a refusal, a bare deny (AppendRefusalJson), whatever the endpoint.
void WriteError(unsigned status, std::string_view code, std::string_view message,
                HttpResponse* response);

class ApiWorker {
 public:
  explicit ApiWorker(ServerContext& context);
  ~ApiWorker();
  ApiWorker(const ApiWorker&) = delete;
  ApiWorker& operator=(const ApiWorker&) = delete;

  // Answers one request; `admin` selects the admin socket's routes. Never
  // throws: an internal failure becomes a 500 with code "internal".
  void Handle(const HttpRequest& request, bool admin, HttpResponse* response) noexcept;
  // Counts an error the transport answered itself (a refused connection,
  // a timeout, a malformed or oversized request) in warden_errors_total.
  void CountError(std::string_view code);
  // Durable audit mode: the response's audit lines could not be written.
  // On the worker's thread; rewrites the response per audit.on_failure.
  void AuditNotDurable(HttpResponse* response);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_API_H_
