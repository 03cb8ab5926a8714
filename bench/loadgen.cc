// A load generator for `warden serve` (and for bench/echo_server, the floor
// it is measured against) over a real Unix domain socket.
//
//   loadgen --socket /tmp/w.sock --clients 16 --duration 10
//   loadgen --socket /tmp/w.sock --clients 16 --batch 32 --duration 10
//   loadgen --socket /tmp/w.sock --clients 16 --rate 20000 --duration 10
//   loadgen --socket /tmp/echo.sock --target echo --clients 1 --duration 10
//   loadgen --socket /tmp/w.sock --expect permit --reload-socket /tmp/a.sock --reloads 100
//   loadgen --socket /tmp/w.sock --clients 16 --duration 60 --ids-file ids --stop-when-down
//
// Each client is one keep-alive connection that sends a pre-built HTTP/1.1
// request (with a Content-Length) and reads the whole response before it
// sends the next: closed loop by default, or an open loop at a fixed total
// rate with --rate (every request has an intended send time and its latency
// is counted from that time, so a stalled server cannot hide its stall by
// slowing the clients down). By default every client is a thread with a
// blocking socket; --threads T multiplexes the clients over T threads with
// epoll instead.
//
// --target echo sends the very same bytes to an echo server and reads back
// as many, so both targets move the same payload.
//
// Output: one JSON line on stdout (requests/s, decisions/s, latency
// percentiles in microseconds, errors, wrong answers, reloads; `service_us`
// is timed from the actual send, so in an open loop it leaves out how late
// the client itself was) and a readable summary on stderr. Exit status 0; with --strict, 1 when
// anything failed (an I/O error, a status other than 200, a wrong decision, a failed reload); 2 on
// a usage error or when the socket cannot be reached.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/load_histogram.h"

namespace {

using warden::bench::LogHistogram;

int64_t NowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Sleeps end up to the thread's timer slack late (50 us by default), which
// the open loop would count as latency: every client thread asks for 1 ns.
void TightenTimerSlack() { ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

void SleepUntilNs(int64_t when) {
  timespec ts;
  ts.tv_sec = when / 1000000000;
  ts.tv_nsec = when % 1000000000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// The request of bench/decide_bench.cc's BM_DecodeAndDecidePayments: an
// approver approves a payment within their limit (examples/payments), which
// the policies permit.
constexpr std::string_view kPaymentsJson = R"({
  "subject": {"id": "anna", "roles": ["payment_approver"], "department": "ops",
              "auth": {"mfa": false, "auth_age": "10m", "methods": ["pwd"]}},
  "action": "approve",
  "resource": {"type": "payment", "id": "p-5", "amount": 800.00, "department": "ops",
               "created_by": "carl", "status": "pending", "beneficiary_country": "FR",
               "beneficiary_iban": "FR7630006000011234567890189"},
  "context": {"ip": "198.51.100.20", "time": "2026-03-02T10:00:00Z",
              "device": {"id": "laptop-4471", "known": true},
              "geo": {"country": "FR", "impossible_travel": false},
              "network": {"anonymous": false, "tor": false}}
})";

// ---------------------------------------------------------------- options

enum class Target { kHttp, kEcho };

struct Options {
  std::string socket;
  Target target = Target::kHttp;
  int clients = 1;
  int threads = 0;  // 0: a thread per client
  double duration = 0;
  uint64_t requests = 0;
  int batch = 0;  // 0: POST /v1/decide; K: POST /v1/decide/batch with K requests
  double rate = 0;
  std::string request_file;
  std::string path;  // overrides the request target
  std::string expect;
  std::string reload_socket;
  int reloads = 0;
  double warmup = 0;
  double timeout = 10;
  std::string label;
  bool strict = false;
  bool quiet = false;
  std::string ids_file;         // the X-Decision-Id of every 200 answer, one per line
  bool stop_when_down = false;  // end the run when the server cannot be reached
};

constexpr const char* kUsage = R"(usage: loadgen --socket PATH [options]
  --socket PATH          the server's Unix socket (required)
  --target http|echo     http (default): POST decision requests; echo: send the
                         same bytes to an echo server and read as many back
  --clients N            keep-alive connections (default 1)
  --threads T            multiplex the clients over T epoll threads
                         (default: one thread with a blocking socket per client)
  --duration S           run for S seconds (default 10 unless --requests)
  --requests N           stop after N requests (all clients together)
  --warmup S             do not count the first S seconds (default 0)
  --batch K              POST /v1/decide/batch with K copies of the request
  --rate R               open loop at R requests/s in total (default: closed loop)
  --request-file FILE    the JSON request (default: the payments request of
                         bench/decide_bench.cc, permitted by examples/payments)
  --path PATH            the request target (default /v1/decide[/batch])
  --expect DECISION      check every decision (permit, deny, step_up, ...)
  --reload-socket PATH   the admin socket for --reloads
  --reloads N            POST /v1/reload N times, spread over the duration
  --timeout S            a response slower than S seconds is an error (default 10)
  --label TEXT           copied into the JSON summary
  --ids-file FILE        write the X-Decision-Id of every answered (200) request
                         to FILE, one per line (not with --threads)
  --stop-when-down       end the run as soon as a connection cannot be made
                         (the server was killed)
  --strict               exit 1 if any request, decision or reload failed
  --quiet                no summary on stderr
)";

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

