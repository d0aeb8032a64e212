#include "rules/engine.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <condition_variable>
#include <limits>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "notify/delivery_status.hpp"
#include "notify/matching.hpp"

namespace ct::rules {
namespace {

using model::Entity;
using model::Term;

constexpr std::string_view kRuleKeyPrefix = "rule:";


json::value date_time(Timestamp at) { return json::object{{"@type", "DateTime"}, {"@value", format_datetime(at)}}; }
json::object property(json::value value) { return json::object{{"type", "Property"}, {"value", std::move(value)}}; }
json::object property(const std::string& text) { return property(json::value(json::string(text))); }
json::object property(const char* text) { return property(json::value(json::string(text))); }

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

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

struct Health {
  mutable std::mutex mutex;
  RuleHealth value;
  std::vector<std::shared_ptr<notify::DeliveryStatus>> deliveries;  // of the notify actions

  // The health with the notifications' delivery status folded in.
  RuleHealth snapshot() const {
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
};

// An entity the rules of a tenant have seen. Entities are numbered once, on first sight: rule
// states and timers refer to them by number, so that an event costs one lookup of its id.
struct EntitySlot {
  std::string id;
  std::shared_ptr<const Entity> latest;  // null once deleted
  // The entity's number among the entities of each of its types: the index of the state tables of
  // the rules watching that type.
  std::vector<std::pair<Term, std::uint32_t>> member;
};

struct TenantRuntime;

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
  std::vector<std::shared_ptr<notify::Registration>> registrations;  // one per notify action
  std::vector<Term> window_attributes;
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

struct TypeBucket {
  std::unordered_map<Term, std::vector<Runtime*>> by_attribute;
  std::vector<Runtime*> any_change;
  std::vector<Runtime*> all;
};

struct TenantRuntime {
  std::map<std::string, std::unique_ptr<Runtime>> rules;
  std::unordered_map<Term, TypeBucket> index;
  // Every entity seen, numbered (ids stay numbered after a deletion, so that a recreated entity
  // gets its number back).
  boost::unordered_flat_map<std::string, std::uint32_t> numbers;
  std::vector<EntitySlot> entities;
  std::unordered_map<Term, std::uint32_t> type_members;  // type → how many of its entities are numbered

  std::uint32_t number(const std::string& id) {
    auto [it, fresh] = numbers.try_emplace(id, static_cast<std::uint32_t>(entities.size()));
    if (fresh) entities.push_back(EntitySlot{id, nullptr, {}});
    return it->second;
  }
  std::uint32_t member(std::uint32_t entity, Term type) {
    auto& member = entities[entity].member;
    for (const auto& [t, n] : member)
      if (t == type) return n;
    const auto n = type_members[type]++;
    member.emplace_back(type, n);
    return n;
  }
};

// Timers and retries name a rule runtime by serial and a state by its index, checked against the
// entity number it was set for (a freed state may have been reused).
struct Timer {
  Timestamp due;
  std::uint64_t serial;
  std::uint32_t state, entity;
  bool operator>(const Timer& o) const { return due > o.due; }
};

// Timers in buckets of kWidth ms of due time, in due order. Pushing appends to the bucket's vector
// (timers are mostly pushed in the order they fall due, so mostly to the last bucket used) and
// taking the due ones reads a vector: a binary heap of a million timers (one per watched state)
// costs a cache miss per level on every pop. Timers of one bucket run in no particular order.
class TimerBuckets {
 public:
  static constexpr Timestamp kWidth = 8;

  void push(const Timer& timer) {
    const Timestamp key = timer.due / kWidth;
    auto [it, fresh] = buckets_.try_emplace(key);
    if (fresh) keys_.push(key);
    Bucket& b = it->second;
    if (b.timers.empty() || timer.due < b.min_due) b.min_due = timer.due;
    if (b.timers.empty() || timer.due > b.max_due) b.max_due = timer.due;
    b.timers.push_back(timer);
    ++size_;
  }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  Timestamp next_due() const { return keys_.empty() ? kNoTimestamp : buckets_.find(keys_.top())->second.min_due; }

  // Moves up to `limit` timers due at `now` or before into `out`.
  void take_due(Timestamp now, std::size_t limit, std::vector<Timer>& out) {
    while (out.size() < limit && !keys_.empty()) {
      auto first = buckets_.find(keys_.top());
      Bucket& b = first->second;
      if (b.min_due > now) return;
      if (b.max_due <= now) {  // all due: take from the back
        while (!b.timers.empty() && out.size() < limit) {
          out.push_back(b.timers.back());
          b.timers.pop_back();
          --size_;
        }
        if (!b.timers.empty()) return;  // `limit` reached; min/max still bound what is left
      } else {                          // the bucket `now` falls in: take the due ones, keep the rest
        std::size_t kept = 0;
        Timestamp min_due = std::numeric_limits<Timestamp>::max();
        for (const Timer& t : b.timers) {
          if (t.due <= now && out.size() < limit) {
            out.push_back(t);
            --size_;
          } else {
            b.timers[kept++] = t;
            min_due = std::min(min_due, t.due);
          }
        }
        b.timers.resize(kept);
        if (kept > 0) {
          b.min_due = min_due;
          return;
        }
      }
      buckets_.erase(first);
      keys_.pop();
    }
  }

  // Drops the timers of rule runtimes that no longer exist.
  void drop_serials(const std::unordered_set<std::uint64_t>& serials) {
    std::vector<Timestamp> emptied;
    for (auto& [key, bucket] : buckets_) {
      auto& timers = bucket.timers;
      size_ -= std::erase_if(timers, [&](const Timer& t) { return serials.count(t.serial) > 0; });
      if (timers.empty()) {
        emptied.push_back(key);
        continue;
      }
      auto by_due = [](const Timer& a, const Timer& b) { return a.due < b.due; };
      bucket.min_due = std::min_element(timers.begin(), timers.end(), by_due)->due;
      bucket.max_due = std::max_element(timers.begin(), timers.end(), by_due)->due;
    }
    for (auto key : emptied) buckets_.erase(key);
    Keys kept;
    for (const auto& [key, bucket] : buckets_) kept.push(key);
    keys_ = std::move(kept);
  }

