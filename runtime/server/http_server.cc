// HTTP/1.1 over Unix sockets with Boost.Beast (see http_server.h).
#include "runtime/server/http_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/auth/check_service.h"
#include "runtime/server/beast_request.h"
#include "runtime/server/log.h"
#include "runtime/server/sources.h"

namespace warden::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Protocol = asio::generic::stream_protocol;
using Socket = Protocol::socket;
using Acceptor = asio::basic_socket_acceptor<Protocol>;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

const char* Reason(unsigned status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

// The status line, headers and body, ready to write.
void Serialize(const HttpResponse& response, bool head, bool close, std::string* out) {
  out->clear();
  absl::StrAppend(out, "HTTP/1.1 ", response.status, " ", Reason(response.status),
                  "\r\nContent-Type: ");
  out->append(response.content_type);
  absl::StrAppend(out, "\r\nContent-Length: ", response.body.size(), "\r\n");
  if (close) out->append("Connection: close\r\n");
  if (!response.allow.empty()) out->append("Allow: ").append(response.allow).append("\r\n");
  if (!response.request_id.empty())
    absl::StrAppend(out, "X-Request-ID: ", response.request_id, "\r\n");
  if (!response.decision_id.empty())
    absl::StrAppend(out, "X-Decision-Id: ", response.decision_id, "\r\n");
  out->append("\r\n");
  if (!head) out->append(response.body);
}

struct Loop;
class Connection;

// A listening socket and who may use it.
struct Listener {
  std::string name;  // for logs: the path or "127.0.0.1:PORT"
  bool admin = false;
  bool unix_socket = true;
  const SocketConfig* socket_config = nullptr;
  std::unique_ptr<Acceptor> acceptor;
  std::string unlink_path;  // removed on shutdown, if it is still our socket
  ino_t inode = 0;
};

// One event loop with its thread, API worker and connections.
// Members are destroyed bottom-up: the io_context goes first, destroying
// the connections its pending handlers still own, while `connections` and
// `worker` are alive.
struct Loop {
  explicit Loop(ServerContext& context) : worker(context) {}
  std::unordered_set<Connection*> connections;
  ApiWorker worker;
  asio::io_context io{1};
  // Keeps run() going while the loop has nothing to do yet.
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  asio::steady_timer sweep_timer{io};  // connection deadlines (Sweep)
  std::thread thread;
};

using Clock = std::chrono::steady_clock;

// One client connection. Reads are parsed incrementally (Beast's parser fed
// from our buffer), so the connection knows when a request's first byte
// arrives and can hold the header and body to their own deadlines.
// Deadlines are plain time stamps checked by the loop's sweep (Loop::Sweep)
// rather than a timer per connection: re-arming a timer costs system calls
// on every request.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, Loop& loop, ServerContext& context, bool admin)
      : socket_(std::move(socket)), loop_(loop), context_(context), admin_(admin) {
    beast::error_code ignored;
    socket_.non_blocking(true, ignored);  // write_some returns would_block, never blocks
    loop_.connections.insert(this);
    context_.metrics->connections_open.fetch_add(1);
    context_.metrics->connections_total.fetch_add(1);
  }
  ~Connection() {
    loop_.connections.erase(this);
    context_.metrics->connections_open.fetch_sub(1);
  }

  void Start() { ReadNext(); }

  // Called on the loop's thread when the server drains: an idle connection
  // closes now; a busy one closes after its response.
  void Drain() {
    draining_ = true;
    // A request whose bytes already arrived is answered (with
    // Connection: close); a truly idle connection closes now.
    beast::error_code ec;
    if (phase_ == Phase::kIdle && buffer_.size() == 0 && socket_.available(ec) == 0) Close();
  }

  // Called by the sweep: a deadline passed. Cancelling the pending read or
  // write makes its handler see the timeout.
  void CheckDeadline(Clock::time_point now) {
    if (phase_ == Phase::kClosed || phase_ == Phase::kHandling || now < deadline_) return;
    timed_out_ = true;
    context_.metrics->timeouts_total.fetch_add(1, std::memory_order_relaxed);
    if (phase_ == Phase::kIdle || phase_ == Phase::kWriting) return Close();
    beast::error_code ignored;
    socket_.cancel(ignored);
  }

  // Refuses the connection (or its request) with one response, then closes
  // it gracefully so that a client still sending reads the answer.
  void Refuse(unsigned status, std::string_view code, std::string_view message) {
    loop_.worker.CountError(code);
    response_.Reset();
    WriteError(status, code, message, &response_);
    linger_ = true;
    Respond(/*head=*/false, /*close=*/true);
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandling, kWriting, kClosed };
  static constexpr size_t kReadChunk = 16 << 10;

  void SetDeadline(absl::Duration timeout) { deadline_ = Clock::now() + ToChrono(timeout); }

  void ReadNext() {
    if (draining_ || context_.draining.load(std::memory_order_relaxed)) return Close();
    const LimitsConfig& limits = context_.config->limits;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    parser_->body_limit(limits.max_body_bytes);
    phase_ = Phase::kIdle;
    SetDeadline(limits.idle_timeout);
    if (buffer_.size() > 0) return Parse();  // a pipelined request
    ReadMore();
  }

  void ReadMore() {
    auto space = buffer_.prepare(kReadChunk);
    socket_.async_read_some(space, [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->OnReadError(ec);
      self->buffer_.commit(n);
      self->Parse();
    });
  }

  void Parse() {
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHeader;
      SetDeadline(context_.config->limits.header_timeout);
    }
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return OnReadError(ec);
      if (used == 0) break;
    }
    if (parser_->is_done()) return OnRequest();
    // Unparsed bytes wait in the buffer; a header that can't fit is
    // refused by the parser's header limit before this bound is reached.
    if (buffer_.size() > context_.config->limits.max_header_bytes + kReadChunk &&
        !parser_->is_header_done())
      return OnReadError(http::error::header_limit);
    if (parser_->is_header_done() && phase_ == Phase::kHeader) {
      phase_ = Phase::kBody;
      SetDeadline(context_.config->limits.body_timeout);
      const auto& header = parser_->get();
      auto expect = header.find(http::field::expect);
      if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
        // curl waits for this before sending a body over 1 KiB.
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->Close();
                            self->ReadMore();
                          });
        return;
      }
    }
    ReadMore();
  }

  void OnReadError(beast::error_code ec) {
    const bool partial = phase_ == Phase::kHeader || phase_ == Phase::kBody;
    if (phase_ == Phase::kClosed) return;
    if (timed_out_) {
      timed_out_ = false;
      if (!partial) return Close();
      return Refuse(408, "request_timeout", "the request did not arrive in time");
    }
    if (ec == http::error::body_limit) {
      return Refuse(413, "body_too_large",
                    absl::StrCat("the body is larger than ", context_.config->limits.max_body_bytes,
                                 " bytes"));
    }
    if (ec == http::error::header_limit) {
      return Refuse(431, "header_too_large",
                    absl::StrCat("the header is larger than ",
                                 context_.config->limits.max_header_bytes, " bytes"));
    }
    if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return Refuse(400, "malformed_http", absl::StrCat("malformed HTTP request: ", ec.message()));
    Close();  // the peer went away (end of stream, reset, cancelled)
  }

  void OnRequest() {
    phase_ = Phase::kHandling;
    const auto& message = parser_->get();
    if (!TransferEncodingAccepted(message))
      return Refuse(400, "malformed_http",
                    "a Transfer-Encoding other than chunked is not accepted");
    loop_.worker.Handle(RequestFromBeast(message), admin_, &response_);
    const bool close = response_.close || !message.keep_alive() || draining_ ||
                       context_.draining.load(std::memory_order_relaxed);
    const bool head = message.method() == http::verb::head;
    if (response_.audit_ticket != 0) return AwaitAudit(head, close);
    Respond(head, close);
  }

  // Durable audit mode: the response waits (in kHandling, which no deadline
  // cuts short) until its audit lines are fsynced. The audit writer settles
  // the wait, on its own thread; the answer is sent from this loop's.
  void AwaitAudit(bool head, bool close) {
    const uint64_t ticket = std::exchange(response_.audit_ticket, 0);
    context_.audit->WhenDurable(ticket, [self = shared_from_this(), head, close](bool durable) {
      asio::post(self->socket_.get_executor(), [self, head, close, durable] {
        if (!durable) self->loop_.worker.AuditNotDurable(&self->response_);
        self->Respond(head, close);
      });
    });
  }

  void Respond(bool head, bool close) {
    phase_ = Phase::kWriting;
    close_after_write_ = close;
    SetDeadline(context_.config->limits.write_timeout);
    Serialize(response_, head, close, &out_);
    // Try the write at once: a response almost always fits in the socket
    // buffer, and finishing here saves a trip through the event loop (an
    // extra epoll_wait per request). Whatever doesn't fit goes async.
    beast::error_code ec;
    const size_t written = socket_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return Close();
    if (!ec && written == out_.size()) return AfterWrite(/*inline_write=*/true);
    asio::async_write(socket_, asio::buffer(out_) + (ec ? 0 : written),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->AfterWrite(/*inline_write=*/false);
                      });
  }

  void AfterWrite(bool inline_write) {
    if (linger_) return Linger();
    if (close_after_write_) return Close();
    // Pipelined requests already buffered are served from the event loop,
    // so a long pipeline never deepens the stack.
    if (inline_write && buffer_.size() > 0) {
      return asio::post(socket_.get_executor(), [self = shared_from_this()] { self->ReadNext(); });
    }
    ReadNext();
  }

  // After refusing: stop sending, and read (and drop) what the client still
  // sends until it closes or the write deadline passes; closing with unread
  // input would reset the connection and lose our answer.
  void Linger() {
    phase_ = Phase::kWriting;
    beast::error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    buffer_.clear();
    auto space = buffer_.prepare(kReadChunk);
    socket_.async_read_some(space, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Linger();
    });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    beast::error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  Socket socket_;
  Loop& loop_;
  ServerContext& context_;
  const bool admin_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpResponse response_;
  std::string out_;
  Phase phase_ = Phase::kIdle;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timed_out_ = false;
  bool draining_ = false;
  bool close_after_write_ = false;
  bool linger_ = false;
};

