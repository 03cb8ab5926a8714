// Shared by the tests that touch files or run the `warden` binary
// (WARDEN_BINARY): file helpers, a temporary directory, and running warden
// with its output captured.
#ifndef WARDEN_TESTS_TEST_SUPPORT_H_
#define WARDEN_TESTS_TEST_SUPPORT_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace warden::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces the file, creating its directories.
inline void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// A fresh directory under /tmp, removed at the end. The name is short so
// that socket paths inside stay well under the 108 bytes of sun_path.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/wt.XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return File(name); }
  // Writes `text` to `name` inside the directory; returns the file's path.
  std::string Write(const std::string& name, const std::string& text) const {
    WriteFile(File(name), text);
    return File(name);
  }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Starts warden with `args`, stdin from /dev/null, stdout and stderr into
// files. The child gets SIGTERM if the test process dies (say, on a
// sanitizer abort), so no server outlives its test.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path,
                   const std::string& err_path) {
  std::vector<std::string> storage{WARDEN_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // only async-signal-safe calls from here on
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  return pid;
}

// Runs warden to completion; its output is captured in `dir`.
inline RunResult Run(const TempDir& dir, const std::vector<std::string>& args) {
  const std::string out = dir / "run.stdout", err = dir / "run.stderr";
  const pid_t pid = Spawn(args, out, err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return RunResult{ExitCodeOf(status), ReadFile(out), ReadFile(err)};
}

// The same, capturing in a directory of its own.
inline RunResult Run(const std::vector<std::string>& args) {
  TempDir capture;
  return Run(capture, args);
}

}  // namespace warden::testing

#endif  // WARDEN_TESTS_TEST_SUPPORT_H_
