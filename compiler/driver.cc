#include "compiler/driver.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/bytecode/bundle.h"
#include "compiler/checker.h"
#include "compiler/lints.h"

#ifndef WARDEN_DEFAULT_STDLIB_DIR
#define WARDEN_DEFAULT_STDLIB_DIR "stdlib-policies"
#endif

namespace warden {
namespace {

namespace fs = std::filesystem;

std::string StdlibDir(const CompileOptions& options) {
  if (!options.stdlib_dir.empty()) return options.stdlib_dir;
  if (const char* env = std::getenv("WARDEN_STDLIB"); env != nullptr && *env != '\0') return env;
  return WARDEN_DEFAULT_STDLIB_DIR;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  std::error_code error;
  auto size = fs::file_size(path, error);
  if (error) return absl::NotFoundError(absl::StrCat(path, ": ", error.message()));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open"));
  // An oversized file is read only up to one byte past the limit: the parser
  // reports it without the driver holding all of it.
  size_t to_read = std::min<size_t>(size, max_bytes + 1);
  std::string text(to_read, '\0');
  in.read(text.data(), static_cast<std::streamsize>(to_read));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

class Driver {
 public:
  explicit Driver(const CompileOptions& options)
      : options_(options), compilation_(std::make_unique<Compilation>(options.diagnostics)) {}

  void AddSource(std::string path, std::string text) {
    FileId id = compilation_->sources.Add(std::move(path), std::move(text));
    compilation_->files.push_back(
        ParseFile(compilation_->sources, id, compilation_->diagnostics, options_.parser));
  }

  std::unique_ptr<Compilation> Finish() {
    LoadStdlibImports();
    size_t total_rules = 0;
    std::vector<const ast::File*> parsed;
    for (const auto& file : compilation_->files) {
      if (file == nullptr) continue;
      parsed.push_back(file.get());
      for (const auto& decl : file->declarations) {
        if (decl.kind == ast::Declaration::Kind::kPolicy) total_rules += decl.policy->rules.size();
      }
    }
    if (total_rules > options_.max_total_rules) {
      compilation_->diagnostics.Report(
          DiagCode::kLimitExceeded, Span{},
          absl::StrCat("the policies declare ", total_rules, " rules; the limit is ",
                       options_.max_total_rules));
      return std::move(compilation_);
    }
    // Files that failed to parse would leave holes in name resolution and
    // flood the output with follow-on errors; check only a complete set.
    if (parsed.size() != compilation_->files.size()) return std::move(compilation_);
    compilation_->program = Check(parsed, compilation_->sources, compilation_->diagnostics);
    if (compilation_->program != nullptr && options_.run_lints) {
      RunLints(*compilation_->program, parsed, compilation_->sources, compilation_->diagnostics);
    }
    return std::move(compilation_);
  }

 private:
  // `import std.NAME` loads NAME.warden from the stdlib directory when no
  // given file declares that package; repeated until nothing new is needed.
  void LoadStdlibImports() {
    std::set<std::string> attempted;
    for (bool loaded = true; loaded;) {
      loaded = false;
      std::set<std::string> declared;
      for (const auto& file : compilation_->files) {
        if (file != nullptr) declared.insert(file->package.ToString());
      }
      for (size_t i = 0; i < compilation_->files.size(); ++i) {
        if (compilation_->files[i] == nullptr) continue;
        std::vector<std::string> wanted;
        for (const auto& import : compilation_->files[i]->imports)
          wanted.push_back(import.package.ToString());
        for (const std::string& package : wanted) {
          if (declared.contains(package) || package.rfind("std.", 0) != 0) continue;
          if (!attempted.insert(package).second) continue;
          fs::path path = fs::path(StdlibDir(options_)) / "std" / (package.substr(4) + ".warden");
          auto text = ReadFile(path.string(), options_.parser.max_file_bytes);
          if (!text.ok()) continue;  // the checker reports the unknown package
          AddSource(path.string(), *std::move(text));
          loaded = true;
        }
      }
    }
  }

  const CompileOptions& options_;
  std::unique_ptr<Compilation> compilation_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> CollectWardenFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    auto status = fs::status(path, error);
    if (error || !fs::exists(status))
      return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    if (fs::is_directory(status)) {
      std::vector<std::string> found;
      fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied,
                                          error);
      if (error) return absl::PermissionDeniedError(absl::StrCat(path, ": ", error.message()));
      for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (error) return absl::PermissionDeniedError(absl::StrCat(path, ": ", error.message()));
        if (it->is_regular_file() && it->path().extension() == ".warden")
          found.push_back(it->path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(path);
    }
  }
  // The same file named twice (a directory and a file in it) is loaded once.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& file : files) {
    std::error_code error;
    std::string key = fs::weakly_canonical(file, error).string();
    if (seen.insert(error ? file : key).second) unique.push_back(file);
  }
  return unique;
}

namespace {

// Passes 1-6 over files on disk, then in-memory texts.
absl::StatusOr<std::unique_ptr<Compilation>> Compile(
    const std::vector<std::string>& paths, std::vector<std::pair<std::string, std::string>> texts,
    const CompileOptions& options) {
  Driver driver(options);
  if (!paths.empty()) {
    auto files = CollectWardenFiles(paths);
    if (!files.ok()) return files.status();
    if (files->size() > options.max_files) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "found ", files->size(), " .warden files; the limit is ", options.max_files));
    }
    for (const std::string& path : *files) {
      auto text = ReadFile(path, options.parser.max_file_bytes);
      if (!text.ok()) return text.status();
      driver.AddSource(path, *std::move(text));
    }
  }
  for (auto& [path, text] : texts) driver.AddSource(std::move(path), std::move(text));
  return driver.Finish();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Compilation>> CompilePaths(const std::vector<std::string>& paths,
                                                          const CompileOptions& options) {
  return Compile(paths, {}, options);
}

std::unique_ptr<Compilation> CompileSources(std::vector<std::pair<std::string, std::string>> files,
                                            const CompileOptions& options) {
  // Without paths nothing is read from disk but the stdlib, which cannot fail.
  return *Compile({}, std::move(files), options);
}

absl::StatusOr<std::string> BundleBuild::Bytes() const {
  if (!program.ok()) return program.status();
  return bc::WriteBundle(*program);
}

BundleBuild CompileToBundle(const PolicySources& sources, const BuildOptions& options) {
  BundleBuild build;
  absl::StatusOr<std::unique_ptr<Compilation>> compiled =
      Compile(sources.paths, sources.texts, options.compile);
  if (!compiled.ok()) {
    build.program = compiled.status();
    return build;
  }
  build.compilation = *std::move(compiled);
  const Compilation& c = *build.compilation;
  if (c.program == nullptr) {
    build.program = absl::InvalidArgumentError(RenderTextAll(c.diagnostics.Sorted(), c.sources));
    return build;
  }
  // 7. codegen
  build.program = GenerateBytecode(*c.program, c.sources, options.codegen);
  return build;
}

std::string RenderTextAll(const std::vector<Diagnostic>& diagnostics,
                          const SourceManager& sources) {
  std::string out;
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    if (i > 0) out += "\n";
    out += RenderText(diagnostics[i], sources);
  }
  return out;
}

}  // namespace warden
