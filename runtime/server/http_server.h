// The decision server's transport: HTTP/1.1 with keep-alive over Unix
// domain sockets (and optionally loopback TCP), on Boost.Beast + Boost.Asio.
//
// Threads: `threads` request threads, each running its own event loop with
// its own ApiWorker (so a connection and its decisions stay on one core and
// nothing on the hot path is shared), plus one control thread for the admin
// socket, signals and the policy file watcher, so that compiling a reload
// never stalls a decision.
//
// Signals: SIGHUP reloads; SIGTERM and SIGINT drain (stop accepting, finish
// requests in flight, close idle connections, wait up to drain_timeout).
#ifndef WARDEN_RUNTIME_SERVER_HTTP_SERVER_H_
#define WARDEN_RUNTIME_SERVER_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/server/api.h"

namespace warden::server {

class HttpServer {
 public:
  // Binds every configured socket and starts the threads. With
  // config.watch, the control loop polls `fingerprint` (see watcher.h) and
  // reloads when it differs from the one the last reload started from.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      ServerContext& context, std::function<std::string()> fingerprint);
  ~HttpServer();

  // Blocks until the server has stopped (a signal, or Stop()).
  void Wait();
  // Starts a graceful drain, as SIGTERM does; returns at once.
  void Stop();
  // The loopback TCP port, when listening on TCP.
  int tcp_port() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_HTTP_SERVER_H_
