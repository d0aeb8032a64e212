#pragma once
// The evaluator: what the rules thread does with rule changes, entity changes and time.
//
// Contract:
//   - Every method runs on the rules thread only (the change stream's delivery thread of the
//     RulesEngine); nothing here takes a lock except to publish a rule's health.
//   - apply() takes rule definitions as the registry now has them (restart: as after a restart,
//     raised Alert entities are taken back) and seeds the entities that exist.
//   - consume() hands each change to the rules that can match it: those filed under the entity's
//     type and one of the attributes the change wrote (or, for rules that count every update or
//     watch an area, under the type alone), and evaluates them at the clock's now().
//   - run_due(now) evaluates the states whose timer fell due (at most kTimersPerTurn per call) and
//     retries the failed actions that are due; next_deadline() tells when to call it again.
//   - Firing runs the rule's actions once per episode (the condition holding, after `for`); the
//     alert clears when the clearing condition has held for clearFor. A failed action is retried
//     with a doubling backoff (max_action_attempts) without holding up the thread.
//   - Time comes from the Clock given (never from the system directly); the event times come from
//     the twin (ChangeEvent::at, observedAt).
#include <atomic>
#include <chrono>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.hpp"
#include "rules/action_context.hpp"
#include "rules/history_source.hpp"
#include "rules/registry.hpp"
#include "rules/runtime.hpp"
#include "rules/timer_buckets.hpp"
#include "twin/change_event.hpp"

namespace ct::rules {

struct EvaluatorOptions {
  int max_action_attempts = 5;
  std::chrono::milliseconds first_retry{200};
  int failing_after = 2;  // consecutive failed attempts before a rule shows failing
};

class Evaluator {
 public:
  // At most this many due timers per run_due(): when many fall due at once (one window length after
  // rules were seeded, every seeded value leaves its window in the same millisecond) the queued
  // change events are taken between slices instead of waiting behind the whole wave.
  static constexpr std::size_t kTimersPerTurn = 2048;

  Evaluator(const RuleRegistry& registry, ActionServices& services, const HistorySource* history, const Clock& clock,
            EvaluatorOptions options);

  void apply(const std::vector<RuleKey>& changed, bool restart);
  void consume(std::span<const twin::ChangeEvent> batch);
  void run_due(Timestamp now);
  // Publishes the counts (firing, watched) of the rules whose counts changed in their health.
  void publish_counts();
  // The earliest timer or retry (kNoTimestamp: none).
  Timestamp next_deadline() const;

  std::uint64_t processed() const { return processed_.load(std::memory_order_relaxed); }
  std::uint64_t evaluations() const { return evaluations_.load(std::memory_order_relaxed); }

 private:
  struct Retry {
    Timestamp due;
    std::uint64_t serial;
    std::uint32_t state, entity;
    std::size_t action;
    Phase phase;
    int attempt;
    bool operator>(const Retry& o) const { return due > o.due; }
  };
  // The (rule, entity) states are spread over a lot of memory and each change touches its own: the
  // batch is numbered first (independent lookups, which the CPU overlaps), and while a change is
  // processed the state tables of the one kLookahead ahead, and the states of the one 2 * kLookahead
  // ahead, are fetched.
  static constexpr std::size_t kLookahead = 4;
  struct Numbered {
    TenantRuntime* tenant = nullptr;
    std::uint32_t number = kNone;
  };

  // seeding.cpp
  void rebuild_index(TenantRuntime& tr);
  void seed(const std::string& tenant, const std::vector<Runtime*>& rts, bool restart);
  // evaluator.cpp
  void number_batch(std::span<const twin::ChangeEvent> batch);
  void candidates_of(const TenantRuntime& tr, const twin::ChangeEvent& event, std::vector<Runtime*>& out) const;
  void prefetch_states(const twin::ChangeEvent& event, const Numbered& n, bool states);
  void process(const twin::ChangeEvent& event, const Numbered& n);
  void handle(Runtime& rt, std::uint32_t number, const twin::ChangeEvent& event, Timestamp now);
  bool count_ready(const Condition& c, const EntityState& state, Timestamp now, Timestamp& ready_at) const;
  void schedule(Runtime& rt, EntityState& state, Timestamp due, Timestamp now);
  void evaluate(Runtime& rt, EntityState& state, const model::Entity& entity, Timestamp now);
  void run_timers(Timestamp now);
  // firing.cpp
  void fire(Runtime& rt, EntityState& state, const model::Entity& entity, Timestamp now);
  void clear_alert(Runtime& rt, EntityState& state, Timestamp now);
  void attempt(Runtime& rt, EntityState& state, const model::Entity* entity, std::size_t index, Phase phase,
               int attempt_number, Timestamp now);
  void run_retries(Timestamp now);

  const RuleRegistry& registry_;
  ActionServices& services_;
  const HistorySource* history_;
  const Clock& clock_;
  EvaluatorOptions options_;

  std::atomic<std::uint64_t> processed_{0}, evaluations_{0};
  std::unordered_map<std::string, TenantRuntime> runtimes_;  // node-based: Runtime::home stays valid
  std::unordered_map<std::uint64_t, Runtime*> live_;         // serial → the runtime, for timers and retries
  std::vector<Runtime*> candidates_;                         // scratch of process()
  std::vector<Runtime*> ahead_;                              // scratch of prefetch_states()
  std::vector<Numbered> numbered_;                           // scratch: per change of the batch
  TimerBuckets timers_;
  std::vector<Timer> due_timers_;  // scratch of run_timers()
  // Runtimes replaced or removed since the timers were last purged, and how many timers they may
  // have left (at most one per entity state): purged once they are half the heap, so that disabling
  // rules frees their timers without a pass over the heap for every rule.
  std::unordered_set<std::uint64_t> stale_serials_;
  std::size_t stale_timers_ = 0;
  std::priority_queue<Retry, std::vector<Retry>, std::greater<>> retries_;
  std::uint64_t next_serial_ = 1;
};

}  // namespace ct::rules