 private:
  struct Bucket {
    Timestamp min_due = 0, max_due = 0;
    std::vector<Timer> timers;
  };
  // The buckets by key (due / kWidth), and their keys in a min-heap: a few thousand keys, where a
  // tree of buckets cost a walk over cold nodes on every push.
  boost::unordered_flat_map<Timestamp, Bucket> buckets_;
  using Keys = std::priority_queue<Timestamp, std::vector<Timestamp>, std::greater<>>;
  Keys keys_;
  std::size_t size_ = 0;
};

enum class Phase : std::uint8_t { Fire, Clear };

struct Retry {
  Timestamp due;
  std::uint64_t serial;
  std::uint32_t state, entity;
  std::size_t action;
  Phase phase;
  int attempt;
  bool operator>(const Retry& o) const { return due > o.due; }
};

struct Record {
  std::shared_ptr<const Rule> rule;
  std::shared_ptr<Health> health;
};

using QueuedChange = twin::ChangeEvent;

// What the engine's writes (alerts, actions) say they are.
const twin::WriteOrigin kRuleAction{twin::Origin::RuleAction, {}};

std::optional<double> number_of(const json::value& v) {
  if (v.is_number()) return v.to_number<double>();
  return std::nullopt;
}

}  // namespace

struct RulesEngine::Impl {
  RulesEngine& self;  // the change consumer, to wake its delivery thread (the rules thread)
  twin::Twin& twin;
  storage::Store& store;
  jsonld::ContextStore& contexts;
  Incidents& incidents;
  const HistorySource* history;
  EngineOptions options;
  jsonld::ContextPtr alert_context;
  notify::Dispatcher dispatcher;

  // Definitions, read and written by HTTP threads.
  mutable std::mutex records_mutex;
  std::map<std::string, std::map<std::string, Record>> records;  // tenant → id → record

  // Rules created, changed or removed, for the rules thread; and the types rules watch, for wants().
  mutable std::mutex queue_mutex;
  std::vector<std::pair<std::string, std::string>> changed_rules;  // tenant, id
  std::unordered_map<std::string, std::unordered_set<Term>> watched_types;  // tenant → types rules watch
  std::atomic<std::uint64_t> processed{0}, evaluations{0};

  // Owned by the rules thread (the change stream's delivery thread for this consumer).
  std::unordered_map<std::string, TenantRuntime> runtimes;  // node-based: Runtime::home stays valid
  std::unordered_map<std::uint64_t, Runtime*> live;        // serial → the runtime, for timers and retries
  std::vector<Runtime*> candidates;                        // scratch of process()
  TimerBuckets timers;
  std::vector<Timer> due_timers;  // scratch of run_timers()
  // Runtimes replaced or removed since the timers were last purged, and how many timers they may
  // have left (at most one per entity state): purged once they are half the heap, so that disabling
  // rules frees their timers without a pass over the heap for every rule.
  std::unordered_set<std::uint64_t> stale_serials;
  std::size_t stale_timers = 0;
  std::priority_queue<Retry, std::vector<Retry>, std::greater<>> retries;
  std::uint64_t next_serial = 1;
  bool seeded = false;

  Impl(RulesEngine& e, twin::Twin& t, storage::Store& s, jsonld::ContextStore& c, Incidents& i, const HistorySource* h,
       EngineOptions o)
      : self(e),
        twin(t), store(s), contexts(c), incidents(i), history(h), options(std::move(o)), dispatcher(options.delivery) {
    auto ctx = contexts.resolve(json::value(kAlertContextUrl));
    alert_context = ctx ? *ctx : contexts.core();
  }

  // ---------------------------------------------------------------------------------------------
  // Definitions

  Result<jsonld::ContextPtr> context_for(const std::string& url) {
    if (url.empty()) return contexts.core();
    return contexts.resolve_url(url);
  }

  Status check_targets(const std::string& tenant, const Rule& rule) {
    for (std::size_t i = 0; i < rule.actions.size(); ++i) {
      const auto& a = rule.actions[i];
      if (a.target.empty()) continue;
      auto found = twin.read(tenant, a.target, [](const Entity&) {});
      if (!found)
        return bad_request("actions[" + std::to_string(i) + "]." + std::string(action_name(a.kind)) + ": the entity " +
                           a.target + " does not exist");
    }
    return {};
  }

  storage::Sequence persist(const std::string& tenant, const Rule& rule) {
    return store.enqueue({storage::Write{storage::Collection::Rules,
                                         storage::tenant_key(tenant, std::string(kRuleKeyPrefix) + rule.id),
                                         encode_rule(rule)}});
  }

  void announce(const std::string& tenant, const std::string& id) {
    {
      std::lock_guard lock(queue_mutex);
      changed_rules.emplace_back(tenant, id);
    }
    twin.changes().wake(self);
  }

  void refresh_watched_types() {
    std::unordered_map<std::string, std::unordered_set<Term>> types;
    {
      std::lock_guard lock(records_mutex);
      for (const auto& [tenant, rules] : records)
        for (const auto& [id, record] : rules)
          if (record.rule->enabled) types[tenant].insert(record.rule->type);
    }
    std::lock_guard lock(queue_mutex);
    watched_types = std::move(types);
  }