// Every connection's deadline is checked a few times per shortest timeout.
void Sweep(Loop& loop, asio::steady_timer& timer, std::chrono::milliseconds every) {
  timer.expires_after(every);
  timer.async_wait([&loop, &timer, every](beast::error_code ec) {
    if (ec) return;
    const Clock::time_point now = Clock::now();
    std::vector<Connection*> open(loop.connections.begin(), loop.connections.end());
    for (Connection* c : open) {
      if (loop.connections.count(c) != 0) c->CheckDeadline(now);
    }
    Sweep(loop, timer, every);
  });
}

// Removes a listener's socket file, unless another server has since bound
// a new socket at the same path (a restart while this one drained).
void RemoveSocketFile(const Listener& listener) {
  if (listener.unlink_path.empty()) return;
  struct stat now {};
  if (::lstat(listener.unlink_path.c_str(), &now) == 0 && now.st_ino == listener.inode)
    ::unlink(listener.unlink_path.c_str());
}

// Whether the peer on a Unix socket may talk to us (SO_PEERCRED; its
// supplementary groups through SO_PEERGROUPS).
bool PeerAllowed(int fd, const SocketConfig& config, bool admin, std::string* who) {
  ucred peer{};
  socklen_t length = sizeof peer;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
    *who = "unknown peer";
    return false;
  }
  *who = absl::StrCat("pid=", peer.pid, " uid=", peer.uid, " gid=", peer.gid);
  if (config.allowed_uids.empty() && config.allowed_gids.empty()) {
    // The admin socket's default: only our own user (and root).
    return !admin || peer.uid == geteuid() || peer.uid == 0;
  }
  for (uint32_t uid : config.allowed_uids) {
    if (peer.uid == uid) return true;
  }
  for (uint32_t gid : config.allowed_gids) {
    if (peer.gid == gid) return true;
  }
  if (config.allowed_gids.empty()) return false;
  gid_t groups[256];
  socklen_t size = sizeof groups;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &size) != 0) return false;
  for (size_t i = 0; i < size / sizeof(gid_t); ++i) {
    for (uint32_t gid : config.allowed_gids) {
      if (groups[i] == gid) return true;
    }
  }
  return false;
}

