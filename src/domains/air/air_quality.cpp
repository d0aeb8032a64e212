#include "domains/air/air_quality.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include <spdlog/spdlog.h>

#include "domains/air/kpis.hpp"
#include "domains/air/units.hpp"
#include "domains/core/city_settings.hpp"
#include "history/history_store.hpp"

namespace ct::domains::air {
namespace {

using model::Term;

constexpr std::string_view kSdm = "https://smartdatamodels.org/dataModel.Environment/";
constexpr std::string_view kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr Timestamp kHourMs = 3'600'000;

Term term(std::string_view ns, std::string_view name) { return Term::intern(std::string(ns) + std::string(name)); }

// The names the application reads and writes, in both vocabularies.
struct Vocabulary {
  Term sdm_type = term(kSdm, "AirQualityObserved"), default_type = term(kDefault, "AirQualityObserved");
  std::array<std::array<Term, 2>, kPollutantCount> pollutants;  // [pollutant][sdm, default]
  Term index_sdm = term(kSdm, "airQualityIndex"), index_default = term(kDefault, "airQualityIndex");
  Term level_sdm = term(kSdm, "airQualityLevel"), level_default = term(kDefault, "airQualityLevel");
  // Not in the Smart Data Model: the core @context's default vocabulary, whatever the station's type.
  Term iaqi = term(kDefault, "iaqi"), primary = term(kDefault, "primaryPollutants"),
       problem = term(kDefault, "aqiProblem");
  Vocabulary() {
    for (std::size_t p = 0; p < kPollutantCount; ++p) {
      const auto key = pollutant_key(static_cast<Pollutant>(p));
      pollutants[p] = {term(kSdm, key), term(kDefault, key)};
    }
  }
  bool is_station(const model::Entity& e) const { return e.has_type(sdm_type) || e.has_type(default_type); }
  std::optional<Pollutant> pollutant_of(Term name) const {
    for (std::size_t p = 0; p < kPollutantCount; ++p)
      if (pollutants[p][0] == name || pollutants[p][1] == name) return static_cast<Pollutant>(p);
    return std::nullopt;
  }
  // The instance of a pollutant on a station (the Smart Data Model's name first).
  const model::Attribute* find(const model::Entity& e, Pollutant p) const {
    const auto& names = pollutants[static_cast<std::size_t>(p)];
    if (const auto* a = e.find(names[0])) return a;
    return e.find(names[1]);
  }
};

const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

json::object property(json::value value, Timestamp observed_at) {
  json::object p{{"type", "Property"}, {"value", std::move(value)}};
  if (observed_at != kNoTimestamp) p["observedAt"] = format_datetime(observed_at);
  return p;
}

// The tenant's profile; the default one if the stored name is unknown to this build.
const Profile& profile_for(const CitySettings& settings) {
  auto found = find_profile(settings.aqi_profile);
  return found ? **found : profiles().front();
}

class AirQualityApp final : public AirQuality {
 public:
  explicit AirQualityApp(AppServices& services) : services_(services), kpis_(services) {
    std::vector<std::string> names;
    for (const auto& p : profiles()) names.push_back(p.name);
    services_.settings.allow_aqi_profiles(std::move(names));
  }

