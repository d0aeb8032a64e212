#include "rules/engine.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "rules/evaluator.hpp"

namespace ct::rules {

struct RulesEngine::Impl {
  RulesEngine& self;  // the change consumer, to wake its delivery thread (the rules thread)
  twin::Twin& twin;
  const Clock& clock;
  EngineOptions options;
  jsonld::ContextPtr alert_context;
  notify::Dispatcher dispatcher;
  ActionServices services;
  RuleRegistry registry;
  Evaluator evaluator;  // the rules thread's

  // Rules created, changed or removed, for the rules thread.
  std::mutex changed_mutex;
  std::vector<RuleKey> changed_rules;

  // sync(): requests counted by callers, and the last one a tick saw through.
  std::mutex sync_mutex;
  std::condition_variable sync_cv;
  std::uint64_t sync_requested = 0, sync_done = 0;
  bool seeded = false;  // rules thread

  static jsonld::ContextPtr resolve_alert_context(jsonld::ContextStore& contexts) {
    auto ctx = contexts.resolve(json::value(kAlertContextUrl));
    return ctx ? *ctx : contexts.core();
  }

  Impl(RulesEngine& e, twin::Twin& t, storage::Store& s, jsonld::ContextStore& c, Incidents& i, const HistorySource* h,
       EngineOptions o)
      : self(e),
        twin(t),
        clock(o.clock ? *o.clock : system_clock()),
        options(std::move(o)),
        alert_context(resolve_alert_context(c)),
        dispatcher(options.delivery),
        services{t, i, c, alert_context, dispatcher},
        registry(t, s, c, clock, [this](const std::string& tenant, const std::string& id) { announce(tenant, id); }),
        evaluator(registry, services, h, clock,
                  EvaluatorOptions{options.max_action_attempts, options.first_retry, options.failing_after}) {}

  void announce(const std::string& tenant, const std::string& id) {
    {
      std::lock_guard lock(changed_mutex);
      changed_rules.emplace_back(tenant, id);
    }
    twin.changes().wake(self);
  }

  // On the rules thread: once when it starts, and after each batch of changes or wake-up. Returns
  // the next deadline in the stream's time (`stream_now` is the stream's now; the evaluator's
  // deadlines are in the clock's time, which a test's ManualClock keeps apart from it).
  Timestamp tick(Timestamp stream_now) {
    std::uint64_t request;
    {
      std::lock_guard lock(sync_mutex);
      request = sync_requested;
    }
    const Timestamp now = clock.now();
    if (!seeded) {
      seeded = true;
      evaluator.apply(registry.all(), /*restart=*/true);
    }
    std::vector<RuleKey> changed;
    {
      std::lock_guard lock(changed_mutex);
      changed.swap(changed_rules);
    }
    if (!changed.empty()) evaluator.apply(changed, /*restart=*/false);
    evaluator.run_due(clock.now());
    evaluator.publish_counts();
    const Timestamp next = evaluator.next_deadline();
    if (next == kNoTimestamp || next > now) {  // nothing due is left over (kTimersPerTurn): a sync is through
      std::lock_guard lock(sync_mutex);
      if (sync_done < request) {
        sync_done = request;
        sync_cv.notify_all();
      }
    }
    const Timestamp counts_due = clock.now() + 500;  // the counts rules show are published at least this often
    const Timestamp due = next == kNoTimestamp ? counts_due : std::min(next, counts_due);
    return due - now + stream_now;
  }
};

RulesEngine::RulesEngine(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts, Incidents& incidents,
                         const HistorySource* history, EngineOptions options)
    : impl_(std::make_unique<Impl>(*this, twin, store, contexts, incidents, history, std::move(options))) {}

RulesEngine::~RulesEngine() { stop(); }

Status RulesEngine::restore() { return impl_->registry.restore(); }

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
  return impl_->registry.put(tenant, body, context_url, /*must_be_new=*/true, kNoTimestamp);
}

Result<storage::Sequence> RulesEngine::update(const std::string& tenant, const std::string& id,
                                              const json::object& fragment) {
  auto current = get(tenant, id);
  if (!current) return current.problem();
  auto merged = merge_definition(current->rule->definition, fragment);
  if (!merged) return merged.problem();
  return impl_->registry.put(tenant, *merged, current->rule->context_url, /*must_be_new=*/false,
                             current->rule->created_at);
}

Result<storage::Sequence> RulesEngine::set_enabled(const std::string& tenant, const std::string& id, bool enabled) {
  return update(tenant, id, json::object{{"enabled", enabled}});
}

Result<storage::Sequence> RulesEngine::remove(const std::string& tenant, const std::string& id) {
  return impl_->registry.remove(tenant, id);
}

Result<RulesEngine::View> RulesEngine::get(const std::string& tenant, const std::string& id) const {
  const Record record = impl_->registry.find(tenant, id);
  if (!record.rule) return not_found("rule " + id + " was not found");
  return View{record.rule, record.health->snapshot()};
}

std::vector<RulesEngine::View> RulesEngine::list(const std::string& tenant, std::size_t offset, std::size_t limit,
                                                 std::size_t& total) const {
  std::vector<View> out;
  for (const auto& record : impl_->registry.list(tenant, offset, limit, total))
    out.push_back(View{record.rule, record.health->snapshot()});
  return out;
}

twin::QueueLimits RulesEngine::queue_limits() const {
  return {impl_->options.event_queue_capacity, impl_->options.queue_full_wait};
}

bool RulesEngine::wants(const twin::ChangeEvent& event) const {
  return event.entity && impl_->registry.watches(event.tenant, event.entity->types);
}

void RulesEngine::consume(std::span<const twin::ChangeEvent> events) { impl_->evaluator.consume(events); }

Timestamp RulesEngine::tick(Timestamp now) { return impl_->tick(now); }

bool RulesEngine::sync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->sync_mutex);
  const auto request = ++impl_->sync_requested;
  lock.unlock();
  impl_->twin.changes().wake(*this);
  lock.lock();
  return impl_->sync_cv.wait_for(lock, timeout, [&] { return impl_->sync_done >= request; });
}

EngineStats RulesEngine::stats() const {
  const auto stream = impl_->twin.changes().stats(*this);
  return {stream.events_queued, stream.writer_waits, impl_->evaluator.processed(), impl_->evaluator.evaluations()};
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
