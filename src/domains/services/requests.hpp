#pragma once
// Citizen service requests: the workflow, the SLA clock and the figures per district and category.
// Pure logic; the services application (services_app.hpp) feeds it from the twin.
//
// Workflow: open → assigned → resolved → closed. A request moves forward only (steps may be
// skipped: a duplicate is closed at once); going back is refused. Its deadline is the time it was
// requested plus its category's SLA; a request not resolved by then is breached, once.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"

namespace ct::domains::services {

enum class RequestStatus { Open, Assigned, Resolved, Closed };
std::optional<RequestStatus> parse_request_status(std::string_view text);
std::string_view request_status_name(RequestStatus status);

struct ServiceRequest {
  std::string category, district;
  Timestamp requested = kNoTimestamp, deadline = kNoTimestamp;
  RequestStatus status = RequestStatus::Open;
  Timestamp resolved = kNoTimestamp;  // when it reached resolved (or closed without resolving)
  bool breached = false;
};

// A request as only its status is known: what observe() needs of a request already recorded.
inline ServiceRequest status_only(RequestStatus status) {
  ServiceRequest r;
  r.status = status;
  return r;
}

// The figures of one (district, category) over a period [from, to).
struct RequestFigures {
  std::size_t opened = 0;           // requested in the period
  std::size_t resolved = 0;         // resolved in the period
  std::size_t resolved_on_time = 0;
  std::size_t breached = 0;         // deadline in the period and missed (resolved late, or still not)
  std::size_t breached_unresolved = 0;  // ... of which not resolved by the period's end
  std::size_t backlog = 0;          // not resolved at the period's end (or now, for the current one)
  // Resolved on time / (resolved + breached_unresolved), in %; nullopt without any.
  std::optional<double> compliance() const;
};

class RequestBook {
 public:
  enum class Outcome { New, Moved, Unchanged };
  // Records a request as first seen (New), or its new status (Moved); a step back is InvalidRequest
  // naming both statuses, and the request keeps its status.
  Result<Outcome> observe(const std::string& id, const ServiceRequest& seen, Timestamp at);
  // Requests not resolved by their deadline at `now`, each returned once (marked breached).
  std::vector<std::string> newly_breached(Timestamp now);
  const ServiceRequest* find(const std::string& id) const;
  // Figures of the period [from, to) per district ("" : every district) and category ("" : every one).
  std::map<std::pair<std::string, std::string>, RequestFigures> figures(Timestamp from, Timestamp to) const;
  // Forgets requests closed before `before` (bounded memory).
  void forget_closed(Timestamp before);
  std::size_t size() const { return requests_.size(); }

 private:
  std::map<std::string, ServiceRequest> requests_;
};

}  // namespace ct::domains::services
