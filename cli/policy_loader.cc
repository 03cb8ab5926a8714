// Loading the policies `warden serve` and `warden check-request` decide with.
#include "cli/policy_loader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/driver.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/data_json.h"

namespace warden::cli {

namespace {

bool IsBundle(const std::string& path) {
  absl::StatusOr<std::string> head = ReadFileText(path, bc::ProgramLimits{}.max_bundle_bytes);
  return head.ok() && head->size() >= 4 &&
         std::equal(head->begin(), head->begin() + 4, bc::kBundleMagic);
}

}  // namespace

// Reads the bundle, or compiles the sources into one; failures carry the
// rendered diagnostics.
server::PolicyLoader MakePolicyLoader(const server::ServerConfig& config) {
  return [policies = config.policies, data = config.data,
          stdlib = config.stdlib]() -> absl::StatusOr<server::PolicySource> {
    server::PolicySource source;
    if (!data.empty()) {
      absl::StatusOr<std::string> text = ReadFileText(data, 64 << 20);
      if (!text.ok()) return text.status();
      auto values = ParseDataJson(*text);
      if (!values.ok())
        return absl::InvalidArgumentError(absl::StrCat(data, ": ", values.status().message()));
      source.options.data = *std::move(values);
    }
    if (IsBundle(policies)) {
      absl::StatusOr<std::string> bytes =
          ReadFileText(policies, bc::ProgramLimits{}.max_bundle_bytes);
      if (!bytes.ok()) return bytes.status();
      source.bundle = *std::move(bytes);
      return source;
    }
    BuildOptions options;
    options.compile.stdlib_dir = stdlib;
    options.compile.run_lints = false;  // lints are for `warden check`; errors still stop a load
    // Errors: I/O, the rendered diagnostics, or code generation's.
    absl::StatusOr<std::string> bundle =
        CompileToBundle(PolicySources::Paths({policies}), options).Bytes();
    if (!bundle.ok()) return bundle.status();
    source.bundle = *std::move(bundle);
    return source;
  };
}

}  // namespace warden::cli
