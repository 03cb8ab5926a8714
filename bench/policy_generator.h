// Generated policy sets for the benchmarks: one schema file plus `files`
// policy files of `rules_per_file` rules each, a realistic mix of attribute
// reads, roles, sets, enums and time functions. Every rule checks clean.
#ifndef WARDEN_BENCH_POLICY_GENERATOR_H_
#define WARDEN_BENCH_POLICY_GENERATOR_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace warden::bench {

// One schema file plus `files` policy files of `rules_per_file` rules, each
// rule a realistic mix of attribute reads, roles, sets and time functions.
inline std::vector<std::pair<std::string, std::string>> MakeSources(int files, int rules_per_file) {
  std::vector<std::pair<std::string, std::string>> sources;
  sources.emplace_back("schema.warden", R"(package bench
schema {
  subject { department: string  clearance: int  manager: string? }
  resource payment { owner: string  department: string  amount: decimal  created_by: string
                     tags: set<string>  currency: enum { eur, usd, gbp } }
  actions { read, create, update, sensitive approve, delete }
}
role viewer
role editor extends viewer
role approver extends editor
)");
  for (int f = 0; f < files; ++f) {
    std::string text =
        absl::StrCat("package bench\n\npolicy p", f, " on payment combine deny_overrides {\n");
    for (int r = 0; r < rules_per_file; ++r) {
      int n = f * rules_per_file + r;
      switch (n % 4) {
        case 0:
          absl::StrAppend(&text, "  rule r", n,
                          ": permit read if subject.department == resource.department and ",
                          "resource.amount < ", n, ".50 and \"t", n, "\" in resource.tags\n");
          break;
        case 1:
          absl::StrAppend(&text, "  rule r", n,
                          ": deny [update, delete] if resource.created_by == subject.id ",
                          "and resource.currency in [eur, usd] because \"rule ", n, "\"\n");
          break;
        case 2:
          absl::StrAppend(
              &text, "  rule r", n, ": permit approve if subject has role approver and ",
              "subject.auth.mfa and hour(context.time, \"Europe/Paris\") >= ", n % 12, "\n");
          break;
        default:
          absl::StrAppend(&text, "  rule r", n, ": step_up mfa create if subject has manager and ",
                          "subject.manager != resource.owner and subject.clearance < ", n % 7,
                          "\n");
          break;
      }
    }
    text += "}\n";
    sources.emplace_back(absl::StrCat("p", f, ".warden"), std::move(text));
  }
  return sources;
}

}  // namespace warden::bench

#endif  // WARDEN_BENCH_POLICY_GENERATOR_H_
