#include "domains/structures/structures_app.hpp"

#include <array>
#include <cmath>
#include <map>

#include "domains/core/app_support.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/districts.hpp"
#include "domains/core/units.hpp"
#include "domains/structures/structural.hpp"

namespace ct::domains::structures {
namespace {

using model::Term;

constexpr std::string_view kBuilding = "https://smartdatamodels.org/dataModel.Building/";
constexpr std::string_view kWater = "https://smartdatamodels.org/dataModel.WaterDistributionManagementEPANET/";
constexpr Timestamp kHourMs = 3'600'000;

struct Vocabulary {
  Term building = Term::intern(std::string(kBuilding) + "Building");
  Term category = Term::intern(std::string(kBuilding) + "category");
  Term reservoir = Term::intern(std::string(kWater) + "Reservoir"), head = Term::intern(std::string(kWater) + "head");
  Term strain = default_term("strain"), tilt = default_term("tilt"), vibration = default_term("vibration");
  Term strain_limit = default_term("strainLimit"), tilt_limit = default_term("tiltLimit"),
       vibration_limit = default_term("vibrationLimit"), flood_control = default_term("floodControlLevel");
};
const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

enum class Skip : std::uint8_t { NotNumeric, WrongUnit, BadLimit, NoFloodControl };
constexpr std::array<std::string_view, 4> kSkipNames{"not_numeric", "wrong_unit", "bad_limit", "no_flood_control"};

bool is_bridge(const model::Entity& e) {
  const auto* c = e.find(vocabulary().category);
  if (c == nullptr) return false;
  if (c->value.is_string()) return c->value.as_string() == "bridge";
  if (c->value.is_array())
    for (const auto& v : c->value.as_array())
      if (v.is_string() && v.as_string() == "bridge") return true;
  return false;
}

class StructuresApp final : public Application {
 public:
  explicit StructuresApp(AppServices& services)
      : services_(services), districts_(services.twin, services.contexts),
        writer_(services.twin, services.contexts.core(), "structures") {}

  std::string_view name() const override { return "structures"; }
  std::vector<Term> consumes() const override { return {vocabulary().building, vocabulary().reservoir}; }

  void on_change(const twin::ChangeEvent& event) override {
    if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return;
    const auto& v = vocabulary();
    const auto& e = *event.entity;
    if (e.has_type(v.building) && (wrote(event, v.strain) || wrote(event, v.tilt) || wrote(event, v.vibration)) &&
        is_bridge(e))
      bridge_reading(event, e);
    else if (e.has_type(v.reservoir) && wrote(event, v.head))
      dam_reading(event.tenant, e);
  }