double ParseNumber(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || value < 0)
    UsageError(flag + ": not a non-negative number: " + text);
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) UsageError(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "-h" || flag == "--help") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else if (flag == "--socket") {
      o.socket = next();
    } else if (flag == "--target") {
      std::string t = next();
      if (t == "http") {
        o.target = Target::kHttp;
      } else if (t == "echo") {
        o.target = Target::kEcho;
      } else {
        UsageError("--target must be http or echo");
      }
    } else if (flag == "--clients") {
      o.clients = static_cast<int>(ParseNumber(flag, next()));
    } else if (flag == "--threads") {
      o.threads = static_cast<int>(ParseNumber(flag, next()));
    } else if (flag == "--duration") {
      o.duration = ParseNumber(flag, next());
    } else if (flag == "--requests") {
      o.requests = static_cast<uint64_t>(ParseNumber(flag, next()));
    } else if (flag == "--warmup") {
      o.warmup = ParseNumber(flag, next());
    } else if (flag == "--batch") {
      o.batch = static_cast<int>(ParseNumber(flag, next()));
    } else if (flag == "--rate") {
      o.rate = ParseNumber(flag, next());
    } else if (flag == "--request-file") {
      o.request_file = next();
    } else if (flag == "--path") {
      o.path = next();
    } else if (flag == "--expect") {
      o.expect = next();
    } else if (flag == "--reload-socket") {
      o.reload_socket = next();
    } else if (flag == "--reloads") {
      o.reloads = static_cast<int>(ParseNumber(flag, next()));
    } else if (flag == "--timeout") {
      o.timeout = ParseNumber(flag, next());
    } else if (flag == "--label") {
      o.label = next();
    } else if (flag == "--ids-file") {
      o.ids_file = next();
    } else if (flag == "--stop-when-down") {
      o.stop_when_down = true;
    } else if (flag == "--strict") {
      o.strict = true;
    } else if (flag == "--quiet") {
      o.quiet = true;
    } else {
      UsageError("unknown flag " + flag);
    }
  }
  if (o.socket.empty()) UsageError("--socket is required");
  if (o.clients < 1) UsageError("--clients must be at least 1");
  if (o.duration == 0 && o.requests == 0) o.duration = 10;
  if (o.reloads > 0 && o.reload_socket.empty()) UsageError("--reloads needs --reload-socket");
  if (o.timeout <= 0) o.timeout = 10;
  if (o.target == Target::kEcho && !o.expect.empty()) UsageError("--expect needs --target http");
  if (!o.ids_file.empty() && o.threads > 0)
    UsageError("--ids-file needs a thread per client (no --threads)");
  return o;
}

// ---------------------------------------------------------------- sockets

