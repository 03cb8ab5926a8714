// The floor of the decision server's benchmarks: a bare echo server over the
// same kind of socket (a Unix domain stream socket). It writes back whatever
// bytes it reads, with no parsing, so a round trip through it is the cost of
// the socket and the scheduler alone.
//
//   ./build/release/bench/echo_server /tmp/echo.sock [--threads N]
//
// One thread per core (or --threads N), each with its own epoll instance;
// the listening socket is registered in every instance with EPOLLEXCLUSIVE,
// so the kernel wakes one thread per incoming connection, and accepted
// connections are dealt to the threads in turn. A connection stays on its
// thread. SIGINT and SIGTERM remove the socket file and exit 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBufferBytes = 64 * 1024;

// What a connection still has to write back when the socket's send buffer
// was full; empty almost always.
struct Connection {
  int fd = -1;
  std::string pending;
};

void Die(const char* what) {
  std::fprintf(stderr, "echo_server: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

// Writes what it can of data; returns false when the peer is gone.
bool WriteSome(Connection* c, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(c->fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c->pending.append(data, size);
      return true;
    }
    return false;
  }
  return true;
}

// Every thread's epoll instance. An accepted connection goes to the next
// thread in turn (epoll_ctl on another thread's instance is safe), since
// EPOLLEXCLUSIVE alone lets one busy thread take a whole burst of
// connections.
std::vector<int> g_epoll_fds;
std::atomic<unsigned> g_next_thread{0};

void Close(int epoll_fd, Connection* c) {
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  delete c;
}

void Serve(int listen_fd, int epoll_fd) {
  epoll_event listen_event{};
  listen_event.events = EPOLLIN | EPOLLEXCLUSIVE;
  listen_event.data.ptr = nullptr;  // null marks the listening socket
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &listen_event) < 0) Die("epoll_ctl");
  std::vector<char> buffer(kBufferBytes);
  epoll_event events[64];
  for (;;) {
    int ready = ::epoll_wait(epoll_fd, events, 64, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      Die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      auto* c = static_cast<Connection*>(events[i].data.ptr);
      if (c == nullptr) {
        for (;;) {
          int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;  // EAGAIN: another thread took it, or none left
          auto* conn = new Connection{fd, {}};
          epoll_event event{};
          event.events = EPOLLIN | EPOLLRDHUP;
          event.data.ptr = conn;
          const int owner = g_epoll_fds[g_next_thread.fetch_add(1) % g_epoll_fds.size()];
          if (::epoll_ctl(owner, EPOLL_CTL_ADD, fd, &event) < 0) {
            ::close(fd);
            delete conn;
          }
        }
        continue;
      }
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        Close(epoll_fd, c);
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        std::string pending = std::move(c->pending);
        c->pending.clear();
        if (!WriteSome(c, pending.data(), pending.size())) {
          Close(epoll_fd, c);
          continue;
        }
        if (c->pending.empty()) {
          epoll_event event{};
          event.events = EPOLLIN | EPOLLRDHUP;
          event.data.ptr = c;
          ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
        }
        continue;
      }
      // Readable (or hung up): echo until the socket is drained, unless the
      // peer stops reading, in which case wait for EPOLLOUT first.
      bool alive = true;
      while (alive && c->pending.empty()) {
        ssize_t n = ::recv(c->fd, buffer.data(), buffer.size(), 0);
        if (n > 0) {
          alive = WriteSome(c, buffer.data(), static_cast<size_t>(n));
          if (static_cast<size_t>(n) < buffer.size()) break;
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        } else {
          alive = false;  // EOF or error
        }
      }
      if (!alive) {
        Close(epoll_fd, c);
      } else if (!c->pending.empty()) {
        epoll_event event{};
        event.events = EPOLLOUT | EPOLLRDHUP;
        event.data.ptr = c;
        ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--threads" || arg == "-t") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: echo_server SOCKET_PATH [--threads N]\n");
      return 0;
    } else if (path.empty() && !arg.starts_with("-")) {
      path = arg;
    } else {
      std::fprintf(stderr, "usage: echo_server SOCKET_PATH [--threads N]\n");
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: echo_server SOCKET_PATH [--threads N]\n");
    return 2;
  }
  if (threads < 1) threads = 1;

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    std::fprintf(stderr, "echo_server: socket path too long: %s\n", path.c_str());
    return 2;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) Die("socket");
  ::unlink(path.c_str());
  if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) Die("bind");
  if (::listen(listen_fd, SOMAXCONN) < 0) Die("listen");

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  for (int t = 0; t < threads; ++t) {
    int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) Die("epoll_create1");
    g_epoll_fds.push_back(epoll_fd);
  }
  for (int t = 0; t < threads; ++t) std::thread(Serve, listen_fd, g_epoll_fds[t]).detach();
  std::fprintf(stderr, "echo_server: listening on %s with %d threads\n", path.c_str(), threads);

  int signal = 0;
  sigwait(&stop, &signal);
  ::unlink(path.c_str());
  std::fprintf(stderr, "echo_server: stopped by signal %d\n", signal);
  std::_Exit(0);
}