absl::StatusOr<gid_t> GroupId(const std::string& group) {
  uint32_t number = 0;
  if (absl::SimpleAtoi(group, &number)) return static_cast<gid_t>(number);
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  if (getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr)
    return absl::NotFoundError(absl::StrCat("no group named ", group));
  return found->gr_gid;
}

}  // namespace

struct HttpServer::Impl {
  ServerContext& context;
  std::function<std::string()> fingerprint;
  std::vector<std::unique_ptr<Loop>> loops;  // request threads
  std::unique_ptr<Loop> control;             // admin socket, signals, watcher
  std::list<Listener> listeners;
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> watch_timer;
  std::optional<asio::steady_timer> drain_timer;
  std::optional<asio::steady_timer> auth_timer;  // the auth front-end's housekeeping
  std::string pending_fingerprint;
  size_t next_loop = 0;
  int tcp_port = -1;
  std::atomic<bool> stopping{false};
  std::mutex wait_mutex;
  bool joined = false;

  explicit Impl(ServerContext& c) : context(c) {}

  absl::Status ListenUnix(const SocketConfig& config, bool admin) {
    if (config.path.size() >= sizeof(sockaddr_un{}.sun_path))
      return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", config.path));
    struct stat info {};
    if (lstat(config.path.c_str(), &info) == 0) {
      if (!S_ISSOCK(info.st_mode))
        return absl::AlreadyExistsError(absl::StrCat(config.path, " exists and is not a socket"));
      // A socket file: in use by a running server, or left by a dead one.
      asio::io_context probe_io;
      asio::local::stream_protocol::socket probe(probe_io);
      beast::error_code ec;
      probe.connect(asio::local::stream_protocol::endpoint(config.path), ec);
      if (!ec)
        return absl::AlreadyExistsError(
            absl::StrCat(config.path, " is in use by a running server"));
      ::unlink(config.path.c_str());
    }
    Listener& listener = listeners.emplace_back();
    listener.name = config.path;
    listener.admin = admin;
    listener.socket_config = &config;
    Loop& owner = admin ? *control : *loops.front();
    listener.acceptor = std::make_unique<Acceptor>(owner.io);
    Protocol::endpoint endpoint(asio::local::stream_protocol::endpoint(config.path));
    beast::error_code ec;
    listener.acceptor->open(endpoint.protocol(), ec);
    // Bind with a umask that leaves no window with looser permissions.
    const mode_t old_mask = ::umask(0177);
    if (!ec) listener.acceptor->bind(endpoint, ec);
    ::umask(old_mask);
    if (!ec) listener.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", config.path, ": ", ec.message()));
    listener.unlink_path = config.path;
    struct stat bound {};
    if (::lstat(config.path.c_str(), &bound) == 0) listener.inode = bound.st_ino;
    if (!config.group.empty()) {
      absl::StatusOr<gid_t> gid = GroupId(config.group);
      if (!gid.ok()) return gid.status();
      if (::chown(config.path.c_str(), static_cast<uid_t>(-1), *gid) != 0)
        return absl::PermissionDeniedError(absl::StrCat("cannot give ", config.path, " to group ",
                                                        config.group, ": ", std::strerror(errno)));
    }
    if (::chmod(config.path.c_str(), config.mode) != 0)
      return absl::PermissionDeniedError(
          absl::StrCat("cannot chmod ", config.path, ": ", std::strerror(errno)));
    return absl::OkStatus();
  }

