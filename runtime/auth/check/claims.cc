#include "runtime/auth/check/claims.h"

#include <string_view>
#include <vector>

#include "runtime/decision_json.h"

namespace warden::auth {
namespace {

using nlohmann::json;

// A claim by dotted path ("realm_access.roles"); null when absent.
const json* ClaimAt(const json& claims, std::string_view path) {
  const json* node = &claims;
  while (true) {
    if (!node->is_object()) return nullptr;
    const size_t dot = path.find('.');
    auto it = node->find(std::string(path.substr(0, dot)));
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) return node;
    path.remove_prefix(dot + 1);
  }
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  for (const std::string& item : list) {
    if (item == value) return true;
  }
  return false;
}

// Arrays of strings, or OAuth's space-separated `scope` style.
std::vector<std::string> Roles(const ClaimMapping& mapping, const json& claims) {
  std::vector<std::string> roles;
  for (const std::string& claim_name : mapping.roles) {
    const json* claim = ClaimAt(claims, claim_name);
    if (claim == nullptr) continue;
    if (claim->is_array()) {
      for (const json& role : *claim) {
        if (role.is_string()) roles.push_back(role.get<std::string>());
      }
    } else if (claim->is_string()) {
      for (std::string_view rest = claim->get_ref<const std::string&>(); !rest.empty();) {
        const size_t space = rest.find(' ');
        if (space != 0) roles.emplace_back(rest.substr(0, space));
        if (space == std::string_view::npos) break;
        rest.remove_prefix(space + 1);
      }
    }
  }
  return roles;
}

bool Mfa(const ClaimMapping& mapping, const VerifiedToken& token) {
  bool mfa = false;
  for (const std::string& method : token.amr) mfa = mfa || Contains(mapping.mfa_methods, method);
  return mfa || (!token.acr.empty() && Contains(mapping.mfa_acr_values, token.acr));
}

}  // namespace

void MapClaims(const ClaimMapping& mapping, MappedToken& token) {
  std::string& out = token.subject_json;
  out = "{\"id\":";
  std::string id = token.subject;
  if (mapping.subject != "sub") {
    const json* claim = ClaimAt(token.claims, mapping.subject);
    id = claim != nullptr && claim->is_string() ? claim->get<std::string>() : "";
  }
  AppendJsonString(id, &out);
  out.append(",\"roles\":");
  AppendJsonStringArray(Roles(mapping, token.claims), &out);
  if (!mapping.tenant.empty()) {
    const json* tenant = ClaimAt(token.claims, mapping.tenant);
    if (tenant != nullptr && tenant->is_string()) {
      out.append(",\"tenant\":");
      AppendJsonString(tenant->get_ref<const std::string&>(), &out);
    }
  }
  for (const auto& [attribute, claim_name] : mapping.attributes) {
    const json* claim = ClaimAt(token.claims, claim_name);
    if (claim == nullptr) continue;
    out.push_back(',');
    AppendJsonString(attribute, &out);
    out.push_back(':');
    out.append(claim->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  token.mfa = Mfa(mapping, token);
  out.append(",\"auth\":{\"mfa\":");
  out.append(token.mfa ? "true" : "false");
  out.append(",\"methods\":");
  AppendJsonStringArray(token.amr, &out);
  out.append(",\"acr\":");
  AppendJsonString(token.acr, &out);
  out.append(",\"kind\":\"token\"");
}

}  // namespace warden::auth