  Result<storage::Sequence> put(const std::string& tenant, const json::object& definition, const std::string& context_url,
                                bool must_be_new, Timestamp created_at) {
    auto ctx = context_for(context_url);
    if (!ctx) return ctx.problem();
    auto parsed = parse_rule(definition, **ctx, context_url);
    if (!parsed) return parsed.problem();
    if (auto st = check_targets(tenant, *parsed); !st) return st.problem();
    const Timestamp now = now_ms();
    parsed->created_at = created_at == kNoTimestamp ? now : created_at;
    parsed->modified_at = now;
    auto rule = std::make_shared<const Rule>(std::move(parsed).value());
    storage::Sequence sequence = 0;
    {
      std::lock_guard lock(records_mutex);
      auto& rules = records[tenant];
      auto it = rules.find(rule->id);
      if (must_be_new && it != rules.end())
        return Problem{ProblemKind::AlreadyExists, "rule " + rule->id + " already exists"};
      if (!must_be_new && it == rules.end()) return not_found("rule " + rule->id + " was not found");
      if (it == rules.end() && rules.size() >= kMaxRulesPerTenant)
        return bad_request("a tenant may have at most " + std::to_string(kMaxRulesPerTenant) + " rules");
      sequence = persist(tenant, *rule);
      if (it == rules.end()) rules.emplace(rule->id, Record{rule, std::make_shared<Health>()});
      else it->second.rule = rule;
    }
    refresh_watched_types();
    announce(tenant, rule->id);
    return sequence;
  }

  // ---------------------------------------------------------------------------------------------
  // The rules thread

  // Once when the rules thread starts, and after each batch of changes or wake-up.
  Timestamp tick() {
    if (!seeded) {
      seeded = true;
      std::vector<std::pair<std::string, std::string>> all;
      {
        std::lock_guard lock(records_mutex);
        for (const auto& [tenant, rules] : records)
          for (const auto& [id, record] : rules) all.emplace_back(tenant, id);
      }
      apply_rule_changes(all, /*restart=*/true);
    }
    std::vector<std::pair<std::string, std::string>> changed;
    {
      std::lock_guard lock(queue_mutex);
      changed.swap(changed_rules);
    }
    if (!changed.empty()) apply_rule_changes(changed, /*restart=*/false);
    run_timers();
    run_retries();
    publish_counts();
    const Timestamp next = next_deadline();
    const Timestamp counts_due = now_ms() + 500;  // the counts rules show are published at least this often
    return next == kNoTimestamp ? counts_due : std::min(next, counts_due);
  }

  // Changes, durable and in order (the change stream waited for their group).
  void consume(std::span<const QueuedChange> batch) {
    number_batch(batch);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (i + 2 * kLookahead < batch.size()) prefetch_states(batch[i + 2 * kLookahead], numbered[i + 2 * kLookahead], false);
      if (i + kLookahead < batch.size()) prefetch_states(batch[i + kLookahead], numbered[i + kLookahead], true);
      process(batch[i], numbered[i]);
    }
    processed += batch.size();
  }

  Timestamp next_deadline() const {
    Timestamp next = kNoTimestamp;
    if (!timers.empty()) next = timers.next_due();
    if (!retries.empty() && (next == kNoTimestamp || retries.top().due < next)) next = retries.top().due;
    return next;
  }

  void rebuild_index(TenantRuntime& tr) {
    tr.index.clear();
    for (auto& [id, rt] : tr.rules) {
      const Rule& rule = *rt->rule;
      if (!rule.enabled) continue;
      auto& bucket = tr.index[rule.type];
      bucket.all.push_back(rt.get());
      std::vector<Term> attributes = rule.when.attributes();
      // A window over no attribute (count(PT5M)) counts every change of the entity.
      const auto counts_every_change = [](const Condition& condition) {
        const auto windows = condition.window_attributes();
        return std::find(windows.begin(), windows.end(), Term{}) != windows.end();
      };
      bool every = rule.watch.geo.has_value() || counts_every_change(rule.when);
      if (rule.clear_when) {
        for (auto a : rule.clear_when->attributes()) attributes.push_back(a);
        if (counts_every_change(*rule.clear_when)) every = true;
      }
      if (attributes.empty()) every = true;
      if (every) {
        bucket.any_change.push_back(rt.get());
      } else {
        std::sort(attributes.begin(), attributes.end(), [](Term a, Term b) { return a.str() < b.str(); });
        attributes.erase(std::unique(attributes.begin(), attributes.end()), attributes.end());
        for (auto a : attributes) bucket.by_attribute[a].push_back(rt.get());
      }
    }
  }

  void apply_rule_changes(const std::vector<std::pair<std::string, std::string>>& changed, bool restart) {
    std::map<std::string, std::vector<Runtime*>> to_seed;
    for (const auto& [tenant, id] : changed) {
      Record record;
      {
        std::lock_guard lock(records_mutex);
        auto t = records.find(tenant);
        if (t != records.end())
          if (auto r = t->second.find(id); r != t->second.end()) record = r->second;
      }
      auto& tr = runtimes[tenant];
      auto existing = tr.rules.find(id);
      if (existing != tr.rules.end()) {
        // A changed definition starts afresh: the alerts of the old one are cleared.
        if (!record.rule || record.rule != existing->second->rule) {
          Runtime& old = *existing->second;
          for (auto& state : old.states)
            if (state.entity != kNone && state.active) clear_alert(old, state, now_ms());
          stale_serials.insert(old.serial);
          stale_timers += old.watched;
          live.erase(old.serial);
          tr.rules.erase(existing);
        } else {
          continue;
        }
      }
      if (!record.rule) continue;
      auto rt = std::make_unique<Runtime>();
      rt->tenant = tenant;
      rt->home = &tr;
      rt->rule = record.rule;
      {
        const auto& w = record.rule->watch;
        rt->watches_type_only = w.selectors.size() == 1 && w.selectors[0].ids.empty() && !w.selectors[0].id_pattern &&
                                !w.q && !w.scope && !w.geo && w.any_attribute.empty();
      }
      rt->health = record.health;
      rt->serial = next_serial++;
      rt->window_attributes = record.rule->when.window_attributes();
      rt->longest_ms = record.rule->when.longest_window_ms();
      if (record.rule->clear_when) {
        for (auto a : record.rule->clear_when->window_attributes())
          if (std::find(rt->window_attributes.begin(), rt->window_attributes.end(), a) == rt->window_attributes.end())
            rt->window_attributes.push_back(a);
        rt->longest_ms = std::max(rt->longest_ms, record.rule->clear_when->longest_window_ms());
      }
      for (const auto& action : record.rule->actions) {
        if (action.kind != ActionKind::Notify) continue;
        auto registration = std::make_shared<notify::Registration>();
        registration->tenant = tenant;
        auto subscription = std::make_shared<notify::Subscription>();
        subscription->id = "urn:citytwin:rule:" + record.rule->id;
        subscription->endpoint.uri = action.uri;
        subscription->address = action.endpoint;
        registration->subscription = std::move(subscription);
        registration->status = std::make_shared<notify::DeliveryStatus>();
        rt->registrations.push_back(std::move(registration));
      }
      {
        std::lock_guard lock(rt->health->mutex);
        rt->health->deliveries.clear();
        for (const auto& r : rt->registrations) rt->health->deliveries.push_back(r->status);
      }
      if (record.rule->enabled) to_seed[tenant].push_back(rt.get());
      live[rt->serial] = rt.get();
      tr.rules.emplace(id, std::move(rt));
    }
    if (stale_timers > 0 && stale_timers >= timers.size() / 2) {
      timers.drop_serials(stale_serials);
      stale_serials.clear();
      stale_timers = 0;
    }
    for (auto& [tenant, tr] : runtimes) rebuild_index(tr);
    for (auto& [tenant, rts] : to_seed) seed(tenant, rts, restart);
  }

