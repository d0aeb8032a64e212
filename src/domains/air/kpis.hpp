#pragma once
// The air application's KPIs (through domains/core/kpi.hpp), per city and per district (stations
// are placed in districts by their location, point in polygon):
// - meanAqi, hourly: the mean of the stations' current real-time AQI (readings of the last two
//   hours), republished at most every 10 s for the current hour while it changes;
// - meanAqi, daily: the mean of the stations' daily AQI of the tenant's previous local day;
// - goodAirDaysShare, daily: the share (%) of station-days with a daily AQI of at most 100 over the
//   30 complete local days before today.
// Daily figures are published at start and at each turn of the tenant's local day.
// Used on the applications thread only.
#include <atomic>
#include <map>
#include <optional>
#include <string>

#include "domains/core/application.hpp"
#include "domains/core/districts.hpp"
#include "domains/core/kpi.hpp"
#include "domains/core/time_zone.hpp"

namespace ct::domains::air {

class AirQuality;

class AirKpis {
 public:
  explicit AirKpis(AppServices& services);

  // A station and its latest real-time AQI (none: not known yet), read at `at`.
  void station(const std::string& tenant, const model::Entity& station, std::optional<int> aqi, Timestamp at);
  void forget(const std::string& tenant, const std::string& id);
  void tick(Timestamp now, const AirQuality& air);
  void counters(std::vector<AppCounter>& out) const;

 private:
  struct Station {
    std::optional<std::string> district;
    std::optional<int> aqi;
    Timestamp at = kNoTimestamp;
  };
  struct Tenant {
    std::map<std::string, Station> stations;
    bool changed = true;
    std::optional<LocalDate> published_day;
  };
  void publish(const std::string& tenant, KpiFigure figure);
  void publish_hourly(const std::string& tenant, Tenant& t, Timestamp now);
  void publish_daily(const std::string& tenant, Tenant& t, const LocalDate& today, const AirQuality& air);

  AppServices& services_;
  DistrictLocator districts_;
  std::map<std::string, Tenant> tenants_;
  Timestamp next_hourly_ = kNoTimestamp;
  std::atomic<std::uint64_t> published_{0}, failures_{0};
};

}  // namespace ct::domains::air