  void on_tick(Timestamp now) override {
    const Timestamp hour = now - now % kHourMs;
    for (auto& [tenant, t] : tenants_) {
      if (!t.changed && hour == hour_) continue;
      t.changed = false;
      std::map<std::string, double> alarms{{"", 0}};
      for (const auto& [id, s] : t.structures) {
        alarms[s.district] += s.alarm ? 1 : 0;
        if (!s.district.empty()) alarms[""] += s.alarm ? 1 : 0;
      }
      for (const auto& [district, count] : alarms) {
        KpiFigure f;
        f.application = "structures";
        f.indicator = "structuralAlarms";
        f.name = "Structural alarms";
        f.description = "Bridges in structural alarm and dams above their flood-control level";
        f.frequency = "hourly";
        if (!district.empty()) f.district = district;
        f.from = hour;
        f.to = hour + kHourMs;
        f.value = count;
        f.standing = count == 0 ? "good" : "bad";
        board_.set(tenant, std::move(f));
      }
    }
    hour_ = hour;
    board_.flush(services_.kpis, now);
  }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"structures_readings", "bridge and dam readings received", "", readings_.load()});
    for (std::size_t i = 0; i < kSkipNames.size(); ++i)
      out.push_back({"structures_readings_skipped", "readings left out, by cause",
                     "cause=\"" + std::string(kSkipNames[i]) + "\"", skipped_[i].load()});
    out.push_back({"structures_alarms", "structural alarms raised (bridges in alarm, dams above flood control)", "",
                   alarms_.load()});
    out.push_back({"structures_kpis_published", "structures KPI values published", "", board_.published()});
    out.push_back({"structures_write_failures", "write-backs that failed", "", writer_.failures()});
  }

 private:
  struct Structure {
    std::string district;
    BridgeMonitor bridge;
    DamMonitor dam;
    bool alarm = false;
    double written_tilt = NAN, written_margin = NAN;
  };
  struct Tenant {
    std::map<std::string, Structure> structures;
    bool changed = true;
  };

  bool skip(Skip cause, const std::string& tenant, const std::string& id, std::string detail, Timestamp at) {
    ++skipped_[static_cast<std::size_t>(cause)];
    writer_.report_problem(tenant, id, bad_request(std::move(detail)), at);
    return false;
  }

  // The attribute's value in the quantity's base unit (no unitCode: already in it). False: skipped.
  bool value_of(const std::string& tenant, const model::Entity& e, Term attribute, Quantity q, std::optional<double>& out,
                Timestamp at) {
    const auto* a = e.find(attribute);
    if (a == nullptr) return true;
    const std::string label(attribute.str().substr(attribute.str().rfind('/') + 1));
    if (!a->value.is_number()) return skip(Skip::NotNumeric, tenant, e.id, label + " is not a number", at);
    double factor = 1;
    if (!a->unit_code.empty()) {
      const auto f = unit_factor(q, a->unit_code.str());
      if (!f)
        return skip(Skip::WrongUnit, tenant, e.id,
                    label + " has unitCode " + std::string(a->unit_code.str()) + ", not a unit of " +
                        std::string(base_unit(q)) + "'s quantity",
                    at);
      factor = *f;
    }
    out = a->value.to_number<double>() * factor;
    return true;
  }

  Structure& structure(const std::string& tenant, Tenant& t, const model::Entity& e) {
    auto [it, added] = t.structures.try_emplace(e.id);
    if (added) {
      if (const auto point = point_location(e))
        it->second.district = districts_
                                  .district_of(tenant, services_.settings.get(tenant)->district_type, point->first,
                                               point->second)
                                  .value_or("");
    }
    return it->second;
  }

  void bridge_reading(const twin::ChangeEvent& event, const model::Entity& e) {
    const auto& v = vocabulary();
    const auto& tenant = event.tenant;
    ++readings_;
    Timestamp at = now_ms();
    for (auto measure : {v.strain, v.tilt, v.vibration})
      if (const auto* a = e.find(measure); a && wrote(event, measure)) at = reading_time(*a);
    BridgeReading r;
    if (!value_of(tenant, e, v.strain, Quantity::Strain, r.strain_ue, at) ||
        !value_of(tenant, e, v.tilt, Quantity::Angle, r.tilt_deg, at) ||
        !value_of(tenant, e, v.vibration, Quantity::Velocity, r.vibration_mms, at))
      return;
    BridgeLimits limits;
    std::optional<double> strain_limit, tilt_limit, vibration_limit;
    if (!value_of(tenant, e, v.strain_limit, Quantity::Strain, strain_limit, at) ||
        !value_of(tenant, e, v.tilt_limit, Quantity::Angle, tilt_limit, at) ||
        !value_of(tenant, e, v.vibration_limit, Quantity::Velocity, vibration_limit, at))
      return;
    for (auto [limit, field, label] : {std::tuple{strain_limit, &limits.strain_ue, "strainLimit"},
                                       std::tuple{tilt_limit, &limits.tilt_deg, "tiltLimit"},
                                       std::tuple{vibration_limit, &limits.vibration_mms, "vibrationLimit"}}) {
      if (!limit) continue;
      if (!(*limit > 0)) {
        skip(Skip::BadLimit, tenant, e.id, std::string(label) + " must be a positive number", at);
        return;
      }
      *field = *limit;
    }
    auto& t = tenants_[tenant];
    auto& s = structure(tenant, t, e);
    const auto o = s.bridge.observe(r, limits);
    json::object body;
    if (o.changed) {
      body["structuralState"] = property(json::string(structural_state_name(o.state)), at);
      body["structuralCause"] = property(json::string(o.state == StructuralState::Normal ? std::string("none") : o.cause), at);
      set_alarm(t, s, o.state == StructuralState::Alarm);
    }
    if (o.tilt_change_deg && !(std::abs(*o.tilt_change_deg - s.written_tilt) < 0.01)) {
      s.written_tilt = *o.tilt_change_deg;
      body["tiltChange"] = property(std::round(*o.tilt_change_deg * 1000) / 1000, at, "DD");
    }
    if (!body.empty()) writer_.merge(tenant, e.id, body);
  }

  void dam_reading(const std::string& tenant, const model::Entity& e) {
    const auto& v = vocabulary();
    ++readings_;
    const Timestamp at = reading_time(*e.find(v.head));
    std::optional<double> level, flood_control;
    if (!value_of(tenant, e, v.head, Quantity::Level, level, at) ||
        !value_of(tenant, e, v.flood_control, Quantity::Level, flood_control, at) || !level)
      return;
    if (!flood_control) {
      skip(Skip::NoFloodControl, tenant, e.id, "floodControlLevel (m) is missing: the level has nothing to be judged against", at);
      return;
    }
    auto& t = tenants_[tenant];
    auto& s = structure(tenant, t, e);
    const auto o = s.dam.observe(*level, *flood_control, dam_settings_);
    if (!o.changed && std::abs(o.above_m - s.written_margin) < 0.05) return;
    s.written_margin = o.above_m;
    if (o.changed) set_alarm(t, s, o.state == FloodState::AboveFloodControl);
    writer_.merge(tenant, e.id,
                  {{"floodState", property(json::string(flood_state_name(o.state)), at)},
                   {"levelAboveFloodControl", property(std::round(o.above_m * 100) / 100, at, "MTR")}});
  }

  void set_alarm(Tenant& t, Structure& s, bool alarm) {
    if (alarm && !s.alarm) ++alarms_;
    s.alarm = alarm;
    t.changed = true;
  }

  AppServices& services_;
  DistrictLocator districts_;
  WriteBack writer_;
  KpiBoard board_;
  DamSettings dam_settings_;
  std::map<std::string, Tenant> tenants_;
  Timestamp hour_ = kNoTimestamp;
  std::atomic<std::uint64_t> readings_{0}, alarms_{0};
  std::array<std::atomic<std::uint64_t>, kSkipNames.size()> skipped_{};
};

}  // namespace

std::unique_ptr<Application> make_application(AppServices& services) {
  return std::make_unique<StructuresApp>(services);
}

}  // namespace ct::domains::structures
