// The tamper-evident audit log (docs/audit.md): one JSON line per decision,
// each line carrying the SHA-256 of the previous one, so that editing,
// removing, inserting or reordering lines is detected by `warden audit
// verify`.
//
// Callers hand finished entries to Append, which only moves the entry into a
// queue; one background thread formats lines, hashes them, writes them in
// batches (one write() per batch), fsyncs per FsyncPolicy and rotates files.
// While the log is writable nothing is dropped: when `queue_limit` entries
// are waiting, Append blocks until the writer catches up. Append returns a
// ticket; WhenDurable calls back once that entry's line is fsynced, which is
// how the server answers a decision only after its line is on disk (durable
// mode, docs/audit.md). One fsync covers every line written before it
// (group commit).
//
// This header also brings in the masking (mask.h) and verification
// (verify.h) APIs.
#ifndef WARDEN_RUNTIME_AUDIT_AUDIT_LOG_H_
#define WARDEN_RUNTIME_AUDIT_AUDIT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/audit/mask.h"
#include "runtime/audit/verify.h"

namespace warden::audit {

enum class FsyncPolicy {
  kEveryLine,  // fdatasync after every write (a batch of lines)
  kInterval,   // fdatasync at most every `fsync_interval` while lines arrive
  kOnClose,    // only on Flush, rotation and Close
};

struct AuditOptions {
  std::string path;                              // the active file; rotated: path.000001, …
  uint64_t max_file_bytes = uint64_t{64} << 20;  // rotate before a line would cross it
  int keep_files = 0;                            // rotated files kept; 0: keep all
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);
  size_t queue_limit = 65536;  // entries waiting before Append blocks
  // Called on the writer thread when the log stops (false, the error) or
  // starts again (true, "") being writable. Must not call back into the log.
  std::function<void(bool writable, const std::string& error)> on_writable;
};

struct AuditEntry {
  std::string decision_id;
  absl::Time time;
  std::string effect;                // "permit", "deny", "step_up", "not_applicable", …
  std::string challenge;             // step_up: the challenge; else empty
  std::vector<std::string> rules;    // deciding rules: "name (file:line)"
  std::vector<std::string> reasons;  // deny reasons
  std::string error_code;            // "bad_request", …; empty when none
  std::string request;               // a JSON object text, already masked (RequestMasker); else
                                     // written as {"unparsed":true}
  std::string bundle_hash;           // hex SHA-256 of the bundle that decided
};

struct AuditStats {
  uint64_t lines = 0;  // written by this AuditLog
  uint64_t bytes = 0;  // written by this AuditLog
  uint64_t rotations = 0;
  uint64_t write_errors = 0;        // failed write/fsync/rotate attempts (writes are retried)
  uint64_t lines_lost = 0;          // appended after Close, or given up by Close on errors
  uint64_t queued = 0;              // entries waiting for the writer
  uint64_t next_seq = 0;            // the seq the next line gets
  uint64_t torn_bytes_dropped = 0;  // an incomplete last line removed by Open
  bool writable = true;             // false from a write error until a write succeeds again
  std::string last_error;           // the last write error; empty if none
  std::string notice;               // what Open did when resuming (for the server's log)
};

class AuditLog {
 public:
  // Opens (or creates) options.path and starts the writer. An existing log
  // is resumed from its last complete line — or, if the active file is empty
  // or missing, from the newest rotated file — so the chain continues. An
  // incomplete last line (a crash mid-write; never a line Flush confirmed) is
  // cut off and reported in stats().notice. Fails if the last line is not an
  // intact audit line: run `warden audit verify` and move the file aside.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(AuditOptions options);

  ~AuditLog();  // Close()
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Thread-safe. Queues the entry and returns its ticket (> 0); the writer
  // assigns its seq. Blocks while queue_limit entries wait and the log is
  // writable. Returns 0 and counts stats().lines_lost when the entry is not
  // queued: after Close, or while the log is not writable and the queue is
  // full (the bound on memory during a long outage).
  uint64_t Append(AuditEntry entry);

  // Calls `done(true)` once the line of every entry up to `ticket` is written
  // and fsynced, or `done(false)` when a write error comes first (or has
  // already come and persists). Called at once on the caller's thread when
  // the answer is known, else on the writer's thread: it must be quick and
  // must not call back into the log (post it elsewhere).
  void WhenDurable(uint64_t ticket, std::function<void(bool durable)> done);

  // Drops the callbacks still waiting without calling them (the server, after
  // its event loops stopped). Waits for a callback that is running.
  void CancelWaiters();

  // False from a write error until the writer succeeds again. Lock-free.
  bool writable() const;

  // Returns once every entry appended before the call is written and
  // fsynced, or with the write error that prevented it.
  absl::Status Flush();

  // Writes what is queued, fsyncs, stops the writer and closes the file.
  // Idempotent; later calls return the first call's result.
  absl::Status Close();

  AuditStats stats() const;

  struct State;  // shared with the writer thread (audit_log.cc)

 private:
  explicit AuditLog(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_AUDIT_LOG_H_
