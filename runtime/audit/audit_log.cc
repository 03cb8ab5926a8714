// The queue and the writer thread. Entries are counted in the order Append
// accepts them: `appended` (queued), `written` (their lines fully written),
// `durable` (written and fsynced). Flush waits for `durable` to reach the
// `appended` it saw; WhenDurable callbacks wait in `waiters`, keyed by the
// ticket (the `appended` count of their entry), and are called by the writer
// after each fsync, or failed on a write error. The writer alone touches the
// file and the chain state.
#include "runtime/audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/audit/line_format.h"
#include "runtime/audit/resume.h"
#include "runtime/audit/rotated_files.h"

namespace warden::audit {
namespace {

constexpr size_t kMaxWriteBytes = size_t{1} << 20;  // bounds the writer's buffer
constexpr auto kRetryDelay = std::chrono::milliseconds(100);
constexpr int kCloseAttempts = 3;

std::string ErrnoText(const std::string& what, const std::string& path) {
  return absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno));
}

int OpenActive(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

// Makes a rename or a new file in the directory of `path` durable.
bool SyncDirectory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

struct AuditLog::State {
  AuditOptions options;

  // ---- shared, guarded by `mu`
  mutable std::mutex mu;
  std::condition_variable wake_writer;
  std::condition_variable space;  // Append waits for room in the queue
  std::condition_variable done;   // Flush waits for `durable`
  std::vector<AuditEntry> queue;
  uint64_t appended = 0;
  uint64_t durable = 0;
  uint64_t error_epoch = 0;  // bumped on every write error, so Flush can fail fast
  absl::Status last_error;
  bool flush_requested = false;
  bool closing = false;
  bool closed = false;
  absl::Status close_status;
  AuditStats stats;
  std::multimap<uint64_t, std::function<void(bool)>> waiters;
  std::atomic<bool> writable{true};
  std::thread writer;
  std::mutex callback_mu;  // held while callbacks run, so CancelWaiters can wait for them
  std::mutex join_mu;      // Close: one caller joins the writer, the others wait

  // ---- the writer's own
  int fd = -1;
  uint64_t next_seq = 0;
  Digest prev{};
  uint64_t active_bytes = 0;
  uint64_t next_rotation = 1;
  std::vector<AuditEntry> batch;  // taken from the queue, not yet formatted
  size_t batch_pos = 0;
  std::string line;  // formatted, waiting for a rotation
  bool has_line = false;
  std::string out;  // formatted, not yet written
  uint64_t out_lines = 0;
  uint64_t written = 0;
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t rotations = 0;
  bool unsynced = false;
  std::chrono::steady_clock::time_point sync_due;

  bool Idle() const { return batch_pos == batch.size() && !has_line && out.empty(); }
  uint64_t Unwritten() const { return (batch.size() - batch_pos) + (has_line ? 1 : 0) + out_lines; }

  absl::Status WriteOut() {
    size_t done_bytes = 0;
    while (done_bytes < out.size()) {
      ssize_t n = ::write(fd, out.data() + done_bytes, out.size() - done_bytes);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        absl::Status error = absl::UnavailableError(ErrnoText("write", options.path));
        out.erase(0, done_bytes);  // O_APPEND: the retry continues where this stopped
        active_bytes += done_bytes;
        bytes += done_bytes;
        return error;
      }
      done_bytes += static_cast<size_t>(n);
    }
    if (!out.empty() && !unsynced) {
      unsynced = true;
      sync_due = std::chrono::steady_clock::now() +
                 std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options.fsync_interval));
    }
    active_bytes += done_bytes;
    bytes += done_bytes;
    lines += out_lines;
    written += out_lines;
    out.clear();
    out_lines = 0;
    if (options.fsync == FsyncPolicy::kEveryLine) return Sync();
    return absl::OkStatus();
  }

  absl::Status Sync() {
    if (!unsynced) return absl::OkStatus();
    if (::fdatasync(fd) != 0) return absl::UnavailableError(ErrnoText("fsync", options.path));
    unsynced = false;
    std::lock_guard<std::mutex> lock(mu);
    durable = written;
    return absl::OkStatus();
  }

  // Closes the active file as the next rotated one and starts a new one.
  absl::Status Rotate() {
    if (absl::Status status = Sync(); !status.ok()) return status;
    std::string target = RotatedPath(options.path, next_rotation);
    if (::rename(options.path.c_str(), target.c_str()) != 0) {
      return absl::UnavailableError(ErrnoText("rotate", options.path));
    }
    int fresh = OpenActive(options.path);
    if (fresh < 0) {
      absl::Status error = absl::UnavailableError(ErrnoText("create", options.path));
      ::rename(target.c_str(), options.path.c_str());  // keep writing where we were
      return error;
    }
    ::close(fd);
    fd = fresh;
    SyncDirectory(options.path);
    ++next_rotation;
    ++rotations;
    active_bytes = 0;
    if (options.keep_files > 0) {
      std::vector<std::pair<uint64_t, std::string>> rotated = ListRotated(options.path);
      for (size_t i = 0; i + static_cast<size_t>(options.keep_files) < rotated.size(); ++i) {
        std::error_code ignored;
        std::filesystem::remove(rotated[i].second, ignored);
      }
    }
    return absl::OkStatus();
  }

  // Formats and writes everything taken from the queue. On an error the
  // unwritten rest stays put for the next attempt, so nothing is lost.
  absl::Status Drain() {
    while (true) {
      if (!has_line) {
        if (batch_pos == batch.size()) break;
        line.clear();
        FormatLine(batch[batch_pos], next_seq, prev, &line, &prev);
        batch[batch_pos] = AuditEntry();  // free the request text early
        ++batch_pos;
        ++next_seq;
        has_line = true;
      }
      uint64_t filled = active_bytes + out.size();
      if (filled > 0 && filled + line.size() > options.max_file_bytes) {
        if (absl::Status status = WriteOut(); !status.ok()) return status;
        if (absl::Status status = Rotate(); !status.ok()) return status;
      }
      out += line;
      ++out_lines;
      has_line = false;
      if (out.size() >= kMaxWriteBytes) {
        if (absl::Status status = WriteOut(); !status.ok()) return status;
      }
    }
    batch.clear();
    batch_pos = 0;
    return WriteOut();
  }

  void Publish() {  // called with `mu` held
    stats.lines = lines;
    stats.bytes = bytes;
    stats.rotations = rotations;
    stats.next_seq = next_seq;
  }

  void RecordError(const absl::Status& error) {  // called with `mu` held
    ++stats.write_errors;
    stats.last_error = std::string(error.message());
    last_error = error;
    ++error_epoch;
    done.notify_all();
    space.notify_all();  // an Append waiting for room gives up while not writable
  }

  using Callbacks = std::vector<std::function<void(bool)>>;

  // Takes the waiters that are settled: up to `durable` when the write went
  // well, all of them after an error. Called with `mu` held.
  Callbacks TakeSettled(bool ok) {
    Callbacks settled;
    auto end = ok ? waiters.upper_bound(durable) : waiters.end();
    for (auto it = waiters.begin(); it != end; ++it) settled.push_back(std::move(it->second));
    waiters.erase(waiters.begin(), end);
    return settled;
  }

  // Records a change of writability; returns whether it changed. With `mu` held.
  bool SetWritable(bool now) { return writable.exchange(now, std::memory_order_acq_rel) != now; }

  // Settles the waiters (TakeSettled) and runs them and the writability hook
  // without `mu`, so a callback can never deadlock the writer. They are taken
  // under `callback_mu`, so once CancelWaiters returns none is left running.
  void Notify(std::unique_lock<std::mutex>& lock, bool ok, bool changed) {
    if (waiters.empty() && !changed) return;
    const std::string error = ok ? std::string() : stats.last_error;
    lock.unlock();
    {
      std::lock_guard<std::mutex> running(callback_mu);
      lock.lock();
      Callbacks settled = TakeSettled(ok);
      lock.unlock();
      for (auto& callback : settled) callback(ok);
    }
    if (changed && options.on_writable) options.on_writable(ok, error);
    lock.lock();
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    int close_failures = 0;
    while (true) {
      auto ready = [&] { return !queue.empty() || flush_requested || closing || !Idle(); };
      if (unsynced && options.fsync == FsyncPolicy::kInterval) {
        wake_writer.wait_until(lock, sync_due, ready);
      } else {
        wake_writer.wait(lock, ready);
      }
      if (Idle() && !queue.empty()) {
        batch.swap(queue);
        space.notify_all();
      }
      bool flush = flush_requested;
      flush_requested = false;
      bool stopping = closing;
      lock.unlock();

      absl::Status status = Drain();
      if (status.ok() && (flush || stopping ||
                          (unsynced && options.fsync == FsyncPolicy::kInterval &&
                           std::chrono::steady_clock::now() >= sync_due))) {
        status = Sync();
      }

      lock.lock();
      Publish();
      const bool changed = SetWritable(status.ok());
      if (!status.ok()) RecordError(status);
      Notify(lock, status.ok(), changed);
      if (!status.ok()) {
        if (flush) flush_requested = true;  // retry the sync with the write
        if (stopping && ++close_failures >= kCloseAttempts) {
          stats.lines_lost += Unwritten() + queue.size();
          close_status = status;
          queue.clear();
          return;
        }
        wake_writer.wait_for(lock, kRetryDelay, [&] { return closing && !stopping; });
        continue;
      }
      done.notify_all();
      if (stopping && queue.empty() && Idle()) return;
    }
  }
};

