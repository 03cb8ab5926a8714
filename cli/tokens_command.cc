// `warden tokens revoke --state PATH (--jti JTI | --subject SUB) ...`:
// revokes one JWT by its jti, or every token of a subject issued before a
// time (docs/cli.md). A running `warden serve` on the same database picks the
// revocation up within its poll interval.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "runtime/auth/state_store.h"

namespace warden::cli {
namespace {

struct TokensRevokeFlags {
  std::string state;
  std::string jti;
  std::string expires_at;
  std::string subject;
  std::string issuer;
  std::string before;
  std::string reason;
};

int RunTokensRevoke(const TokensRevokeFlags& flags) {
  if (flags.jti.empty() == flags.subject.empty()) {
    PrintError("tokens revoke: give exactly one of --jti JTI and --subject SUBJECT");
    return kExitUsage;
  }
  const absl::Time now = absl::Now();
  std::optional<absl::Time> expires;
  if (!flags.expires_at.empty()) {
    absl::Time t;
    if (!ParseTimeFlag("--expires-at", flags.expires_at, &t)) return kExitUsage;
    expires = t;
  }
  absl::Time before = now;
  if (!flags.before.empty() && !ParseTimeFlag("--before", flags.before, &before)) {
    return kExitUsage;
  }
  int exit_code = kExitOk;
  std::unique_ptr<auth::StateStore> store = OpenStateOrReport(flags.state, false, &exit_code);
  if (store == nullptr) return exit_code;

  if (!flags.jti.empty()) {
    if (absl::Status s = store->RevokeJti(flags.jti, expires, flags.reason); !s.ok()) {
      PrintError(std::string(s.message()));
      return kExitUsage;
    }
    std::cout << "revoked token jti " << flags.jti;
    if (expires.has_value()) {
      std::cout << " (remembered until it expires at " << FormatUtc(*expires) << ")";
    } else {
      std::cout << " (expiry unknown: remembered for 30 days)";
    }
    std::cout << "\n";
    return kExitOk;
  }
  if (absl::Status s = store->RevokeSubject(flags.issuer, flags.subject, before, flags.reason);
      !s.ok()) {
    PrintError(std::string(s.message()));
    return kExitUsage;
  }
  std::cout << "revoked the tokens of subject " << flags.subject << " from "
            << (flags.issuer.empty() ? std::string("every issuer")
                                     : absl::StrCat("issuer ", flags.issuer))
            << " issued before " << FormatUtc(before) << "\n";
  return kExitOk;
}

}  // namespace

void AddTokensCommand(CLI::App& app, int& exit_code) {
  CLI::App* tokens = app.add_subcommand("tokens", "Revoke JWT access and ID tokens");
  tokens->require_subcommand(1);

  auto flags = std::make_shared<TokensRevokeFlags>();
  CLI::App* revoke = tokens->add_subcommand(
      "revoke",
      "Revoke one token (--jti) or every token of a subject issued before a time (--subject)");
  revoke->footer("Exit codes: 0 revoked, 2 usage or state database error.");
  AddStatePathFlag(revoke, &flags->state);
  CLI::Option* jti =
      revoke->add_option("--jti", flags->jti, "The token's jti claim")->type_name("JTI");
  CLI::Option* subject =
      revoke->add_option("--subject", flags->subject, "The tokens' sub claim")->type_name("SUB");
  jti->excludes(subject);
  revoke
      ->add_option("--expires-at", flags->expires_at,
                   "With --jti: the token's exp, so the revocation can be forgotten after it "
                   "(default: kept 30 days)")
      ->type_name("RFC3339")
      ->needs(jti);
  revoke
      ->add_option("--issuer", flags->issuer,
                   "With --subject: only tokens of this iss (default: every issuer)")
      ->type_name("ISS")
      ->needs(subject);
  revoke
      ->add_option("--before", flags->before,
                   "With --subject: revoke tokens issued (iat) before this time (default: now)")
      ->type_name("RFC3339")
      ->needs(subject);
  revoke->add_option("--reason", flags->reason, "Why, kept with the revocation")->type_name("TEXT");
  revoke->callback([flags, &exit_code] { exit_code = RunTokensRevoke(*flags); });
}

}  // namespace warden::cli
