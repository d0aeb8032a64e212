#pragma once
// The air-quality application (issue #15): on `AirQualityObserved` stations.
//
// - Real-time AQI: at each reading (a write of one of pm25, pm10, so2, no2, co, o3), the station's
//   current values are evaluated on the tenant's profile (city settings) and put on the station inside
//   the reading's own write (realtime_aqi.hpp, the application's enricher): airQualityIndex,
//   airQualityLevel, iaqi and primaryPollutants, observed at the reading's time, so they have history
//   and can drive rules.
// - Units: each value's unitCode (GQ µg/m³, GP mg/m³, 59 ppm, 61 ppb); none: µg/m³ for every
//   pollutant, CO included, as the Beijing data reports it. A value that is not a number, is
//   negative or has a unit the profile cannot convert leaves the AQI out; the cause is counted.
// - Daily report (日报) and month calendar, computed from history (daily.hpp for the conventions).
// - KPIs: per city and district, the share of good-air days (AQI <= 100) over the last 30 complete
//   days (daily, at the turn of the day) and the current mean AQI of the stations (hourly).
//
// Attribute and type names: the Smart Data Models' IRIs (dataModel.Environment) and the core
// @context's default vocabulary both count (vocabulary.hpp); the AQI takes the namespace of the station's type.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domains/air/aqi.hpp"
#include "domains/air/daily.hpp"
#include "domains/core/application.hpp"
#include "domains/core/time_zone.hpp"

namespace ct::domains::air {

class AirQuality : public Application {
 public:
  // The daily report of one station and local day, on `profile` (the tenant's when empty).
  // BadRequestData: unknown profile, an entity that is not a station; ResourceNotFound: no entity;
  // OperationNotSupported: the server keeps no history.
  virtual Result<DailyReport> daily(const std::string& tenant, const std::string& id, const LocalDate& date,
                                    const std::string& profile) const = 0;
  // Every day of a month (days without data have no AQI).
  virtual Result<std::vector<DailyReport>> calendar(const std::string& tenant, const std::string& id, int year,
                                                    unsigned month, const std::string& profile) const = 0;
  // The reports of `count` consecutive days from `first`.
  virtual Result<std::vector<DailyReport>> days(const std::string& tenant, const std::string& id,
                                                const LocalDate& first, unsigned count,
                                                const std::string& profile) const = 0;
};

std::unique_ptr<AirQuality> make_application(AppServices& services);

}  // namespace ct::domains::air
