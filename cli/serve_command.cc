// `warden serve`: the decision server on a Unix socket (docs/operations.md,
// docs/api.md). This file wires the CLI to runtime/server: flags over the
// config file, and the loader that compiles policy sources (the server
// library itself never links the compiler).
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/policy_loader.h"
#include "runtime/audit/audit_log.h"
#include "runtime/auth/check_service.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/data_json.h"
#include "runtime/server/api.h"
#include "runtime/server/audit_health.h"
#include "runtime/server/config.h"
#include "runtime/server/http_server.h"
#include "runtime/server/log.h"
#include "runtime/server/policy_store.h"
#include "runtime/server/watcher.h"

namespace warden::cli {
namespace {

struct ServeFlags {
  std::string config;
  std::string socket;
  std::string admin_socket;
  std::string policies;
  std::string data;
  std::string stdlib;
  std::string audit_log;
  std::string log_format;
  int tcp_port = -1;
  int threads = -1;
  bool no_watch = false;
  bool strict_requests = false;
};

// The configuration file, then the flags over it.
absl::StatusOr<server::ServerConfig> ConfigFromFlags(const ServeFlags& flags) {
  server::ServerConfig config;
  if (!flags.config.empty()) {
    absl::StatusOr<server::ServerConfig> loaded = server::LoadServerConfig(flags.config);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  if (!flags.socket.empty()) config.socket.path = flags.socket;
  if (!flags.admin_socket.empty()) config.admin_socket.path = flags.admin_socket;
  if (!flags.policies.empty()) config.policies = flags.policies;
  if (!flags.data.empty()) config.data = flags.data;
  if (!flags.stdlib.empty()) config.stdlib = flags.stdlib;
  if (!flags.audit_log.empty()) config.audit.path = flags.audit_log;
  if (!flags.log_format.empty()) config.log_format = flags.log_format;
  if (flags.tcp_port >= 0) config.tcp_port = static_cast<uint16_t>(flags.tcp_port);
  if (flags.threads >= 0) config.threads = flags.threads;
  if (flags.no_watch) config.watch = false;
  if (flags.strict_requests) config.strict_requests = true;
  if (config.policies.empty()) {
    return absl::InvalidArgumentError(
        "no policies: give --policies DIR|BUNDLE (or \"policies\" in the config file)");
  }
  if (config.socket.path.empty() && !config.tcp_port.has_value()) {
    return absl::InvalidArgumentError(
        "nothing to listen on: give --socket PATH (or \"socket\" in the config file)");
  }
  return config;
}

int RunServe(const ServeFlags& flags) {
  absl::StatusOr<server::ServerConfig> configured = ConfigFromFlags(flags);
  if (!configured.ok()) {
    PrintError(std::string(configured.status().message()));
    return kExitUsage;
  }
  server::ServerConfig& config = *configured;
  server::SetLogFormat(config.log_format == "text" ? server::LogFormat::kText
                                                   : server::LogFormat::kJson);
  ::signal(SIGPIPE, SIG_IGN);

  // Reloads on change watch the policy sources, the data file and an
  // explicit stdlib directory.
  std::vector<std::string> watched = {config.policies};
  if (!config.data.empty()) watched.push_back(config.data);
  if (!config.stdlib.empty()) watched.push_back(config.stdlib);
  auto fingerprint = [watched] { return server::FingerprintFiles(watched); };
  server::PolicyStore store(MakePolicyLoader(config));
  store.set_fingerprint(fingerprint);
  if (absl::Status status = store.Reload("start"); !status.ok()) {
    std::cerr << status.message() << "\n";
    PrintError(absl::StrCat("cannot load the policies from ", config.policies));
    return kExitFindings;
  }
  server::Metrics metrics;
  server::ServerContext context;
  context.config = &config;
  context.store = &store;
  context.metrics = &metrics;
  std::unique_ptr<audit::AuditLog> audit_log;
  if (!config.audit.path.empty()) {
    absl::StatusOr<std::unique_ptr<audit::AuditLog>> opened =
        audit::AuditLog::Open(server::AuditOptionsFor(config.audit));
    if (!opened.ok()) {
      PrintError(std::string(opened.status().message()));
      return kExitUsage;
    }
    audit_log = *std::move(opened);
    if (!audit_log->stats().notice.empty()) server::Log("warn", audit_log->stats().notice);
    context.audit = audit_log.get();
  }

  std::unique_ptr<auth::CheckService> auth_service;
  if (config.auth.enabled) {
    absl::StatusOr<std::unique_ptr<auth::CheckService>> created =
        auth::CheckService::Create(config.auth, absl::Now());
    if (!created.ok()) {
      PrintError(std::string(created.status().message()));
      return kExitUsage;
    }
    auth_service = *std::move(created);
    context.auth = auth_service.get();
  }

  absl::StatusOr<std::unique_ptr<server::HttpServer>> http =
      server::HttpServer::Start(context, fingerprint);
  if (!http.ok()) {
    PrintError(std::string(http.status().message()));
    return kExitUsage;
  }
  server::Log("info", "serving",
              {{"policies", config.policies}, {"bundle", store.current()->engine->bundle_hash()}});
  (*http)->Wait();
  if (auth_service != nullptr) {
    // Counters, devices and sign-ins learned since the last periodic write.
    if (absl::Status flushed = auth_service->Flush(); !flushed.ok()) {
      server::Log(
          "error", "the auth state was not written",
          {{"error", std::string_view(flushed.message().data(), flushed.message().size())}});
    }
  }
  // Every decision answered is in the log before we exit.
  if (audit_log != nullptr) {
    if (absl::Status closed = audit_log->Close(); !closed.ok()) {
      server::Log("error", "the audit log did not close cleanly",
                  {{"error", std::string_view(closed.message().data(), closed.message().size())}});
      return kExitUsage;
    }
  }
  server::Log("info", "stopped");
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand(
      "serve", "Serve decisions over HTTP/1.1 on a Unix socket (docs/api.md, docs/operations.md)");
  command->add_option("--config", flags->config, "A JSON configuration file (comments allowed)");
  command->add_option("--socket", flags->socket, "The decision socket's path");
  command->add_option("--admin-socket", flags->admin_socket,
                      "The admin socket's path (reload, status, bundle)");
  command->add_option("--policies", flags->policies, "A directory of .warden files, or a bundle");
  command->add_option("--data", flags->data, "A JSON file of `data` values");
  command->add_option("--stdlib", flags->stdlib, "Where `import std.*` resolves");
  command->add_option("--audit-log", flags->audit_log, "Append every decision to this audit log");
  command->add_option("--tcp-port", flags->tcp_port, "Also listen on 127.0.0.1:PORT (0: any port)")
      ->check(CLI::Range(0, 65535));
  command->add_option("--threads", flags->threads, "Request threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  command->add_option("--log-format", flags->log_format, "json (default) or text")
      ->check(CLI::IsMember({"json", "text"}));
  command->add_flag("--no-watch", flags->no_watch, "Don't reload when the policy files change");
  command->add_flag("--strict-requests", flags->strict_requests,
                    "Unknown attributes and wrongly typed values are bad requests");
  command->footer(
      "Signals: SIGHUP reloads the policies; SIGTERM and SIGINT drain and stop.\n"
      "Exit codes: 0 stopped cleanly, 1 the policies did not load, 2 usage, config or socket "
      "error.");
  command->callback([flags, &exit_code] { exit_code = RunServe(*flags); });
}

}  // namespace warden::cli
