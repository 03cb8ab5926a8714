// The engine's private parts, shared by the files that each do one of its
// jobs: loading (engine.cc), data conversion (data.cc), the rule index
// (index.cc), deciding (decide.cc), value rendering (render.cc), error
// wording and explanation (explain.cc). Not part of the embedding API.
#ifndef WARDEN_RUNTIME_ENGINE_ENGINE_IMPL_H_
#define WARDEN_RUNTIME_ENGINE_ENGINE_IMPL_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "runtime/request_decoder.h"
#include "runtime/vm.h"
#include "warden/engine.h"

namespace warden {

using rt::Outcome;
using rt::Value;

namespace engine_internal {

// Members of a policy set (or of the roots) grouped by the resource types
// they can apply to, keeping their positions so the order can be restored.
struct MemberIndex {
  std::vector<uint32_t> all;  // positions relevant to every type
  // type key -> the positions relevant to that type, `all` included, in order.
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> merged;

  // The positions to evaluate for a request of resource type `key`, in order.
  // When the program has few resource types, the same as a table by type
  // key: 0 for `all`, else 1 + an index into `lists` (no hashing per decision).
  std::vector<uint32_t> dense;
  std::vector<std::vector<uint32_t>> lists;

  const std::vector<uint32_t>& ForType(uint32_t key) const {
    if (!dense.empty()) {
      uint32_t at = key < dense.size() ? dense[key] : 0;
      return at == 0 ? all : lists[at - 1];
    }
    auto it = merged.find(key);
    return it == merged.end() ? all : it->second;
  }
};

// Which resource types a node can apply to: all, or a sorted list of keys
// (key = resource type + 1; 0 = a type the program does not declare).
struct Relevance {
  bool all = false;
  std::vector<uint32_t> keys;
};

}  // namespace engine_internal

struct Engine::Impl {
  bc::Program program;
  std::string hash;
  EngineOptions options;
  rt::Prepared prepared;
  absl::flat_hash_map<std::string, uint32_t> role_by_name;
  // For few roles, a scan of their names is cheaper than hashing.
  static constexpr size_t kRoleScanLimit = 32;
  std::vector<std::string_view> role_names;

  // The index of the role named `name`, or -1.
  int FindRole(std::string_view name) const {
    if (!role_names.empty()) {
      for (size_t r = 0; r < role_names.size(); ++r) {
        if (role_names[r].size() == name.size() &&
            std::memcmp(role_names[r].data(), name.data(), name.size()) == 0)
          return static_cast<int>(r);
      }
      return -1;
    }
    auto it = role_by_name.find(absl::string_view(name.data(), name.size()));
    return it == role_by_name.end() ? -1 : static_cast<int>(it->second);
  }
  std::vector<std::string> separation_reasons;
  std::vector<std::string> risk_labels;  // "risk NAME": where a risk factor's error happened
  std::vector<int32_t> slot_attribute;   // per frame slot: the first attribute in it, or -1
  std::vector<uint32_t> rule_policy;     // rule -> its policy
  // What deciding needs of each rule, packed (bc::Rule is large and cold).
  struct HotRule {
    Outcome effect;
    bool has_extras;
    int32_t condition;  // a block, or bc::kNoBlock
    int32_t challenge;
  };
  std::vector<HotRule> hot_rules;
  // The index.
  std::vector<engine_internal::Relevance> set_relevance;
  std::vector<engine_internal::MemberIndex> set_members;
  engine_internal::MemberIndex root_members;
  std::vector<uint32_t> action_offsets;  // per policy: actions + 2 offsets into action_rules
  std::vector<uint32_t> action_rules;
  std::vector<uint32_t> policy_offset;  // per policy: start in action_offsets
  uint32_t action_buckets = 0;          // actions + 1 (bucket 0: an undeclared action)
  int roles_slot = -1;
  std::shared_ptr<const rt::RequestSchema> request_schema;

  absl::Status Prepare();
  absl::Status PrepareData();
  absl::Status ConvertData(const std::string& name, const bc::TypeRef& type, const DataValue* value,
                           Value* out);
  absl::Status ConvertRecord(const std::string& name, const bc::TypeRef& type,
                             const DataValue* value, Value* out);
  absl::Status ConvertScalar(const std::string& name, bc::TypeCode code, int32_t enumeration,
                             const DataValue& value, Value* out);
  void BuildIndex();
  template <bool kExplain>
  void Decide(const rt::Frame& frame, Decision* decision, Explanation* explanation) const;
  void ExplainRules(const rt::Frame& frame, Explanation* explanation) const;
  std::string ErrorMessage(rt::EvalError code, uint32_t instruction, const rt::Frame* frame) const;
  // Where an error happened (DecisionError::file, line).
  void Locate(uint32_t file, uint32_t line, DecisionError* out) const {
    out->file = file < program.files.size() ? std::string_view(program.files[file]) : "";
    out->line = line;
  }
  // An obligation's value as text and as JSON (ObligationArg::value, ::json).
  // Sets are written in ascending order without repeats, as the reference
  // evaluator holds them; `order` is scratch space for sorting.
  void Render(const bc::TypeRef& type, const Value& value, ObligationArg* arg,
              std::vector<uint32_t>* order) const;
  void RenderScalar(bc::TypeCode code, int32_t enumeration, const Value& value, std::string* text,
                    std::string* json) const;
  // Records and sets of records, recursively (fields in declaration order).
  void RenderComposite(const bc::TypeRef& type, const Value& value, std::string* text,
                       std::string* json) const;
  void RenderNumber(bc::TypeCode code, const Value& value, char* text, size_t* text_size,
                    char* json, size_t* json_size) const;
};

namespace engine_internal {

// Per-thread working memory for Decide; grows once, then is reused.
struct DecideScratch {
  rt::Scratch vm;
  // A combined node: its outcome, its challenge (index into the program's
  // challenges, or -1) and its deciding rules, deciders[dec_begin, dec_end).
  struct Child {
    Outcome outcome;
    int32_t challenge;
    uint32_t dec_begin;  // into deciders
    uint32_t dec_end;
  };
  std::vector<uint32_t> deciders;  // rule indices
  struct ExtraValue {
    uint32_t rule;
    uint16_t extra;
    uint16_t arg;  // kExtraHeader: the entry that opens an obligation or advice
    Value value;
  };
  // Every obligation or advice that applies opens with a header entry, so
  // one without arguments is still reported.
  static constexpr uint16_t kExtraHeader = UINT16_MAX;
  std::vector<ExtraValue> extras;
  std::vector<uint32_t> order;  // for writing a set's members in order
  // Explain only: every candidate rule as it is evaluated.
  struct Explained {
    uint32_t rule;
    RuleExplanation::Status status;
    rt::EvalError error;  // the rule's first failure, or kNone
    uint32_t pc;          // its instruction
  };
  std::vector<Explained> explained;
};

// This thread's scratch memory for deciding (decide.cc).
DecideScratch& ThreadScratch();

}  // namespace engine_internal
}  // namespace warden

#endif  // WARDEN_RUNTIME_ENGINE_ENGINE_IMPL_H_