AuditLog::AuditLog(std::unique_ptr<State> state) : state_(std::move(state)) {}

AuditLog::~AuditLog() { Close().IgnoreError(); }

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(AuditOptions options) {
  if (options.path.empty()) return absl::InvalidArgumentError("the audit log path is empty");
  if (options.max_file_bytes == 0) {
    return absl::InvalidArgumentError("max_file_bytes must be positive");
  }
  if (options.keep_files < 0) return absl::InvalidArgumentError("keep_files must be >= 0");
  if (options.queue_limit == 0) return absl::InvalidArgumentError("queue_limit must be positive");
  if (options.fsync == FsyncPolicy::kInterval && options.fsync_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("fsync_interval must be positive");
  }
  absl::StatusOr<ChainTail> tail = ResumeChain(options.path);
  if (!tail.ok()) return tail.status();

  auto state = std::make_unique<State>();
  state->fd = OpenActive(options.path);
  if (state->fd < 0) return absl::UnavailableError(ErrnoText("open", options.path));
  SyncDirectory(options.path);
  state->options = std::move(options);
  state->next_seq = tail->next_seq;
  state->prev = tail->prev;
  state->active_bytes = tail->active_bytes;
  state->next_rotation = tail->next_rotation;
  state->stats.next_seq = tail->next_seq;
  state->stats.torn_bytes_dropped = tail->torn_bytes;
  state->stats.notice = tail->notice;
  State* raw = state.get();
  try {
    state->writer = std::thread([raw] { raw->Run(); });
  } catch (const std::system_error& e) {
    ::close(state->fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start the audit writer thread: ", e.what()));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(state)));
}

uint64_t AuditLog::Append(AuditEntry entry) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  auto has_room = [&] { return s.queue.size() < s.options.queue_limit; };
  if (!has_room()) {
    s.space.wait(lock, [&] { return has_room() || s.closing || !s.writable.load(); });
  }
  if (s.closing || !has_room()) {
    ++s.stats.lines_lost;
    return 0;
  }
  bool was_empty = s.queue.empty();
  s.queue.push_back(std::move(entry));
  ++s.appended;
  if (was_empty) s.wake_writer.notify_one();
  return s.appended;
}

void AuditLog::WhenDurable(uint64_t ticket, std::function<void(bool durable)> done) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.durable >= ticket || !s.writable.load() || s.closed) {
    const bool durable = s.durable >= ticket;
    lock.unlock();
    done(durable);
    return;
  }
  s.waiters.emplace(ticket, std::move(done));
}