  // Starts watching the entities that exist: one scan of the tenant for all the rules given.
  void seed(const std::string& tenant, const std::vector<Runtime*>& rts, bool restart) {
    const Timestamp now = now_ms();
    std::map<std::pair<std::string, std::string>, std::string> raised;  // (rule, source) → alert id
    std::vector<std::shared_ptr<const Entity>> entities;
    const Term alert_type = Term::intern(alert_context->expand("Alert"));
    const Term rule_name = Term::intern(alert_context->expand("rule"));
    const Term source_name = Term::intern(alert_context->expand("alertSource"));
    const Term status_name = Term::intern(alert_context->expand("status"));
    std::unordered_set<Term> types;
    for (auto* rt : rts) types.insert(rt->rule->type);
    auto& tr = runtimes[tenant];
    auto scanned = twin.scan(tenant, [&](const Entity& e) {
      if (restart && e.has_type(alert_type)) {
        const auto* r = e.find(rule_name);
        const auto* s = e.find(source_name);
        const auto* st = e.find(status_name);
        if (r && s && st && r->value.is_string() && s->value.is_string() && st->value == "active")
          raised[{std::string(r->value.get_string()), std::string(s->value.get_string())}] = e.id;
      }
      for (auto t : e.types)
        if (types.count(t)) {
          // The latest snapshot an event brought is reused when it is still current (the same
          // revision): copying every entity again for each new rule would cost the write path.
          const std::shared_ptr<const Entity>* known = nullptr;
          if (auto n = tr.numbers.find(e.id); n != tr.numbers.end()) known = &tr.entities[n->second].latest;
          if (known && *known && (*known)->revision == e.revision && (*known)->modified_at == e.modified_at)
            entities.push_back(*known);
          else
            entities.push_back(std::make_shared<const Entity>(e));
          break;
        }
    });
    if (!scanned) return;
    for (const auto& e : entities) {
      const auto number = tr.number(e->id);
      tr.entities[number].latest = e;
      const auto& slot = e;
      for (auto* rt : rts) {
        if (!e->has_type(rt->rule->type) || !twin::matches(*e, rt->rule->watch)) continue;
        const auto member = tr.member(number, rt->rule->type);
        EntityState* existing = rt->find(member);
        auto& state = existing ? *existing : rt->emplace(member, number);
        state.watch_since = now;
        state.seeded_revision = slot->revision;
        if (auto found = raised.find({rt->rule->id, e->id}); found != raised.end()) {
          state.active = true;
          ++rt->active;
          rt->counts_changed = true;
          state.restored = history == nullptr;
          state.alert_id = found->second;
        }
        if (history && rt->longest_ms > 0) {
          for (auto attribute : rt->window_attributes) {
            auto& series = state.windows.at(attribute);
            if (attribute.empty()) {
              // Updates of any attribute (count without one): history keeps series per attribute,
              // so the entity's last modification stands for the updates the window saw.
              if (slot->modified_at != kNoTimestamp && slot->modified_at > now - rt->longest_ms)
                series.add(slot->modified_at, 1);
              continue;
            }
            bool any = false;
            Timestamp newest = 0;
            (void)history->numeric_points(tenant, e->id, std::string(attribute.str()), now - rt->longest_ms, now,
                                          [&](Timestamp at, double v) {
                                            series.add(at, v);
                                            newest = any ? std::max(newest, at) : at;
                                            any = true;
                                          });
            // History holds only what is durable, while the seed counts every change the entity has
            // had as seen (seeded_revision): a value still on its way to the disk is taken from the
            // entity itself, or the window would miss it for good.
            for (const auto& a : slot->attributes) {
              const auto v = a.name == attribute ? number_of(a.value) : std::nullopt;
              const Timestamp at = a.observed_at != kNoTimestamp ? a.observed_at : a.modified_at;
              if (v && at != kNoTimestamp && (!any || at > newest) && at > now - rt->longest_ms && at <= now)
                series.add(at, *v);
            }
          }
          state.watch_since = now - rt->longest_ms;  // the history covers the whole window
        } else if (rt->longest_ms > 0) {
          // Without history, the entity's current values are the only past the windows can have.
          for (auto attribute : rt->window_attributes) {
            if (attribute.empty()) continue;
            for (const auto& a : slot->attributes) {
              const auto v = a.name == attribute ? number_of(a.value) : std::nullopt;
              const Timestamp at = a.observed_at != kNoTimestamp ? a.observed_at : a.modified_at;
              if (v && at != kNoTimestamp && at > now - rt->longest_ms && at <= now) state.windows.at(attribute).add(at, *v);
            }
          }
        }
        evaluate(*rt, state, *slot, now);
      }
    }
  }

