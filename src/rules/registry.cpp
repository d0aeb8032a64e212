#include "rules/registry.hpp"

#include <algorithm>
#include <tuple>

#include <spdlog/spdlog.h>

namespace ct::rules {
namespace {

constexpr std::string_view kRuleKeyPrefix = "rule:";

}  // namespace

RuleHealth Health::snapshot() const {
  std::lock_guard lock(mutex);
  RuleHealth out = value;
  for (const auto& d : deliveries) {
    const auto report = d->report();
    if (!report.failing) continue;
    out.failing = true;
    out.last_failure = std::max(out.last_failure, report.last_failure);
    out.last_error = "notify: the receiver is failing (" + std::to_string(report.times_failed) + " failed attempts)";
  }
  return out;
}

RuleRegistry::RuleRegistry(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts, const Clock& clock,
                           std::function<void(const std::string&, const std::string&)> changed)
    : twin_(twin), store_(store), contexts_(contexts), clock_(clock), changed_(std::move(changed)) {}

Result<jsonld::ContextPtr> RuleRegistry::context_for(const std::string& url) const {
  if (url.empty()) return contexts_.core();
  return contexts_.resolve_url(url);
}

Status RuleRegistry::restore() {
  std::vector<std::tuple<std::string, StoredRule>> stored;
  auto scanned = store_.scan(storage::Collection::Rules, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, own;
    if (!storage::split_tenant_key(key, tenant, own) || !own.starts_with(kRuleKeyPrefix)) return true;
    auto rule = decode_rule(value);
    if (!rule) {
      spdlog::warn("rules: cannot read back a stored rule: {}", rule.problem().detail);
      return true;
    }
    stored.emplace_back(std::string(tenant), std::move(rule).value());
    return true;
  });
  if (!scanned) return scanned;
  for (auto& [tenant, s] : stored) {
    auto ctx = context_for(s.context_url);
    if (!ctx) {
      spdlog::warn("rules: the @context of a stored rule is not available: {}", ctx.problem().detail);
      continue;
    }
    auto rule = parse_rule(s.definition, **ctx, s.context_url);
    if (!rule) {
      spdlog::warn("rules: a stored rule no longer parses: {}", rule.problem().detail);
      continue;
    }
    rule->created_at = s.created_at;
    rule->modified_at = s.modified_at;
    auto shared = std::make_shared<const Rule>(std::move(rule).value());
    std::lock_guard lock(records_mutex_);
    records_[tenant].emplace(shared->id, Record{shared, std::make_shared<Health>()});
  }
  refresh_watched_types();
  return {};
}

Status RuleRegistry::check_targets(const std::string& tenant, const Rule& rule) const {
  for (std::size_t i = 0; i < rule.actions.size(); ++i) {
    const auto target = action_target(rule.actions[i]);
    if (target.empty()) continue;
    auto found = twin_.read(tenant, std::string(target), [](const model::Entity&) {});
    if (!found)
      return bad_request("actions[" + std::to_string(i) + "]." + std::string(action_name(rule.actions[i])) +
                         ": the entity " + std::string(target) + " does not exist");
  }
  return {};
}

storage::Sequence RuleRegistry::persist(const std::string& tenant, const Rule& rule) {
  return store_.enqueue({storage::Write{storage::Collection::Rules,
                                        storage::tenant_key(tenant, std::string(kRuleKeyPrefix) + rule.id),
                                        encode_rule(rule)}});
}

void RuleRegistry::refresh_watched_types() {
  std::unordered_map<std::string, std::unordered_set<model::Term>> types;
  {
    std::lock_guard lock(records_mutex_);
    for (const auto& [tenant, rules] : records_)
      for (const auto& [id, record] : rules)
        if (record.rule->enabled) types[tenant].insert(record.rule->type);
  }
  std::lock_guard lock(types_mutex_);
  watched_types_ = std::move(types);
}

Result<storage::Sequence> RuleRegistry::put(const std::string& tenant, const json::object& definition,
                                            const std::string& context_url, bool must_be_new, Timestamp created_at) {
  auto ctx = context_for(context_url);
  if (!ctx) return ctx.problem();
  auto parsed = parse_rule(definition, **ctx, context_url);
  if (!parsed) return parsed.problem();
  if (auto st = check_targets(tenant, *parsed); !st) return st.problem();
  const Timestamp now = clock_.now();
  parsed->created_at = created_at == kNoTimestamp ? now : created_at;
  parsed->modified_at = now;
  auto rule = std::make_shared<const Rule>(std::move(parsed).value());
  storage::Sequence sequence = 0;
  {
    std::lock_guard lock(records_mutex_);
    auto& rules = records_[tenant];
    auto it = rules.find(rule->id);
    if (must_be_new && it != rules.end()) return Problem{ProblemKind::AlreadyExists, "rule " + rule->id + " already exists"};
    if (!must_be_new && it == rules.end()) return not_found("rule " + rule->id + " was not found");
    if (it == rules.end() && rules.size() >= kMaxRulesPerTenant)
      return bad_request("a tenant may have at most " + std::to_string(kMaxRulesPerTenant) + " rules");
    sequence = persist(tenant, *rule);
    if (it == rules.end()) rules.emplace(rule->id, Record{rule, std::make_shared<Health>()});
    else it->second.rule = rule;
  }
  refresh_watched_types();
  changed_(tenant, rule->id);
  return sequence;
}

Result<storage::Sequence> RuleRegistry::remove(const std::string& tenant, const std::string& id) {
  storage::Sequence sequence = 0;
  {
    std::lock_guard lock(records_mutex_);
    auto t = records_.find(tenant);
    if (t == records_.end() || !t->second.erase(id)) return not_found("rule " + id + " was not found");
    sequence = store_.enqueue({storage::Write{storage::Collection::Rules,
                                              storage::tenant_key(tenant, std::string(kRuleKeyPrefix) + id), std::nullopt}});
  }
  refresh_watched_types();
  changed_(tenant, id);
  return sequence;
}

Record RuleRegistry::find(const std::string& tenant, const std::string& id) const {
  std::lock_guard lock(records_mutex_);
  auto t = records_.find(tenant);
  if (t != records_.end())
    if (auto r = t->second.find(id); r != t->second.end()) return r->second;
  return {};
}

std::vector<Record> RuleRegistry::list(const std::string& tenant, std::size_t offset, std::size_t limit,
                                       std::size_t& total) const {
  std::vector<Record> out;
  std::lock_guard lock(records_mutex_);
  total = 0;
  auto t = records_.find(tenant);
  if (t == records_.end()) return out;
  total = t->second.size();
  std::size_t i = 0;
  for (const auto& [id, record] : t->second) {
    if (i++ < offset) continue;
    if (out.size() >= limit) break;
    out.push_back(record);
  }
  return out;
}

std::vector<RuleKey> RuleRegistry::all() const {
  std::vector<RuleKey> out;
  std::lock_guard lock(records_mutex_);
  for (const auto& [tenant, rules] : records_)
    for (const auto& [id, record] : rules) out.emplace_back(tenant, id);
  return out;
}

bool RuleRegistry::watches(const std::string& tenant, const std::vector<model::Term>& types) const {
  std::lock_guard lock(types_mutex_);
  auto found = watched_types_.find(tenant);
  if (found == watched_types_.end()) return false;
  for (auto type : types)
    if (found->second.count(type) > 0) return true;
  return false;
}

}  // namespace ct::rules
