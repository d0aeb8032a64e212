#pragma once
// The structures application (issue #16): bridges and dams.
//
// Bridges: Smart Data Model `Building` entities whose `category` includes "bridge", reporting
// `strain` (µε, unitCode 59), `tilt` (degrees DD, or C25 milliradians) and `vibration` (mm/s C16,
// or MTS); limits from the bridge's `strainLimit`, `tiltLimit`, `vibrationLimit` (same units), else
// 600 µε, 0.5°, 15 mm/s (structural.hpp). Written on the bridge when its state changes:
// `structuralState` normal | warning | alarm, `structuralCause` (strain | tilt | vibration), and
// `tiltChange` (degrees from its baseline) whenever it moves by 0.01°.
// Dams: WaterDistributionManagementEPANET `Reservoir` entities reporting `head` (the water level,
// m above datum, MTR or CMT) against their `floodControlLevel` (m): `floodState` normal |
// nearFloodControl | aboveFloodControl and `levelAboveFloodControl` (m), written when the state
// changes or the margin moves by 0.05 m.
// KPI structuralAlarms (bridges in alarm + dams above flood control) per district and city, hourly.
// A reading that is not a number or has a unit of another quantity, a bridge limit that is not a
// positive number, a dam without floodControlLevel: `problemDetail` on the entity naming it, counted
// (citytwin_structures_readings_skipped_total{cause}). Alerts: the default rules on structuralState
// and floodState (data/demo/rules.json).
#include <memory>

#include "domains/core/application.hpp"

namespace ct::domains::structures {

std::unique_ptr<Application> make_application(AppServices& services);

}  // namespace ct::domains::structures
