#pragma once
// The rules thread's view of the rules: per tenant, the enabled rules indexed by the types and
// attributes whose changes can wake them, the entities seen (numbered), and per (rule, entity) the
// state of the evaluation. Plain data, owned and touched by the rules thread only (evaluator.hpp).
#include <boost/unordered/unordered_flat_map.hpp>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/entity.hpp"
#include "notify/matching.hpp"
#include "rules/registry.hpp"
#include "rules/window.hpp"

namespace ct::rules {

// A value as the number windows keep, if it is one.
inline std::optional<double> window_number(const json::value& v) {
  if (v.is_number()) return v.to_number<double>();
  return std::nullopt;
}

inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

struct EntityState {
  WindowSet windows;
  std::uint32_t entity = kNone;  // the entity's number in its tenant (EntitySlot); kNone: a free state
  Timestamp watch_since = kNoTimestamp;
  Timestamp pending_since = kNoTimestamp;   // `when` holds since (waiting for `for`)
  Timestamp clearing_since = kNoTimestamp;  // the clearing condition holds since
  Timestamp next_check = kNoTimestamp;
  bool active = false;
  bool restored = false;  // raised before a restart, windows not rebuilt
  // The entity revision the windows were seeded at (from history or current values): a queued change
  // of that revision or older is already in them.
  std::uint32_t seeded_revision = 0;
  std::string alert_id;
};

// An entity the rules of a tenant have seen. Entities are numbered once, on first sight: rule
// states and timers refer to them by number, so that an event costs one lookup of its id.
struct EntitySlot {
  std::string id;
  std::shared_ptr<const model::Entity> latest;  // null once deleted
  // The entity's number among the entities of each of its types: the index of the state tables of
  // the rules watching that type.
  std::vector<std::pair<model::Term, std::uint32_t>> member;
};

struct TenantRuntime;

// One rule (one version of its definition) as the rules thread runs it.
struct Runtime {
  std::string tenant;
  TenantRuntime* home = nullptr;
  std::shared_ptr<const Rule> rule;
  std::shared_ptr<Health> health;
  std::uint64_t serial = 0;
  // The (rule, entity) states: state_of[member number within rule->type] is 1 + the index in
  // `states` (0: not watched). Dense arrays, so that finding a state is two indexed loads.
  std::vector<std::uint32_t> state_of;
  std::vector<EntityState> states;
  std::vector<std::uint32_t> free_states;
  std::size_t watched = 0;
  // Per action (by index): its notification registration, for the notify actions; else null.
  std::vector<std::shared_ptr<notify::Registration>> registrations;
  std::vector<model::Term> window_attributes;
  std::int64_t longest_ms = 0;
  std::size_t active = 0;  // states with the alert raised
  bool counts_changed = true;  // active or watched, since last published in the rule's health
  // The watch names the type only: an entity that reaches this rule through the type index matches.
  bool watches_type_only = false;

  EntityState* find(std::uint32_t member) {
    if (member >= state_of.size() || state_of[member] == 0) return nullptr;
    return &states[state_of[member] - 1];
  }
  // May move the other states: hold no reference to one across this call.
  EntityState& emplace(std::uint32_t member, std::uint32_t entity) {
    if (member >= state_of.size()) state_of.resize(std::max<std::size_t>(member + 1, state_of.size() * 2), 0);
    std::uint32_t index;
    if (!free_states.empty()) {
      index = free_states.back();
      free_states.pop_back();
    } else {
      index = static_cast<std::uint32_t>(states.size());
      states.emplace_back();
    }
    state_of[member] = index + 1;
    ++watched;
    counts_changed = true;
    states[index].entity = entity;
    return states[index];
  }
  void erase(std::uint32_t member) {
    const auto index = state_of[member] - 1;
    states[index] = EntityState{};
    free_states.push_back(index);
    state_of[member] = 0;
    --watched;
    counts_changed = true;
  }
  std::uint32_t index_of(const EntityState& state) const { return static_cast<std::uint32_t>(&state - states.data()); }
};

// The rules of one type: by the attribute whose change wakes them, or woken by any change.
struct TypeBucket {
  std::unordered_map<model::Term, std::vector<Runtime*>> by_attribute;
  std::vector<Runtime*> any_change;
  std::vector<Runtime*> all;
};

struct TenantRuntime {
  std::map<std::string, std::unique_ptr<Runtime>> rules;
  std::unordered_map<model::Term, TypeBucket> index;
  // Every entity seen, numbered (ids stay numbered after a deletion, so that a recreated entity
  // gets its number back).
  boost::unordered_flat_map<std::string, std::uint32_t> numbers;
  std::vector<EntitySlot> entities;
  std::unordered_map<model::Term, std::uint32_t> type_members;  // type → how many of its entities are numbered

  std::uint32_t number(const std::string& id) {
    auto [it, fresh] = numbers.try_emplace(id, static_cast<std::uint32_t>(entities.size()));
    if (fresh) entities.push_back(EntitySlot{id, nullptr, {}});
    return it->second;
  }
  std::uint32_t member(std::uint32_t entity, model::Term type) {
    auto& member = entities[entity].member;
    for (const auto& [t, n] : member)
      if (t == type) return n;
    const auto n = type_members[type]++;
    member.emplace_back(type, n);
    return n;
  }
};

}  // namespace ct::rules
