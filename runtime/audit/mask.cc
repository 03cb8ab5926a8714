#include "runtime/audit/mask.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "runtime/audit/json_check.h"
#include "runtime/audit/line_format.h"

namespace warden::audit {
namespace {

using Json = nlohmann::ordered_json;

// A trie of attribute names; `sensitive` masks the whole value below it.
struct Node {
  bool sensitive = false;
  std::map<std::string, Node, std::less<>> children;
};

void Insert(Node* root, const std::vector<std::string>& segments) {
  Node* node = root;
  for (const std::string& segment : segments) {
    if (node->sensitive) return;  // an enclosing record is masked already
    node = &node->children[segment];
  }
  node->sensitive = true;
  node->children.clear();
}

void Apply(const Node& node, Json* value) {
  if (value->is_array()) {  // a set of records: every member
    for (Json& member : *value) Apply(node, &member);
    return;
  }
  if (!value->is_object()) return;
  for (auto& [name, child] : node.children) {
    auto it = value->find(name);
    if (it == value->end()) continue;
    if (child.sensitive) {
      *it = std::string(kRedacted);
    } else {
      Apply(child, &*it);
    }
  }
}

// Bracket depth outside strings, so that hostile nesting is refused before
// the (recursive) serializer sees it.
bool TooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// The sensitive fields of records held in a set (`set<{ sensitive pin: string }>`),
// at any depth, under `prefix`.
void InsertShape(Node* root, const bc::Program& program, int32_t shape,
                 std::vector<std::string>* prefix, bool* any) {
  if (shape < 0 || static_cast<size_t>(shape) >= program.records.size()) return;
  for (const bc::RecordField& field : program.records[shape].fields) {
    prefix->push_back(field.name);
    if (field.sensitive) {
      Insert(root, *prefix);
      *any = true;
    } else if (field.type.record >= 0 && field.type.record < shape) {  // shapes nest downwards
      InsertShape(root, program, field.type.record, prefix, any);
    }
    prefix->pop_back();
  }
}

}  // namespace

struct RequestMasker::Tree {
  Node subject;
  Node context;
  Node any_resource;                                  // attributes of every resource type
  std::map<std::string, Node, std::less<>> resource;  // by resource type
  bool empty = true;
};

RequestMasker::RequestMasker(const bc::Program& program) : tree_(std::make_unique<Tree>()) {
  for (const bc::Attribute& attribute : program.attributes) {
    bool members = attribute.type.code == bc::TypeCode::kSet &&
                   attribute.type.element == bc::TypeCode::kRecord && attribute.type.record >= 0;
    if (!attribute.sensitive && !members) continue;
    std::string_view path = attribute.path;
    Node* root = nullptr;
    if (attribute.resource_type >= 0 &&
        static_cast<size_t>(attribute.resource_type) < program.resource_types.size()) {
      // "resource.document.title": `title` of requests for a document.
      const std::string& type = program.resource_types[attribute.resource_type];
      std::string prefix = "resource." + type + ".";
      if (path.substr(0, prefix.size()) != prefix) continue;
      root = &tree_->resource[type];
      path.remove_prefix(prefix.size());
    } else {
      size_t dot = path.find('.');
      if (dot == std::string_view::npos) continue;
      std::string_view top = path.substr(0, dot);
      if (top == "subject") {
        root = &tree_->subject;
      } else if (top == "context") {
        root = &tree_->context;
      } else if (top == "resource") {
        root = &tree_->any_resource;
      } else {
        continue;
      }
      path.remove_prefix(dot + 1);
    }
    std::vector<std::string> segments =
        absl::StrSplit(absl::string_view(path.data(), path.size()), '.');
    if (attribute.sensitive) {
      Insert(root, segments);
      tree_->empty = false;
    } else {
      bool any = false;
      InsertShape(root, program, attribute.type.record, &segments, &any);
      if (any) tree_->empty = false;
    }
  }
}

RequestMasker::~RequestMasker() = default;
RequestMasker::RequestMasker(RequestMasker&&) noexcept = default;
RequestMasker& RequestMasker::operator=(RequestMasker&&) noexcept = default;

bool RequestMasker::empty() const { return tree_->empty; }

std::string RequestMasker::Mask(std::string_view request_json) const {
  if (TooDeep(request_json)) return std::string(kUnparsedRequest);
  Json request = Json::parse(request_json, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) return std::string(kUnparsedRequest);
  if (auto it = request.find("subject"); it != request.end()) Apply(tree_->subject, &*it);
  if (auto it = request.find("context"); it != request.end()) Apply(tree_->context, &*it);
  if (auto it = request.find("resource"); it != request.end() && it->is_object()) {
    Apply(tree_->any_resource, &*it);
    auto type = it->find("type");
    if (type != it->end() && type->is_string()) {
      auto typed = tree_->resource.find(type->get_ref<const std::string&>());
      if (typed != tree_->resource.end()) Apply(typed->second, &*it);
    }
  }
  return request.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string MaskRequest(const bc::Program& program, std::string_view request_json) {
  return RequestMasker(program).Mask(request_json);
}

}  // namespace warden::audit
