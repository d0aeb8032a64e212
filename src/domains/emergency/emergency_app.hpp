#pragma once
// The emergency response application (issue #16): emergency calls, incidents and response units,
// with the existing incident workflow and dispatcher (rules/incidents.hpp).
//
// - An `EmergencyCall` entity (category medical | fire | rescue | crime | traffic | ..., a GeoProperty
//   `location`, `description`) opens an Incident of its category at its location, with the unit
//   kind it needs (response.hpp), and written back on the call as `refIncident`.
// - An Incident that is open and whose unit kind is known (its `unitKind`, else from its category),
//   whether the application opened it or a rule did, is dispatched at once: the nearest available
//   ResponseUnit of that kind, by travel time over the tenant's road graph when it has one, else by
//   distance. With no unit available, it is tried again every 5 s.
// - A ResponseUnit reporting `status` "onScene" while assigned to an incident: the incident's
//   `responseTime` (seconds from its opening) and `arrivedAt` are written on it; the unit reporting
//   "available" afterwards resolves the incident.
// - KPIs of the local day, per district (of the incident's location) and city: responseTimeMedian,
//   responseTime90th (seconds, nearest rank) and incidentsReached.
// Without an incident workflow (AppServices::incidents null), calls are counted and left alone.
#include <memory>

#include "domains/core/application.hpp"

namespace ct::domains::emergency {

std::unique_ptr<Application> make_application(AppServices& services);

}  // namespace ct::domains::emergency
