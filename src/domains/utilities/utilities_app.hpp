#pragma once
// The utilities application (issue #16): water district metering areas and power substations.
//
// Water (Smart Data Model WaterDistributionManagementEPANET): a DMA is named by the `tag` of its
// entities; its inlet meter is a `Pipe` reporting `flow`, its pressure points are `Junction`s
// reporting `pressure`.
// - On each inlet flow reading: the minimum night flow (water.hpp) of the night window in the
//   city's time zone; when a night closes, `minimumNightFlow` (L/s), `expectedNightFlow` (the
//   configured `expectedNightFlow` of the Pipe, else learned) and `leakSuspected` (true/false) are
//   written on the Pipe, with `leakIndicator` "minimumNightFlow".
// - On each junction pressure reading: `pressureDrop` (true/false) and the junction's recent
//   `pressureLevel` written when the drop starts or clears.
// - KPIs: leakCount (DMAs with either indicator on) per district and city, hourly; minimumNightFlow
//   per DMA (subject: the tag), daily.
// Power (Smart Data Model Energy `ThreePhaseAcMeasurement`, one per substation or transformer):
// - On each `totalApparentPower` reading against the entity's `ratedApparentPower` (kVA):
//   `loadRatio` (two decimals; written when it moved by 0.02 or the status changed) and
//   `loadStatus` normal | high | overloaded (power.hpp).
// - KPIs: peakLoadRatio per district and city and per primary substation (rated 10 MVA or more;
//   subject: its id), overloadedSubstations per district and city, hourly.
// Units (UN/CEFACT unitCode, core/units.hpp): flow L2|MQH|MQS, pressure MTR|KPA|BAR|MPA, power
// KVA|MVA|D46. A reading without a unitCode, with one of another quantity, not a number, or a
// substation without a rating: `problemDetail` written on the entity naming it, the cause counted on
// /metrics (citytwin_utilities_readings_skipped_total{cause}), nothing else changes.
// Alerts come from the default rules on these attributes (data/demo/rules.json).
#include <memory>

#include "domains/core/application.hpp"

namespace ct::domains::utilities {

std::unique_ptr<Application> make_application(AppServices& services);

}  // namespace ct::domains::utilities
