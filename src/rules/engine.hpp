#pragma once
// The rules engine: rule definitions per tenant (durable in Collection::Rules), and their
// evaluation off the write path.
//
// - A consumer of the twin's change stream (twin/change_stream.hpp): it is queued only the changes
//   of entities of a type some rule of the tenant watches (wants()), each once durable, in order,
//   through a queue of event_queue_capacity that holds writers back (up to queue_full_wait per
//   write call) instead of dropping a change. Its own writes (alerts, actions: origin RuleAction)
//   are made on its delivery thread and so never wait for that queue.
// - The rules thread (its delivery thread) hands each change to the rules that can match it: those
//   filed under the entity's type and one of the attributes the change wrote (or, for rules that
//   count every update or watch an area, under the type alone). Per (rule, entity) it keeps the
//   windows of the condition, the `for` and clearing timers and whether the alert is raised; timers
//   (silence, `for`, values leaving a window) are kept in timer buckets, so an entity that stops
//   sending is still evaluated.
// - Firing runs the rule's actions once per episode (the condition holding, after `for`); the alert
//   is cleared (validTo, status "cleared") when the clearing condition has held for clearFor.
//   A twin action that fails is retried with a doubling backoff (5 attempts) without holding up
//   the thread; a notification goes through notify's Dispatcher, which retries by itself. A rule
//   whose last attempts failed shows `failing` in its status.
// - After a restart: definitions and Alert entities come back from the store and the twin; windows
//   are rebuilt from the HistorySource when there is one (else from the entities' current values
//   only, and a raised alert is not cleared before new values arrive or one window length has
//   passed); `for` timers start again. The same applies to a rule just created or changed.
//
// Threads: restore() before start(); create(), update(), set_enabled(), remove(), get(), list(),
// stats() and sync() from any thread but the rules thread; wants() on writers' threads (quick, never
// waits for a definition being parsed); consume() and tick() on the rules thread only.
//
// Its parts: registry.hpp (the definitions, any thread), evaluator.hpp (the rules thread's work:
// seeding.cpp, evaluator.cpp, firing.cpp), timer_buckets.hpp, action.hpp (one file per action in
// actions/). Time comes from EngineOptions::clock.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "notify/delivery.hpp"
#include "rules/history_source.hpp"
#include "rules/incidents.hpp"
#include "rules/registry.hpp"
#include "rules/rule.hpp"
#include "storage/store.hpp"
#include "twin/change_stream.hpp"
#include "twin/twin.hpp"

namespace ct::rules {

inline constexpr std::string_view kAlertContextUrl =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld";

struct EngineOptions {
  std::size_t event_queue_capacity = 200'000;                // events queued before writers wait
  std::chrono::milliseconds queue_full_wait{1000};           // the longest one write call waits
  int max_action_attempts = 5;
  std::chrono::milliseconds first_retry{200};
  int failing_after = 2;  // consecutive failed attempts before a rule shows failing
  notify::DeliveryOptions delivery;
  // Where the rules' time comes from (timers, windows, `for`, clearFor, retries); null: the system
  // clock. Must outlive the engine.
  const Clock* clock = nullptr;
};

struct EngineStats {
  std::uint64_t events_queued = 0;
  std::uint64_t writer_waits = 0;  // write calls that waited because the queue was full
  std::uint64_t events_processed = 0, evaluations = 0;
};

class RulesEngine final : public twin::ChangeConsumer {
 public:
  RulesEngine(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts, Incidents& incidents,
              const HistorySource* history, EngineOptions options = {});
  ~RulesEngine() override;
  RulesEngine(const RulesEngine&) = delete;
  RulesEngine& operator=(const RulesEngine&) = delete;

  Status restore();  // before start()
  // Starts the notification dispatcher, and releases the changes held for the engine if it was
  // attached to the change stream with Delivery::Held. Attach it to receive changes.
  void start();
  // Detaches it from the change stream (joins the rules thread) and stops the dispatcher.
  void stop();

  // The operations of /admin/v1/rules; each returns the store sequence to wait for.
  Result<storage::Sequence> create(const std::string& tenant, const json::object& body, const std::string& context_url);
  Result<storage::Sequence> update(const std::string& tenant, const std::string& id, const json::object& fragment);
  Result<storage::Sequence> set_enabled(const std::string& tenant, const std::string& id, bool enabled);
  Result<storage::Sequence> remove(const std::string& tenant, const std::string& id);

  struct View {
    std::shared_ptr<const Rule> rule;
    RuleHealth health;
  };
  Result<View> get(const std::string& tenant, const std::string& id) const;
  std::vector<View> list(const std::string& tenant, std::size_t offset, std::size_t limit, std::size_t& total) const;

  // twin::ChangeConsumer, called by the change stream.
  std::string_view name() const override { return "rules"; }
  twin::QueueLimits queue_limits() const override;
  bool wants(const twin::ChangeEvent& event) const override;
  void consume(std::span<const twin::ChangeEvent> events) override;
  Timestamp tick(Timestamp now) override;
  EngineStats stats() const;

  // Blocks until the rules thread has applied every rule change made before the call and run every
  // timer and retry due at the clock's now() as of the call, or `timeout` passed (false). With a
  // ManualClock: advance() it, then sync(), then assert. (For changes: ChangeStream::wait_consumed.)
  // Any thread but the rules thread; the engine must be started.
  bool sync(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The rule as GET returns it: its definition, createdAt/modifiedAt and "status".
json::object render_rule(const RulesEngine::View& view);

}  // namespace ct::rules
