#include "domains/emergency/emergency_app.hpp"

#include <cmath>
#include <deque>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "domains/core/app_support.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/districts.hpp"
#include "domains/emergency/response.hpp"
#include "rules/incidents.hpp"

namespace ct::domains::emergency {
namespace {

using model::Term;

constexpr Timestamp kDayMs = 24 * 3'600'000;
constexpr Timestamp kRetryMs = 5'000;

class EmergencyApp final : public Application {
 public:
  explicit EmergencyApp(AppServices& services)
      : services_(services), districts_(services.twin, services.contexts),
        writer_(services.twin, services.contexts.core(), "emergency") {
    const auto& core = *services.contexts.core();
    auto t = [&](const char* name) { return Term::intern(core.expand(name)); };
    call_ = t("EmergencyCall");
    incident_ = t("Incident");
    unit_ = t("ResponseUnit");
    category_ = t("category");
    status_ = t("status");
    unit_kind_ = t("unitKind");
    assigned_ = t("assignedIncident");
    opened_at_ = t("openedAt");
    description_ = t("description");
    location_ = t("location");
  }

  std::string_view name() const override { return "emergency"; }
  std::vector<Term> consumes() const override { return {call_, incident_, unit_}; }

  void on_change(const twin::ChangeEvent& event) override {
    if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return;
    const auto& e = *event.entity;
    if (e.has_type(call_) && event.kind == twin::ChangeEvent::Kind::Created) call(event.tenant, e);
    else if (e.has_type(incident_) && event.kind == twin::ChangeEvent::Kind::Created &&
             event.origin != twin::Origin::Application)
      incident_opened(event.tenant, e);
    else if (e.has_type(unit_) && wrote(event, status_))
      unit_status(event.tenant, e, event.at != kNoTimestamp ? event.at : now_ms());
  }

