// File helpers shared by the commands: reading with a size cap, atomic
// rewrites, parsing one file, printing problems.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"

namespace warden::cli {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  // Closes now and reports whether close succeeded.
  bool Close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<std::string> ReadFileText(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", ErrnoText(errno)));
  FdCloser closer(fd);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot read ", path, ": ", ErrnoText(errno)));
  }
  if (S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": it is a directory"));
  }
  if (S_ISREG(info.st_mode) && static_cast<uint64_t>(info.st_size) > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "file is ", static_cast<uint64_t>(info.st_size), " bytes; the limit is ", max_bytes));
  }
  std::string text;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("cannot read ", path, ": ", ErrnoText(errno)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes) {  // a pipe or a file that grew while we read
      return absl::ResourceExhaustedError(
          absl::StrCat("file is over ", max_bytes, " bytes; the limit is ", max_bytes));
    }
  }
  return text;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path target(path);
  if (fs::is_symlink(target, error)) {
    fs::path resolved = fs::canonical(target, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat("cannot resolve ", path, ": ", error.message()));
    }
    target = resolved;
  }
  fs::path temp_pattern =
      target.parent_path() / ("." + target.filename().string() + ".warden-XXXXXX");
  std::string temp = temp_pattern.string();
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a temporary file next to ", path, ": ", ErrnoText(errno)));
  }
  temp.assign(name.data());
  FdCloser closer(fd);
  auto fail = [&](const std::string& what, int saved_errno) {
    ::unlink(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path, ": ", what, ": ", ErrnoText(saved_errno)));
  };
  struct stat original;
  if (::stat(target.c_str(), &original) == 0 && ::fchmod(fd, original.st_mode & 07777) != 0) {
    return fail("fchmod", errno);
  }
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync", errno);
  if (!closer.Close()) return fail("close", errno);
  if (::rename(temp.c_str(), target.c_str()) != 0) return fail("rename", errno);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ParsedFile>> ReadAndParse(const std::string& path,
                                                         const ParserOptions& options) {
  auto parsed = std::make_unique<ParsedFile>();
  absl::StatusOr<std::string> text = ReadFileText(path, options.max_file_bytes);
  if (!text.ok()) {
    if (!absl::IsResourceExhausted(text.status())) return text.status();
    parsed->id = parsed->sources.Add(path, "");
    parsed->sink.Report(DiagCode::kFileTooLarge, Span{parsed->id, 0, 0},
                        std::string(text.status().message()),
                        "split the policies into several files");
    return parsed;
  }
  parsed->id = parsed->sources.Add(path, *std::move(text));
  parsed->ast = ParseFile(parsed->sources, parsed->id, parsed->sink, options);
  return parsed;
}

void PrintError(const std::string& message) { std::cerr << "warden: " << message << "\n"; }

std::unique_ptr<Compilation> CompileOrReport(const std::vector<std::string>& paths,
                                             const std::string& stdlib_dir, int* exit_code) {
  CompileOptions options;
  options.stdlib_dir = stdlib_dir;
  absl::StatusOr<std::unique_ptr<Compilation>> compiled = CompilePaths(paths, options);
  if (!compiled.ok()) {
    PrintError(std::string(compiled.status().message()));
    *exit_code = kExitUsage;
    return nullptr;
  }
  if ((*compiled)->program == nullptr) {
    std::cerr << RenderTextAll((*compiled)->diagnostics.Sorted(), (*compiled)->sources) << "\n";
    *exit_code = kExitFindings;
    return nullptr;
  }
  return *std::move(compiled);
}

}  // namespace warden::cli
