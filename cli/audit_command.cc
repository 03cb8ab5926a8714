// `warden audit verify [--format text|json] FILE...`: checks the hash chain
// of audit logs (docs/audit.md). A FILE that is an active log also brings in
// its rotated siblings (FILE.000001, …), oldest first.
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "runtime/audit/rotated_files.h"
#include "runtime/audit/verify.h"

namespace warden::cli {
namespace {

struct AuditVerifyFlags {
  std::vector<std::string> files;
  std::string format = "text";
};

std::string Count(uint64_t n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// Each FILE, preceded by its rotated siblings when it is an active log.
std::vector<std::string> ExpandFiles(const std::vector<std::string>& files) {
  std::vector<std::string> expanded;
  std::set<std::string> seen;
  auto add = [&](const std::string& file) {
    if (seen.insert(file).second) expanded.push_back(file);
  };
  for (const std::string& file : files) {
    if (audit::RotatedIndexOf(file) == 0) {
      for (const auto& [index, rotated] : audit::ListRotated(file)) add(rotated);
    }
    add(file);
  }
  return expanded;
}

int RunAuditVerify(const AuditVerifyFlags& flags) {
  std::vector<std::string> files = ExpandFiles(flags.files);
  absl::StatusOr<audit::VerifyReport> report = audit::VerifyAuditFiles(files);
  if (!report.ok()) {
    PrintError(std::string(report.status().message()));
    return kExitUsage;
  }
  if (flags.format == "json") {
    nlohmann::ordered_json out;
    out["files"] = files;
    out["lines"] = report->lines;
    out["intact"] = report->intact();
    out["first_seq"] = report->first_seq;
    out["last_seq"] = report->last_seq;
    out["last_hash"] = report->last_hash;
    out["problems"] = nlohmann::ordered_json::array();
    for (const audit::VerifyProblem& p : report->problems) {
      out["problems"].push_back(
          {{"file", p.file}, {"line", p.line}, {"kind", p.kind}, {"message", p.message}});
    }
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    std::string text;
    for (const audit::VerifyProblem& p : report->problems) {
      absl::StrAppend(&text, p.file, ":", p.line, ": ", p.kind, ": ", p.message, "\n");
    }
    absl::StrAppend(&text, "audit: ", Count(report->lines, "line"), " in ",
                    Count(report->files, "file"), ", ");
    if (report->intact()) {
      absl::StrAppend(&text, "chain intact");
      if (report->lines > 0) {
        absl::StrAppend(&text, " (last seq ", report->last_seq, ", hash ", report->last_hash, ")");
      }
    } else {
      absl::StrAppend(&text, Count(report->problems.size(), "problem"));
    }
    std::cout << text << "\n";
  }
  return report->intact() ? kExitOk : kExitFindings;
}

}  // namespace

void AddAuditCommand(CLI::App& app, int& exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Work with decision audit logs");
  audit->require_subcommand(1);
  auto flags = std::make_shared<AuditVerifyFlags>();
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check the hash chain of audit log files; report edited, removed, inserted, "
      "reordered and truncated lines");
  verify->footer("Exit codes: 0 chain intact, 1 problems found, 2 usage or I/O error.");
  verify
      ->add_option("files", flags->files,
                   "Audit files in chain order; an active log also brings in its rotated "
                   "files (FILE.000001, …)")
      ->required()
      ->type_name("FILE");
  verify->add_option("--format", flags->format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT")
      ->capture_default_str();
  verify->callback([flags, &exit_code] { exit_code = RunAuditVerify(*flags); });
}

}  // namespace warden::cli
