// The audit log's durability API (AuditLog::WhenDurable, writable()) and its
// behaviour while it cannot write: a file size limit (RLIMIT_FSIZE) stands in
// for a full disk, so the test needs no root; tests/audit_full_disk_test.sh
// does the same with a real full filesystem.
#include <signal.h>
#include <sys/resource.h>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/audit/audit_log.h"
#include "tests/test_support.h"

namespace warden::audit {
namespace {

using testing::ReadFile;
using testing::TempDir;

AuditEntry Entry(int i) {
  AuditEntry entry;
  entry.decision_id = absl::StrCat("d-", i);
  entry.time = absl::FromUnixMillis(1772445600000 + i);
  entry.effect = "permit";
  entry.request = R"({"subject":{"id":"u"}})";
  entry.bundle_hash = std::string(64, 'a');
  return entry;
}

bool Logged(const std::string& path, int i) {
  return ReadFile(path).find(absl::StrCat("\"id\":\"d-", i, "\"")) != std::string::npos;
}

// Waits for WhenDurable's answer; fails the test if none comes in 10 s.
bool DurableAnswer(AuditLog& log, uint64_t ticket) {
  auto answer = std::make_shared<std::promise<bool>>();
  std::future<bool> future = answer->get_future();
  log.WhenDurable(ticket, [answer](bool durable) { answer->set_value(durable); });
  REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return future.get();
}

// A log at `path` that fsyncs every write, as durable mode runs it.
std::unique_ptr<AuditLog> OpenEveryLine(const std::string& path, AuditOptions options = {}) {
  options.path = path;
  options.fsync = FsyncPolicy::kEveryLine;
  auto log = AuditLog::Open(options);
  REQUIRE_MESSAGE(log.ok(), log.status().ToString());
  return *std::move(log);
}

// Limits the size of files this process writes; restores the limit on scope exit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    Set(bytes);
  }
  ~FileSizeLimit() { Lift(); }
  void Set(rlim_t bytes) {
    struct rlimit limit = saved_;
    limit.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  void Lift() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  struct rlimit saved_ {};
};

TEST_CASE("WhenDurable answers once the line is written and fsynced") {
  TempDir dir;
  const std::string path = dir.File("audit.log");
  auto log = OpenEveryLine(path);
  const uint64_t first = log->Append(Entry(0));
  const uint64_t second = log->Append(Entry(1));
  CHECK(first == 1);
  CHECK(second == 2);
  CHECK(DurableAnswer(*log, second));
  CHECK(Logged(path, 0));
  CHECK(Logged(path, 1));
  // Already durable: answered at once, on the caller's thread.
  bool answered = false;
  log->WhenDurable(first, [&](bool durable) { answered = durable; });
  CHECK(answered);
  CHECK(log->writable());
  CHECK(log->stats().writable);
}

TEST_CASE("many waiters: each is answered, in any order of registration") {
  TempDir dir;
  auto log = OpenEveryLine(dir.File("audit.log"));
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 500; ++i) tickets.push_back(log->Append(Entry(i)));
  for (auto it = tickets.rbegin(); it != tickets.rend(); ++it) CHECK(DurableAnswer(*log, *it));
}

TEST_CASE("a write error fails the waiters, Append stops blocking, and the log recovers") {
  TempDir dir;
  const std::string path = dir.File("audit.log");
  std::mutex hook_mu;
  std::vector<std::string> transitions;
  AuditOptions options;
  options.queue_limit = 4;
  options.on_writable = [&](bool writable, const std::string& error) {
    std::lock_guard<std::mutex> lock(hook_mu);
    transitions.push_back(writable ? "writable" : absl::StrCat("not writable: ", error));
  };
  auto log = OpenEveryLine(path, options);
  REQUIRE(DurableAnswer(*log, log->Append(Entry(0))));

  FileSizeLimit limit(std::filesystem::file_size(path) + 10);  // the next line cannot fit
  CHECK_FALSE(DurableAnswer(*log, log->Append(Entry(1))));
  CHECK_FALSE(log->writable());
  // The writer holds entry 1; four more fill the queue; the next is not
  // queued, and Append returns at once rather than blocking the caller.
  for (int i = 2; i < 6; ++i) CHECK(log->Append(Entry(i)) != 0);
  CHECK(log->Append(Entry(6)) == 0);
  AuditStats stats = log->stats();
  CHECK_FALSE(stats.writable);
  CHECK(stats.lines_lost == 1);
  CHECK(stats.write_errors >= 1);
  CHECK(stats.last_error.find("cannot write") != std::string::npos);
  CHECK_FALSE(DurableAnswer(*log, 5));  // while not writable: failed at once

  limit.Lift();  // space returns: the writer's retry succeeds
  REQUIRE(log->Flush().ok());
  CHECK(log->writable());
  for (int i = 0; i < 6; ++i) CHECK_MESSAGE(Logged(path, i), i);
  CHECK_FALSE(Logged(path, 6));
  CHECK(DurableAnswer(*log, log->Append(Entry(7))));
  REQUIRE(log->Close().ok());
  std::lock_guard<std::mutex> lock(hook_mu);
  REQUIRE(transitions.size() == 2);
  CHECK(transitions[0].find("not writable: cannot write") == 0);
  CHECK(transitions[1] == "writable");
}

TEST_CASE("CancelWaiters drops the waiting callbacks without calling them") {
  TempDir dir;
  const std::string path = dir.File("audit.log");
  auto log = OpenEveryLine(path);
  REQUIRE(DurableAnswer(*log, log->Append(Entry(0))));
  FileSizeLimit limit(std::filesystem::file_size(path));  // nothing more can be written
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  bool called = false;
  // Ticket 2 is never appended: the waiter stays until cancelled.
  log->WhenDurable(2, [alive = std::move(alive), &called](bool) { called = true; });
  log->CancelWaiters();
  CHECK(watch.expired());  // the callback (and what it owned) is gone
  CHECK_FALSE(called);
  limit.Lift();
  REQUIRE(log->Close().ok());
}

TEST_CASE("Close settles the waiters it leaves") {
  TempDir dir;
  auto log = OpenEveryLine(dir.File("audit.log"));
  std::promise<bool> answer;
  log->WhenDurable(7, [&](bool durable) { answer.set_value(durable); });  // never appended
  REQUIRE(log->Close().ok());
  CHECK_FALSE(answer.get_future().get());
}

}  // namespace
}  // namespace warden::audit
