#include "domains/air/kpis.hpp"

#include <cmath>

#include <spdlog/spdlog.h>

#include "domains/air/air_quality.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/kpi.hpp"

namespace ct::domains::air {
namespace {

constexpr Timestamp kOneHourMs = 3'600'000;
constexpr Timestamp kRepublishMs = 10'000;
constexpr int kGoodDaysWindow = 30;
constexpr int kGoodAqi = 100;

// Sums of a figure per area: the city (key "") and each district.
struct Tally {
  std::map<std::string, std::pair<double, std::size_t>> areas;
  void add(const std::optional<std::string>& district, double value) {
    auto& city = areas[""];
    city.first += value, ++city.second;
    if (district) {
      auto& d = areas[*district];
      d.first += value, ++d.second;
    }
  }
};

std::optional<std::string> area_of(const std::string& key) {
  return key.empty() ? std::nullopt : std::optional<std::string>(key);
}

// One figure per area of the tally (the city under ""): `base` for that area, its value the mean of
// the area's values to a tenth, its description ending in "(<count> <counted>)".
std::vector<KpiFigure> means(const Tally& tally, const KpiFigure& base, const std::string& counted) {
  std::vector<KpiFigure> out;
  for (const auto& [area, sum] : tally.areas) {
    if (sum.second == 0) continue;
    KpiFigure f = base;
    f.description += " (" + std::to_string(sum.second) + " " + counted + ")";
    f.district = area_of(area);
    f.value = std::round(sum.first / static_cast<double>(sum.second) * 10) / 10;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

AirKpis::AirKpis(AppServices& services) : services_(services), districts_(services.twin, services.contexts) {}

void AirKpis::station(const std::string& tenant, const model::Entity& entity, std::optional<int> aqi, Timestamp at) {
  auto& t = tenants_[tenant];
  auto& s = t.stations[entity.id];
  if (!s.district) {
    if (auto point = point_location(entity))
      s.district = districts_.district_of(tenant, services_.settings.get(tenant)->district_type, point->first,
                                          point->second);
  }
  if (aqi) {
    s.aqi = aqi;
    s.at = at;
    t.changed = true;
  }
}

void AirKpis::forget(const std::string& tenant, const std::string& id) {
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return;
  it->second.stations.erase(id);
  it->second.changed = true;
}

void AirKpis::publish(const std::string& tenant, KpiFigure figure) {
  figure.application = "air";
  auto done = services_.kpis.publish(tenant, figure);
  if (done) {
    ++published_;
  } else {
    ++failures_;
    spdlog::warn("air: cannot publish KPI {}: {}", kpi_entity_id(figure), done.problem().detail);
  }
}

void AirKpis::publish_hourly(const std::string& tenant, Tenant& t, Timestamp now) {
  Tally tally;
  for (const auto& [id, s] : t.stations)
    if (s.aqi && s.at != kNoTimestamp && s.at > now - 2 * kOneHourMs) tally.add(s.district, *s.aqi);
  const Timestamp hour = now - now % kOneHourMs;
  KpiFigure base;
  base.indicator = "meanAqi";
  base.name = "Mean real-time AQI";
  base.description = "The mean of the air-quality stations' current real-time AQI";
  base.frequency = "hourly";
  base.from = hour;
  base.to = hour + kOneHourMs;
  for (auto& f : means(tally, base, "stations")) publish(tenant, std::move(f));
}

void AirKpis::publish_daily(const std::string& tenant, Tenant& t, const LocalDate& today, const AirQuality& air) {
  const auto settings = services_.settings.get(tenant);
  const auto& zone = settings->time_zone;
  const LocalDate first = add_days(today, -kGoodDaysWindow);
  const LocalDate yesterday = add_days(today, -1);
  Tally good, yesterday_aqi;
  for (const auto& [id, s] : t.stations) {
    auto reports = air.days(tenant, id, first, kGoodDaysWindow, "");
    if (!reports) continue;
    for (const auto& r : *reports) {
      if (!r.result.aqi) continue;
      good.add(s.district, *r.result.aqi <= kGoodAqi ? 100.0 : 0.0);
      if (r.date == yesterday) yesterday_aqi.add(s.district, *r.result.aqi);
    }
  }
  KpiFigure share;
  share.indicator = "goodAirDaysShare";
  share.name = "Share of good-air days";
  share.description = "Share (%) of station-days with a daily AQI of at most 100 over the last 30 days";
  share.frequency = "daily";
  share.from = zone.start_of_day(first);
  share.to = zone.start_of_day(today);
  for (auto& f : means(good, share, "station-days")) {
    f.standing = f.value >= 80 ? "good" : f.value >= 60 ? "fair" : "bad";
    publish(tenant, std::move(f));
  }
  KpiFigure daily;
  daily.indicator = "meanAqi";
  daily.name = "Mean daily AQI";
  daily.description = "The mean of the stations' daily AQI";
  daily.frequency = "daily";
  daily.from = zone.start_of_day(yesterday);
  daily.to = zone.start_of_day(today);
  for (auto& f : means(yesterday_aqi, daily, "stations")) publish(tenant, std::move(f));
}

void AirKpis::tick(Timestamp now, const AirQuality& air) {
  const bool hourly = next_hourly_ == kNoTimestamp || now >= next_hourly_;
  for (auto& [tenant, t] : tenants_) {
    if (hourly && t.changed) {
      t.changed = false;
      publish_hourly(tenant, t, now);
    }
    const LocalDate today = services_.settings.get(tenant)->time_zone.date_of(now);
    if (!t.published_day || !(*t.published_day == today)) {
      t.published_day = today;
      publish_daily(tenant, t, today, air);
    }
  }
  if (hourly) next_hourly_ = now + kRepublishMs;
}

void AirKpis::counters(std::vector<AppCounter>& out) const {
  out.push_back({"air_kpis_published", "KPI values published", "", published_.load()});
  out.push_back({"air_kpi_failures", "KPI values that could not be published", "", failures_.load()});
}

}  // namespace ct::domains::air
