// POST /v1/check: verify the caller's credential, compute the risk signals,
// and decide with them (docs/authentication.md).
//
// A check is one request from an enforcement point carrying the end user's
// credential (a JWT or a Warden API key) and the raw request context (the
// client's address, its device id, the resource). The service verifies the
// credential, maps its claims to `subject`, fills the computed `context`
// attributes (time and every risk signal's: geo, network, device, attempts,
// unusual_hour, known_network), reads the rate-limit buckets of the
// policies' `limit` declarations, decides, and then records what the
// decision teaches: a permit consumes the limits it read and updates the
// subject's last sign-in, devices, networks and hour baseline; a refused
// credential counts as a failed attempt for the address (and the subject or
// API key, when known). Each step is a named stage (check_service.cc lists
// them; runtime/auth/check/), the signals a registry
// (runtime/auth/signals/signal_registry.h).
//
// Failing closed: every refused credential is a deny with a stable reason
// code (auth_error.h); no caller-supplied subject attribute is ever read.
//
// One CheckService serves every thread; each thread passes its own
// Session (scratch buffers) and JsonSession (the decoder and frame).
#ifndef WARDEN_RUNTIME_AUTH_CHECK_SERVICE_H_
#define WARDEN_RUNTIME_AUTH_CHECK_SERVICE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/auth/auth_config.h"
#include "runtime/auth/auth_error.h"
#include "runtime/auth/source_status.h"
#include "warden/engine.h"

namespace warden::auth {

struct CheckOutcome {
  unsigned http_status = 200;
  bool decided = false;  // the policies were evaluated
  AuthError auth_error = AuthError::kNone;
  std::string_view bad_request;  // the error code when http_status is 400
};

class CheckService {
 public:
  // Opens the state database, loads JWKS files, HMAC secrets, IP lists and
  // GeoIP databases; any problem is an error naming the file.
  static absl::StatusOr<std::unique_ptr<CheckService>> Create(const AuthConfig& config,
                                                              absl::Time now);
  ~CheckService();
  CheckService(const CheckService&) = delete;
  CheckService& operator=(const CheckService&) = delete;

  // Per-thread scratch memory, reused across checks.
  class Session {
   public:
    Session();
    ~Session();
    // The decision request the last check built (subject, action, resource
    // and the computed context): what the audit log records. It never holds
    // the credential.
    std::string_view decision_request() const;

    struct Impl;

   private:
    friend class CheckService;
    std::unique_ptr<Impl> impl_;
  };

  // Answers one /v1/check body with `engine`, appending the response JSON to
  // *out and leaving the decision in *decision. Never throws.
  CheckOutcome Check(std::string_view body, const Engine& engine, JsonSession& json,
                     Session& session, Decision* decision, absl::Time now,
                     std::string* out) noexcept;

  // Housekeeping, from one thread: reloads revocations and API keys when
  // another process changed the database, JWKS files when they changed, and
  // writes the signal tables when flush_interval has passed.
  void Tick(absl::Time now);
  // Writes every changed row of the signal tables now (on shutdown).
  absl::Status Flush();

  // Every load and refusal of the JWKS files, IP lists, GeoIP databases and
  // the state database since Create (the server logs and shows them).
  SourceReports& reports();

  struct Impl;

 private:
  explicit CheckService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_SERVICE_H_