int Connect(const std::string& path, bool nonblocking, double timeout_s) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return -1;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
    ::close(fd);
    return -1;
  }
  if (nonblocking) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  } else {
    timeval tv;
    tv.tv_sec = static_cast<time_t>(timeout_s);
    tv.tv_usec = static_cast<suseconds_t>((timeout_s - static_cast<double>(tv.tv_sec)) * 1e6);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  return fd;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------- responses

size_t SkipSpace(std::string_view s, size_t at) {
  while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r')) ++at;
  return at;
}

// Finds the next `"key": VALUE` at or after `from` (a plain scan, not a JSON
// parser: the responses are the server's own JSON). Sets `value` to the
// string's contents, or to the literal (true, 12, ...) when not a string;
// returns where the scan may go on, or npos.
size_t FindMember(std::string_view s, std::string_view key, size_t from, std::string_view* value) {
  for (size_t at = from; at < s.size();) {
    at = s.find(key, at);
    if (at == std::string_view::npos) return at;
    const size_t after = at + key.size();
    if (at == 0 || s[at - 1] != '"' || after >= s.size() || s[after] != '"') {
      at = after;
      continue;
    }
    size_t v = SkipSpace(s, after + 1);
    if (v >= s.size() || s[v] != ':') {
      at = after;
      continue;
    }
    v = SkipSpace(s, v + 1);
    if (v < s.size() && s[v] == '"') {
      size_t end = s.find('"', v + 1);
      if (end == std::string_view::npos) return end;
      *value = s.substr(v + 1, end - v - 1);
      return end + 1;
    }
    size_t end = v;
    while (end < s.size() && s[end] != ',' && s[end] != '}' && s[end] != ']' && s[end] != ' ')
      ++end;
    *value = s.substr(v, end - v);
    return end;
  }
  return std::string_view::npos;
}

enum class Parse { kIncomplete, kComplete, kError };

// One HTTP/1.1 response being received: the bytes so far and what the
// header said, parsed once.
struct ResponseReader {
  std::string in;
  size_t header_bytes = 0;  // 0 until the header is complete
  int status = 0;
  int64_t content_length = -1;
  bool chunked = false;
  bool close = false;
  std::string chunked_body;
  std::string_view body;    // valid after kComplete
  std::string decision_id;  // X-Decision-Id

  void Reset() {
    in.clear();
    decision_id.clear();
    header_bytes = 0;
    status = 0;
    content_length = -1;
    chunked = false;
    close = false;
    body = {};
  }

  Parse ParseHeader() {
    size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos)
      return in.size() > (64 << 10) ? Parse::kError : Parse::kIncomplete;
    std::string_view head(in.data(), end);
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) return Parse::kError;
    status = 0;
    for (size_t i = 9; i < 12; ++i) {
      if (status_line[i] < '0' || status_line[i] > '9') return Parse::kError;
      status = status * 10 + (status_line[i] - '0');
    }
    if (status_line.starts_with("HTTP/1.0")) close = true;
    std::string_view rest =
        line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
      size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = Trim(line.substr(0, colon));
      std::string_view value = Trim(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "content-length")) {
        int64_t n = 0;
        for (char c : value) {
          if (c < '0' || c > '9') return Parse::kError;
          n = n * 10 + (c - '0');
        }
        content_length = n;
      } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (EqualsIgnoreCase(name, "x-decision-id")) {
        decision_id = std::string(value);
      } else if (EqualsIgnoreCase(name, "connection")) {
        if (EqualsIgnoreCase(value, "close")) close = true;
      }
    }
    if (!chunked && content_length < 0) {
      if (status == 204 || status == 304 || status < 200) {
        content_length = 0;
      } else {
        return Parse::kError;  // a body delimited by the end of the connection
      }
    }
    header_bytes = end + 4;
    return Parse::kComplete;
  }

  // Reassembles a chunked body (no trailers expected).
  Parse ParseChunked() {
    chunked_body.clear();
    size_t at = header_bytes;
    for (;;) {
      size_t eol = in.find("\r\n", at);
      if (eol == std::string::npos) return Parse::kIncomplete;
      uint64_t size = 0;
      size_t i = at;
      for (; i < eol; ++i) {
        char c = in[i];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0) break;  // a chunk extension
        size = size * 16 + static_cast<uint64_t>(digit);
      }
      if (i == at) return Parse::kError;
      at = eol + 2;
      if (size == 0) {
        size_t trailer_end = in.find("\r\n", at);
        if (trailer_end == std::string::npos) return Parse::kIncomplete;
        if (trailer_end + 2 != in.size()) return Parse::kError;
        body = chunked_body;
        return Parse::kComplete;
      }
      if (in.size() < at + size + 2) return Parse::kIncomplete;
      chunked_body.append(in, at, size);
      at += size + 2;
    }
  }

  // After new bytes were appended to `in`.
  Parse Advance() {
    if (header_bytes == 0) {
      Parse p = ParseHeader();
      if (p != Parse::kComplete) return p;
    }
    if (chunked) return ParseChunked();
    const size_t total = header_bytes + static_cast<size_t>(content_length);
    if (in.size() < total) return Parse::kIncomplete;
    if (in.size() > total) return Parse::kError;  // no pipelining: nothing may follow
    body = std::string_view(in).substr(header_bytes);
    return Parse::kComplete;
  }
};

// ---------------------------------------------------------------- statistics

constexpr std::array<std::string_view, 4> kOutcomes = {"permit", "deny", "step_up",
                                                       "not_applicable"};

// The few slowest round trips and when they started (relative to the start
// of the run), to line stalls up with reloads or with the server's log.
struct Slowest {
  static constexpr size_t kKeep = 5;
  std::vector<std::pair<uint64_t, int64_t>> top;  // (latency, start), slowest first

  void Offer(uint64_t latency_ns, int64_t start_ns) {
    if (top.size() == kKeep && latency_ns <= top.back().first) return;
    top.emplace_back(latency_ns, start_ns);
    std::sort(top.begin(), top.end(), [](auto& a, auto& b) { return a.first > b.first; });
    if (top.size() > kKeep) top.pop_back();
  }
  void Merge(const Slowest& o) {
    for (auto [latency, start] : o.top) Offer(latency, start);
  }
  // [[latency ms, start s], ...]
  std::string Json(int64_t origin_ns) const {
    std::string out = "[";
    for (auto [latency, start] : top) {
      char item[64];
      std::snprintf(item, sizeof(item), "%s[%.2f,%.3f]", out.size() > 1 ? "," : "",
                    static_cast<double>(latency) / 1e6,
                    static_cast<double>(start - origin_ns) / 1e9);
      out += item;
    }
    return out + "]";
  }
};

struct Stats {
  LogHistogram latency;  // nanoseconds, from when the request was due
  LogHistogram service;  // nanoseconds, from when it was sent
  Slowest slowest;
  uint64_t requests = 0;
  uint64_t decisions = 0;
  uint64_t wrong = 0;
  uint64_t connect_errors = 0;
  uint64_t io_errors = 0;  // reset, EOF or a malformed response
  uint64_t timeouts = 0;
  uint64_t bad_status = 0;
  uint64_t bad_body = 0;  // a 200 without the expected number of decisions, or an echo mismatch
  std::map<int, uint64_t> statuses;  // statuses other than 200
  std::array<uint64_t, kOutcomes.size() + 1> outcomes{};
  int64_t last_completion_ns = 0;
  std::vector<std::string> answered_ids;  // --ids-file

