// The evaluator's rule changes: runtimes made for new and changed definitions, the index of which
// changes wake which rules, and the seeding of the entities that exist (evaluator.hpp).
#include <algorithm>
#include <map>

#include "rules/evaluator.hpp"

namespace ct::rules {
namespace {

using model::Entity;
using model::Term;

}  // namespace

void Evaluator::rebuild_index(TenantRuntime& tr) {
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

void Evaluator::apply(const std::vector<RuleKey>& changed, bool restart) {
  std::map<std::string, std::vector<Runtime*>> to_seed;
  for (const auto& [tenant, id] : changed) {
    const Record record = registry_.find(tenant, id);
    auto& tr = runtimes_[tenant];
    auto existing = tr.rules.find(id);
    if (existing != tr.rules.end()) {
      // A changed definition starts afresh: the alerts of the old one are cleared.
      if (!record.rule || record.rule != existing->second->rule) {
        Runtime& old = *existing->second;
        for (auto& state : old.states)
          if (state.entity != kNone && state.active) clear_alert(old, state, clock_.now());
        stale_serials_.insert(old.serial);
        stale_timers_ += old.watched;
        live_.erase(old.serial);
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
    rt->serial = next_serial_++;
    rt->window_attributes = record.rule->when.window_attributes();
    rt->longest_ms = record.rule->when.longest_window_ms();
    if (record.rule->clear_when) {
      for (auto a : record.rule->clear_when->window_attributes())
        if (std::find(rt->window_attributes.begin(), rt->window_attributes.end(), a) == rt->window_attributes.end())
          rt->window_attributes.push_back(a);
      rt->longest_ms = std::max(rt->longest_ms, record.rule->clear_when->longest_window_ms());
    }
    for (const auto& action : record.rule->actions) {
      const auto* notify_action = std::get_if<NotifyAction>(&action);
      rt->registrations.push_back(notify_action ? notify_action->registration(tenant, record.rule->id) : nullptr);
    }
    {
      std::lock_guard lock(rt->health->mutex);
      rt->health->deliveries.clear();
      for (const auto& r : rt->registrations)
        if (r) rt->health->deliveries.push_back(r->status);
    }
    if (record.rule->enabled) to_seed[tenant].push_back(rt.get());
    live_[rt->serial] = rt.get();
    tr.rules.emplace(id, std::move(rt));
  }
  if (stale_timers_ > 0 && stale_timers_ >= timers_.size() / 2) {
    timers_.drop_serials(stale_serials_);
    stale_serials_.clear();
    stale_timers_ = 0;
  }
  for (auto& [tenant, tr] : runtimes_) rebuild_index(tr);
  for (auto& [tenant, rts] : to_seed) seed(tenant, rts, restart);
}

// Starts watching the entities that exist: one scan of the tenant for all the rules given.
void Evaluator::seed(const std::string& tenant, const std::vector<Runtime*>& rts, bool restart) {
  const Timestamp now = clock_.now();
  std::map<std::pair<std::string, std::string>, std::string> raised;  // (rule, source) → alert id
  std::vector<std::shared_ptr<const Entity>> entities;
  const Term alert_type = Term::intern(services_.alert_context->expand("Alert"));
  const Term rule_name = Term::intern(services_.alert_context->expand("rule"));
  const Term source_name = Term::intern(services_.alert_context->expand("alertSource"));
  const Term status_name = Term::intern(services_.alert_context->expand("status"));
  std::unordered_set<Term> types;
  for (auto* rt : rts) types.insert(rt->rule->type);
  auto& tr = runtimes_[tenant];
  auto scanned = services_.twin.scan(tenant, [&](const Entity& e) {
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
        state.restored = history_ == nullptr;
        state.alert_id = found->second;
      }
      if (history_ && rt->longest_ms > 0) {
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
          (void)history_->numeric_points(tenant, e->id, std::string(attribute.str()), now - rt->longest_ms, now,
                                        [&](Timestamp at, double v) {
                                          series.add(at, v);
                                          newest = any ? std::max(newest, at) : at;
                                          any = true;
                                        });
          // History holds only what is durable, while the seed counts every change the entity has
          // had as seen (seeded_revision): a value still on its way to the disk is taken from the
          // entity itself, or the window would miss it for good.
          for (const auto& a : slot->attributes) {
            const auto v = a.name == attribute ? window_number(a.value) : std::nullopt;
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
            const auto v = a.name == attribute ? window_number(a.value) : std::nullopt;
            const Timestamp at = a.observed_at != kNoTimestamp ? a.observed_at : a.modified_at;
            if (v && at != kNoTimestamp && at > now - rt->longest_ms && at <= now) state.windows.at(attribute).add(at, *v);
          }
        }
      }
      evaluate(*rt, state, *slot, now);
    }
  }
}

}  // namespace ct::rules