  absl::Status ListenTcp(uint16_t port) {
    Listener& listener = listeners.emplace_back();
    listener.unix_socket = false;
    listener.socket_config = &context.config->socket;
    listener.acceptor = std::make_unique<Acceptor>(loops.front()->io);
    asio::ip::tcp::endpoint tcp(asio::ip::make_address("127.0.0.1"), port);
    Protocol::endpoint endpoint(tcp);
    beast::error_code ec;
    listener.acceptor->open(endpoint.protocol(), ec);
    if (!ec) listener.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) listener.acceptor->bind(endpoint, ec);
    if (!ec) listener.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return absl::UnavailableError(
          absl::StrCat("cannot listen on 127.0.0.1:", port, ": ", ec.message()));
    // The bound port (port 0 picks one).
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    getsockname(listener.acceptor->native_handle(), reinterpret_cast<sockaddr*>(&bound), &length);
    tcp_port = ntohs(bound.sin_port);
    listener.name = absl::StrCat("127.0.0.1:", tcp_port);
    return absl::OkStatus();
  }

  void Accept(Listener& listener) {
    // Public connections are spread over the request loops; admin ones stay
    // on the control loop.
    Loop& target = listener.admin ? *control : *loops[next_loop++ % loops.size()];
    listener.acceptor->async_accept(
        target.io, [this, &listener, &target](beast::error_code ec, Socket socket) {
          if (ec == asio::error::operation_aborted || !listener.acceptor->is_open()) return;
          if (!ec) Admit(listener, target, std::move(socket));
          Accept(listener);
        });
  }

  // Runs on the acceptor's thread; the connection then lives on `target`'s.
  void Admit(Listener& listener, Loop& target, Socket socket) {
    std::string who = "loopback";
    bool allowed =
        !listener.unix_socket ||
        PeerAllowed(socket.native_handle(), *listener.socket_config, listener.admin, &who);
    // The admin socket stays usable during a connection flood.
    bool over_limit = !listener.admin && context.metrics->connections_open.load() >=
                                             context.config->limits.max_connections;
    asio::post(target.io, [this, &target, admin = listener.admin, allowed, over_limit, who,
                           name = listener.name, s = std::move(socket)]() mutable {
      auto connection = std::make_shared<Connection>(std::move(s), target, context, admin);
      if (!allowed) {
        context.metrics->connections_refused_peer.fetch_add(1);
        Log("warn", "refused a connection: peer not allowed", {{"socket", name}, {"peer", who}});
        return connection->Refuse(403, "forbidden", "this peer is not allowed on this socket");
      }
      if (over_limit) {
        context.metrics->connections_refused_limit.fetch_add(1);
        return connection->Refuse(503, "too_many_connections", "too many open connections");
      }
      connection->Start();
    });
  }

  void ReloadNow(const std::string& trigger) {
    absl::Status status = context.store->Reload(trigger);
    if (status.ok()) {
      std::shared_ptr<const LoadedPolicies> current = context.store->current();
      Log("info", "policies reloaded",
          {{"trigger", trigger},
           {"bundle", current->engine->bundle_hash()},
           {"load_ms", absl::StrCat(absl::ToDoubleMilliseconds(current->load_duration))}});
    } else {
      Log("error", "reload rejected; the last good policies keep serving",
          {{"trigger", trigger},
           {"diagnostics", std::string_view(status.message().data(), status.message().size())}});
    }
  }

  void WatchTick() {
    watch_timer->expires_after(ToChrono(context.config->watch_interval));
    watch_timer->async_wait([this](beast::error_code ec) {
      if (ec || stopping.load()) return;
      std::string now = fingerprint();
      if (now != context.store->attempted_fingerprint()) {
        // Reload once the files have stopped changing for one interval, so
        // an editor's half-written save isn't compiled. A reload by signal
        // or admin call in between records the files it saw.
        if (now == pending_fingerprint) {
          pending_fingerprint.clear();
          ReloadNow("watch");
        } else {
          pending_fingerprint = now;
        }
      }
      WatchTick();
    });
  }

  // Revocations and API keys changed by the CLI, rotated JWKS files, and
  // the periodic write of the signal tables (auth::CheckService::Tick).
  void AuthTick() {
    auth_timer->expires_after(std::chrono::milliseconds(100));
    auth_timer->async_wait([this](beast::error_code ec) {
      if (ec || stopping.load()) return;
      context.auth->Tick(absl::Now());
      LogSourceEvents(context.auth->reports());
      AuthTick();
    });
  }

  void WaitForSignal() {
    signals->async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        ReloadNow("sighup");
        return WaitForSignal();
      }
      if (stopping.load()) {  // a second SIGTERM or SIGINT: stop now
        Log("warn", "stopping without waiting for the drain");
        for (auto& loop : loops) loop->io.stop();
        control->io.stop();
        return;
      }
      Log("info", "draining", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
      BeginDrain();
      WaitForSignal();
    });
  }

  // Stops accepting, closes idle connections, lets busy ones finish, and
  // stops the loops when all are closed or the drain timeout passes.
  void BeginDrain() {
    if (stopping.exchange(true)) return;
    context.draining.store(true);
    for (Listener& listener : listeners) {
      asio::post(listener.acceptor->get_executor(), [&listener] {
        beast::error_code ignored;
        listener.acceptor->close(ignored);
      });
    }
    auto drain_loop = [](Loop& loop) {
      asio::post(loop.io, [&loop] {
        std::vector<Connection*> open(loop.connections.begin(), loop.connections.end());
        for (Connection* c : open) c->Drain();
      });
    };
    for (auto& loop : loops) drain_loop(*loop);
    drain_loop(*control);
    if (watch_timer) watch_timer->cancel();
    if (auth_timer) auth_timer->cancel();
    drain_deadline = absl::Now() + context.config->limits.drain_timeout;
    PollDrained();
  }
  absl::Time drain_deadline;

  void PollDrained() {
    drain_timer->expires_after(std::chrono::milliseconds(10));
    drain_timer->async_wait([this](beast::error_code) {
      if (context.metrics->connections_open.load() == 0 || absl::Now() >= drain_deadline) {
        if (context.metrics->connections_open.load() != 0)
          Log("warn", "drain timeout: closing the remaining connections");
        for (auto& loop : loops) loop->io.stop();
        control->io.stop();
        return;
      }
      PollDrained();
    });
  }

  void Join() {
    std::lock_guard<std::mutex> lock(wait_mutex);
    if (joined) return;
    for (auto& loop : loops) {
      if (loop->thread.joinable()) loop->thread.join();
    }
    if (control->thread.joinable()) control->thread.join();
    // Connections still waiting for the audit log are dropped here, while
    // their loops exist; the log can no longer post to the stopped loops.
    if (context.audit != nullptr) context.audit->CancelWaiters();
    for (Listener& listener : listeners) RemoveSocketFile(listener);
    joined = true;
  }
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    ServerContext& context, std::function<std::string()> fingerprint) {
  const ServerConfig& config = *context.config;
  if (config.socket.path.empty() && !config.tcp_port.has_value())
    return absl::InvalidArgumentError("nothing to listen on: give a socket path (or a TCP port)");
  auto impl = std::make_unique<Impl>(context);
  impl->fingerprint = std::move(fingerprint);
  int threads =
      config.threads > 0 ? config.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 0; i < threads; ++i) impl->loops.push_back(std::make_unique<Loop>(context));
  impl->control = std::make_unique<Loop>(context);

  absl::Status status;
  if (!config.socket.path.empty()) status = impl->ListenUnix(config.socket, /*admin=*/false);
  if (status.ok() && config.tcp_port.has_value()) status = impl->ListenTcp(*config.tcp_port);
  if (status.ok() && !config.admin_socket.path.empty()) {
    if (config.admin_socket.path == config.socket.path) {
      status = absl::InvalidArgumentError("the admin socket must differ from the decision socket");
    } else {
      status = impl->ListenUnix(config.admin_socket, /*admin=*/true);
    }
  }
  if (!status.ok()) {
    for (Listener& listener : impl->listeners) RemoveSocketFile(listener);
    return status;
  }

  Impl* raw = impl.get();
  raw->signals.emplace(raw->control->io, SIGTERM, SIGINT, SIGHUP);
  raw->WaitForSignal();
  raw->drain_timer.emplace(raw->control->io);
  if (config.watch && raw->fingerprint) {
    raw->watch_timer.emplace(raw->control->io);
    raw->WatchTick();
  }
  if (context.auth != nullptr) {
    raw->auth_timer.emplace(raw->control->io);
    raw->AuthTick();
  }
  const LimitsConfig& limits = config.limits;
  const absl::Duration shortest = std::min(
      {limits.idle_timeout, limits.header_timeout, limits.body_timeout, limits.write_timeout});
  const auto sweep_every = std::chrono::milliseconds(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(shortest) / 4, 10, 250));
  for (auto& loop : raw->loops) Sweep(*loop, loop->sweep_timer, sweep_every);
  Sweep(*raw->control, raw->control->sweep_timer, sweep_every);
  for (Listener& listener : raw->listeners) {
    raw->Accept(listener);
    Log("info", "listening",
        {{"socket", listener.name}, {"admin", listener.admin ? "true" : "false"}});
  }
  auto run = [](Loop* loop) {
    for (;;) {
      try {
        loop->io.run();
        return;
      } catch (const std::exception& e) {  // never let one bad request stop a loop
        Log("error", "request loop error", {{"what", e.what()}});
      }
    }
  };
  for (auto& loop : raw->loops) loop->thread = std::thread(run, loop.get());
  raw->control->thread = std::thread(run, raw->control.get());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
  impl_->Join();
}

void HttpServer::Wait() { impl_->Join(); }

void HttpServer::Stop() {
  asio::post(impl_->control->io, [impl = impl_.get()] { impl->BeginDrain(); });
}

int HttpServer::tcp_port() const { return impl_->tcp_port; }

}  // namespace warden::server