  void Merge(const Stats& o) {
    latency.Merge(o.latency);
    service.Merge(o.service);
    slowest.Merge(o.slowest);
    requests += o.requests;
    decisions += o.decisions;
    wrong += o.wrong;
    connect_errors += o.connect_errors;
    io_errors += o.io_errors;
    timeouts += o.timeouts;
    bad_status += o.bad_status;
    bad_body += o.bad_body;
    for (auto [status, n] : o.statuses) statuses[status] += n;
    for (size_t i = 0; i < outcomes.size(); ++i) outcomes[i] += o.outcomes[i];
    last_completion_ns = std::max(last_completion_ns, o.last_completion_ns);
    answered_ids.insert(answered_ids.end(), o.answered_ids.begin(), o.answered_ids.end());
  }
  uint64_t errors() const { return connect_errors + io_errors + timeouts + bad_status + bad_body; }
};

// ---------------------------------------------------------------- the run

struct Run {
  Options options;
  std::string request;  // the bytes sent for every request
  size_t decisions_per_request = 1;
  int64_t start_ns = 0;             // clients start
  int64_t measure_start_ns = 0;     // after the warm-up
  int64_t deadline_ns = INT64_MAX;  // the planned end (the reloads may extend it)
  int64_t timeout_ns = 0;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> budget{INT64_MAX};  // requests left to send

  bool TakeOne() {
    if (options.requests == 0) return true;
    return budget.fetch_sub(1, std::memory_order_relaxed) > 0;
  }
};

// Checks one complete response and counts it.
// `intended_ns`: when the request was due (the open loop's schedule, or the
// send in a closed loop); `sent_ns`: when it was actually sent.
void Account(const Run& run, const ResponseReader* http, std::string_view echo, int64_t intended_ns,
             int64_t sent_ns, int64_t done_ns, Stats* stats) {
  const bool counted = done_ns >= run.measure_start_ns;
  if (http != nullptr) {
    if (http->status != 200) {
      ++stats->bad_status;
      ++stats->statuses[http->status];
      return;
    }
    if (!run.options.ids_file.empty()) stats->answered_ids.push_back(http->decision_id);
    // Every `"decision": "X"` in the body is a decision (one per request of
    // a batch); the bad-request shape uses the same key.
    std::string_view body = http->body;
    size_t found = 0;
    bool wrong = false;
    for (size_t at = 0;;) {
      std::string_view outcome;
      at = FindMember(body, "decision", at, &outcome);
      if (at == std::string_view::npos) break;
      ++found;
      size_t slot = kOutcomes.size();
      for (size_t i = 0; i < kOutcomes.size(); ++i) {
        if (kOutcomes[i] == outcome) slot = i;
      }
      if (counted) ++stats->outcomes[slot];
      if (!run.options.expect.empty() && outcome != run.options.expect) wrong = true;
    }
    if (found != run.decisions_per_request) {
      ++stats->bad_body;
      return;
    }
    if (wrong) {
      ++stats->wrong;
      return;
    }
  } else if (echo != run.request) {
    ++stats->bad_body;
    return;
  }
  if (!counted) return;
  stats->latency.Record(static_cast<uint64_t>(std::max<int64_t>(0, done_ns - intended_ns)));
  stats->service.Record(static_cast<uint64_t>(std::max<int64_t>(0, done_ns - sent_ns)));
  ++stats->requests;
  stats->decisions += run.decisions_per_request;
  stats->slowest.Offer(static_cast<uint64_t>(std::max<int64_t>(0, done_ns - intended_ns)),
                       intended_ns);
  stats->last_completion_ns = done_ns;
}

// The per-connection interval of the open loop, and where client `index`
// starts in it, so that the clients' requests interleave evenly.
int64_t IntervalNs(const Run& run) {
  if (run.options.rate <= 0) return 0;
  return static_cast<int64_t>(1e9 * run.options.clients / run.options.rate);
}
int64_t FirstSendNs(const Run& run, int index) {
  if (run.options.rate <= 0) return run.start_ns;
  return run.start_ns + static_cast<int64_t>(1e9 * index / run.options.rate);
}

