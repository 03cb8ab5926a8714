#include "compiler/driver.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace warden {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "warden-driver-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::string Render(const Compilation& compilation) {
  std::string text;
  for (const Diagnostic& d : compilation.diagnostics.Sorted())
    text += RenderText(d, compilation.sources);
  return text;
}

TEST_CASE("a 50 MB file is refused with a diagnostic after reading only the limit") {
  TempDir dir;
  fs::path big = dir.path / "big.warden";
  {
    std::ofstream out(big, std::ios::binary);
    out << "package big\n";
    out.seekp(50 * 1024 * 1024);
    out << "\n";
  }
  auto result = CompilePaths({big.string()});
  REQUIRE(result.ok());
  CHECK(Render(**result).find("error[E0002]: file is 8388609 bytes; the limit is 8388608") !=
        std::string::npos);
}

TEST_CASE("binary garbage gets diagnostics, not a crash") {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) % 251));
  auto compilation = CompileSources({{"garbage.warden", garbage}});
  CHECK(compilation->diagnostics.has_errors());
  CHECK(compilation->program == nullptr);
  std::string printable = "package x\n\x01\x02 policy \x7f";
  auto second = CompileSources({{"ctrl.warden", printable}});
  CHECK(Render(*second).find("ctrl.warden:2:1: error[E0007]: unexpected character") !=
        std::string::npos);
}

TEST_CASE("directories recurse in sorted order; missing paths are I/O errors") {
  TempDir dir;
  fs::create_directories(dir.path / "b" / "c");
  std::ofstream(dir.path / "b" / "c" / "z.warden") << "package z\n";
  std::ofstream(dir.path / "a.warden") << "package a\n";
  std::ofstream(dir.path / "notes.txt") << "not a policy\n";
  auto files = CollectWardenFiles({dir.path.string()});
  REQUIRE(files.ok());
  REQUIRE(files->size() == 2);
  CHECK(fs::path((*files)[0]).filename() == "a.warden");
  CHECK(fs::path((*files)[1]).filename() == "z.warden");
  auto missing = CompilePaths({(dir.path / "nope").string()});
  CHECK(absl::IsNotFound(missing.status()));
}

TEST_CASE("std imports load from the stdlib directory") {
  auto compilation = CompileSources({{"app.warden", "package app\nimport std.mfa_for_admins\n"}});
  CHECK(Render(*compilation) == "");
  REQUIRE(compilation->program != nullptr);
  bool found = false;
  for (const Policy& policy : compilation->program->policies)
    found = found || policy.package == "std.mfa_for_admins";
  CHECK(found);
}

}  // namespace
}  // namespace warden