  void on_tick(Timestamp now) override {
    if (now >= next_retry_ && !waiting_.empty()) {
      next_retry_ = now + kRetryMs;
      std::deque<Waiting> again;
      again.swap(waiting_);
      for (const auto& w : again) dispatch(w.tenant, w.incident, w.kind);
    }
    for (auto& [tenant, t] : tenants_) {
      if (!t.changed) continue;
      t.changed = false;
      figures(tenant, t, now);
    }
    board_.flush(services_.kpis, now);
  }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"emergency_calls", "emergency calls received", "", calls_.load()});
    out.push_back({"emergency_incidents_opened", "incidents opened for emergency calls", "", opened_.load()});
    out.push_back({"emergency_dispatches", "incidents dispatched to a response unit", "", dispatched_.load()});
    out.push_back({"emergency_dispatch_waits", "dispatches that found no available unit and wait", "", waits_.load()});
    out.push_back({"emergency_arrivals", "response units arrived on scene (response times measured)", "", arrivals_.load()});
    out.push_back({"emergency_kpis_published", "emergency KPI values published", "", board_.published()});
    out.push_back({"emergency_write_failures", "write-backs that failed", "", writer_.failures()});
  }

 private:
  struct Tenant {
    ResponseTimes times;
    LocalDay day;
    Timestamp day_start = kNoTimestamp;
    std::map<std::string, std::string> on_scene;  // unit → the incident it is working on
    bool changed = false;
  };
  struct Waiting {
    std::string tenant, incident, kind;
  };

  void call(const std::string& tenant, const model::Entity& e) {
    ++calls_;
    if (services_.incidents == nullptr) return;
    rules::IncidentSpec spec;
    spec.category = text_of(e, category_).value_or("");
    spec.description = text_of(e, description_).value_or("emergency call " + e.id);
    spec.source = e.id;
    spec.unit_kind = std::string(unit_kind_for(spec.category));
    spec.severity = spec.category == "fire" || spec.category == "medical" ? "high" : "medium";
    spec.by = "emergency";
    if (const auto* where = e.find(location_)) spec.location = where->value;
    if (spec.category.empty() || !spec.location) {
      writer_.report_problem(tenant, e.id,
                             bad_request(spec.category.empty() ? "category is missing (medical, fire, rescue, crime, traffic, ...)"
                                                               : "location is missing: no unit can be sent"),
                             now_ms());
      return;
    }
    auto opened = services_.incidents->open(tenant, spec, {twin::Origin::Application, {}});
    if (!opened) {
      writer_.report_problem(tenant, e.id, opened.problem(), now_ms());
      return;
    }
    ++opened_;
    writer_.merge(tenant, e.id, {{"refIncident", relationship(opened->id)}});
    if (!spec.unit_kind.empty()) dispatch(tenant, opened->id, spec.unit_kind);
  }

  void incident_opened(const std::string& tenant, const model::Entity& e) {
    if (services_.incidents == nullptr || text_of(e, status_).value_or("") != "open") return;
    std::string kind = text_of(e, unit_kind_).value_or("");
    if (kind.empty()) kind = std::string(unit_kind_for(text_of(e, category_).value_or("")));
    if (!kind.empty()) dispatch(tenant, e.id, kind);
  }

  // Acknowledges the incident if it is still open (the workflow dispatches acknowledged incidents
  // only), then dispatches it.
  void dispatch(const std::string& tenant, const std::string& incident, const std::string& kind) {
    rules::StepRequest acknowledge;
    acknowledge.step = rules::IncidentStep::Acknowledge;
    acknowledge.by = "emergency";
    (void)services_.incidents->advance(tenant, incident, acknowledge);  // refused when no longer open
    rules::StepRequest step;
    step.step = rules::IncidentStep::Dispatch;
    step.by = "emergency";
    step.kind = kind;
    step.rank = rules::RankBy::TravelTime;  // distance when the tenant has no road graph
    auto done = services_.incidents->advance(tenant, incident, step);
    if (done) {
      ++dispatched_;
      return;
    }
    if (done.problem().kind == ProblemKind::Conflict &&
        done.problem().detail.find("no available unit") != std::string::npos) {
      ++waits_;
      waiting_.push_back({tenant, incident, kind});
      return;
    }
    spdlog::warn("emergency: {} not dispatched: {}", incident, done.problem().detail);
  }

  void unit_status(const std::string& tenant, const model::Entity& unit, Timestamp at) {
    if (const auto* s = unit.find(status_); s && s->observed_at != kNoTimestamp) at = s->observed_at;
    const auto status = text_of(unit, status_).value_or("");
    auto& t = tenants_[tenant];
    if (status == "onScene") {
      const auto* assigned = unit.find(assigned_);
      if (assigned == nullptr || !assigned->value.is_string()) return;
      const std::string incident(assigned->value.as_string());
      if (t.on_scene.contains(unit.id) && t.on_scene[unit.id] == incident) return;
      t.on_scene[unit.id] = incident;
      arrived(tenant, t, incident, at);
    } else if (status == "available") {
      auto it = t.on_scene.find(unit.id);
      if (it == t.on_scene.end() || services_.incidents == nullptr) return;
      rules::StepRequest step;
      step.step = rules::IncidentStep::Resolve;
      step.by = unit.id;
      step.note = "unit back in service";
      (void)services_.incidents->advance(tenant, it->second, step);
      t.on_scene.erase(it);
    }
  }

  void arrived(const std::string& tenant, Tenant& t, const std::string& incident, Timestamp at) {
    std::optional<Timestamp> opened;
    std::optional<std::pair<double, double>> where;
    (void)services_.twin.read(tenant, incident, [&](const model::Entity& e) {
      opened = date_time_of(e, opened_at_);
      where = point_location(e);
    });
    if (!opened) return;
    const double seconds = std::max<double>(0, static_cast<double>(at - *opened) / 1000.0);
    std::string district;
    if (where)
      district = districts_.district_of(tenant, services_.settings.get(tenant)->district_type, where->first, where->second)
                     .value_or("");
    t.times.add(at, district, seconds);
    t.changed = true;
    ++arrivals_;
    writer_.merge(tenant, incident,
                  {{"responseTime", property(std::round(seconds * 10) / 10, at, "SEC")},
                   {"arrivedAt", property(json::string(format_datetime(at)))}});
  }

  void figures(const std::string& tenant, Tenant& t, Timestamp now) {
    const auto day = t.day.of(services_.settings.get(tenant)->time_zone, now);
    if (day.start != t.day_start) {
      t.day_start = day.start;
      t.times.forget(day.start - kDayMs);
    }
    for (const auto& [area, area_times] : t.times.between(day.start, day.end)) {
      const std::string& district = area;
      const std::vector<double>& times = area_times;
      auto figure = [&](const char* indicator, const char* title, const char* description, double value) {
        KpiFigure f;
        f.application = "emergency";
        f.indicator = indicator;
        f.name = title;
        f.description = description;
        f.frequency = "daily";
        if (!district.empty()) f.district = district;
        f.from = day.start;
        f.to = day.end;
        f.value = value;
        return f;
      };
      const double med = std::round(*median(times) * 10) / 10, p90 = std::round(*percentile(times, 90) * 10) / 10;
      auto m = figure("responseTimeMedian", "Median response time",
                      "Median seconds from an incident's opening to a unit on scene, today", med);
      m.standing = med <= 480 ? "good" : med <= 720 ? "fair" : "bad";
      board_.set(tenant, std::move(m));
      auto p = figure("responseTime90th", "90th-percentile response time",
                      "Seconds within which units reached 90 % of today's incidents (nearest rank)", p90);
      p.standing = p90 <= 720 ? "good" : p90 <= 900 ? "fair" : "bad";
      board_.set(tenant, std::move(p));
      board_.set(tenant, figure("incidentsReached", "Incidents reached", "Incidents a unit reached today",
                                double(times.size())));
    }
  }

  AppServices& services_;
  DistrictLocator districts_;
  WriteBack writer_;
  KpiBoard board_;
  Term call_, incident_, unit_, category_, status_, unit_kind_, assigned_, opened_at_, description_, location_;
  std::map<std::string, Tenant> tenants_;
  std::deque<Waiting> waiting_;
  Timestamp next_retry_ = kNoTimestamp;
  std::atomic<std::uint64_t> calls_{0}, opened_{0}, dispatched_{0}, waits_{0}, arrivals_{0};
};

}  // namespace

std::unique_ptr<Application> make_application(AppServices& services) { return std::make_unique<EmergencyApp>(services); }

}  // namespace ct::domains::emergency