// A client with a blocking socket, on its own thread.
void BlockingClient(Run& run, int index, Stats* stats) {
  const bool echo = run.options.target == Target::kEcho;
  const int64_t interval = IntervalNs(run);
  int64_t next_send = FirstSendNs(run, index);
  int fd = -1;
  ResponseReader reader;
  reader.in.reserve(64 << 10);
  std::vector<char> buffer(64 << 10);
  TightenTimerSlack();
  SleepUntilNs(run.start_ns);
  while (!run.stop.load(std::memory_order_relaxed)) {
    if (fd < 0) {
      fd = Connect(run.options.socket, false, run.options.timeout);
      if (fd < 0) {
        ++stats->connect_errors;
        if (run.options.stop_when_down) run.stop.store(true);
        ::usleep(10000);
        continue;
      }
    }
    int64_t intended;
    if (interval > 0) {
      if (run.options.reloads == 0 && next_send >= run.deadline_ns) break;
      SleepUntilNs(next_send);
      if (run.stop.load(std::memory_order_relaxed)) break;
      intended = next_send;
      next_send += interval;
    } else {
      intended = NowNs();
    }
    if (!run.TakeOne()) break;
    const int64_t sent_at = interval > 0 ? NowNs() : intended;
    bool failed = false;
    for (size_t sent = 0; sent < run.request.size();) {
      ssize_t n = ::send(fd, run.request.data() + sent, run.request.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        failed = true;
        break;
      }
    }
    reader.Reset();
    bool closing = false;
    while (!failed) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n > 0) {
        reader.in.append(buffer.data(), static_cast<size_t>(n));
        if (echo) {
          if (reader.in.size() > run.request.size()) {
            failed = true;
          } else if (reader.in.size() == run.request.size()) {
            Account(run, nullptr, reader.in, intended, sent_at, NowNs(), stats);
            break;
          }
          continue;
        }
        Parse p = reader.Advance();
        if (p == Parse::kIncomplete) continue;
        if (p == Parse::kError) {
          failed = true;
          break;
        }
        Account(run, &reader, {}, intended, sent_at, NowNs(), stats);
        closing = reader.close;
        break;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ++stats->timeouts;
        ::close(fd);
        fd = -1;
        break;
      }
      failed = true;  // EOF or an error
    }
    if (failed && !run.stop.load(std::memory_order_relaxed)) ++stats->io_errors;
    if ((failed || closing) && fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  if (fd >= 0) ::close(fd);
}

// Clients multiplexed over one thread with epoll and non-blocking sockets.
struct EpollConn {
  int index = 0;
  int fd = -1;
  bool busy = false;  // a request in flight
  size_t sent = 0;
  int64_t intended_ns = 0;
  int64_t sent_ns = 0;
  int64_t next_send_ns = 0;
  ResponseReader reader;
};

