#include "domains/utilities/utilities_app.hpp"

#include <array>
#include <cmath>
#include <map>
#include <set>

#include "domains/core/app_support.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/districts.hpp"
#include "domains/core/units.hpp"
#include "domains/utilities/power.hpp"
#include "domains/utilities/water.hpp"

namespace ct::domains::utilities {
namespace {

using model::Term;

constexpr std::string_view kWater = "https://smartdatamodels.org/dataModel.WaterDistributionManagementEPANET/";
constexpr std::string_view kEnergy = "https://smartdatamodels.org/dataModel.Energy/";
constexpr Timestamp kHourMs = 3'600'000, kDayMs = 24 * kHourMs;
constexpr double kPrimaryKva = 10'000;  // substations rated this much or more get a KPI of their own

Term term(std::string_view ns, std::string_view name) { return Term::intern(std::string(ns) + std::string(name)); }

struct Vocabulary {
  Term pipe = term(kWater, "Pipe"), junction = term(kWater, "Junction"), flow = term(kWater, "flow"),
       pressure = term(kWater, "pressure"), tag = Term::intern("https://smartdatamodels.org/tag");
  Term measurement = term(kEnergy, "ThreePhaseAcMeasurement"), apparent = term(kEnergy, "totalApparentPower");
  Term rated = default_term("ratedApparentPower"), expected_night = default_term("expectedNightFlow");
};
const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

enum class Skip : std::uint8_t { NotNumeric, NoUnit, WrongUnit, NoRating };
constexpr std::array<std::string_view, 4> kSkipNames{"not_numeric", "no_unit", "wrong_unit", "no_rating"};

std::string standing(bool good) { return good ? "good" : "bad"; }

class UtilitiesApp final : public Application {
 public:
  explicit UtilitiesApp(AppServices& services)
      : services_(services), districts_(services.twin, services.contexts),
        writer_(services.twin, services.contexts.core(), "utilities") {}

  std::string_view name() const override { return "utilities"; }
  std::vector<Term> consumes() const override {
    const auto& v = vocabulary();
    return {v.pipe, v.junction, v.measurement};
  }

  void on_change(const twin::ChangeEvent& event) override {
    if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return;
    const auto& v = vocabulary();
    const auto& e = *event.entity;
    if (e.has_type(v.pipe) && wrote(event, v.flow)) flow_reading(event.tenant, e);
    else if (e.has_type(v.junction) && wrote(event, v.pressure)) pressure_reading(event.tenant, e);
    else if (e.has_type(v.measurement) && wrote(event, v.apparent)) load_reading(event.tenant, e);
  }

