#pragma once
// The health application (issue #16): hospitals' bed occupancy.
//
// Hospitals are Smart Data Model `Building` entities whose `category` includes "hospital", reporting
// `occupiedBeds` against their `bedCapacity` (counts; not in the Smart Data Model:
// docs/data-models.md). Written on the hospital when it moved by a whole point: `bedOccupancy` (%,
// one decimal). KPI bedOccupancy (occupied / capacity over the area's hospitals, %) per district
// and city, hourly. A count that is not a non-negative number, a capacity that is not positive, more
// beds occupied than exist: `problemDetail` on the hospital naming it, counted
// (citytwin_health_readings_skipped_total{cause}). Alert: the default rule "hospital-beds-full".
#include <memory>
#include <optional>

#include "domains/core/application.hpp"

namespace ct::domains::health {

// Occupancy in % of `capacity`; nullopt unless 0 ≤ occupied ≤ capacity and capacity > 0.
std::optional<double> bed_occupancy(double occupied, double capacity);

std::unique_ptr<Application> make_application(AppServices& services);

}  // namespace ct::domains::health
