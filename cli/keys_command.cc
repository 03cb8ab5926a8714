// `warden keys create|list|revoke|rotate --state PATH`: API keys in the
// authentication state database (docs/cli.md, docs/authentication.md). A new
// key is printed once; the database keeps only its salt and HMAC, and
// nothing here ever prints those.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "runtime/auth/api_keys.h"
#include "runtime/auth/state_store.h"

namespace warden::cli {
namespace {

using nlohmann::ordered_json;

struct KeysFlags {
  std::string state;
  std::string format = "text";
  // create
  std::string subject;
  std::vector<std::string> roles;
  std::string tenant;
  std::vector<std::string> actions;
  std::vector<std::string> resource_types;
  std::string expires_in;
  std::string description;
  // revoke, rotate
  std::string id;
  std::string grace = "24h";
};

std::string Dump(const ordered_json& json) {
  return json.dump(2, ' ', false, ordered_json::error_handler_t::replace);
}

ordered_json OptionalTime(const std::optional<absl::Time>& t) {
  return t.has_value() ? ordered_json(FormatUtc(*t)) : ordered_json(nullptr);
}

std::string ListOrAny(const std::vector<std::string>& items) {
  return items.empty() ? "any" : absl::StrJoin(items, ",");
}

std::string Scope(const auth::ApiKeyRecord& r) {
  return absl::StrCat("actions=", ListOrAny(r.actions), " types=", ListOrAny(r.resource_types));
}

// What a listing shows of a key: never the salt or the hash.
ordered_json KeyJson(const auth::ApiKeyRecord& r, absl::Time now) {
  ordered_json out;
  out["id"] = r.id;
  out["subject"] = r.subject;
  out["roles"] = r.roles;
  out["tenant"] = r.tenant;
  out["actions"] = r.actions;
  out["resource_types"] = r.resource_types;
  out["created"] = FormatUtc(r.created);
  out["expires"] = OptionalTime(r.expires);
  out["revoked"] = OptionalTime(r.revoked);
  out["status"] = auth::ApiKeyStatusName(auth::StatusOfApiKey(r, now));
  out["description"] = r.description;
  out["rotated_from"] = r.rotated_from;
  return out;
}

// Prints a new key; the only place a secret is ever shown. `old_expires`:
// the replaced key's new expiry, after a rotation.
void PrintNewKey(const auth::NewApiKey& made, const std::string& format,
                 std::optional<absl::Time> old_expires = std::nullopt) {
  const auth::ApiKeyRecord& r = made.record;
  if (format == "json") {
    ordered_json out;
    out["key"] = made.key;
    out["id"] = r.id;
    out["subject"] = r.subject;
    out["roles"] = r.roles;
    out["tenant"] = r.tenant;
    out["actions"] = r.actions;
    out["resource_types"] = r.resource_types;
    out["created"] = FormatUtc(r.created);
    out["expires"] = OptionalTime(r.expires);
    out["description"] = r.description;
    out["rotated_from"] = r.rotated_from;
    if (old_expires.has_value()) out["old_key_expires"] = FormatUtc(*old_expires);
    std::cout << Dump(out) << "\n";
  } else {
    std::string text = absl::StrCat("key:            ", made.key, "\n");
    absl::StrAppend(&text, "id:             ", r.id, "\n");
    absl::StrAppend(&text, "subject:        ", r.subject, "\n");
    if (!r.roles.empty()) absl::StrAppend(&text, "roles:          ", ListOrAny(r.roles), "\n");
    if (!r.tenant.empty()) absl::StrAppend(&text, "tenant:         ", r.tenant, "\n");
    absl::StrAppend(&text, "actions:        ", ListOrAny(r.actions), "\n");
    absl::StrAppend(&text, "resource types: ", ListOrAny(r.resource_types), "\n");
    absl::StrAppend(
        &text, "expires:        ", r.expires.has_value() ? FormatUtc(*r.expires) : "never", "\n");
    if (!r.rotated_from.empty()) absl::StrAppend(&text, "replaces:       ", r.rotated_from, "\n");
    if (old_expires.has_value()) {
      absl::StrAppend(&text, "old key expires: ", FormatUtc(*old_expires), "\n");
    }
    std::cout << text;
  }
  std::cerr << "warden: the key is shown only this once: store it now (Warden keeps only a "
               "salted hash)\n";
}

int RunCreate(const KeysFlags& flags) {
  auth::ApiKeySpec spec;
  spec.subject = flags.subject;
  spec.roles = flags.roles;
  spec.tenant = flags.tenant;
  spec.actions = flags.actions;
  spec.resource_types = flags.resource_types;
  spec.description = flags.description;
  if (!flags.expires_in.empty()) {
    absl::Duration ttl;
    if (!ParseDurationFlag("--expires-in", flags.expires_in, &ttl)) return kExitUsage;
    spec.ttl = ttl;
  }
  absl::StatusOr<auth::NewApiKey> made = auth::GenerateApiKey(spec, absl::Now());
  if (!made.ok()) {
    PrintError(std::string(made.status().message()));
    return kExitUsage;
  }
  int exit_code = kExitOk;
  std::unique_ptr<auth::StateStore> store = OpenStateOrReport(flags.state, true, &exit_code);
  if (store == nullptr) return exit_code;
  if (absl::Status s = store->PutApiKey(made->record); !s.ok()) {
    PrintError(std::string(s.message()));
    return kExitUsage;
  }
  PrintNewKey(*made, flags.format);
  return kExitOk;
}

int RunList(const KeysFlags& flags) {
  int exit_code = kExitOk;
  std::unique_ptr<auth::StateStore> store = OpenStateOrReport(flags.state, false, &exit_code);
  if (store == nullptr) return exit_code;
  absl::StatusOr<std::vector<auth::ApiKeyRecord>> keys = store->ListApiKeys();
  if (!keys.ok()) {
    PrintError(std::string(keys.status().message()));
    return kExitUsage;
  }
  const absl::Time now = absl::Now();
  if (flags.format == "json") {
    ordered_json out = ordered_json::array();
    for (const auth::ApiKeyRecord& r : *keys) out.push_back(KeyJson(r, now));
    std::cout << Dump(out) << "\n";
    return kExitOk;
  }
  if (keys->empty()) {
    std::cout << "no API keys in " << flags.state << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "SUBJECT", "STATUS", "CREATED", "EXPIRES", "REVOKED", "SCOPE", "DESCRIPTION"}};
  for (const auth::ApiKeyRecord& r : *keys) {
    rows.push_back({r.id, r.subject, auth::ApiKeyStatusName(auth::StatusOfApiKey(r, now)),
                    FormatUtc(r.created), r.expires.has_value() ? FormatUtc(*r.expires) : "never",
                    r.revoked.has_value() ? FormatUtc(*r.revoked) : "-", Scope(r), r.description});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&text, line, "\n");
  }
  std::cout << text;
  return kExitOk;
}