  // The (rule, entity) states are spread over a lot of memory and each change touches its own: the
  // batch is numbered first (independent lookups, which the CPU overlaps), and while a change is
  // processed the state tables of the one kLookahead ahead, and the states of the one 2 * kLookahead
  // ahead, are fetched.
  static constexpr std::size_t kLookahead = 4;
  struct Numbered {
    TenantRuntime* tenant = nullptr;
    std::uint32_t number = kNone;
  };
  std::vector<Numbered> numbered;  // scratch: per change of the batch

  void number_batch(std::span<const QueuedChange> batch) {
    numbered.clear();
    const std::string* last_tenant = nullptr;
    TenantRuntime* tr = nullptr;
    for (const auto& e : batch) {
      if (!last_tenant || *last_tenant != e.tenant) {
        auto t = runtimes.find(e.tenant);
        tr = t == runtimes.end() ? nullptr : &t->second;
        last_tenant = &e.tenant;
      }
      numbered.push_back(tr && e.entity ? Numbered{tr, tr->number(e.entity->id)} : Numbered{});
    }
  }

  // The candidate rules of a change (into `out`, unsorted, maybe with duplicates).
  void candidates_of(const TenantRuntime& tr, const QueuedChange& event, std::vector<Runtime*>& out) const {
    for (auto type : event.entity->types) {
      auto b = tr.index.find(type);
      if (b == tr.index.end()) continue;
      const auto& bucket = b->second;
      if (event.kind != twin::ChangeEvent::Kind::Updated) {
        out.insert(out.end(), bucket.all.begin(), bucket.all.end());
        continue;
      }
      out.insert(out.end(), bucket.any_change.begin(), bucket.any_change.end());
      auto touch = [&](const twin::ChangeEvent::Instance& instance) {
        if (auto a = bucket.by_attribute.find(instance.first); a != bucket.by_attribute.end())
          out.insert(out.end(), a->second.begin(), a->second.end());
      };
      for (const auto& i : event.written) touch(i);
      for (const auto& i : event.removed) touch(i);
    }
  }

  std::vector<Runtime*> ahead;  // scratch of prefetch_states()
  void prefetch_states(const QueuedChange& event, const Numbered& n, bool states) {
    if (!n.tenant) return;
    const auto& slot = n.tenant->entities[n.number];
    ahead.clear();
    candidates_of(*n.tenant, event, ahead);
    for (const Runtime* rt : ahead)
      for (const auto& [type, member] : slot.member) {
        if (type != rt->rule->type || member >= rt->state_of.size()) continue;
        if (!states) {
          __builtin_prefetch(&rt->state_of[member]);
        } else if (const auto index = rt->state_of[member]; index != 0) {
          const auto* state = reinterpret_cast<const char*>(&rt->states[index - 1]);
          for (std::size_t line = 0; line < sizeof(EntityState); line += 64) __builtin_prefetch(state + line);
        }
      }
  }

  void process(const QueuedChange& event, const Numbered& n) {
    if (!event.entity || !n.tenant) return;
    TenantRuntime& tr = *n.tenant;
    const auto number = n.number;
    // A change queued before a rule was seeded may be older than the snapshot the seed kept, its
    // creation included: revisions order the writes of one incarnation of an entity, creation
    // times order incarnations (a deleted and re-created entity starts again at revision 1).
    auto& latest = tr.entities[number].latest;
    auto at_least_as_new = [](const Entity& a, const Entity& b) {
      return a.created_at != b.created_at ? a.created_at > b.created_at : a.revision >= b.revision;
    };
    if (event.kind == twin::ChangeEvent::Kind::Deleted) latest = nullptr;
    else if (!latest || at_least_as_new(*event.entity, *latest)) latest = event.entity;
    candidates.clear();
    candidates_of(tr, event, candidates);
    if (candidates.empty()) return;
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    const Timestamp now = now_ms();
    for (auto* rt : candidates) handle(*rt, number, event, now);
  }

  void handle(Runtime& rt, std::uint32_t number, const QueuedChange& event, Timestamp now) {
    const Entity& entity = *event.entity;
    const auto member = rt.home->member(number, rt.rule->type);
    EntityState* found = rt.find(member);
    const bool deleted = event.kind == twin::ChangeEvent::Kind::Deleted;
    if (deleted || (!rt.watches_type_only && !twin::matches(entity, rt.rule->watch))) {
      if (found) {
        if (found->active) clear_alert(rt, *found, now);
        rt.erase(member);
      }
      return;
    }
    if (!found) {
      found = &rt.emplace(member, number);
      found->watch_since = event.kind == twin::ChangeEvent::Kind::Created ? event.at : now;
    }
    EntityState& state = *found;
    const bool in_seed = entity.revision <= state.seeded_revision;
    for (auto attribute : rt.window_attributes) {
      if (attribute.empty()) {
        state.windows.at(attribute).add(event.at, 1);
        continue;
      }
      if (in_seed) continue;
      bool wrote = false;
      for (const auto& i : event.written) wrote = wrote || i.first == attribute;
      if (!wrote) continue;
      auto& series = state.windows.at(attribute);
      for (const auto& a : entity.attributes) {
        if (a.name != attribute) continue;
        bool written = false;
        for (const auto& i : event.written) written = written || (i.first == a.name && i.second == a.dataset_id);
        if (!written) continue;
        if (auto v = number_of(a.value)) series.add(a.observed_at != kNoTimestamp ? a.observed_at : event.at, *v);
      }
    }
    if (!state.windows.series.empty()) {
      state.restored = false;
      for (auto& [name, series] : state.windows.series) series.prune(now - rt.longest_ms - 1);
    }
    // Against the newest snapshot: a change older than the seed must not undo what the seed saw.
    const Entity* newest = rt.home->entities[number].latest.get();
    evaluate(rt, state, newest ? *newest : entity, now);
  }

  bool count_ready(const Condition& c, const EntityState& state, Timestamp now, Timestamp& ready_at) const {
    // A count that "holds for too few updates" (silence: == 0, < n) must not hold merely because
    // watching began less than a window ago; a count that needs many updates can hold at once.
    for (const auto& w : c.windows())
      if (w.function == WindowFunction::Count && compare(0, w.comparison, w.threshold) &&
          now - state.watch_since < w.window_ms) {
        ready_at = state.watch_since + w.window_ms;
        return false;
      }
    return true;
  }