class EpollClients {
 public:
  EpollClients(Run& run, const std::vector<int>& indexes, Stats* stats)
      : run_(run),
        stats_(stats),
        echo_(run.options.target == Target::kEcho),
        interval_(IntervalNs(run)) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;  // the timer
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &event);
    for (int index : indexes) {
      auto c = std::make_unique<EpollConn>();
      c->index = index;
      c->next_send_ns = FirstSendNs(run, index);
      c->reader.in.reserve(64 << 10);
      conns_.push_back(std::move(c));
    }
    buffer_.resize(64 << 10);
  }
  ~EpollClients() {
    for (auto& c : conns_) Drop(c.get());
    ::close(timer_fd_);
    ::close(epoll_fd_);
  }

  void Loop() {
    TightenTimerSlack();
    SleepUntilNs(run_.start_ns);
    while (!run_.stop.load(std::memory_order_relaxed)) {
      int64_t wake = 0;
      if (!StartDue(&wake)) break;
      itimerspec timer{};
      timer.it_value.tv_sec = wake / 1000000000;
      timer.it_value.tv_nsec = wake % 1000000000;
      ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &timer, nullptr);
      epoll_event events[64];
      int ready = ::epoll_wait(epoll_fd_, events, 64, -1);
      for (int i = 0; i < ready; ++i) OnEvent(events[i]);
    }
  }

 private:
  // Times out busy connections and starts the requests that are due; sets
  // `wake` to when to look again. False when the budget is spent and
  // nothing is in flight.
  bool StartDue(int64_t* wake) {
    int64_t now = NowNs();
    *wake = now + 100000000;  // look at the stop flag and the timeouts every 100 ms
    bool active = false;
    for (auto& c : conns_) {
      if (c->busy) {
        active = true;
        if (now - c->sent_ns > run_.timeout_ns) {
          ++stats_->timeouts;
          Drop(c.get());
        }
        continue;
      }
      if (!budget_left_) continue;
      if (interval_ == 0 || c->next_send_ns <= now) {
        Start(c.get(), now);
        if (c->busy) active = true;
      } else {
        *wake = std::min(*wake, c->next_send_ns);
      }
    }
    return budget_left_ || active;
  }

  void Drop(EpollConn* c) {
    if (c->fd >= 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
      ::close(c->fd);
    }
    c->fd = -1;
    c->busy = false;
  }

  void Watch(EpollConn* c, bool writable) {
    epoll_event event{};
    event.events = writable ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    event.data.ptr = c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &event);
  }

  // Sends what it can; false on an error.
  bool Push(EpollConn* c) {
    while (c->sent < run_.request.size()) {
      ssize_t n =
          ::send(c->fd, run_.request.data() + c->sent, run_.request.size() - c->sent, MSG_NOSIGNAL);
      if (n > 0) {
        c->sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Watch(c, true);
        return true;
      } else {
        return false;
      }
    }
    return true;
  }

  void Start(EpollConn* c, int64_t now) {
    if (c->fd < 0) {
      c->fd = Connect(run_.options.socket, true, 0);
      if (c->fd < 0) {
        ++stats_->connect_errors;
        return;
      }
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.ptr = c;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &event);
    }
    if (!run_.TakeOne()) {
      budget_left_ = false;
      return;
    }
    c->busy = true;
    c->sent = 0;
    c->intended_ns = interval_ > 0 ? c->next_send_ns : now;
    c->sent_ns = now;
    if (interval_ > 0) c->next_send_ns += interval_;
    c->reader.Reset();
    if (!Push(c)) {
      ++stats_->io_errors;
      Drop(c);
    }
  }

  void OnEvent(const epoll_event& event) {
    auto* c = static_cast<EpollConn*>(event.data.ptr);
    if (c == nullptr) {  // the timer
      uint64_t expirations;
      while (::read(timer_fd_, &expirations, sizeof(expirations)) > 0) {
      }
      return;
    }
    if (c->fd < 0) return;
    if ((event.events & EPOLLOUT) && c->busy && c->sent < run_.request.size()) {
      if (!Push(c)) {
        ++stats_->io_errors;
        Drop(c);
        return;
      }
      if (c->sent == run_.request.size()) Watch(c, false);
    }
    if (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) Receive(c);
  }

  // Reads what arrived; false on EOF or an error.
  bool ReadAvailable(EpollConn* c) {
    for (;;) {
      ssize_t n = ::recv(c->fd, buffer_.data(), buffer_.size(), 0);
      if (n > 0) {
        c->reader.in.append(buffer_.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  void Receive(EpollConn* c) {
    bool failed = !ReadAvailable(c);
    if (!c->busy) {
      if (failed || !c->reader.in.empty()) {
        if (!c->reader.in.empty()) ++stats_->io_errors;  // bytes nobody asked for
        Drop(c);
      }
      return;
    }
    const int64_t done_ns = NowNs();
    bool done = false, closing = false;
    if (echo_) {
      if (c->reader.in.size() > run_.request.size()) {
        failed = true;
      } else if (c->reader.in.size() == run_.request.size()) {
        Account(run_, nullptr, c->reader.in, c->intended_ns, c->sent_ns, done_ns, stats_);
        done = true;
      }
    } else {
      Parse p = c->reader.Advance();
      if (p == Parse::kError) {
        failed = true;
      } else if (p == Parse::kComplete) {
        Account(run_, &c->reader, {}, c->intended_ns, c->sent_ns, done_ns, stats_);
        done = true;
        closing = c->reader.close;
      }
    }
    if (done) {
      c->busy = false;
      if (closing) Drop(c);
      if (interval_ == 0 && budget_left_ && !run_.stop.load(std::memory_order_relaxed))
        Start(c, done_ns);
    } else if (failed) {
      if (!run_.stop.load(std::memory_order_relaxed)) ++stats_->io_errors;
      Drop(c);
    }
  }

  Run& run_;
  Stats* stats_;
  const bool echo_;
  const int64_t interval_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  std::vector<std::unique_ptr<EpollConn>> conns_;
  std::vector<char> buffer_;
  bool budget_left_ = true;
};

// ---------------------------------------------------------------- reloads

struct ReloadStats {
  int ok = 0;
  int failed = 0;
  LogHistogram latency;
  Slowest slowest;
  std::string first_failure;
};

// POSTs /v1/reload `count` times on the admin socket, spread evenly over
// [start, end), each on a kept-alive connection (reopened after a failure).
void Reloader(const Run& run, int count, int64_t start_ns, int64_t end_ns, ReloadStats* stats) {
  const std::string request =
      "POST /v1/reload HTTP/1.1\r\nHost: warden\r\nContent-Length: 0\r\n\r\n";
  int fd = -1;
  ResponseReader reader;
  std::vector<char> buffer(64 << 10);
  const double spacing = count > 0 ? static_cast<double>(end_ns - start_ns) / count : 0;
  auto fail = [&](const std::string& why) {
    ++stats->failed;
    if (stats->first_failure.empty()) stats->first_failure = why;
    if (fd >= 0) ::close(fd);
    fd = -1;
  };
  for (int i = 0; i < count; ++i) {
    SleepUntilNs(start_ns + static_cast<int64_t>(spacing * (i + 0.5)));
    if (fd < 0) fd = Connect(run.options.reload_socket, false, 60);
    if (fd < 0) {
      fail("cannot connect to " + run.options.reload_socket + ": " + std::strerror(errno));
      continue;
    }
    const int64_t t0 = NowNs();
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      fail("send failed");
      continue;
    }
    reader.Reset();
    Parse p = Parse::kIncomplete;
    while (p == Parse::kIncomplete) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        p = Parse::kError;
        break;
      }
      reader.in.append(buffer.data(), static_cast<size_t>(n));
      p = reader.Advance();
    }
    if (p != Parse::kComplete) {
      fail("no complete response");
      continue;
    }
    stats->latency.Record(static_cast<uint64_t>(NowNs() - t0));
    stats->slowest.Offer(static_cast<uint64_t>(NowNs() - t0), t0);
    std::string_view ok_value;
    const bool ok = reader.status == 200 &&
                    FindMember(reader.body, "ok", 0, &ok_value) != std::string_view::npos &&
                    ok_value == "true";
    if (!ok) {
      fail("status " + std::to_string(reader.status) + ": " +
           std::string(reader.body.substr(0, 300)));
      continue;
    }
    ++stats->ok;
    if (reader.close) {
      ::close(fd);
      fd = -1;
    }
  }
  if (fd >= 0) ::close(fd);
}

