// `warden check-request`: the whole /v1/check path from the command line —
// credential verification, risk signals, decision — for debugging a
// configuration without a running server (docs/cli.md).
#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/policy_loader.h"
#include "nlohmann/json.hpp"
#include "runtime/auth/check_service.h"
#include "runtime/server/config.h"
#include "warden/engine.h"

namespace warden::cli {
namespace {

struct CheckRequestFlags {
  std::string config;
  std::string policies;
  std::string data;
  std::string stdlib;
  std::string request = "-";
  std::string now;
  bool record = false;
  bool pretty = false;
};

int RunCheckRequest(const CheckRequestFlags& flags) {
  absl::StatusOr<server::ServerConfig> config = server::LoadServerConfig(flags.config);
  if (!config.ok()) {
    PrintError(std::string(config.status().message()));
    return kExitUsage;
  }
  if (!flags.policies.empty()) config->policies = flags.policies;
  if (!flags.data.empty()) config->data = flags.data;
  if (!flags.stdlib.empty()) config->stdlib = flags.stdlib;
  if (!config->auth.enabled) {
    PrintError(absl::StrCat(flags.config, " has no \"auth\" section (docs/authentication.md)"));
    return kExitUsage;
  }
  if (config->policies.empty()) {
    PrintError("no policies: give --policies DIR|BUNDLE (or \"policies\" in the config file)");
    return kExitUsage;
  }
  absl::Time now = absl::Now();
  if (!flags.now.empty() && !ParseTimeFlag("--now", flags.now, &now)) return kExitUsage;

  absl::StatusOr<server::PolicySource> source = MakePolicyLoader(*config)();
  if (!source.ok()) {
    std::cerr << source.status().message() << "\n";
    PrintError(absl::StrCat("cannot load the policies from ", config->policies));
    return kExitFindings;
  }
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      Engine::FromBundle(source->bundle, std::move(source->options));
  if (!engine.ok()) {
    PrintError(std::string(engine.status().message()));
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<auth::CheckService>> service =
      auth::CheckService::Create(config->auth, now);
  if (!service.ok()) {
    PrintError(std::string(service.status().message()));
    return kExitUsage;
  }

  const size_t max_bytes = size_t{64} << 20;
  absl::StatusOr<std::string> text;
  if (flags.request == "-") {
    text = std::string(std::istreambuf_iterator<char>(std::cin), {});
    if (text->size() > max_bytes) text = absl::ResourceExhaustedError("stdin: too large");
  } else {
    text = ReadFileText(flags.request, max_bytes);
  }
  if (!text.ok()) {
    PrintError(std::string(text.status().message()));
    return kExitUsage;
  }
  JsonSession session(**engine);
  auth::CheckService::Session check_session;
  Decision decision;
  int exit_code = kExitOk;
  // One check per line (JSON lines), or the whole input as one request.
  std::vector<std::string_view> requests;
  std::string_view rest = *text;
  const bool one_document =
      rest.find('\n') == std::string_view::npos || nlohmann::json::accept(rest);
  if (one_document) {
    requests.push_back(rest);
  } else {
    while (!rest.empty()) {
      const size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      if (line.find_first_not_of(" \t\r") != std::string_view::npos) requests.push_back(line);
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  for (std::string_view request : requests) {
    std::string out;
    const auth::CheckOutcome outcome =
        (*service)->Check(request, **engine, session, check_session, &decision, now, &out);
    if (outcome.http_status != 200) exit_code = kExitFindings;
    if (flags.pretty) {
      std::cout << nlohmann::json::parse(out, nullptr, false).dump(2) << "\n";
    } else {
      std::cout << out << "\n";
    }
  }
  if (flags.record) {
    if (absl::Status flushed = (*service)->Flush(); !flushed.ok()) {
      PrintError(std::string(flushed.message()));
      return kExitUsage;
    }
  }
  return exit_code;
}

}  // namespace

void AddCheckRequestCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<CheckRequestFlags>();
  CLI::App* command = app.add_subcommand(
      "check-request",
      "Run a /v1/check request (credential, risk signals, decision) without a server");
  command->add_option("--config", flags->config, "The server's configuration file (its \"auth\")")
      ->required();
  command->add_option("--policies", flags->policies,
                      "Policy sources or a bundle (overrides the file)");
  command->add_option("--data", flags->data, "A JSON file of data values (overrides the file)");
  command->add_option("--stdlib", flags->stdlib, "Where `import std.*` resolves");
  command->add_option("--request", flags->request, "The check request(s): a file, or - for stdin")
      ->capture_default_str();
  command->add_option("--now", flags->now, "Decide as of this RFC 3339 time (default: now)");
  command->add_flag("--record", flags->record,
                    "Write what the checks learned (attempts, devices, sign-ins, limits) to the "
                    "state database; by default nothing is written");
  command->add_flag("--pretty", flags->pretty, "Indent the JSON answers");
  command->callback([flags, &exit_code] { exit_code = RunCheckRequest(*flags); });
}

}  // namespace warden::cli
