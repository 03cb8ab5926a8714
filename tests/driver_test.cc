#include "compiler/driver.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/bytecode/bundle.h"

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

const char* kClean = R"(package t
schema { resource doc { owner: string } actions { read } }
policy p on doc { rule r: permit read if resource.owner == subject.id }
)";

TEST_CASE("CompileToBundle: every pass, code generation included; the bytes load") {
  BundleBuild build = CompileToBundle(PolicySources::Texts({{"t.warden", kClean}}));
  REQUIRE(build.compilation != nullptr);
  REQUIRE(build.compilation->program != nullptr);
  REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
  CHECK(build.program->rules.size() == 1);
  absl::StatusOr<std::string> bytes = build.Bytes();
  REQUIRE(bytes.ok());
  CHECK(*bytes == bc::WriteBundle(*build.program));
  auto loaded = bc::ReadBundle(*bytes);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
  CHECK(bc::WriteBundle(*loaded) == *bytes);
}

TEST_CASE("CompileToBundle: files on disk, then in-memory texts, in one program") {
  TempDir dir;
  std::ofstream(dir.path / "a.warden") << "package a\nconst LIMIT = 3\n";
  PolicySources sources = PolicySources::Paths({dir.path.string()});
  sources.texts.emplace_back("b.warden", "package b\nimport a\nconst MORE = a.LIMIT + 1\n");
  BundleBuild build = CompileToBundle(sources);
  REQUIRE(build.compilation != nullptr);
  CHECK(Render(*build.compilation) == "");
  REQUIRE(build.compilation->files.size() == 2);
  CHECK(build.compilation->files[0]->package.ToString() == "a");
  CHECK(build.compilation->files[1]->package.ToString() == "b");
  CHECK(build.program.ok());
}

TEST_CASE("CompileToBundle: I/O, policy and code generation errors are told apart") {
  TempDir dir;
  BundleBuild missing = CompileToBundle(PolicySources::Paths({(dir.path / "nope").string()}));
  CHECK(missing.compilation == nullptr);
  CHECK(absl::IsNotFound(missing.program.status()));
  CHECK(absl::IsNotFound(missing.Bytes().status()));

  BundleBuild bad = CompileToBundle(PolicySources::Texts(
      {{"bad.warden", "package t\npolicy p on doc { rule r: permit read if resource.nope }\n"}}));
  REQUIRE(bad.compilation != nullptr);
  CHECK(bad.compilation->program == nullptr);
  CHECK(absl::IsInvalidArgument(bad.program.status()));
  const std::string rendered =
      RenderTextAll(bad.compilation->diagnostics.Sorted(), bad.compilation->sources);
  CHECK(rendered.find("error[E0106]") != std::string::npos);
  CHECK(std::string(bad.program.status().message()) == rendered);

  // Too few registers for the nested sum: a code generation limit.
  BuildOptions tight;
  tight.codegen.max_registers = 3;
  const std::string deep = std::string(kClean) +
                           "def x = context.geo.travel_speed_kmh\n"
                           "policy q on doc { rule s: permit read if x == 1 and (x + (x + (x + "
                           "x))) == 4 }\n";
  BundleBuild big = CompileToBundle(PolicySources::Texts({{"t.warden", deep}}), tight);
  REQUIRE(big.compilation != nullptr);
  CHECK(big.compilation->program != nullptr);
  CHECK(absl::IsResourceExhausted(big.program.status()));
  CHECK(CompileToBundle(PolicySources::Texts({{"t.warden", deep}})).program.ok());
}

}  // namespace
}  // namespace warden
