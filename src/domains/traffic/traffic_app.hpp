#pragma once
// The transport application (issue #15), on `TrafficFlowObserved` road sensors (Smart Data Models'
// dataModel.Transportation, or the core @context's default vocabulary).
//
// - A reading is a change that wrote `averageVehicleSpeed`, in km/h or in the unit its `unitCode`
//   names (HM: mph, as METR-LA reports; MTS: m/s); no unitCode is km/h, the Smart Data Model's unit.
//   A speed that is not a non-negative number, or has a unit it cannot convert, is counted on
//   /metrics (citytwin_traffic_readings_skipped_total{cause}) and changes nothing.
// - Written back on the sensor at each reading, observed at the reading's time (so they have
//   history and can drive rules): `congestionIndex` (0–10, one decimal), `congestionLevel` (the band's
//   English key: freeFlow … severeCongestion), and the Smart Data Model's `congested` (true from
//   lightCongestion on). Its own write-backs write no speed and are ignored by that content.
// - Free-flow speed: the city settings' `freeFlowSpeedKmh` when set, else each sensor's own, learned
//   as the settings' percentile (85th) of its speeds; a sensor's numeric `freeFlowSpeed` attribute
//   (km/h) overrides both.
// - Congestion events (jam_detector.hpp): an SDM Alert (category traffic, subCategory trafficJam,
//   alertSource the sensor, validFrom when the drop began, status active) raised when a sensor stays
//   well below its usual speed for that local time of day; cleared (validTo, status cleared) on
//   recovery. Alerts left active by a previous run are cleared at start (the detector's state is
//   in memory and starts afresh).
// - KPI meanCongestionIndex, hourly, per district (sensors placed by their location in the city's
//   district layer) and city-wide: the mean of the sensors' current index, kept as running sums
//   (O(1) per reading), republished at most every 10 s while it changes.
#include <memory>

#include "domains/core/application.hpp"

namespace ct::domains::traffic {

std::unique_ptr<Application> make_application(AppServices& services);

}  // namespace ct::domains::traffic
