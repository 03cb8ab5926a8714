// The rule index: rules grouped by resource type and action, so a decision
// touches only its candidate rules (docs/architecture.md, "Speed").
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "runtime/engine/engine_impl.h"

namespace warden {

using bc::ValueKind;
using rt::Outcome;
using rt::Value;

using namespace engine_internal;  // NOLINT: this file implements them

void Engine::Impl::BuildIndex() {
  const bc::Program& p = program;
  rule_policy.assign(p.rules.size(), 0);
  hot_rules.clear();
  for (const bc::Rule& rule : p.rules) {
    Outcome effect = rule.effect == bc::Effect::kPermit ? Outcome::kPermit
                     : rule.effect == bc::Effect::kDeny ? Outcome::kDeny
                                                        : Outcome::kStepUp;
    hot_rules.push_back(HotRule{effect, !rule.extras.empty(), rule.condition, rule.challenge});
  }
  for (size_t i = 0; i < p.policies.size(); ++i) {
    for (uint32_t r : p.policies[i].rules) rule_policy[r] = static_cast<uint32_t>(i);
  }
  // Rules by action, per policy. Bucket 0: actions the program does not
  // declare (only `*` rules apply); bucket a + 1: action a.
  action_buckets = static_cast<uint32_t>(p.actions.size()) + 1;
  policy_offset.resize(p.policies.size());
  for (size_t i = 0; i < p.policies.size(); ++i) {
    policy_offset[i] = static_cast<uint32_t>(action_offsets.size());
    for (uint32_t bucket = 0; bucket < action_buckets; ++bucket) {
      action_offsets.push_back(static_cast<uint32_t>(action_rules.size()));
      for (uint32_t r : p.policies[i].rules) {
        const bc::Rule& rule = p.rules[r];
        bool applies =
            rule.any_action || (bucket > 0 && std::find(rule.actions.begin(), rule.actions.end(),
                                                        bucket - 1) != rule.actions.end());
        if (applies) action_rules.push_back(r);
      }
    }
    action_offsets.push_back(static_cast<uint32_t>(action_rules.size()));
  }
  // Which resource types each node can apply to. Sets are processed after
  // their members (the verifier proved the nesting acyclic).
  auto policy_relevance = [&](uint32_t i) {
    Relevance r;
    const bc::Policy& policy = p.policies[i];
    if (policy.rules.empty()) return r;  // never applicable
    if (policy.resource_type < 0) {
      r.all = true;
    } else {
      r.keys.push_back(static_cast<uint32_t>(policy.resource_type) + 1);
    }
    return r;
  };
  set_relevance.assign(p.policy_sets.size(), Relevance{});
  std::vector<uint8_t> done(p.policy_sets.size(), 0);
  auto relevance_of = [&](const bc::Member& m) -> Relevance {
    return m.is_set ? set_relevance[m.index] : policy_relevance(m.index);
  };
  for (size_t root = 0; root < p.policy_sets.size(); ++root) {
    std::vector<uint32_t> stack = {static_cast<uint32_t>(root)};
    while (!stack.empty()) {
      uint32_t s = stack.back();
      if (done[s]) {
        stack.pop_back();
        continue;
      }
      bool ready = true;
      for (const bc::Member& m : p.policy_sets[s].members) {
        if (m.is_set && !done[m.index]) {
          stack.push_back(m.index);
          ready = false;
        }
      }
      if (!ready) continue;
      Relevance r;
      bc::Algorithm algorithm = p.policy_sets[s].algorithm;
      r.all = algorithm == bc::Algorithm::kDenyUnlessPermit ||
              algorithm == bc::Algorithm::kPermitUnlessDeny;
      for (const bc::Member& m : p.policy_sets[s].members) {
        Relevance child = relevance_of(m);
        r.all = r.all || child.all;
        if (!r.all) r.keys.insert(r.keys.end(), child.keys.begin(), child.keys.end());
      }
      if (r.all) r.keys.clear();
      std::sort(r.keys.begin(), r.keys.end());
      r.keys.erase(std::unique(r.keys.begin(), r.keys.end()), r.keys.end());
      set_relevance[s] = std::move(r);
      done[s] = 1;
      stack.pop_back();
    }
  }
  auto index_members = [&](const std::vector<bc::Member>& members) {
    MemberIndex index;
    absl::flat_hash_map<uint32_t, std::vector<uint32_t>> by_type;  // type key -> positions
    // Dense tables cost (types + 1) entries per set: only for modest programs.
    const size_t type_keys = p.resource_types.size() + 1;
    const size_t dense_keys =
        type_keys * (p.policy_sets.size() + 1) <= (size_t{1} << 20) ? type_keys : 0;
    for (uint32_t pos = 0; pos < members.size(); ++pos) {
      Relevance r = relevance_of(members[pos]);
      if (r.all) {
        index.all.push_back(pos);
      } else {
        for (uint32_t key : r.keys) by_type[key].push_back(pos);
      }
    }
    for (const auto& [key, typed] : by_type) {
      std::vector<uint32_t> merged;
      std::merge(index.all.begin(), index.all.end(), typed.begin(), typed.end(),
                 std::back_inserter(merged));
      if (dense_keys > 0) {
        index.dense.resize(dense_keys, 0);
        index.lists.push_back(std::move(merged));
        index.dense[key] = static_cast<uint32_t>(index.lists.size());
      } else {
        index.merged[key] = std::move(merged);
      }
    }
    return index;
  };
  set_members.clear();
  for (const bc::PolicySet& set : p.policy_sets) set_members.push_back(index_members(set.members));
  root_members = index_members(p.roots);
}

}  // namespace warden
