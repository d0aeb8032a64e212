#include "rules/evaluator.hpp"

#include <algorithm>

namespace ct::rules {
namespace {

using model::Entity;
using model::Term;

}  // namespace

Evaluator::Evaluator(const RuleRegistry& registry, ActionServices& services, const HistorySource* history,
                     const Clock& clock, EvaluatorOptions options)
    : registry_(registry), services_(services), history_(history), clock_(clock), options_(options) {}

void Evaluator::run_due(Timestamp now) {
  run_timers(now);
  run_retries(now);
}

// Changes, durable and in order (the change stream waited for their group).
void Evaluator::consume(std::span<const twin::ChangeEvent> batch) {
  number_batch(batch);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i + 2 * kLookahead < batch.size()) prefetch_states(batch[i + 2 * kLookahead], numbered_[i + 2 * kLookahead], false);
    if (i + kLookahead < batch.size()) prefetch_states(batch[i + kLookahead], numbered_[i + kLookahead], true);
    process(batch[i], numbered_[i]);
  }
  processed_ += batch.size();
}

Timestamp Evaluator::next_deadline() const {
  Timestamp next = kNoTimestamp;
  if (!timers_.empty()) next = timers_.next_due();
  if (!retries_.empty() && (next == kNoTimestamp || retries_.top().due < next)) next = retries_.top().due;
  return next;
}

void Evaluator::number_batch(std::span<const twin::ChangeEvent> batch) {
  numbered_.clear();
  const std::string* last_tenant = nullptr;
  TenantRuntime* tr = nullptr;
  for (const auto& e : batch) {
    if (!last_tenant || *last_tenant != e.tenant) {
      auto t = runtimes_.find(e.tenant);
      tr = t == runtimes_.end() ? nullptr : &t->second;
      last_tenant = &e.tenant;
    }
    numbered_.push_back(tr && e.entity ? Numbered{tr, tr->number(e.entity->id)} : Numbered{});
  }
}

// The candidate rules of a change (into `out`, unsorted, maybe with duplicates).
void Evaluator::candidates_of(const TenantRuntime& tr, const twin::ChangeEvent& event, std::vector<Runtime*>& out) const {
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

std::vector<Runtime*> ahead_;  // scratch of prefetch_states()
void Evaluator::prefetch_states(const twin::ChangeEvent& event, const Numbered& n, bool states) {
  if (!n.tenant) return;
  const auto& slot = n.tenant->entities[n.number];
  ahead_.clear();
  candidates_of(*n.tenant, event, ahead_);
  for (const Runtime* rt : ahead_)
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

void Evaluator::process(const twin::ChangeEvent& event, const Numbered& n) {
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
  candidates_.clear();
  candidates_of(tr, event, candidates_);
  if (candidates_.empty()) return;
  std::sort(candidates_.begin(), candidates_.end());
  candidates_.erase(std::unique(candidates_.begin(), candidates_.end()), candidates_.end());
  const Timestamp now = clock_.now();
  for (auto* rt : candidates_) handle(*rt, number, event, now);
}

void Evaluator::handle(Runtime& rt, std::uint32_t number, const twin::ChangeEvent& event, Timestamp now) {
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
      if (auto v = window_number(a.value)) series.add(a.observed_at != kNoTimestamp ? a.observed_at : event.at, *v);
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

bool Evaluator::count_ready(const Condition& c, const EntityState& state, Timestamp now, Timestamp& ready_at) const {
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

void Evaluator::schedule(Runtime& rt, EntityState& state, Timestamp due, Timestamp now) {
  if (due == kNoTimestamp) return;
  if (state.next_check != kNoTimestamp && state.next_check <= due && state.next_check > now - 1) return;
  state.next_check = due;
  timers_.push(Timer{due, rt.serial, rt.index_of(state), state.entity});
}

void Evaluator::evaluate(Runtime& rt, EntityState& state, const Entity& entity, Timestamp now) {
  ++evaluations_;
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

void Evaluator::run_timers(Timestamp now) {
  due_timers_.clear();
  timers_.take_due(now, kTimersPerTurn, due_timers_);
  for (const Timer& timer : due_timers_) {
    auto r = live_.find(timer.serial);
    if (r == live_.end() || !r->second->rule->enabled) continue;
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

}  // namespace ct::rules
