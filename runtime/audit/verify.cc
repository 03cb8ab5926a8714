// Verification, one file at a time (a file is bounded by max_file_bytes, so
// its per-line records fit in memory), carrying the chain's end from file to
// file:
//   1. every line: its own hash (else `edited`), its form (else `malformed`);
//      a last line without a newline is `truncated`;
//   2. two lines with the same seq: the one the chain does not link is
//      `inserted`;
//   3. lines outside the longest run of increasing seqs are `reordered`;
//   4. in seq order, a gap is `removed`, a prev that is not the hash of the
//      line before is `broken_link`.
// Lines whose seq cannot be read take the seq after the line before them, so
// one damaged line is one problem, not also a gap.
#include "runtime/audit/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "runtime/audit/line_format.h"
#include "runtime/audit/rotated_files.h"

namespace warden::audit {
namespace {

struct Record {
  uint64_t line = 0;
  uint64_t seq = 0;
  Digest prev{};
  Digest hash{};
  bool seq_known = false;   // false: the line is damaged or edited; seq is inferred
  bool hash_known = false;  // the stored hash is readable
  bool edited = false;      // its hash does not match: links to and from it are not checked
  bool dropped = false;     // an inserted duplicate, left out of the chain
};

struct ChainEnd {
  uint64_t seq = 0;
  Digest hash{};
  bool hash_known = false;
  bool edited = false;
};

class Verifier {
 public:
  explicit Verifier(bool allow_mid_start) : allow_mid_start_(allow_mid_start) {}