  void on_tick(Timestamp now) override {
    const Timestamp hour = now - now % kHourMs;
    if (hour != hour_) {
      hour_ = hour;
      for (auto& [tenant, t] : tenants_) {
        for (auto& [id, s] : t.substations) s.monitor.reset_peak();
        t.changed = true;
      }
    }
    for (auto& [tenant, t] : tenants_)
      if (t.changed) {
        t.changed = false;
        hourly_figures(tenant, t, hour);
      }
    board_.flush(services_.kpis, now);
  }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"utilities_readings", "water flow, pressure and substation load readings received", "", readings_.load()});
    for (std::size_t i = 0; i < kSkipNames.size(); ++i)
      out.push_back({"utilities_readings_skipped", "readings left out, by cause",
                     "cause=\"" + std::string(kSkipNames[i]) + "\"", skipped_[i].load()});
    out.push_back({"utilities_leaks_suspected", "leak indicators raised (night flow or pressure drop)", "", leaks_.load()});
    out.push_back({"utilities_overloads", "substations that became overloaded", "", overloads_.load()});
    out.push_back({"utilities_kpis_published", "utilities KPI values published", "", board_.published()});
    out.push_back({"utilities_write_failures", "write-backs that failed", "", writer_.failures()});
  }

 private:
  struct Dma {
    std::string district;
    std::set<std::string> night_leaks;  // inlet pipes whose last night indicated a leak
    std::set<std::string> dropped;      // junctions in a pressure drop
    bool leaking() const { return !night_leaks.empty() || !dropped.empty(); }
  };
  struct Substation {
    std::string district;
    LoadMonitor monitor;
    double written_ratio = -1;
    bool primary = false;
  };
  struct Tenant {
    std::map<std::string, Dma> dmas;
    std::map<std::string, NightFlowTracker> pipes;
    std::map<std::string, PressureDropDetector> junctions;
    std::map<std::string, Substation> substations;
    LocalDay day;
    bool changed = false;
  };

  // The reading of `attribute` in the quantity's base unit, or nothing (problem written, counted).
  std::optional<double> measure(const std::string& tenant, const model::Entity& e, Term attribute,
                                std::string_view label, Quantity quantity) {
    const auto* a = e.find(attribute);
    if (a == nullptr) return std::nullopt;
    ++readings_;
    const Timestamp at = reading_time(*a);
    const std::string codes = quantity == Quantity::Flow       ? "L2, MQH or MQS"
                              : quantity == Quantity::Pressure ? "MTR, KPA, BAR or MPA"
                                                               : "KVA, MVA or D46";
    if (!a->value.is_number())
      return skip(Skip::NotNumeric, tenant, e.id, std::string(label) + " is not a number", at);
    if (a->unit_code.empty())
      return skip(Skip::NoUnit, tenant, e.id, std::string(label) + " has no unitCode (" + codes + ")", at);
    const auto factor = unit_factor(quantity, a->unit_code.str());
    if (!factor)
      return skip(Skip::WrongUnit, tenant, e.id,
                  std::string(label) + " has unitCode " + std::string(a->unit_code.str()) + ", not " + codes, at);
    return a->value.to_number<double>() * *factor;
  }

  std::optional<double> skip(Skip cause, const std::string& tenant, const std::string& id, std::string detail,
                             Timestamp at) {
    ++skipped_[static_cast<std::size_t>(cause)];
    writer_.report_problem(tenant, id, bad_request(std::move(detail)), at);
    return std::nullopt;
  }

  std::string district_of(const std::string& tenant, const model::Entity& e) {
    const auto point = point_location(e);
    if (!point) return {};
    return districts_.district_of(tenant, services_.settings.get(tenant)->district_type, point->first, point->second)
        .value_or("");
  }

  Dma& dma_of(const std::string& tenant, Tenant& t, const model::Entity& e) {
    const std::string tag = text_of(e, vocabulary().tag).value_or(e.id);
    auto [it, added] = t.dmas.try_emplace(tag);
    if (added) it->second.district = district_of(tenant, e);
    return it->second;
  }

  void flow_reading(const std::string& tenant, const model::Entity& pipe) {
    const auto flow = measure(tenant, pipe, vocabulary().flow, "flow", Quantity::Flow);
    if (!flow) return;
    const Timestamp at = reading_time(*pipe.find(vocabulary().flow));
    auto& t = tenants_[tenant];
    auto& dma = dma_of(tenant, t, pipe);
    const auto settings = services_.settings.get(tenant);
    const auto day = t.day.of(settings->time_zone, at);
    const auto verdict = t.pipes[pipe.id].observe(day.start, at - day.start, *flow, night_settings_,
                                                  number_of(pipe, vocabulary().expected_night));
    if (!verdict) return;
    json::object body{{"minimumNightFlow", property(std::round(verdict->minimum * 100) / 100, at, "L2")},
                      {"leakSuspected", property(verdict->leak, at)},
                      {"leakIndicator", property(json::string(verdict->leak ? "minimumNightFlow" : "none"), at)}};
    if (verdict->expected) body["expectedMinimumNightFlow"] = property(std::round(*verdict->expected * 100) / 100, at, "L2");
    writer_.merge(tenant, pipe.id, body);
    const bool was = dma.leaking();
    if (verdict->leak) dma.night_leaks.insert(pipe.id);
    else dma.night_leaks.erase(pipe.id);
    if (!was && dma.leaking()) ++leaks_;
    t.changed = true;
    KpiFigure f = figure("minimumNightFlow", "Minimum night flow",
                         "The metering area's smallest inflow in the night window (L/s): mostly leakage", "daily",
                         dma.district, verdict->night, verdict->night + kDayMs, verdict->minimum);
    f.value = std::round(f.value * 100) / 100;
    f.subject = text_of(pipe, vocabulary().tag).value_or(pipe.id);
    f.standing = standing(!verdict->leak);
    board_.set(tenant, std::move(f));
  }

  void pressure_reading(const std::string& tenant, const model::Entity& junction) {
    const auto pressure = measure(tenant, junction, vocabulary().pressure, "pressure", Quantity::Pressure);
    if (!pressure) return;
    const Timestamp at = reading_time(*junction.find(vocabulary().pressure));
    auto& t = tenants_[tenant];
    auto& detector = t.junctions[junction.id];
    const auto change = detector.observe(*pressure, drop_settings_);
    if (change == DropChange::None) return;
    auto& dma = dma_of(tenant, t, junction);
    const bool was = dma.leaking();
    if (change == DropChange::Started) dma.dropped.insert(junction.id);
    else dma.dropped.erase(junction.id);
    if (!was && dma.leaking()) ++leaks_;
    t.changed = true;
    writer_.merge(tenant, junction.id,
                  {{"pressureDrop", property(change == DropChange::Started, at)},
                   {"pressureLevel", property(std::round(detector.level().value_or(0) * 10) / 10, at, "MTR")}});
  }

  void load_reading(const std::string& tenant, const model::Entity& e) {
    const auto& v = vocabulary();
    const auto load = measure(tenant, e, v.apparent, "totalApparentPower", Quantity::Power);
    if (!load) return;
    const Timestamp at = reading_time(*e.find(v.apparent));
    std::optional<double> rated;
    if (const auto* r = e.find(v.rated); r && r->value.is_number()) {
      const auto factor = r->unit_code.empty() ? std::optional<double>(1) : unit_factor(Quantity::Power, r->unit_code.str());
      if (factor) rated = r->value.to_number<double>() * *factor;
    }
    if (!rated || !(*rated > 0)) {
      skip(Skip::NoRating, tenant, e.id, "ratedApparentPower (kVA, or unitCode KVA, MVA or D46) is missing or not positive", at);
      return;
    }
    auto& t = tenants_[tenant];
    auto [it, added] = t.substations.try_emplace(e.id);
    auto& s = it->second;
    if (added) {
      s.district = district_of(tenant, e);
      s.primary = *rated >= kPrimaryKva;
    }
    const auto o = s.monitor.observe(*load, *rated, load_settings_);
    if (o.changed && o.status == LoadStatus::Overloaded) ++overloads_;
    t.changed = true;
    if (!o.changed && std::abs(o.ratio - s.written_ratio) < 0.02) return;
    s.written_ratio = o.ratio;
    writer_.merge(tenant, e.id,
                  {{"loadRatio", property(std::round(o.ratio * 100) / 100, at)},
                   {"loadStatus", property(json::string(load_status_name(o.status)), at)}});
  }

  KpiFigure figure(std::string indicator, std::string title, std::string description, std::string frequency,
                   const std::string& district, Timestamp from, Timestamp to, double value) const {
    KpiFigure f;
    f.application = "utilities";
    f.indicator = std::move(indicator);
    f.name = std::move(title);
    f.description = std::move(description);
    f.frequency = std::move(frequency);
    if (!district.empty()) f.district = district;
    f.from = from;
    f.to = to;
    f.value = value;
    return f;
  }

  void hourly_figures(const std::string& tenant, Tenant& t, Timestamp hour) {
    struct Area {
      double leaks = 0, peak = 0, overloaded = 0;
      bool water = false, power = false;
    };
    std::map<std::string, Area> areas;  // "" is the whole city
    for (const auto& [tag, dma] : t.dmas)
      for (const auto& key : {std::string(), dma.district}) {
        auto& a = areas[key];
        a.water = true;
        a.leaks += dma.leaking() ? 1 : 0;
        if (key.empty() && dma.district.empty()) break;
      }
    for (const auto& [id, s] : t.substations) {
      for (const auto& key : {std::string(), s.district}) {
        auto& a = areas[key];
        a.power = true;
        a.peak = std::max(a.peak, s.monitor.peak());
        a.overloaded += s.monitor.status() == LoadStatus::Overloaded ? 1 : 0;
        if (key.empty() && s.district.empty()) break;
      }
      if (s.primary && s.monitor.peak() > 0) {
        auto f = figure("peakLoadRatio", "Peak load ratio", "The substation's highest load / rated capacity this hour",
                        "hourly", s.district, hour, hour + kHourMs, std::round(s.monitor.peak() * 100) / 100);
        f.subject = id;
        f.standing = standing(s.monitor.peak() <= 1);
        board_.set(tenant, std::move(f));
      }
    }
    for (const auto& [district, a] : areas) {
      if (a.water) {
        auto f = figure("leakCount", "Metering areas with a leak indicator",
                        "District metering areas whose minimum night flow or junction pressure indicates a leak",
                        "hourly", district, hour, hour + kHourMs, a.leaks);
        f.standing = standing(a.leaks == 0);
        board_.set(tenant, std::move(f));
      }
      if (a.power) {
        auto f = figure("peakLoadRatio", "Peak load ratio", "The highest load / rated capacity of a substation this hour",
                        "hourly", district, hour, hour + kHourMs, std::round(a.peak * 100) / 100);
        f.standing = standing(a.peak <= 1);
        board_.set(tenant, std::move(f));
        auto g = figure("overloadedSubstations", "Overloaded substations", "Substations loaded above their rating now",
                        "hourly", district, hour, hour + kHourMs, a.overloaded);
        g.standing = standing(a.overloaded == 0);
        board_.set(tenant, std::move(g));
      }
    }
  }

  AppServices& services_;
  DistrictLocator districts_;
  WriteBack writer_;
  KpiBoard board_;
  NightFlowSettings night_settings_;
  PressureDropSettings drop_settings_;
  LoadSettings load_settings_;
  std::map<std::string, Tenant> tenants_;
  Timestamp hour_ = kNoTimestamp;
  std::atomic<std::uint64_t> readings_{0}, leaks_{0}, overloads_{0};
  std::array<std::atomic<std::uint64_t>, kSkipNames.size()> skipped_{};
};

}  // namespace

std::unique_ptr<Application> make_application(AppServices& services) { return std::make_unique<UtilitiesApp>(services); }

}  // namespace ct::domains::utilities
