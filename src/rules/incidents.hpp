#pragma once
// Incidents: twin entities of type Incident (core @context names) with the lifecycle
//
//   open → acknowledged → dispatched → resolved → closed
//
// (dispatched may be skipped: acknowledged → resolved; any state but closed may be closed), opened by
// a rule's action or by an operator. Each step is appended to `timeline` ([{status, by, at, note}])
// and stamped (acknowledgedAt, ...); timeToAcknowledge, timeToDispatch and timeToResolve hold the
// seconds since the incident was opened. Dispatching assigns response units: ResponseUnit entities
// with `kind` (a string), `available` (true/false) and a GeoProperty `location`; the nearest
// available units of the asked kind are proposed (dispatch.hpp), the chosen one gets
// available=false and assignedIncident, and the incident assignedUnit.
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context.hpp"
#include "rules/dispatch.hpp"
#include "storage/store.hpp"
#include "twin/twin.hpp"

namespace ct::rules {

enum class IncidentStep : std::uint8_t { Acknowledge, Dispatch, Resolve, Close };

struct IncidentSpec {
  std::string id;  // empty: one is made up
  std::string category, sub_category, description, severity = "medium";
  std::optional<json::value> location;  // a GeoJSON geometry
  std::string alert;                    // the Alert entity that opened it, if any
  std::string source;                   // the entity concerned, if any
  std::string unit_kind;                // the kind of response unit it needs, if known
  std::string by = "system";
};

struct StepRequest {
  IncidentStep step = IncidentStep::Acknowledge;
  std::string by;
  std::string note;
  // Dispatch: either the unit to send, or the kind to look for (default: the incident's unitKind)
  // and how to rank candidates.
  std::string unit;
  std::string kind;
  RankBy rank = RankBy::Distance;
};

struct Written {
  std::string id;
  storage::Sequence sequence = 0;
  json::object detail;  // what the step decided (dispatch: the unit and its distance / travel time)
};

class Incidents {
 public:
  Incidents(twin::Twin& twin, jsonld::ContextPtr context, RoadGraphs& roads);

  // Checks the spec (BadRequestData) and creates the Incident entity.
  Result<Written> open(const std::string& tenant, const IncidentSpec& spec,
                       const twin::WriteOrigin& origin = {});
  // Parses an operator's POST /admin/v1/incidents body.
  static Result<IncidentSpec> parse_spec(const json::object& body);
  static Result<StepRequest> parse_step(IncidentStep step, const json::object& body);

  // ResourceNotFound if there is no such incident; Conflict on a step its state does not allow (or no
  // unit to send).
  Result<Written> advance(const std::string& tenant, const std::string& id, const StepRequest& request);

  // The available units of `kind` nearest to the incident, best first.
  Result<std::vector<Candidate>> proposals(const std::string& tenant, const std::string& id, const std::string& kind,
                                           RankBy rank, std::size_t limit);

  // Dispatches several open or acknowledged incidents at once, choosing units of `kind` so that the
  // total travel time (or distance) is smallest.
  Result<std::vector<Written>> dispatch_many(const std::string& tenant, const std::vector<std::string>& ids,
                                             const std::string& kind, RankBy rank, const std::string& by);

  const jsonld::Context& context() const { return *context_; }

 private:
  struct Snapshot;
  Result<Snapshot> load(const std::string& tenant, const std::string& id) const;
  std::vector<Unit> available_units(const std::string& tenant, const std::string& kind) const;
  Result<Written> assign(const std::string& tenant, const Snapshot& incident, const Candidate& unit,
                         const std::string& by, const std::string& note);

  twin::Twin& twin_;
  jsonld::ContextPtr context_;
  RoadGraphs& roads_;
  std::mutex mutex_;  // one step at a time: each reads the incident, then writes it
};

// A transition that the lifecycle does not allow.
inline constexpr std::string_view kIllegalTransition = "illegal transition";

}  // namespace ct::rules
