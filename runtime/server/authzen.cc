// AuthZEN requests to Warden requests (see authzen.h).
#include "runtime/server/authzen.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden::server {
namespace {

using nlohmann::json;

absl::Status Missing(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
}

// Copies `properties` (an object, if present) into `out`, never over the
// identity members that AuthZEN defines.
absl::Status CopyProperties(const json& entity, absl::string_view where, json* out) {
  auto it = entity.find("properties");
  if (it == entity.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object())
    return absl::InvalidArgumentError(absl::StrCat(where, ".properties must be an object"));
  for (const auto& [key, value] : it->items()) {
    if (key == "id" || key == "type") continue;
    (*out)[key] = value;
  }
  return absl::OkStatus();
}

const json* StringMember(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? &*it : nullptr;
}

}  // namespace

absl::StatusOr<std::string> AuthzenToWardenRequest(const json& evaluation) {
  if (!evaluation.is_object()) return absl::InvalidArgumentError("an evaluation must be an object");
  auto subject = evaluation.find("subject");
  auto action = evaluation.find("action");
  auto resource = evaluation.find("resource");
  if (subject == evaluation.end() || !subject->is_object()) return Missing("subject (an object)");
  if (action == evaluation.end() || !action->is_object()) return Missing("action (an object)");
  if (resource == evaluation.end() || !resource->is_object())
    return Missing("resource (an object)");
  const json* subject_id = StringMember(*subject, "id");
  const json* action_name = StringMember(*action, "name");
  const json* resource_type = StringMember(*resource, "type");
  const json* resource_id = StringMember(*resource, "id");
  if (subject_id == nullptr) return Missing("subject.id (a string)");
  if (StringMember(*subject, "type") == nullptr) return Missing("subject.type (a string)");
  if (action_name == nullptr) return Missing("action.name (a string)");
  if (resource_type == nullptr) return Missing("resource.type (a string)");
  if (resource_id == nullptr) return Missing("resource.id (a string)");

  json request = json::object();
  json warden_subject = json::object();
  if (absl::Status s = CopyProperties(*subject, "subject", &warden_subject); !s.ok()) return s;
  warden_subject["id"] = *subject_id;
  json warden_resource = json::object();
  if (absl::Status s = CopyProperties(*resource, "resource", &warden_resource); !s.ok()) return s;
  warden_resource["type"] = *resource_type;
  warden_resource["id"] = *resource_id;
  request["subject"] = std::move(warden_subject);
  request["action"] = *action_name;
  request["resource"] = std::move(warden_resource);
  auto context = evaluation.find("context");
  if (context != evaluation.end() && !context->is_null()) {
    if (!context->is_object()) return absl::InvalidArgumentError("context must be an object");
    request["context"] = *context;
  }
  return request.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<AuthzenBatch> AuthzenEvaluations(const json& body, size_t max_batch) {
  if (!body.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  AuthzenBatch batch;
  auto options = body.find("options");
  if (options != body.end() && options->is_object()) {
    auto semantic = options->find("evaluations_semantic");
    if (semantic != options->end()) {
      if (*semantic == "execute_all") {
        batch.semantic = AuthzenBatch::Semantic::kExecuteAll;
      } else if (*semantic == "deny_on_first_deny") {
        batch.semantic = AuthzenBatch::Semantic::kDenyOnFirstDeny;
      } else if (*semantic == "permit_on_first_permit") {
        batch.semantic = AuthzenBatch::Semantic::kPermitOnFirstPermit;
      } else {
        return absl::InvalidArgumentError(
            "options.evaluations_semantic must be execute_all, deny_on_first_deny or "
            "permit_on_first_permit");
      }
    }
  }
  auto items = body.find("evaluations");
  if (items == body.end() || (items->is_array() && items->empty())) {
    batch.single = true;
    batch.evaluations.push_back(body);
    return batch;
  }
  if (!items->is_array()) return absl::InvalidArgumentError("evaluations must be an array");
  if (items->size() > max_batch) {
    return absl::OutOfRangeError(
        absl::StrCat("evaluations has ", items->size(), " items; the limit is ", max_batch));
  }
  for (const json& item : *items) {
    if (!item.is_object()) return absl::InvalidArgumentError("each evaluation must be an object");
    json merged = json::object();
    for (const char* key : {"subject", "action", "resource", "context"}) {
      auto own = item.find(key);
      auto fallback = body.find(key);
      if (own != item.end()) {
        merged[key] = *own;
      } else if (fallback != body.end()) {
        merged[key] = *fallback;
      }
    }
    batch.evaluations.push_back(std::move(merged));
  }
  return batch;
}

}  // namespace warden::server
