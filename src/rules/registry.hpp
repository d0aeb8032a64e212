#pragma once
// The rule registry: the definitions of every tenant's rules (durable in Collection::Rules) and
// the health each rule shows in its status.
//
// Contract:
//   - Every method may be called from any thread (HTTP workers define rules, the rules thread reads
//     them, the change stream's writers ask watches()); one mutex guards the definitions, another
//     the set of watched types, so that watches() never waits for a definition being parsed.
//   - put() and remove() store the change (the returned sequence is the store's: wait for it before
//     answering) and then report it through `changed` (tenant, id), after the registry shows it.
//   - A Rule is immutable once registered: a change replaces the shared_ptr, so a reader keeps a
//     consistent definition as long as it holds it.
//   - restore() reads the stored definitions back; call it once, before anything else.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "notify/delivery_status.hpp"
#include "rules/rule.hpp"
#include "storage/store.hpp"
#include "twin/twin.hpp"

namespace ct::rules {

inline constexpr std::size_t kMaxRulesPerTenant = 10'000;

struct RuleHealth {
  std::uint64_t fired = 0;
  std::uint64_t cleared = 0;
  std::uint64_t action_failures = 0;
  int consecutive_failures = 0;
  bool failing = false;
  std::string last_error;
  Timestamp last_fired = kNoTimestamp, last_failure = kNoTimestamp;
  std::size_t active = 0;   // entities for which it is firing now
  std::size_t watched = 0;  // entities it keeps state for
};

// A rule's health, written by the rules thread and read by HTTP threads (under its mutex).
struct Health {
  mutable std::mutex mutex;
  RuleHealth value;
  std::vector<std::shared_ptr<notify::DeliveryStatus>> deliveries;  // of the notify actions

  // The health with the notifications' delivery status folded in.
  RuleHealth snapshot() const;
};

struct Record {
  std::shared_ptr<const Rule> rule;
  std::shared_ptr<Health> health;
};

using RuleKey = std::pair<std::string, std::string>;  // tenant, id

class RuleRegistry {
 public:
  RuleRegistry(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts, const Clock& clock,
               std::function<void(const std::string& tenant, const std::string& id)> changed);

  Status restore();

  // Defines (must_be_new) or replaces a rule; created_at kNoTimestamp: now.
  Result<storage::Sequence> put(const std::string& tenant, const json::object& definition, const std::string& context_url,
                                bool must_be_new, Timestamp created_at);
  Result<storage::Sequence> remove(const std::string& tenant, const std::string& id);

  // The record (null rule when there is none).
  Record find(const std::string& tenant, const std::string& id) const;
  std::vector<Record> list(const std::string& tenant, std::size_t offset, std::size_t limit, std::size_t& total) const;
  std::vector<RuleKey> all() const;

  // Whether an enabled rule of `tenant` watches one of `types` (quick; for ChangeConsumer::wants()).
  bool watches(const std::string& tenant, const std::vector<model::Term>& types) const;

  Result<jsonld::ContextPtr> context_for(const std::string& url) const;

 private:
  Status check_targets(const std::string& tenant, const Rule& rule) const;
  storage::Sequence persist(const std::string& tenant, const Rule& rule);
  void refresh_watched_types();

  twin::Twin& twin_;
  storage::Store& store_;
  jsonld::ContextStore& contexts_;
  const Clock& clock_;
  std::function<void(const std::string&, const std::string&)> changed_;

  mutable std::mutex records_mutex_;
  std::map<std::string, std::map<std::string, Record>> records_;  // tenant → id → record
  mutable std::mutex types_mutex_;
  std::unordered_map<std::string, std::unordered_set<model::Term>> watched_types_;  // tenant → types enabled rules watch
};

}  // namespace ct::rules
