#include "runtime/audit/resume.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/audit/rotated_files.h"

namespace warden::audit {
namespace {

std::string ErrnoText(const std::string& what, const std::string& path) {
  return absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool ReadAt(int fd, char* buffer, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = ::pread(fd, buffer, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

struct Tail {
  std::string last_line;      // the last complete line, without newline; empty if none
  uint64_t complete_end = 0;  // offset just after the last newline
};

// Reads backwards in growing windows until the last complete line is whole.
absl::StatusOr<Tail> ReadTail(int fd, uint64_t size, const std::string& path) {
  Tail tail;
  uint64_t window = 64 * 1024;
  while (true) {
    uint64_t begin = size > window ? size - window : 0;
    std::string chunk(size - begin, '\0');
    if (!ReadAt(fd, chunk.data(), chunk.size(), begin)) {
      return absl::UnavailableError(ErrnoText("read", path));
    }
    size_t last_newline = chunk.rfind('\n');
    if (last_newline == std::string::npos) {
      if (begin == 0) return tail;  // no complete line at all
      window *= 2;
      continue;
    }
    size_t line_begin = last_newline == 0 ? std::string::npos : chunk.rfind('\n', last_newline - 1);
    if (line_begin == std::string::npos && begin > 0) {
      window *= 2;
      continue;
    }
    line_begin = line_begin == std::string::npos ? 0 : line_begin + 1;
    tail.complete_end = begin + last_newline + 1;
    tail.last_line = chunk.substr(line_begin, last_newline - line_begin);
    return tail;
  }
}

// Sets the chain position from `line`, the last line of `path`.
absl::Status ResumeFrom(const std::string& line, const std::string& path, ChainTail* chain) {
  ParsedLine parsed = ParseLine(line);
  if (!parsed.parsed || !parsed.hash_ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot resume the audit chain: the last line of ", path, " is not an intact audit line (",
        parsed.parsed ? "its hash does not match" : parsed.problem,
        "); run `warden audit verify` and move the file aside"));
  }
  chain->next_seq = parsed.seq + 1;
  chain->prev = parsed.hash;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ChainTail> ResumeChain(const std::string& path) {
  ChainTail chain;
  std::vector<std::pair<uint64_t, std::string>> rotated = ListRotated(path);
  if (!rotated.empty()) chain.next_rotation = rotated.back().first + 1;

  int raw = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (raw < 0 && errno != ENOENT) return absl::UnavailableError(ErrnoText("open", path));
  if (raw >= 0) {
    Fd fd(raw);
    struct stat info;
    if (::fstat(fd.get(), &info) != 0) return absl::UnavailableError(ErrnoText("stat", path));
    uint64_t size = static_cast<uint64_t>(info.st_size);
    absl::StatusOr<Tail> tail = ReadTail(fd.get(), size, path);
    if (!tail.ok()) return tail.status();
    if (tail->complete_end < size) {
      if (::ftruncate(fd.get(), static_cast<off_t>(tail->complete_end)) != 0 ||
          ::fsync(fd.get()) != 0) {
        return absl::UnavailableError(ErrnoText("truncate the incomplete last line of", path));
      }
      chain.torn_bytes = size - tail->complete_end;
      chain.notice = absl::StrCat("removed an incomplete last line (", chain.torn_bytes,
                                  " bytes) from ", path);
    }
    chain.active_bytes = tail->complete_end;
    if (!tail->last_line.empty() || tail->complete_end > 0) {
      if (absl::Status status = ResumeFrom(tail->last_line, path, &chain); !status.ok()) {
        return status;
      }
      return chain;
    }
  }
  // The active file is new or empty: continue from the newest rotated file.
  if (rotated.empty()) return chain;
  const std::string& newest = rotated.back().second;
  int rotated_raw = ::open(newest.c_str(), O_RDONLY | O_CLOEXEC);
  if (rotated_raw < 0) return absl::UnavailableError(ErrnoText("open", newest));
  Fd fd(rotated_raw);
  struct stat info;
  if (::fstat(fd.get(), &info) != 0) return absl::UnavailableError(ErrnoText("stat", newest));
  absl::StatusOr<Tail> tail = ReadTail(fd.get(), static_cast<uint64_t>(info.st_size), newest);
  if (!tail.ok()) return tail.status();
  if (tail->complete_end == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot resume the audit chain: ", newest, " has no complete line"));
  }
  if (absl::Status status = ResumeFrom(tail->last_line, newest, &chain); !status.ok()) {
    return status;
  }
  return chain;
}

}  // namespace warden::audit
