// Helpers for the decision server's integration tests (tests/server_*_test.cc):
// a temporary directory, a raw HTTP/1.1 client over Unix sockets (so tests
// can also send malformed bytes), and a guard that runs `warden serve` and
// always stops it (SIGTERM, then SIGKILL) and reaps it.
#ifndef WARDEN_TESTS_SERVER_HELPERS_H_
#define WARDEN_TESTS_SERVER_HELPERS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/test_support.h"

namespace warden::server_test {

using Clock = std::chrono::steady_clock;

using testing::ReadFile;
using testing::RunResult;
using testing::TempDir;
using testing::WriteFile;

inline std::string SourcePath(const std::string& relative) {
  return std::string(WARDEN_SOURCE_DIR) + "/" + relative;
}

// ------------------------------------------------------------------ HTTP

struct Response {
  int status = 0;  // 0: no response (the connection closed or timed out first)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Formats one request; Content-Length is added for a body (or any POST).
inline std::string Http(
    const std::string& method, const std::string& target, const std::string& body = "",
    const std::vector<std::string>& headers = {"Content-Type: application/json"},
    const std::string& version = "HTTP/1.1") {
  std::string out = method + " " + target + " " + version + "\r\nHost: warden\r\n";
  for (const std::string& h : headers) out += h + "\r\n";
  if (!body.empty() || method == "POST")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

// One client connection over a Unix socket, reading responses as bytes.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof address.sun_path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Writes every byte; false if the peer has gone.
  bool Send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // Reads one response (status 0 if the connection ends or nothing arrives
  // within `timeout_ms`).
  // A response to HEAD has a Content-Length but no body: pass `head_only`.
  Response Read(int timeout_ms = 20000, bool head_only = false) {
    Response response;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return response;
    }
    const std::string head = buffer_.substr(0, header_end);
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    // HTTP/1.1 200 OK
    if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) return response;
    const int status = std::atoi(line.c_str() + 9);
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t start = colon + 1;
      while (start < line.size() && line[start] == ' ') ++start;
      response.headers[name] = line.substr(start);
    }
    size_t length = 0;
    if (auto it = response.headers.find("content-length"); it != response.headers.end())
      length = std::strtoul(it->second.c_str(), nullptr, 10);
    if (status == 100 || head_only) {  // 100 Continue has no body
      buffer_.erase(0, header_end + 4);
      response.status = status;
      return response;
    }
    while (buffer_.size() < header_end + 4 + length) {
      if (!Fill(deadline)) return Response{};
    }
    response.body = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    response.status = status;
    return response;
  }

  // Whether the server closes the connection within `timeout_ms` (bytes
  // that arrive first are kept for Read()).
  bool WaitClosed(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      if (!Fill(deadline)) return closed_;
    }
    return closed_;
  }

  // Sends one request and reads its response.
  Response Call(const std::string& request, int timeout_ms = 20000) {
    if (!Send(request)) return Response{};
    return Read(timeout_ms);
  }

 private:
  // Reads more bytes; false at the end of the stream, on an error or at the deadline.
  bool Fill(Clock::time_point deadline) {
    if (closed_ || fd_ < 0) return false;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closed_ = true;  // EOF, or ECONNRESET after the server closed
        return false;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

// One request on its own connection.
inline Response Call(const std::string& socket, const std::string& request) {
  Client client(socket);
  if (!client.connected()) return Response{};
  return client.Call(request);
}
inline Response Get(const std::string& socket, const std::string& target) {
  return Call(socket, Http("GET", target, "", {}));
}
inline Response Post(const std::string& socket, const std::string& target,
                     const std::string& body) {
  return Call(socket, Http("POST", target, body));
}

// ------------------------------------------------------------------ processes

using testing::ExitCodeOf;
using testing::Run;
using testing::Spawn;

// `warden serve …` in the background; stopped and reaped on destruction.
class ServerProcess {
 public:
  ServerProcess(const TempDir& dir, std::vector<std::string> args, std::string name = "server")
      : out_(dir / (name + ".stdout")), err_(dir / (name + ".stderr")) {
    args.insert(args.begin(), "serve");
    pid_ = Spawn(args, out_, err_);
  }
  ~ServerProcess() { Kill(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  std::string Stderr() const { return ReadFile(err_); }

  void Signal(int signal) {
    if (pid_ > 0) ::kill(pid_, signal);
  }

  // The exit code once the process has ended within `timeout_ms`.
  std::optional<int> WaitExit(int timeout_ms) {
    if (pid_ <= 0) return exit_code_;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        exit_code_ = ExitCodeOf(status);
        return exit_code_;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Polls the socket (connect + GET /ready) until it answers 200; false if
  // the process exits first or `timeout_ms` passes.
  bool WaitReady(const std::string& socket, int timeout_ms = 60000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      if (WaitExit(0).has_value()) return false;
      {
        Client client(socket);
        if (client.connected() && client.Call(Http("GET", "/ready", "", {})).status == 200)
          return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // SIGTERM, then SIGKILL after a grace period; always reaps.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (WaitExit(10000).has_value()) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    exit_code_ = ExitCodeOf(status);
  }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace warden::server_test

#endif  // WARDEN_TESTS_SERVER_HELPERS_H_
