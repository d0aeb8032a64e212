#include "domains/air/air_quality.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include <spdlog/spdlog.h>

#include "domains/air/kpis.hpp"
#include "domains/air/realtime_aqi.hpp"
#include "domains/air/units.hpp"
#include "domains/air/vocabulary.hpp"
#include "domains/core/city_settings.hpp"
#include "history/history_store.hpp"

namespace ct::domains::air {
namespace {

constexpr Timestamp kHourMs = 3'600'000;

class AirQualityApp final : public AirQuality {
 public:
  explicit AirQualityApp(AppServices& services) : services_(services), kpis_(services), aqi_(services.settings) {
    std::vector<std::string> names;
    for (const auto& p : profiles()) names.push_back(p.name);
    services_.settings.allow_aqi_profiles(std::move(names));
  }

  std::string_view name() const override { return "air"; }
  std::vector<model::Term> consumes() const override { return {vocabulary().sdm_type, vocabulary().default_type}; }
  twin::Enricher* enricher() override { return &aqi_; }

  Status start() override {
    const auto& v = vocabulary();
    for (const auto& tenant : services_.twin.tenants()) {
      // Copied out first: placing a station queries the twin, which must not happen inside its scan
      // (the query may take the tenant's write lock to bring its indexes up to date).
      std::vector<model::Entity> stations;
      (void)services_.twin.scan(tenant, [&](const model::Entity& e) {
        if (v.is_station(e)) stations.push_back(e);
      });
      for (const auto& e : stations) {
        const auto* index = e.find(v.index_of(e));
        std::optional<int> aqi;
        if (index != nullptr && index->value.is_number()) aqi = static_cast<int>(index->value.to_number<double>());
        kpis_.station(tenant, e, aqi, index != nullptr ? index->observed_at : kNoTimestamp);
      }
    }
    return {};
  }

  // The AQI is already on the station (aqi_ put it in the reading's write): the KPIs take it from there.
  void on_change(const twin::ChangeEvent& event) override {
    const auto& v = vocabulary();
    if (event.kind == twin::ChangeEvent::Kind::Deleted) {
      kpis_.forget(event.tenant, event.entity->id);
      return;
    }
    const model::Entity& station = *event.entity;
    const model::Term index_name = v.index_of(station);
    const bool aqi_written = std::any_of(event.written.begin(), event.written.end(),
                                         [&](const twin::ChangeEvent::Instance& i) { return i.first == index_name; });
    if (!aqi_written) return;
    const auto* index = station.find(index_name);
    if (index == nullptr || !index->value.is_number()) return;
    kpis_.station(event.tenant, station, static_cast<int>(index->value.to_number<double>()),
                  index->observed_at == kNoTimestamp ? event.at : index->observed_at);
  }

