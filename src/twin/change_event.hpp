#pragma once
// Change events: what the twin tells everything after it about each change it applied. Consumers
// receive them through the change stream (change_stream.hpp); contributors add store writes to
// the change's own durable group (ChangeContributor below).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/entity.hpp"
#include "storage/store.hpp"

namespace ct::twin {

// Who made a change, as the writer tells the twin (the last parameter of every Twin write). A
// consumer filters on it: history skips back-fills (recorded with their own times), ingest sends
// commands only for changes it did not make itself.
enum class Origin : std::uint8_t {
  ClientRequest,     // an NGSI-LD request (the default)
  Device,            // a device's measure or command answer (ingest/)
  RuleAction,        // an action of a rule, an alert, an incident (rules/)
  TemporalBackfill,  // the current state brought up to back-filled history (temporal API, import)
  Application,       // a smart application's derived entities
  System,            // CityTwin itself: provisioning, device liveness, command status
};
std::string_view origin_name(Origin origin);

struct WriteOrigin {
  Origin origin = Origin::ClientRequest;
  std::string principal;  // who is authenticated for it; empty until authentication exists
};

struct ChangeEvent {
  enum class Kind : std::uint8_t { Created, Updated, Deleted };
  using Instance = std::pair<model::Term, model::Term>;  // attribute name, datasetId

  Kind kind = Kind::Updated;
  Origin origin = Origin::ClientRequest;
  std::string principal;
  std::string tenant;
  std::shared_ptr<const model::Entity> entity;    // after the change; for Deleted, as it was
  std::shared_ptr<const model::Entity> previous;  // before the change (Updated only)
  std::vector<Instance> written;                  // instances this change wrote (all, for Created)
  std::vector<Instance> removed;                  // instances this change deleted
  Timestamp at = kNoTimestamp;
  storage::Sequence sequence = 0;  // the store group that made it durable (0 in contribute())
};

// A synchronous hook on the write path, not a consumer: writes that must become durable in the
// same store group as the change (history's records). Called by the writing thread under the
// tenant's write lock, before the group is queued; must be quick and must not call the twin.
class ChangeContributor {
 public:
  virtual ~ChangeContributor() = default;
  virtual void contribute(const ChangeEvent& event, std::vector<storage::Write>& writes) = 0;
};

}  // namespace ct::twin