  absl::Status AddFile(const std::string& path) {
    file_ = path;
    records_.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
    }
    std::string pending;
    std::string buffer(1 << 20, '\0');
    uint64_t line_number = 0;
    while (true) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        std::string error = std::strerror(errno);
        ::close(fd);
        return absl::UnavailableError(absl::StrCat("cannot read ", path, ": ", error));
      }
      if (n == 0) break;
      std::string_view chunk(buffer.data(), static_cast<size_t>(n));
      while (true) {
        size_t newline = chunk.find('\n');
        if (newline == std::string_view::npos) {
          pending.append(chunk);
          break;
        }
        if (pending.empty()) {
          AddLine(chunk.substr(0, newline), ++line_number);
        } else {
          pending.append(chunk.substr(0, newline));
          AddLine(pending, ++line_number);
          pending.clear();
        }
        chunk.remove_prefix(newline + 1);
      }
    }
    ::close(fd);
    if (!pending.empty()) {
      Problem(line_number + 1, "truncated",
              absl::StrCat("the last line is incomplete (", pending.size(),
                           " bytes, no newline): a write was cut short"));
    }
    ++report_.files;
    InferSeqs();
    DropInserted();
    MarkReordered();
    CheckChain();
    return absl::OkStatus();
  }

  VerifyReport Finish() {
    std::stable_sort(report_.problems.begin(), report_.problems.end(),
                     [&](const VerifyProblem& a, const VerifyProblem& b) {
                       if (a.file != b.file) return file_order_[a.file] < file_order_[b.file];
                       return a.line < b.line;
                     });
    if (end_) {
      report_.last_seq = end_->seq;
      if (end_->hash_known) report_.last_hash = ToHex(end_->hash);
    }
    return std::move(report_);
  }

  void NoteFile(const std::string& path) { file_order_.emplace(path, file_order_.size()); }

 private:
  void Problem(uint64_t line, std::string kind, std::string message) {
    report_.problems.push_back(VerifyProblem{file_, line, std::move(kind), std::move(message)});
  }

  std::string Where(const Record& r) const { return absl::StrCat("line ", r.line); }

  void AddLine(std::string_view text, uint64_t line_number) {
    ++report_.lines;
    ParsedLine parsed = ParseLine(text);
    Record record;
    record.line = line_number;
    record.hash = parsed.hash;
    record.hash_known = parsed.has_hash;
    // An edited line's seq may be the edit itself: it is inferred instead.
    if (parsed.parsed && parsed.hash_ok) {
      record.seq = parsed.seq;
      record.prev = parsed.prev;
      record.seq_known = true;
    }
    if (parsed.has_hash && !parsed.hash_ok) {
      record.edited = true;
      Problem(line_number, "edited",
              parsed.parsed
                  ? "the line does not match its hash: it was changed after it was written"
                  : absl::StrCat("the line does not match its hash and is damaged (",
                                 parsed.problem, ")"));
    } else if (!parsed.parsed) {
      record.edited = true;
      Problem(line_number, "malformed", absl::StrCat("not an audit line: ", parsed.problem));
    }
    records_.push_back(record);
  }

  // A damaged line takes the seq after the line before it.
  void InferSeqs() {
    std::optional<uint64_t> before;
    if (end_) before = end_->seq;
    for (Record& r : records_) {
      if (!r.seq_known) r.seq = before ? *before + 1 : 0;
      before = r.seq;
    }
  }

  // Of two lines with one seq, the genuine one is linked by the next line's
  // prev (or links to the line before); the other was inserted.
  void DropInserted() {
    std::map<uint64_t, std::vector<size_t>> by_seq;
    for (size_t i = 0; i < records_.size(); ++i) {
      if (records_[i].seq_known) by_seq[records_[i].seq].push_back(i);
    }
    for (auto& [seq, group] : by_seq) {
      if (group.size() < 2) continue;
      std::optional<size_t> genuine;
      auto next = by_seq.find(seq + 1);
      if (next != by_seq.end()) {
        for (size_t candidate : group) {
          for (size_t n : next->second) {
            if (records_[n].prev == records_[candidate].hash) genuine = candidate;
          }
        }
      }
      if (!genuine) {
        std::optional<Digest> before_hash;
        if (auto before = by_seq.find(seq - 1); seq > 0 && before != by_seq.end()) {
          before_hash = records_[before->second.front()].hash;
        } else if (end_ && end_->seq + 1 == seq) {
          before_hash = end_->hash;
        }
        for (size_t candidate : group) {
          if (!genuine && before_hash && records_[candidate].prev == *before_hash) {
            genuine = candidate;
          }
        }
      }
      if (!genuine) genuine = group.front();
      const Record& kept = records_[*genuine];
      for (size_t i : group) {
        if (i == *genuine) continue;
        records_[i].dropped = true;
        Problem(records_[i].line, "inserted",
                absl::StrCat("a second line with seq ", seq, " (the chain's is at ", Where(kept),
                             "): it is not part of the chain"));
      }
    }
  }

  // Lines outside the longest strictly increasing run of seqs (in file
  // order) were moved.
  void MarkReordered() {
    std::vector<size_t> order;  // candidate indices in file order
    for (size_t i = 0; i < records_.size(); ++i) {
      if (!records_[i].dropped) order.push_back(i);
    }
    std::vector<size_t> tails;  // tails[k]: index into `order` ending a run of length k+1
    std::vector<size_t> parent(order.size(), SIZE_MAX);
    for (size_t k = 0; k < order.size(); ++k) {
      uint64_t seq = records_[order[k]].seq;
      auto it = std::lower_bound(tails.begin(), tails.end(), seq, [&](size_t t, uint64_t value) {
        return records_[order[t]].seq < value;
      });
      if (it != tails.begin()) parent[k] = *(it - 1);
      if (it == tails.end()) {
        tails.push_back(k);
      } else {
        *it = k;
      }
    }
    std::vector<bool> in_run(order.size(), false);
    for (size_t k = tails.empty() ? SIZE_MAX : tails.back(); k != SIZE_MAX; k = parent[k]) {
      in_run[k] = true;
    }
    for (size_t k = 0; k < order.size(); ++k) {
      if (in_run[k]) continue;
      const Record& r = records_[order[k]];
      Problem(r.line, "reordered",
              absl::StrCat("seq ", r.seq, " is out of order: the line was moved"));
    }
  }

  void CheckChain() {
    std::vector<const Record*> chain;
    for (const Record& r : records_) {
      if (!r.dropped) chain.push_back(&r);
    }
    std::stable_sort(chain.begin(), chain.end(),
                     [](const Record* a, const Record* b) { return a->seq < b->seq; });
    bool first_in_file = true;
    for (const Record* r : chain) {
      if (!end_) {
        report_.first_seq = r->seq;
        if (r->seq == 0 && r->seq_known && !r->edited && r->prev != Digest{}) {
          Problem(r->line, "broken_link", "the first line's prev is not 64 zeros");
        } else if (r->seq > 0 && !allow_mid_start_) {
          Problem(r->line, "removed",
                  absl::StrCat("the log starts at seq ", r->seq, ": ", r->seq,
                               " earlier line(s) are missing"));
        }
      } else if (r->seq <= end_->seq) {
        if (r->seq_known) {
          Problem(r->line, "reordered",
                  absl::StrCat("seq ", r->seq, " is not after the previous file's last seq ",
                               end_->seq, ": files are out of order or repeated"));
        }
        continue;
      } else if (r->seq > end_->seq + 1) {
        uint64_t missing = r->seq - end_->seq - 1;
        Problem(r->line, "removed",
                absl::StrCat(missing, " line(s) missing before this one (seq ", end_->seq + 1,
                             missing > 1 ? absl::StrCat("..", r->seq - 1) : "", ")",
                             first_in_file ? ": a whole file may be missing" : ""));
      } else if (r->seq_known && !r->edited && !end_->edited && end_->hash_known &&
                 r->prev != end_->hash) {
        Problem(r->line, "broken_link",
                absl::StrCat("prev is not the hash of seq ", end_->seq,
                             ": a line was replaced, or this line was forged"));
      }
      end_ = ChainEnd{r->seq, r->hash, r->hash_known, r->edited};
      first_in_file = false;
    }
  }

  bool allow_mid_start_;
  std::string file_;
  std::vector<Record> records_;
  std::optional<ChainEnd> end_;
  VerifyReport report_;
  std::map<std::string, size_t> file_order_;
};

}  // namespace

absl::StatusOr<VerifyReport> VerifyAuditFiles(const std::vector<std::string>& files_in_order) {
  Verifier verifier(!files_in_order.empty() && RotatedIndexOf(files_in_order.front()) > 1);
  for (const std::string& path : files_in_order) verifier.NoteFile(path);
  for (const std::string& path : files_in_order) {
    if (absl::Status status = verifier.AddFile(path); !status.ok()) return status;
  }
  return verifier.Finish();
}

}  // namespace warden::audit
