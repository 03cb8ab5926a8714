// `warden state init|check --state PATH`: creates and checks the SQLite
// database of the authentication front-end (revocations, API keys, signal
// state; docs/cli.md). Also the helpers the keys and tokens commands share.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "runtime/auth/state_store.h"
#include "runtime/values/duration.h"
#include "runtime/values/timestamp.h"

namespace warden::cli {

CLI::Option* AddStatePathFlag(CLI::App* command, std::string* path) {
  return command->add_option("--state", *path, "The authentication state database (SQLite)")
      ->envname("WARDEN_STATE")
      ->required()
      ->type_name("PATH");
}

std::unique_ptr<auth::StateStore> OpenStateOrReport(const std::string& path, bool create,
                                                    int* exit_code) {
  auth::StateStoreOptions options;
  options.create_if_missing = create;
  absl::StatusOr<std::unique_ptr<auth::StateStore>> store = auth::StateStore::Open(path, options);
  if (!store.ok()) {
    PrintError(std::string(store.status().message()));
    *exit_code = kExitUsage;
    return nullptr;
  }
  return *std::move(store);
}

bool ParseDurationFlag(const std::string& flag, const std::string& text, absl::Duration* out) {
  int64_t millis = 0;
  if (values::Error e = values::ParseDuration(text, &millis); e != values::Error::kNone) {
    PrintError(
        absl::StrCat(flag, ": `", text, "` ", values::ErrorText(e), " (e.g. 90d, 24h, 1h30m)"));
    return false;
  }
  *out = absl::Milliseconds(millis);
  return true;
}

bool ParseTimeFlag(const std::string& flag, const std::string& text, absl::Time* out) {
  int64_t millis = 0;
  if (values::Error e = values::ParseTimestamp(text, &millis); e != values::Error::kNone) {
    PrintError(absl::StrCat(flag, ": `", text, "` ", values::ErrorText(e),
                            " (an RFC 3339 time, e.g. 2026-11-28T10:00:00Z)"));
    return false;
  }
  *out = absl::FromUnixMillis(millis);
  return true;
}

std::string FormatUtc(absl::Time time) {
  return values::TimestampString(absl::ToUnixSeconds(time) * 1000);  // to the second
}

namespace {

struct StateFlags {
  std::string state;
  std::string format = "text";
};

int RunStateInit(const StateFlags& flags) {
  int exit_code = kExitOk;
  std::unique_ptr<auth::StateStore> store = OpenStateOrReport(flags.state, true, &exit_code);
  if (store == nullptr) return exit_code;
  std::cout << flags.state << ": ready (Warden state database, schema version "
            << auth::kStateSchemaVersion << ")\n";
  return kExitOk;
}

int RunStateCheck(const StateFlags& flags) {
  auth::StateStoreOptions options;
  options.read_only = true;  // a check never writes: not even a schema into an empty file
  absl::StatusOr<std::unique_ptr<auth::StateStore>> store =
      auth::StateStore::Open(flags.state, options);
  if (!store.ok()) {
    PrintError(std::string(store.status().message()));
    // A damaged or foreign file is what the check is for (1); a path that
    // can't be opened at all means the command could not run (2).
    const absl::StatusCode code = store.status().code();
    return code == absl::StatusCode::kDataLoss || code == absl::StatusCode::kFailedPrecondition
               ? kExitFindings
               : kExitUsage;
  }
  absl::StatusOr<auth::StateStats> stats = (*store)->Stats(absl::Now());
  if (!stats.ok()) {
    PrintError(std::string(stats.status().message()));
    return kExitFindings;
  }
  if (flags.format == "json") {
    nlohmann::ordered_json out;
    out["path"] = flags.state;
    out["ok"] = true;
    out["schema_version"] = stats->schema_version;
    out["journal_mode"] = stats->journal_mode;
    out["api_keys"] = stats->api_keys;
    out["api_keys_active"] = stats->api_keys_active;
    out["revoked_jtis"] = stats->revoked_jtis;
    out["revoked_subjects"] = stats->revoked_subjects;
    out["rows"] = nlohmann::ordered_json::object();
    for (const auto& [kind, n] : stats->rows) out["rows"][kind] = n;
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::string text = absl::StrCat(flags.state, ": ok (schema version ", stats->schema_version,
                                  ", journal ", stats->journal_mode, ")\n");
  absl::StrAppend(&text, "  api keys:          ", stats->api_keys, " (", stats->api_keys_active,
                  " active)\n");
  absl::StrAppend(&text, "  revoked tokens:    ", stats->revoked_jtis, "\n");
  absl::StrAppend(&text, "  revoked subjects:  ", stats->revoked_subjects, "\n");
  if (stats->rows.empty()) absl::StrAppend(&text, "  signal rows:       0\n");
  for (const auto& [kind, n] : stats->rows) {
    absl::StrAppend(&text, "  signal rows:       ", n, " ", kind, "\n");
  }
  std::cout << text;
  return kExitOk;
}

}  // namespace

void AddStateCommand(CLI::App& app, int& exit_code) {
  CLI::App* state =
      app.add_subcommand("state", "Create and check the authentication state database (SQLite)");
  state->require_subcommand(1);

  auto init_flags = std::make_shared<StateFlags>();
  CLI::App* init = state->add_subcommand(
      "init", "Create the state database (nothing changes if it already is one)");
  init->footer(
      "Exit codes: 0 created or already a Warden state database, 2 the path holds something "
      "else or cannot be written.");
  AddStatePathFlag(init, &init_flags->state);
  init->callback([init_flags, &exit_code] { exit_code = RunStateInit(*init_flags); });

  auto check_flags = std::make_shared<StateFlags>();
  CLI::App* check = state->add_subcommand(
      "check", "Open the state database, run SQLite's quick_check and print what it holds");
  check->footer(
      "Exit codes: 0 healthy, 1 corrupt, not a Warden state database or a newer schema, "
      "2 missing, unreadable or usage error.");
  AddStatePathFlag(check, &check_flags->state);
  check->add_option("--format", check_flags->format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT")
      ->capture_default_str();
  check->callback([check_flags, &exit_code] { exit_code = RunStateCheck(*check_flags); });
}

}  // namespace warden::cli
