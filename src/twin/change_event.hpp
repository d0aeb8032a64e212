#pragma once
// Change events: the one stream every consumer after the twin reads (history, subscriptions,
// rules). An observer sees every change of every tenant, in the order applied per entity.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/entity.hpp"
#include "storage/store.hpp"

namespace ct::twin {

struct ChangeEvent {
  enum class Kind : std::uint8_t { Created, Updated, Deleted };
  using Instance = std::pair<model::Term, model::Term>;  // attribute name, datasetId

  Kind kind = Kind::Updated;
  std::string tenant;
  std::shared_ptr<const model::Entity> entity;    // after the change; for Deleted, as it was
  std::shared_ptr<const model::Entity> previous;  // before the change (Updated only)
  std::vector<Instance> written;                  // instances this change wrote (all, for Created)
  std::vector<Instance> removed;                  // instances this change deleted
  Timestamp at = kNoTimestamp;
  storage::Sequence sequence = 0;  // durable once the store reports this sequence (set for on_change)
};

class ChangeObserver {
 public:
  virtual ~ChangeObserver() = default;
  // Before the change is queued to the store, under the tenant's write lock: writes that must become
  // durable together with the change (history records). Must be quick; must not call the twin.
  virtual void contribute(const ChangeEvent& event, std::vector<storage::Write>& writes) {
    (void)event;
    (void)writes;
  }
  // After the change is queued, still in order: hand the event on (to a queue); never block.
  virtual void on_change(const ChangeEvent& event) { (void)event; }
  // Once per write call that produced changes, on the writing thread, after the tenant's lock is
  // released: an observer whose queue is full may make the writer wait here (bounded), which slows
  // the producers down instead of losing changes. Must not hold the writer forever.
  virtual void after_write() {}
};

}  // namespace ct::twin