  void on_tick(Timestamp now) override { kpis_.tick(now, *this); }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"air_readings", "station readings evaluated", "", aqi_.readings()});
    out.push_back({"air_aqi_written", "real-time AQI written on stations", "", aqi_.written()});
    for (std::size_t i = 0; i < kSkipCauseCount; ++i) {
      const auto cause = static_cast<SkipCause>(i);
      out.push_back({"air_aqi_skipped", "readings whose AQI was left out, by cause",
                     "cause=\"" + std::string(skip_cause_name(cause)) + "\"", aqi_.skipped(cause)});
    }
    kpis_.counters(out);
  }

  Result<DailyReport> daily(const std::string& tenant, const std::string& id, const LocalDate& date,
                            const std::string& profile_name) const override {
    auto one = days(tenant, id, date, 1, profile_name);
    if (!one) return one.problem();
    return std::move(one->front());
  }

  Result<std::vector<DailyReport>> calendar(const std::string& tenant, const std::string& id, int year,
                                            unsigned month, const std::string& profile_name) const override {
    if (month < 1 || month > 12) return bad_request("month must be 1 to 12");
    return days(tenant, id, LocalDate{year, month, 1}, days_in_month(year, month), profile_name);
  }

  Result<std::vector<DailyReport>> days(const std::string& tenant, const std::string& id, const LocalDate& first,
                                        unsigned count, const std::string& profile_name) const override {
    if (count == 0) return std::vector<DailyReport>{};
    const auto settings = services_.settings.get(tenant);
    const Profile* profile = &profile_or_default(settings->aqi_profile);
    if (!profile_name.empty()) {
      auto found = find_profile(profile_name);
      if (!found) return found.problem();
      profile = *found;
    }
    if (services_.history == nullptr)
      return Problem{ProblemKind::OperationNotSupported, "this server keeps no history: no daily reports"};
    const auto& v = vocabulary();
    // The station's pollutant attributes and their units (the current unitCode applies to the history).
    std::array<std::optional<std::pair<std::string, std::string>>, kPollutantCount> series;
    bool station = false;
    auto st = services_.twin.read(tenant, id, [&](const model::Entity& e) {
      station = v.is_station(e);
      for (std::size_t p = 0; p < kPollutantCount; ++p)
        if (const auto* a = v.find(e, static_cast<Pollutant>(p)))
          series[p] = {std::string(a->name.str()), std::string(a->unit_code.str())};
    });
    if (!st) return st.problem();
    if (!station) return bad_request("entity " + id + " is not an air-quality station (AirQualityObserved)");

    const auto& zone = settings->time_zone;
    std::vector<Timestamp> starts;  // count + 1 day boundaries
    for (unsigned d = 0; d <= count; ++d) starts.push_back(zone.start_of_day(add_days(first, static_cast<int>(d))));
    std::vector<DayHours> hours(count);
    for (unsigned d = 0; d < count; ++d) {
      hours[d].hours = static_cast<std::size_t>(std::max<Timestamp>(1, (starts[d + 1] - starts[d] + kHourMs - 1) / kHourMs));
      for (auto& values : hours[d].values) values.assign(hours[d].hours, std::nullopt);
    }
    std::vector<std::pair<double, int>> sums;
    for (std::size_t p = 0; p < kPollutantCount; ++p) {
      if (!series[p]) continue;
      const auto pollutant = static_cast<Pollutant>(p);
      const auto& unit = series[p]->second;
      if (!to_micrograms(pollutant, unit, 1)) continue;  // a unit no profile converts: no values
      // Several values in one hour are averaged into that hour's value.
      std::size_t day = 0;
      auto flush = [&](std::size_t d) {
        for (std::size_t h = 0; h < sums.size(); ++h)
          if (sums[h].second > 0) hours[d].values[p][h] = sums[h].first / sums[h].second;
      };
      sums.assign(hours[0].hours, {0.0, 0});
      auto status = services_.history->numeric_points(
          tenant, id, series[p]->first, starts.front(), starts.back(), [&](Timestamp t, double value) {
            while (day + 1 < count && t >= starts[day + 1]) {
              flush(day);
              ++day;
              sums.assign(hours[day].hours, {0.0, 0});
            }
            auto ug = to_micrograms(pollutant, unit, value);
            if (!ug || *ug < 0) return;
            const auto h = static_cast<std::size_t>((t - starts[day]) / kHourMs);
            if (h >= sums.size()) return;
            sums[h].first += *ug;
            ++sums[h].second;
          });
      if (!status) return status.problem();
      flush(day);
    }
    std::vector<DailyReport> out;
    out.reserve(count);
    for (unsigned d = 0; d < count; ++d) {
      auto report = compute_daily(*profile, hours[d]);
      report.id = id;
      report.date = add_days(first, static_cast<int>(d));
      out.push_back(std::move(report));
    }
    return out;
  }

 private:
  AppServices& services_;
  AirKpis kpis_;
  RealTimeAqi aqi_;
};

}  // namespace

std::unique_ptr<AirQuality> make_application(AppServices& services) { return std::make_unique<AirQualityApp>(services); }

}  // namespace ct::domains::air