// ---------------------------------------------------------------- main

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\u%04x", c);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool ReadFile(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) out->append(chunk, n);
  std::fclose(f);
  return true;
}

}  // namespace

// The HTTP request every client sends: the payments request (or
// --request-file), batched with --batch.
bool BuildRequest(Run* run) {
  const Options& o = run->options;
  std::string json(kPaymentsJson);
  if (!o.request_file.empty()) {
    json.clear();
    if (!ReadFile(o.request_file, &json)) {
      std::fprintf(stderr, "loadgen: cannot read %s: %s\n", o.request_file.c_str(),
                   std::strerror(errno));
      return false;
    }
    while (!json.empty() && (json.back() == '\n' || json.back() == '\r' || json.back() == ' '))
      json.pop_back();
  }
  std::string body;
  if (o.batch > 0) {
    body = "{\"requests\":[";
    for (int i = 0; i < o.batch; ++i) {
      if (i > 0) body.push_back(',');
      body += json;
    }
    body += "]}";
    run->decisions_per_request = static_cast<size_t>(o.batch);
  } else {
    body = json;
  }
  const std::string path = !o.path.empty() ? o.path
                           : o.batch > 0   ? "/v1/decide/batch"
                                           : "/v1/decide";
  run->request = "POST " + path +
                 " HTTP/1.1\r\nHost: warden\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
  return true;
}

// The run's figures as one JSON line on stdout (and a summary on stderr).
void PrintReport(const Run& run, const Stats& total, const ReloadStats& reload_stats,
                 int thread_count, double seconds, double rps, double dps) {
  const Options& o = run.options;
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  const LogHistogram& h = total.latency;

  // The load generator's own CPU time: on a small machine it competes with
  // the server it measures.
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu_seconds =
      static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;

  std::string statuses;
  for (auto [status, n] : total.statuses) {
    if (!statuses.empty()) statuses += ",";
    statuses += "\"" + std::to_string(status) + "\":" + std::to_string(n);
  }
  std::string outcomes;
  for (size_t i = 0; i <= kOutcomes.size(); ++i) {
    if (total.outcomes[i] == 0) continue;
    if (!outcomes.empty()) outcomes += ",";
    outcomes += "\"" + std::string(i < kOutcomes.size() ? kOutcomes[i] : "other") +
                "\":" + std::to_string(total.outcomes[i]);
  }
  std::printf(
      "{\"label\":\"%s\",\"target\":\"%s\",\"clients\":%d,\"threads\":%d,\"batch\":%d,"
      "\"rate\":%.0f,\"request_bytes\":%zu,\"seconds\":%.3f,\"requests\":%llu,\"decisions\":%llu,"
      "\"requests_per_s\":%.1f,\"decisions_per_s\":%.1f,"
      "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
      "\"mean\":%.1f,\"min\":%.1f},\"service_us\":{\"p50\":%.1f,\"p99\":%.1f},"
      "\"errors\":%llu,\"connect_errors\":%llu,\"io_errors\":%llu,\"timeouts\":%llu,"
      "\"bad_status\":%llu,\"statuses\":{%s},\"bad_body\":%llu,\"wrong\":%llu,"
      "\"outcomes\":{%s},\"reloads_ok\":%d,\"reloads_failed\":%d,\"reload_p50_ms\":%.2f,"
      "\"reload_max_ms\":%.2f,\"reload_first_failure\":\"%s\",\"loadgen_cpu_s\":%.2f,"
      "\"slowest_ms_at_s\":%s,\"reload_slowest_ms_at_s\":%s}\n",
      JsonEscape(o.label).c_str(), o.target == Target::kEcho ? "echo" : "http", o.clients,
      thread_count, o.batch, o.rate, run.request.size(), seconds,
      static_cast<unsigned long long>(total.requests),
      static_cast<unsigned long long>(total.decisions), rps, dps, us(h.Percentile(50)),
      us(h.Percentile(90)), us(h.Percentile(99)), us(h.Percentile(99.9)), us(h.max()),
      h.mean() / 1000.0, us(h.min()), us(total.service.Percentile(50)),
      us(total.service.Percentile(99)), static_cast<unsigned long long>(total.errors()),
      static_cast<unsigned long long>(total.connect_errors),
      static_cast<unsigned long long>(total.io_errors),
      static_cast<unsigned long long>(total.timeouts),
      static_cast<unsigned long long>(total.bad_status), statuses.c_str(),
      static_cast<unsigned long long>(total.bad_body), static_cast<unsigned long long>(total.wrong),
      outcomes.c_str(), reload_stats.ok, reload_stats.failed,
      static_cast<double>(reload_stats.latency.Percentile(50)) / 1e6,
      static_cast<double>(reload_stats.latency.max()) / 1e6,
      JsonEscape(reload_stats.first_failure).c_str(), cpu_seconds,
      total.slowest.Json(run.start_ns).c_str(), reload_stats.slowest.Json(run.start_ns).c_str());
  std::fflush(stdout);
  if (!o.quiet) {
    std::fprintf(stderr,
                 "loadgen: %s %s, %d clients, batch %d%s: %.0f req/s, %.0f decisions/s; latency "
                 "p50 %.1f p90 %.1f p99 %.1f max %.1f us; errors %llu, wrong %llu",
                 o.label.empty() ? "" : o.label.c_str(),
                 o.target == Target::kEcho ? "echo" : "http", o.clients, o.batch,
                 o.rate > 0 ? (", rate " + std::to_string(static_cast<long>(o.rate))).c_str() : "",
                 rps, dps, us(h.Percentile(50)), us(h.Percentile(90)), us(h.Percentile(99)),
                 us(h.max()), static_cast<unsigned long long>(total.errors()),
                 static_cast<unsigned long long>(total.wrong));
    if (o.reloads > 0)
      std::fprintf(stderr, "; reloads %d ok, %d failed", reload_stats.ok, reload_stats.failed);
    std::fprintf(stderr, "\n");
    if (!reload_stats.first_failure.empty())
      std::fprintf(stderr, "loadgen: first failed reload: %s\n",
                   reload_stats.first_failure.c_str());
  }
}