  void schedule(Runtime& rt, EntityState& state, Timestamp due, Timestamp now) {
    if (due == kNoTimestamp) return;
    if (state.next_check != kNoTimestamp && state.next_check <= due && state.next_check > now - 1) return;
    state.next_check = due;
    timers.push(Timer{due, rt.serial, rt.index_of(state), state.entity});
  }

  void evaluate(Runtime& rt, EntityState& state, const Entity& entity, Timestamp now) {
    ++evaluations;
    const Rule& rule = *rt.rule;
    Timestamp next = kNoTimestamp;
    auto sooner = [&](Timestamp t) {
      if (t != kNoTimestamp && t > now && (next == kNoTimestamp || t < next)) next = t;
    };
    Timestamp ready_at = kNoTimestamp;
    bool holds = count_ready(rule.when, state, now, ready_at) && rule.when.holds(entity, state.windows, now);
    sooner(ready_at);
    if (!state.active) {
      if (holds) {
        if (state.pending_since == kNoTimestamp) state.pending_since = now;
        if (now - state.pending_since >= rule.for_ms) {
          fire(rt, state, entity, now);
        } else {
          sooner(state.pending_since + rule.for_ms);
        }
      } else {
        state.pending_since = kNoTimestamp;
      }
    } else {
      bool clearing = !holds;
      if (rule.clear_when) {
        Timestamp clear_ready = kNoTimestamp;
        clearing = count_ready(*rule.clear_when, state, now, clear_ready) &&
                   rule.clear_when->holds(entity, state.windows, now);
        sooner(clear_ready);
      }
      if (state.restored && now - state.watch_since < rt.longest_ms) {
        clearing = false;  // the windows are not rebuilt yet: keep the alert raised meanwhile
        sooner(state.watch_since + rt.longest_ms);
      }
      if (clearing) {
        if (state.clearing_since == kNoTimestamp) state.clearing_since = now;
        if (now - state.clearing_since >= rule.clear_for_ms) {
          clear_alert(rt, state, now);
        } else {
          sooner(state.clearing_since + rule.clear_for_ms);
        }
      } else {
        state.clearing_since = kNoTimestamp;
      }
    }
    // When a value leaves a window, aggregates change even without an update.
    for (const auto& w : rule.when.windows()) {
      if (const auto* s = state.windows.find(w.attribute))
        if (auto first = s->first_after(now - w.window_ms)) sooner(*first + w.window_ms + 1);
    }
    if (rule.clear_when)
      for (const auto& w : rule.clear_when->windows())
        if (const auto* s = state.windows.find(w.attribute))
          if (auto first = s->first_after(now - w.window_ms)) sooner(*first + w.window_ms + 1);
    schedule(rt, state, next, now);
  }

  // At most kTimersPerTurn due timers per turn of the loop: when many fall due at once (one window
  // length after rules were seeded, every seeded value leaves its window in the same millisecond) the
  // queued change events are taken between slices instead of waiting behind the whole wave.
  static constexpr std::size_t kTimersPerTurn = 2048;