  std::string_view name() const override { return "air"; }
  std::vector<Term> consumes() const override { return {vocabulary().sdm_type, vocabulary().default_type}; }

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
        const auto* index = e.find(e.has_type(v.sdm_type) ? v.index_sdm : v.index_default);
        std::optional<int> aqi;
        if (index != nullptr && index->value.is_number()) aqi = static_cast<int>(index->value.to_number<double>());
        kpis_.station(tenant, e, aqi, index != nullptr ? index->observed_at : kNoTimestamp);
      }
    }
    return {};
  }

  void on_change(const twin::ChangeEvent& event) override {
    const auto& v = vocabulary();
    if (event.kind == twin::ChangeEvent::Kind::Deleted) {
      kpis_.forget(event.tenant, event.entity->id);
      return;
    }
    // A reading is a change that wrote a pollutant; the application's own write-backs write none.
    Timestamp reading_time = kNoTimestamp;
    bool reading = false;
    for (const auto& [name, dataset] : event.written) {
      if (!v.pollutant_of(name)) continue;
      reading = true;
      if (const auto* a = event.entity->find(name, dataset); a && a->observed_at != kNoTimestamp)
        reading_time = std::max(reading_time, a->observed_at);
    }
    if (!reading) return;
    ++readings_;
    evaluate(event.tenant, *event.entity, reading_time);
  }

  void on_tick(Timestamp now) override { kpis_.tick(now, *this); }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"air_readings", "station readings evaluated", "", readings_.load()});
    out.push_back({"air_aqi_written", "real-time AQI written on stations", "", written_.load()});
    for (std::size_t i = 0; i < kSkipCauseCount; ++i)
      out.push_back({"air_aqi_skipped", "readings whose AQI was left out, by cause",
                     "cause=\"" + std::string(skip_cause_name(static_cast<SkipCause>(i))) + "\"", skipped_[i].load()});
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
    const Profile* profile = &profile_for(*settings);
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
  void skip(SkipCause cause) { ++skipped_[static_cast<std::size_t>(cause)]; }

  // The real-time AQI of the station's current values, written back on it.
  void evaluate(const std::string& tenant, const model::Entity& station, Timestamp reading_time) {
    const auto& v = vocabulary();
    const auto settings = services_.settings.get(tenant);
    const Profile& profile = profile_for(*settings);
    std::vector<IndicatorValue> values;
    std::optional<Problem> problem;
    std::optional<SkipCause> cause;
    for (const auto& indicator : profile.real_time) {
      if (indicator.fallback_only) continue;
      const auto* a = v.find(station, indicator.pollutant);
      if (a == nullptr) continue;
      // Values of an earlier hour than the reading are not part of it.
      if (reading_time != kNoTimestamp && a->observed_at != kNoTimestamp && a->observed_at + kHourMs <= reading_time)
        continue;
      const auto key = pollutant_key(indicator.pollutant);
      if (!a->value.is_number()) {
        cause = SkipCause::NotNumeric;
        problem = bad_request("the value of " + std::string(key) + " of " + station.id + " is not a number: " +
                              to_text(a->value));
        break;
      }
      const double raw = a->value.to_number<double>();
      if (raw < 0) {
        cause = SkipCause::Negative;
        problem = bad_request("the value of " + std::string(key) + " of " + station.id + " is negative: " + to_text(a->value));
        break;
      }
      auto ug = to_micrograms(indicator.pollutant, a->unit_code.str(), raw);
      if (!ug) {
        cause = SkipCause::UnknownUnit;
        problem = Problem{ug.problem().kind, ug.problem().detail + " (" + station.id + ")"};
        break;
      }
      values.push_back({indicator.key, *ug});
    }
    const bool sdm = station.has_type(v.sdm_type);
    json::object body;
    AqiResult result;
    if (!problem) {
      result = compute_aqi(profile, profile.real_time, values);
      if (!result.aqi) {
        skip(SkipCause::NoValues);
        return;
      }
      json::object iaqi;
      for (const auto& [key, index] : result.iaqi) iaqi[key] = index;
      json::array primary;
      for (const auto& key : result.primary) primary.emplace_back(key);
      body[std::string((sdm ? v.index_sdm : v.index_default).str())] = property(*result.aqi, reading_time);
      body[std::string((sdm ? v.level_sdm : v.level_default).str())] = property(json::string(result.category->key), reading_time);
      body[std::string(v.iaqi.str())] = property(std::move(iaqi), reading_time);
      body[std::string(v.primary.str())] = property(std::move(primary), reading_time);
      if (station.find(v.problem) != nullptr) body[std::string(v.problem.str())] = nullptr;
    } else {
      skip(*cause);
      // The reading stays stored; its AQI is left out, and the station says why.
      body[std::string(v.problem.str())] = property(
          json::object{{"type", "https://uri.etsi.org/ngsi-ld/errors/" + std::string(kind_name(problem->kind))},
                       {"title", "AQI not computed"},
                       {"detail", problem->detail}},
          reading_time);
    }
    jsonld::DecodeOptions options;
    options.allow_null_values = true;
    auto decoded = jsonld::decode_entity(body, *services_.contexts.core(), options);
    if (!decoded) {
      skip(SkipCause::WriteFailed);
      spdlog::warn("air: the AQI of {} does not decode: {}", station.id, decoded.problem().detail);
      return;
    }
    auto done = services_.twin.merge(tenant, station.id, std::move(decoded).value(), {twin::Origin::Application, {}});
    if (!done) {
      if (done.problem().kind != ProblemKind::ResourceNotFound) {
        skip(SkipCause::WriteFailed);
        spdlog::warn("air: cannot write the AQI of {}: {}", station.id, done.problem().detail);
      }
      return;
    }
    if (problem) return;
    ++written_;
    kpis_.station(tenant, station, result.aqi, reading_time == kNoTimestamp ? now_ms() : reading_time);
  }

  AppServices& services_;
  AirKpis kpis_;
  std::atomic<std::uint64_t> readings_{0}, written_{0};
  std::array<std::atomic<std::uint64_t>, kSkipCauseCount> skipped_{};
};

}  // namespace

std::string_view skip_cause_name(SkipCause cause) {
  switch (cause) {
    case SkipCause::NotNumeric: return "not_numeric";
    case SkipCause::Negative: return "negative";
    case SkipCause::UnknownUnit: return "unknown_unit";
    case SkipCause::NoValues: return "no_values";
    case SkipCause::WriteFailed: return "write_failed";
  }
  return "";
}

std::unique_ptr<AirQuality> make_application(AppServices& services) { return std::make_unique<AirQualityApp>(services); }

}  // namespace ct::domains::air