// The key flags.id names, or nullopt with the error printed and *exit_code
// set (1: no such key, 2: the database could not be read).
std::optional<auth::ApiKeyRecord> FindKeyOrReport(auth::StateStore& store, const KeysFlags& flags,
                                                  int* exit_code) {
  absl::StatusOr<std::optional<auth::ApiKeyRecord>> found = store.GetApiKey(flags.id);
  if (!found.ok()) {
    PrintError(std::string(found.status().message()));
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  if (!found->has_value()) {
    PrintError(absl::StrCat("no API key `", flags.id, "` in ", flags.state));
    *exit_code = kExitFindings;
    return std::nullopt;
  }
  return *std::move(*found);
}

int RunRevoke(const KeysFlags& flags) {
  int exit_code = kExitOk;
  std::unique_ptr<auth::StateStore> store = OpenStateOrReport(flags.state, false, &exit_code);
  if (store == nullptr) return exit_code;
  std::optional<auth::ApiKeyRecord> old = FindKeyOrReport(*store, flags, &exit_code);
  if (!old) return exit_code;
  if (old->revoked.has_value()) {
    std::cout << "API key " << flags.id << " was already revoked at " << FormatUtc(*old->revoked)
              << "\n";
    return kExitOk;
  }
  absl::StatusOr<bool> revoked = store->RevokeApiKey(flags.id, absl::Now());
  if (!revoked.ok()) {
    PrintError(std::string(revoked.status().message()));
    return kExitUsage;
  }
  std::cout << "revoked API key " << flags.id << " (subject " << old->subject << ")\n";
  return kExitOk;
}

int RunRotate(const KeysFlags& flags) {
  absl::Duration grace;
  if (!ParseDurationFlag("--grace", flags.grace, &grace)) return kExitUsage;
  std::optional<absl::Duration> ttl;
  if (!flags.expires_in.empty()) {
    absl::Duration d;
    if (!ParseDurationFlag("--expires-in", flags.expires_in, &d)) return kExitUsage;
    ttl = d;
  }
  int exit_code = kExitOk;
  std::unique_ptr<auth::StateStore> store = OpenStateOrReport(flags.state, false, &exit_code);
  if (store == nullptr) return exit_code;
  std::optional<auth::ApiKeyRecord> found = FindKeyOrReport(*store, flags, &exit_code);
  if (!found) return exit_code;
  auth::ApiKeyRecord old = *std::move(found);
  if (old.revoked.has_value()) {
    PrintError(
        absl::StrCat("API key ", old.id, " is revoked; make a new one with `warden keys create`"));
    return kExitFindings;
  }
  // One live successor per key: a second rotation would leave two new keys
  // in circulation. The latest successor also remembers the key's lifetime
  // (the old key's own expiry was shortened by the rotation).
  absl::StatusOr<std::vector<auth::ApiKeyRecord>> all = store->ListApiKeys();
  if (!all.ok()) {
    PrintError(std::string(all.status().message()));
    return kExitUsage;
  }
  const absl::Time now = absl::Now();
  std::optional<absl::Duration> lifetime;
  if (old.expires.has_value() && *old.expires > old.created) lifetime = *old.expires - old.created;
  for (const auth::ApiKeyRecord& r : *all) {  // oldest first
    if (r.rotated_from != old.id) continue;
    if (auth::StatusOfApiKey(r, now) == auth::ApiKeyStatus::kActive) {
      PrintError(absl::StrCat("API key ", old.id, " was already rotated to ", r.id, "; rotate ",
                              r.id, " instead, or revoke it first"));
      return kExitFindings;
    }
    lifetime = r.expires.has_value() ? std::optional<absl::Duration>(*r.expires - r.created)
                                     : std::nullopt;
  }
  // The new key keeps the old one's scope and, unless told otherwise, its
  // lifetime.
  auth::ApiKeySpec spec;
  spec.subject = old.subject;
  spec.roles = old.roles;
  spec.tenant = old.tenant;
  spec.actions = old.actions;
  spec.resource_types = old.resource_types;
  spec.description = old.description;
  spec.rotated_from = old.id;
  spec.ttl = ttl.has_value() ? ttl : lifetime;
  absl::StatusOr<auth::NewApiKey> made = auth::GenerateApiKey(spec, now);
  if (!made.ok()) {
    PrintError(std::string(made.status().message()));
    return kExitUsage;
  }
  // The old key stays valid for the grace period, never longer than it was.
  const absl::Time old_end = now + grace;
  if (!old.expires.has_value() || *old.expires > old_end) old.expires = old_end;
  if (absl::Status s = store->PutApiKeys({old, made->record}); !s.ok()) {
    PrintError(std::string(s.message()));
    return kExitUsage;
  }
  PrintNewKey(*made, flags.format, old.expires);
  return kExitOk;
}

void AddFormatFlag(CLI::App* command, std::string* format) {
  command->add_option("--format", *format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT")
      ->capture_default_str();
}

}  // namespace

void AddKeysCommand(CLI::App& app, int& exit_code) {
  CLI::App* keys = app.add_subcommand("keys", "Create, list, revoke and rotate API keys");
  keys->require_subcommand(1);

  auto create_flags = std::make_shared<KeysFlags>();
  CLI::App* create = keys->add_subcommand(
      "create", "Make an API key and print it once (the database keeps only a salted hash)");
  create->footer("Exit codes: 0 created, 2 usage or state database error.");
  AddStatePathFlag(create, &create_flags->state);
  create->add_option("--subject", create_flags->subject, "subject.id the key authenticates as")
      ->required()
      ->type_name("ID");
  create->add_option("--role", create_flags->roles, "A role of the subject (repeatable)")
      ->type_name("ROLE");
  create->add_option("--tenant", create_flags->tenant, "The subject's tenant")->type_name("TENANT");
  create
      ->add_option("--action", create_flags->actions,
                   "An action the key may be used for (repeatable; default: every action)")
      ->type_name("ACTION");
  create
      ->add_option("--resource-type", create_flags->resource_types,
                   "A resource type the key may be used for (repeatable; default: every type)")
      ->type_name("TYPE");
  create
      ->add_option("--expires-in", create_flags->expires_in,
                   "Lifetime, e.g. 90d or 12h (default: never expires)")
      ->type_name("DURATION");
  create->add_option("--description", create_flags->description, "A note for `keys list`")
      ->type_name("TEXT");
  AddFormatFlag(create, &create_flags->format);
  create->callback([create_flags, &exit_code] { exit_code = RunCreate(*create_flags); });

  auto list_flags = std::make_shared<KeysFlags>();
  CLI::App* list = keys->add_subcommand(
      "list", "List API keys: id, subject, scope, dates and status (never secrets or hashes)");
  list->footer("Exit codes: 0 listed, 2 usage or state database error.");
  AddStatePathFlag(list, &list_flags->state);
  AddFormatFlag(list, &list_flags->format);
  list->callback([list_flags, &exit_code] { exit_code = RunList(*list_flags); });

  auto revoke_flags = std::make_shared<KeysFlags>();
  CLI::App* revoke = keys->add_subcommand("revoke", "Revoke an API key (refused from now on)");
  revoke->footer("Exit codes: 0 revoked, 1 no such key, 2 usage or state database error.");
  AddStatePathFlag(revoke, &revoke_flags->state);
  revoke->add_option("id", revoke_flags->id, "The key's id (see `warden keys list`)")
      ->required()
      ->type_name("ID");
  revoke->callback([revoke_flags, &exit_code] { exit_code = RunRevoke(*revoke_flags); });

  auto rotate_flags = std::make_shared<KeysFlags>();
  CLI::App* rotate = keys->add_subcommand(
      "rotate",
      "Make a new key with the same subject and scope; the old one expires after the grace "
      "period");
  rotate->footer(
      "Exit codes: 0 rotated, 1 no such key or the key is revoked, 2 usage or state database "
      "error.");
  AddStatePathFlag(rotate, &rotate_flags->state);
  rotate->add_option("id", rotate_flags->id, "The key to replace")->required()->type_name("ID");
  rotate
      ->add_option("--grace", rotate_flags->grace,
                   "How long the old key keeps working (never beyond its own expiry)")
      ->type_name("DURATION")
      ->capture_default_str();
  rotate
      ->add_option("--expires-in", rotate_flags->expires_in,
                   "The new key's lifetime (default: the old key's lifetime)")
      ->type_name("DURATION");
  AddFormatFlag(rotate, &rotate_flags->format);
  rotate->callback([rotate_flags, &exit_code] { exit_code = RunRotate(*rotate_flags); });
}

}  // namespace warden::cli
