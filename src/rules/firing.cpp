// The evaluator's firing and clearing: running a rule's actions, and retrying those that failed
// (evaluator.hpp).
#include <spdlog/spdlog.h>

#include "rules/evaluator.hpp"

namespace ct::rules {

using model::Entity;

void Evaluator::fire(Runtime& rt, EntityState& state, const Entity& entity, Timestamp now) {
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
    if (runs_first(rt.rule->actions[i])) attempt(rt, state, &entity, i, Phase::Fire, 1, now);
  for (std::size_t i = 0; i < rt.rule->actions.size(); ++i)
    if (!runs_first(rt.rule->actions[i])) attempt(rt, state, &entity, i, Phase::Fire, 1, now);
}

void Evaluator::clear_alert(Runtime& rt, EntityState& state, Timestamp now) {
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
  for (std::size_t i = 0; i < rt.rule->actions.size(); ++i)
    if (runs_on_clear(rt.rule->actions[i])) attempt(rt, state, entity, i, Phase::Clear, 1, now);
}

void Evaluator::attempt(Runtime& rt, EntityState& state, const Entity* entity, std::size_t index, Phase phase,
                        int attempt_number, Timestamp now) {
  const Action& action = rt.rule->actions[index];
  ActionContext context{services_, rt.tenant, *rt.rule, rt.home->entities[state.entity].id, entity, state.alert_id,
                        phase, now, index < rt.registrations.size() ? &rt.registrations[index] : nullptr};
  Status outcome = run_action(action, context);
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
  h.last_error = std::string(action_name(action)) + ": " + outcome.problem().detail;
  if (h.consecutive_failures >= options_.failing_after) h.failing = true;
  if (attempt_number < options_.max_action_attempts) {
    const auto backoff = options_.first_retry.count() << (attempt_number - 1);
    retries_.push(Retry{now + backoff, rt.serial, rt.index_of(state), state.entity, index, phase, attempt_number + 1});
  } else {
    spdlog::warn("rule {}: {} gave up after {} attempts: {}", rt.rule->id, action_name(action),
                 attempt_number, outcome.problem().detail);
  }
}

void Evaluator::run_retries(Timestamp now) {
  while (!retries_.empty() && retries_.top().due <= now) {
    const Retry r = retries_.top();
    retries_.pop();
    auto found = live_.find(r.serial);
    if (found == live_.end()) continue;
    Runtime& rt = *found->second;
    if (r.state >= rt.states.size() || rt.states[r.state].entity != r.entity) continue;
    attempt(rt, rt.states[r.state], rt.home->entities[r.entity].latest.get(), r.action, r.phase, r.attempt, now);
  }
}

void Evaluator::publish_counts() {
  for (auto& [tenant, tr] : runtimes_)
    for (auto& [id, rt] : tr.rules) {
      if (!rt->counts_changed) continue;
      rt->counts_changed = false;
      std::lock_guard lock(rt->health->mutex);
      rt->health->value.active = rt->active;
      rt->health->value.watched = rt->watched;
    }
}

}  // namespace ct::rules