void AuditLog::CancelWaiters() {
  State& s = *state_;
  std::multimap<uint64_t, std::function<void(bool)>> dropped;
  std::lock_guard<std::mutex> running(s.callback_mu);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    dropped.swap(s.waiters);
  }
  // `dropped` is destroyed here, outside `mu`: the callbacks may own objects
  // whose destructors take other locks.
}

bool AuditLog::writable() const { return state_->writable.load(std::memory_order_acquire); }

absl::Status AuditLog::Flush() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.closing) {  // Close drains and fsyncs everything: wait for it
    s.done.wait(lock, [&] { return s.closed; });
    return s.close_status;
  }
  uint64_t target = s.appended;
  uint64_t epoch = s.error_epoch;
  s.flush_requested = true;
  s.wake_writer.notify_one();
  s.done.wait(lock, [&] { return s.durable >= target || s.error_epoch != epoch || s.closed; });
  if (s.durable >= target) return absl::OkStatus();
  if (s.error_epoch != epoch) return s.last_error;
  return s.close_status;
}

absl::Status AuditLog::Close() {
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.closing) {
      s.closing = true;
      s.wake_writer.notify_one();
      s.space.notify_all();
    }
  }
  {
    std::lock_guard<std::mutex> join_lock(s.join_mu);
    if (s.writer.joinable()) {
      s.writer.join();
      absl::Status status = s.close_status;
      if (::fdatasync(s.fd) != 0 && status.ok()) {
        status = absl::UnavailableError(ErrnoText("fsync", s.options.path));
      }
      if (::close(s.fd) != 0 && status.ok()) {
        status = absl::UnavailableError(ErrnoText("close", s.options.path));
      }
      s.fd = -1;
      std::unique_lock<std::mutex> lock(s.mu);
      s.close_status = status;
      s.closed = true;
      s.Publish();
      s.done.notify_all();
      // What the writer left (it gave up on errors): settled now, as it stands.
      std::multimap<uint64_t, std::function<void(bool)>> left;
      left.swap(s.waiters);
      const uint64_t durable = s.durable;
      lock.unlock();
      std::lock_guard<std::mutex> running(s.callback_mu);
      for (auto& [ticket, callback] : left) callback(ticket <= durable);
    }
  }
  std::lock_guard<std::mutex> lock(s.mu);
  return s.close_status;
}

AuditStats AuditLog::stats() const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  AuditStats stats = s.stats;
  stats.queued = s.queue.size();
  stats.writable = s.writable.load();
  return stats;
}

}  // namespace warden::audit