  void run_timers() {
    const Timestamp now = now_ms();
    due_timers.clear();
    timers.take_due(now, kTimersPerTurn, due_timers);
    for (const Timer& timer : due_timers) {
      auto r = live.find(timer.serial);
      if (r == live.end() || !r->second->rule->enabled) continue;
      Runtime& rt = *r->second;
      if (timer.state >= rt.states.size()) continue;
      EntityState& state = rt.states[timer.state];
      if (state.entity != timer.entity || state.next_check != timer.due) continue;
      const auto* e = rt.home->entities[state.entity].latest.get();
      if (!e) continue;
      state.next_check = kNoTimestamp;
      for (auto& [name, series] : state.windows.series) series.prune(now - rt.longest_ms - 1);
      evaluate(rt, state, *e, now);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Actions

  void fire(Runtime& rt, EntityState& state, const Entity& entity, Timestamp now) {
    state.active = true;
    ++rt.active;
    rt.counts_changed = true;
    state.pending_since = kNoTimestamp;
    state.clearing_since = kNoTimestamp;
    state.alert_id.clear();
    {
      std::lock_guard lock(rt.health->mutex);
      ++rt.health->value.fired;
      rt.health->value.last_fired = now;
    }
    // Alerts first, so that an incident or a notification of the same firing can name the alert.
    for (std::size_t i = 0; i < rt.rule->actions.size(); ++i)
      if (rt.rule->actions[i].kind == ActionKind::Alert) attempt(rt, state, &entity, i, Phase::Fire, 1, now);
    for (std::size_t i = 0; i < rt.rule->actions.size(); ++i)
      if (rt.rule->actions[i].kind != ActionKind::Alert) attempt(rt, state, &entity, i, Phase::Fire, 1, now);
  }

  void clear_alert(Runtime& rt, EntityState& state, Timestamp now) {
    state.active = false;
    --rt.active;
    rt.counts_changed = true;
    state.restored = false;
    state.clearing_since = kNoTimestamp;
    {
      std::lock_guard lock(rt.health->mutex);
      ++rt.health->value.cleared;
    }
    const Entity* entity = rt.home->entities[state.entity].latest.get();
    for (std::size_t i = 0; i < rt.rule->actions.size(); ++i) {
      const auto kind = rt.rule->actions[i].kind;
      if (kind == ActionKind::Alert || kind == ActionKind::Notify)
        attempt(rt, state, entity, i, Phase::Clear, 1, now);
    }
  }

  void attempt(Runtime& rt, EntityState& state, const Entity* entity, std::size_t index, Phase phase, int attempt_number,
               Timestamp now) {
    Status outcome = run_action(rt, state, entity, index, phase, now);
    std::lock_guard lock(rt.health->mutex);
    auto& h = rt.health->value;
    if (outcome) {
      h.consecutive_failures = 0;
      h.failing = false;
      return;
    }
    ++h.action_failures;
    ++h.consecutive_failures;
    h.last_failure = now;
    h.last_error = std::string(action_name(rt.rule->actions[index].kind)) + ": " + outcome.problem().detail;
    if (h.consecutive_failures >= options.failing_after) h.failing = true;
    if (attempt_number < options.max_action_attempts) {
      const auto backoff = options.first_retry.count() << (attempt_number - 1);
      retries.push(Retry{now + backoff, rt.serial, rt.index_of(state), state.entity, index, phase, attempt_number + 1});
    } else {
      spdlog::warn("rule {}: {} gave up after {} attempts: {}", rt.rule->id, action_name(rt.rule->actions[index].kind),
                   attempt_number, outcome.problem().detail);
    }
  }

  void run_retries() {
    const Timestamp now = now_ms();
    while (!retries.empty() && retries.top().due <= now) {
      const Retry r = retries.top();
      retries.pop();
      auto found = live.find(r.serial);
      if (found == live.end()) continue;
      Runtime& rt = *found->second;
      if (r.state >= rt.states.size() || rt.states[r.state].entity != r.entity) continue;
      attempt(rt, rt.states[r.state], rt.home->entities[r.entity].latest.get(), r.action, r.phase, r.attempt, now);
    }
  }

  const json::value* location_of(const Entity* entity) const {
    if (!entity) return nullptr;
    static const Term location = Term::intern("https://uri.etsi.org/ngsi-ld/location");
    const auto* a = entity->find(location);
    return a && a->kind == model::AttributeKind::GeoProperty ? &a->value : nullptr;
  }

  Status run_action(Runtime& rt, EntityState& state, const Entity* entity, std::size_t index, Phase phase,
                    Timestamp now) {
    const Rule& rule = *rt.rule;
    const std::string& entity_id = rt.home->entities[state.entity].id;
    const Action& action = rule.actions[index];
    switch (action.kind) {
      case ActionKind::Alert:
        return phase == Phase::Fire ? raise_alert(rt, entity_id, state, entity, action, now)
                                    : clear_alert_entity(rt, state, now);
      case ActionKind::Incident: {
        IncidentSpec spec;
        spec.category = action.category.empty() ? "rule" : action.category;
        spec.sub_category = action.sub_category;
        spec.description = action.description.empty() ? "rule " + rule.id + " fired for " + entity_id : action.description;
        spec.severity = rule.severity;
        if (const auto* where = location_of(entity)) spec.location = *where;
        spec.alert = state.alert_id;
        spec.source = entity_id;
        spec.by = "rule:" + rule.id;
        auto opened = incidents.open(rt.tenant, spec, kRuleAction);
        if (!opened) return opened.problem();
        return {};
      }
      case ActionKind::Update: {
        auto fragment = action.fragment;
        auto done = twin.merge(rt.tenant, action.target.empty() ? entity_id : action.target, std::move(fragment), kRuleAction);
        if (!done) return done.problem();
        return {};
      }
      case ActionKind::Command: {
        auto fragment = action.fragment;
        auto done = twin.merge(rt.tenant, action.target, std::move(fragment), kRuleAction);
        if (!done) return done.problem();
        return {};
      }
      case ActionKind::Notify: {
        std::size_t nth = 0;
        for (std::size_t i = 0; i < index; ++i) nth += rule.actions[i].kind == ActionKind::Notify;
        json::object body{{"type", "RuleNotification"},
                          {"rule", rule.id},
                          {"entity", entity_id},
                          {"state", phase == Phase::Fire ? "firing" : "cleared"},
                          {"severity", rule.severity},
                          {"when", rule.definition.contains("when") ? rule.definition.at("when") : json::value()},
                          {"alert", state.alert_id},
                          {"notifiedAt", format_datetime(now)}};
        if (entity) {
          jsonld::EncodeOptions simplified;
          simplified.form = jsonld::Form::Simplified;
          body["data"] = jsonld::encode_entity(*entity, *contexts.core(), simplified);
        }
        dispatcher.send(notify::Outgoing{rt.registrations.at(nth), "application/json", "", to_text(body)});
        return {};  // the dispatcher retries; its delivery status shows in the rule's status
      }
    }
    return {};
  }

  Status raise_alert(Runtime& rt, const std::string& entity_id, EntityState& state, const Entity* entity,
                     const Action& action, Timestamp now) {
    if (!state.alert_id.empty()) return {};
    const Rule& rule = *rt.rule;
    const std::string id = "urn:ngsi-ld:Alert:" + rule.id + ":" + std::to_string(now) + ":" + entity_id;
    json::object body{{"id", id},
                      {"type", "Alert"},
                      {"category", property(action.category)},
                      {"severity", property(rule.severity)},
                      {"alertSource", property(entity_id)},
                      {"dateIssued", property(date_time(now))},
                      {"validFrom", property(date_time(now))},
                      {"status", property("active")},
                      {"rule", property(rule.id)},
                      {"description", property(action.description.empty()
                                                   ? "rule " + rule.id + ": " + std::string(rule.definition.at("when").as_string())
                                                   : action.description)}};
    if (!action.sub_category.empty()) body["subCategory"] = property(action.sub_category);
    if (const auto* where = location_of(entity)) body["location"] = json::object{{"type", "GeoProperty"}, {"value", *where}};
    auto decoded = jsonld::decode_entity(body, *alert_context, {});
    if (!decoded) return decoded.problem();
    auto created = twin.create(rt.tenant, std::move(decoded).value(), kRuleAction);
    if (!created) return created.problem();
    state.alert_id = id;
    return {};
  }

  Status clear_alert_entity(Runtime& rt, EntityState& state, Timestamp now) {
    if (state.alert_id.empty()) return {};
    json::object body{{"validTo", property(date_time(now))}, {"status", property("cleared")}};
    auto decoded = jsonld::decode_entity(body, *alert_context, {});
    if (!decoded) return decoded.problem();
    auto done = twin.merge(rt.tenant, state.alert_id, std::move(decoded).value(), kRuleAction);
    if (!done && done.problem().kind != ProblemKind::ResourceNotFound) return done.problem();  // deleted by someone: nothing to clear
    return {};
  }

  void publish_counts() {
    for (auto& [tenant, tr] : runtimes)
      for (auto& [id, rt] : tr.rules) {
        if (!rt->counts_changed) continue;
        rt->counts_changed = false;
        std::lock_guard lock(rt->health->mutex);
        rt->health->value.active = rt->active;
        rt->health->value.watched = rt->watched;
      }
  }
};

RulesEngine::RulesEngine(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts, Incidents& incidents,
                         const HistorySource* history, EngineOptions options)
    : impl_(std::make_unique<Impl>(*this, twin, store, contexts, incidents, history, std::move(options))) {}

RulesEngine::~RulesEngine() { stop(); }

Status RulesEngine::restore() {
  std::vector<std::tuple<std::string, StoredRule>> stored;
  auto scanned = impl_->store.scan(storage::Collection::Rules, "", [&](std::string_view key, std::string_view value) {
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
    auto ctx = impl_->context_for(s.context_url);
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
    impl_->records[tenant].emplace(shared->id, Record{shared, std::make_shared<Health>()});
  }
  impl_->refresh_watched_types();
  return {};
}

void RulesEngine::start() {
  impl_->dispatcher.start();
  impl_->twin.changes().release(*this);
}

void RulesEngine::stop() {
  impl_->dispatcher.stop();  // first: a consumer thread waiting in send() for slow receivers goes on
  impl_->twin.changes().detach(*this);
}

Result<storage::Sequence> RulesEngine::create(const std::string& tenant, const json::object& body,
                                              const std::string& context_url) {
  return impl_->put(tenant, body, context_url, /*must_be_new=*/true, kNoTimestamp);
}

Result<storage::Sequence> RulesEngine::update(const std::string& tenant, const std::string& id,
                                              const json::object& fragment) {
  auto current = get(tenant, id);
  if (!current) return current.problem();
  auto merged = merge_definition(current->rule->definition, fragment);
  if (!merged) return merged.problem();
  return impl_->put(tenant, *merged, current->rule->context_url, /*must_be_new=*/false, current->rule->created_at);
}

Result<storage::Sequence> RulesEngine::set_enabled(const std::string& tenant, const std::string& id, bool enabled) {
  return update(tenant, id, json::object{{"enabled", enabled}});
}

Result<storage::Sequence> RulesEngine::remove(const std::string& tenant, const std::string& id) {
  storage::Sequence sequence = 0;
  {
    std::lock_guard lock(impl_->records_mutex);
    auto t = impl_->records.find(tenant);
    if (t == impl_->records.end() || !t->second.erase(id)) return not_found("rule " + id + " was not found");
    sequence = impl_->store.enqueue({storage::Write{storage::Collection::Rules,
                                                    storage::tenant_key(tenant, std::string(kRuleKeyPrefix) + id),
                                                    std::nullopt}});
  }
  impl_->refresh_watched_types();
  impl_->announce(tenant, id);
  return sequence;
}

Result<RulesEngine::View> RulesEngine::get(const std::string& tenant, const std::string& id) const {
  std::lock_guard lock(impl_->records_mutex);
  auto t = impl_->records.find(tenant);
  if (t != impl_->records.end())
    if (auto r = t->second.find(id); r != t->second.end()) {
      return View{r->second.rule, r->second.health->snapshot()};
    }
  return not_found("rule " + id + " was not found");
}

std::vector<RulesEngine::View> RulesEngine::list(const std::string& tenant, std::size_t offset, std::size_t limit,
                                                 std::size_t& total) const {
  std::vector<View> out;
  std::lock_guard lock(impl_->records_mutex);
  total = 0;
  auto t = impl_->records.find(tenant);
  if (t == impl_->records.end()) return out;
  total = t->second.size();
  std::size_t i = 0;
  for (const auto& [id, record] : t->second) {
    if (i++ < offset) continue;
    if (out.size() >= limit) break;
    out.push_back(View{record.rule, record.health->snapshot()});
  }
  return out;
}

twin::QueueLimits RulesEngine::queue_limits() const {
  return {impl_->options.event_queue_capacity, impl_->options.queue_full_wait};
}

bool RulesEngine::wants(const twin::ChangeEvent& event) const {
  if (!event.entity) return false;
  std::lock_guard lock(impl_->queue_mutex);
  auto types = impl_->watched_types.find(event.tenant);
  if (types == impl_->watched_types.end()) return false;
  for (auto type : event.entity->types)
    if (types->second.count(type) > 0) return true;
  return false;
}

void RulesEngine::consume(std::span<const twin::ChangeEvent> events) { impl_->consume(events); }

Timestamp RulesEngine::tick(Timestamp) { return impl_->tick(); }

EngineStats RulesEngine::stats() const {
  const auto stream = impl_->twin.changes().stats(*this);
  return {stream.events_queued, stream.writer_waits, impl_->processed.load(), impl_->evaluations.load()};
}

json::object render_rule(const RulesEngine::View& view) {
  json::object out = view.rule->definition;
  out["createdAt"] = format_datetime(view.rule->created_at);
  out["modifiedAt"] = format_datetime(view.rule->modified_at);
  const auto& h = view.health;
  json::object status{{"state", !view.rule->enabled ? "disabled" : h.failing ? "failing" : "ok"},
                      {"failing", h.failing},
                      {"fired", h.fired},
                      {"cleared", h.cleared},
                      {"firingNow", h.active},
                      {"watchedEntities", h.watched},
                      {"actionFailures", h.action_failures}};
  if (h.last_fired != kNoTimestamp) status["lastFired"] = format_datetime(h.last_fired);
  if (h.last_failure != kNoTimestamp) status["lastFailure"] = format_datetime(h.last_failure);
  if (!h.last_error.empty()) status["lastError"] = h.last_error;
  out["status"] = std::move(status);
  return out;
}

}  // namespace ct::rules