bool WriteIds(const std::string& path, const std::vector<std::string>& ids) {
  FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "loadgen: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  for (const std::string& id : ids) std::fprintf(out, "%s\n", id.c_str());
  return std::fclose(out) == 0;
}

int main(int argc, char** argv) {
  Run run;
  run.options = ParseOptions(argc, argv);
  const Options& o = run.options;

  if (!BuildRequest(&run)) return 2;
  if (o.requests > 0) run.budget.store(static_cast<int64_t>(o.requests));
  run.timeout_ns = static_cast<int64_t>(o.timeout * 1e9);

  // Fail early, and clearly, when nothing listens.
  if (int fd = Connect(o.socket, false, 1); fd < 0) {
    std::fprintf(stderr, "loadgen: cannot connect to %s: %s\n", o.socket.c_str(),
                 std::strerror(errno));
    return 2;
  } else {
    ::close(fd);
  }

  std::vector<Stats> stats;
  std::vector<std::thread> threads;
  const int thread_count = o.threads > 0 ? std::min(o.threads, o.clients) : o.clients;
  stats.resize(static_cast<size_t>(thread_count));
  run.start_ns = NowNs() + 20000000;  // the threads start together, 20 ms from now
  run.measure_start_ns = run.start_ns + static_cast<int64_t>(o.warmup * 1e9);
  const int64_t deadline =
      o.duration > 0 ? run.measure_start_ns + static_cast<int64_t>(o.duration * 1e9) : INT64_MAX;
  run.deadline_ns = deadline;
  for (int t = 0; t < thread_count; ++t) {
    if (o.threads > 0) {
      std::vector<int> indexes;
      for (int c = t; c < o.clients; c += thread_count) indexes.push_back(c);
      threads.emplace_back(
          [&run, indexes = std::move(indexes), out = &stats[static_cast<size_t>(t)]] {
            EpollClients(run, indexes, out).Loop();
          });
    } else {
      threads.emplace_back(BlockingClient, std::ref(run), t, &stats[static_cast<size_t>(t)]);
    }
  }
  ReloadStats reload_stats;
  std::thread reloader;
  if (o.reloads > 0) {
    // Without a duration the reloads run back to back while the load lasts.
    const int64_t end = deadline == INT64_MAX ? run.start_ns : deadline;
    reloader = std::thread(Reloader, std::cref(run), o.reloads, run.start_ns, end, &reload_stats);
  }

  int64_t stop_ns = 0;
  if (deadline != INT64_MAX) {
    while (!run.stop.load() && NowNs() < deadline)
      SleepUntilNs(std::min(deadline, NowNs() + 50000000));
    // Every reload happens under load: the clients go on until the last one.
    if (reloader.joinable()) reloader.join();
    stop_ns = NowNs();
    run.stop.store(true);
  }
  for (auto& t : threads) t.join();
  if (reloader.joinable()) reloader.join();

  Stats total;
  for (const Stats& s : stats) total.Merge(s);
  if (stop_ns == 0) stop_ns = std::max(total.last_completion_ns, run.measure_start_ns + 1);
  const double seconds = static_cast<double>(stop_ns - run.measure_start_ns) / 1e9;
  const double rps = static_cast<double>(total.requests) / seconds;
  const double dps = static_cast<double>(total.decisions) / seconds;
  PrintReport(run, total, reload_stats, thread_count, seconds, rps, dps);
  if (!o.ids_file.empty() && !WriteIds(o.ids_file, total.answered_ids)) return 2;
  const bool failed = total.errors() > 0 || total.wrong > 0 || reload_stats.failed > 0 ||
                      (o.reloads > 0 && reload_stats.ok != o.reloads) || total.requests == 0;
  return o.strict && failed ? 1 : 0;
}
