#include "domains/traffic/traffic_app.hpp"

#include <atomic>
#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "domains/core/city_settings.hpp"
#include "domains/core/districts.hpp"
#include "domains/core/kpi.hpp"
#include "domains/traffic/traffic_model.hpp"

namespace ct::domains::traffic {
namespace {

using model::Term;

constexpr std::string_view kSdm = "https://smartdatamodels.org/dataModel.Transportation/";
constexpr std::string_view kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr std::string_view kAlertContextUrl =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld";
constexpr std::string_view kAlertPrefix = "urn:ngsi-ld:Alert:traffic:trafficJam:";
constexpr Timestamp kHourMs = 3'600'000;
constexpr Timestamp kDayMs = 24 * kHourMs;
constexpr Timestamp kRepublishMs = 10'000;

Term term(std::string_view ns, std::string_view name) { return Term::intern(std::string(ns) + std::string(name)); }

struct Vocabulary {
  Term sdm_type = term(kSdm, "TrafficFlowObserved"), default_type = term(kDefault, "TrafficFlowObserved");
  Term speed_sdm = term(kSdm, "averageVehicleSpeed"), speed_default = term(kDefault, "averageVehicleSpeed");
  Term congested_sdm = term(kSdm, "congested"), congested_default = term(kDefault, "congested");
  // Not in the Smart Data Model: the core @context's default vocabulary.
  Term index = term(kDefault, "congestionIndex"), level = term(kDefault, "congestionLevel"),
       free_flow = term(kDefault, "freeFlowSpeed");
};

json::object text_property(std::string_view text) { return {{"type", "Property"}, {"value", json::string(text)}}; }

const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

json::object property(json::value value, Timestamp observed_at = kNoTimestamp) {
  json::object p{{"type", "Property"}, {"value", std::move(value)}};
  if (observed_at != kNoTimestamp) p["observedAt"] = format_datetime(observed_at);
  return p;
}

enum class Skip : std::uint8_t { NotNumeric, Negative, UnknownUnit, WriteFailed };
constexpr std::array<std::string_view, 4> kSkipNames{"not_numeric", "negative", "unknown_unit", "write_failed"};

class TrafficApp final : public Application {
 public:
  explicit TrafficApp(AppServices& services) : services_(services), districts_(services.twin, services.contexts) {}

  std::string_view name() const override { return "traffic"; }
  std::vector<Term> consumes() const override { return {vocabulary().sdm_type, vocabulary().default_type}; }

  Status start() override {
    auto ctx = services_.contexts.resolve_url(std::string(kAlertContextUrl));
    alert_context_ = ctx ? *ctx : services_.contexts.core();
    clear_stale_alerts();
    return {};
  }

  void on_change(const twin::ChangeEvent& event) override {
    const auto& v = vocabulary();
    if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return;
    const model::Attribute* speed = nullptr;
    for (const auto& [name, dataset] : event.written)
      if ((name == v.speed_sdm || name == v.speed_default) && dataset.empty()) speed = event.entity->find(name);
    if (speed == nullptr) return;  // not a reading (its own write-backs among them)
    ++readings_;
    reading(event.tenant, *event.entity, *speed);
  }

  void on_tick(Timestamp now) override {
    if (now < next_publish_) return;
    next_publish_ = now + kRepublishMs;
    for (auto& [tenant, t] : tenants_) {
      if (!t.changed) continue;
      t.changed = false;
      const Timestamp hour = now - now % kHourMs;
      auto figure = [&](std::optional<std::string> district, double value) {
        KpiFigure f;
        f.application = "traffic";
        f.indicator = "meanCongestionIndex";
        f.name = "Mean congestion index";
        f.description = "The mean of the road sensors' current congestion index (0-10, China's road traffic "
                        "performance index scale; 0 free flow, 10 standstill)";
        f.frequency = "hourly";
        f.district = std::move(district);
        f.from = hour;
        f.to = hour + kHourMs;
        f.value = std::round(value * 100) / 100;
        const auto& bands = t.model.settings().bands;
        f.standing = bands.levels()[bands.level_of(value)].key;
        publish(tenant, f);
      };
      if (auto city = t.model.aggregates().city().value()) figure(std::nullopt, *city);
      for (const auto& [district, mean] : t.model.aggregates().groups())
        if (auto value = mean.value()) figure(district, *value);
    }
  }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"traffic_readings", "road sensor speed readings received", "", readings_.load()});
    out.push_back({"traffic_congestion_written", "congestion indexes written on road sensors", "", written_.load()});
    for (std::size_t i = 0; i < kSkipNames.size(); ++i)
      out.push_back({"traffic_readings_skipped", "speed readings left out, by cause",
                     "cause=\"" + std::string(kSkipNames[i]) + "\"", skipped_[i].load()});
    out.push_back({"traffic_jams_raised", "congestion events raised (Alert trafficJam)", "", jams_raised_.load()});
    out.push_back({"traffic_jams_cleared", "congestion events cleared", "", jams_cleared_.load()});
    out.push_back({"traffic_kpis_published", "traffic KPI values published", "", kpis_published_.load()});
  }

 private:
  struct Tenant {
    TrafficModel model;
    std::string settings_version;  // the city settings the model was configured from
    bool changed = false;
    Timestamp offset_valid_until = kNoTimestamp;
    std::map<std::string, std::string> open_alerts;  // sensor id → alert id
  };

  void skip(Skip cause) { ++skipped_[static_cast<std::size_t>(cause)]; }

  Tenant& tenant_state(const std::string& tenant, Timestamp at) {
    auto& t = tenants_[tenant];
    const auto settings = services_.settings.get(tenant);
    // Reconfigure when the settings changed (the snapshot is replaced by put()).
    const auto version = std::to_string(reinterpret_cast<std::uintptr_t>(settings.get()));
    if (version != t.settings_version) {
      t.settings_version = version;
      auto s = t.model.settings();
      s.configured_free_flow_kmh = settings->free_flow_speed_kmh.value_or(0);
      s.free_flow_quantile = settings->free_flow_percentile / 100.0;
      t.model.set_settings(std::move(s));
      t.offset_valid_until = kNoTimestamp;
    }
    // The local time of day: the city's UTC offset, looked up again every hour (daylight saving time).
    if (t.offset_valid_until == kNoTimestamp || at >= t.offset_valid_until || at < t.offset_valid_until - kHourMs) {
      const auto& zone = settings->time_zone;
      const Timestamp since_midnight = at - zone.start_of_day(zone.date_of(at));
      Timestamp offset = since_midnight - ((at % kDayMs) + kDayMs) % kDayMs;
      if (offset > 14 * kHourMs) offset -= kDayMs;
      if (offset < -12 * kHourMs) offset += kDayMs;
      t.model.set_utc_offset_minutes(static_cast<int>(offset / 60'000));
      t.offset_valid_until = at - at % kHourMs + kHourMs;
    }
    return t;
  }

  void reading(const std::string& tenant, const model::Entity& sensor, const model::Attribute& speed) {
    const auto& v = vocabulary();
    if (!speed.value.is_number()) return skip(Skip::NotNumeric);
    const double raw = speed.value.to_number<double>();
    if (!std::isfinite(raw) || raw < 0) return skip(Skip::Negative);
    double factor = 1;
    if (!speed.unit_code.empty()) {
      auto f = kmh_factor(speed.unit_code.str());
      if (!f) return skip(Skip::UnknownUnit);
      factor = *f;
    }
    const Timestamp at = speed.observed_at != kNoTimestamp ? speed.observed_at : now_ms();
    auto& t = tenant_state(tenant, at);
    if (!t.model.has_sensor(sensor.id)) place(tenant, t, sensor);
    if (const auto* configured = sensor.find(v.free_flow); configured && configured->value.is_number())
      t.model.configure_free_flow(sensor.id, configured->value.to_number<double>());
    const auto u = t.model.observe(sensor.id, at, raw * factor);
    t.changed = true;

    const bool sdm = sensor.has_type(v.sdm_type);
    const auto& level = t.model.settings().bands.levels()[u.level];
    json::object body{
        {std::string(v.index.str()), property(std::round(u.index * 10) / 10, at)},
        {std::string(v.level.str()), property(json::string(level.key), at)},
        {std::string((sdm ? v.congested_sdm : v.congested_default).str()), property(u.index >= 4, at)},
    };
    if (write(tenant, sensor.id, body, *services_.contexts.core())) ++written_;
    if (u.jam.change == JamChange::Started) raise_jam(tenant, t, sensor, u, at);
    if (u.jam.change == JamChange::Cleared) clear_jam(tenant, t, sensor.id, at);
  }

  // A new sensor: its district, once (sensors do not move).
  void place(const std::string& tenant, Tenant& t, const model::Entity& sensor) {
    const auto point = point_location(sensor);
    std::optional<std::string> district;
    if (point)
      district = districts_.district_of(tenant, services_.settings.get(tenant)->district_type, point->first,
                                        point->second);
    t.model.assign_group(sensor.id, district.value_or(""));
  }

  bool write(const std::string& tenant, const std::string& id, const json::object& body, const jsonld::Context& ctx) {
    auto decoded = jsonld::decode_entity(body, ctx, {});
    if (!decoded) {
      skip(Skip::WriteFailed);
      spdlog::warn("traffic: a write-back to {} does not decode: {}", id, decoded.problem().detail);
      return false;
    }
    auto done = services_.twin.merge(tenant, id, std::move(decoded).value(), {twin::Origin::Application, {}});
    if (!done && done.problem().kind != ProblemKind::ResourceNotFound) {
      skip(Skip::WriteFailed);
      spdlog::warn("traffic: cannot write to {}: {}", id, done.problem().detail);
    }
    return done.ok();
  }

  void raise_jam(const std::string& tenant, Tenant& t, const model::Entity& sensor, const SensorUpdate& u,
                 Timestamp at) {
    const auto tail = sensor.id.substr(sensor.id.rfind(':') + 1);
    const std::string id = std::string(kAlertPrefix) + tail + ":" + std::to_string(u.jam.since);
    const double usual = u.jam.usual_kmh.value_or(0);
    char text[200];
    std::snprintf(text, sizeof text, "traffic jam: %.0f km/h where %.0f km/h is usual at this time of day", u.speed_kmh,
                  usual);
    json::object body{{"id", id},
                      {"type", "Alert"},
                      {"category", text_property("traffic")},
                      {"subCategory", text_property("trafficJam")},
                      {"severity", text_property(u.speed_kmh < 0.25 * usual ? "high" : "medium")},
                      {"alertSource", text_property(sensor.id)},
                      {"dateIssued", text_property(format_datetime(at))},
                      {"validFrom", text_property(format_datetime(u.jam.since))},
                      {"status", text_property("active")},
                      {"description", text_property(text)}};
    if (const auto* where = sensor.find(Term::intern("https://uri.etsi.org/ngsi-ld/location")))
      body["location"] = json::object{{"type", "GeoProperty"}, {"value", where->value}};
    auto decoded = jsonld::decode_entity(body, *alert_context_, {});
    if (!decoded) {
      skip(Skip::WriteFailed);
      return;
    }
    auto created = services_.twin.create(tenant, std::move(decoded).value(), {twin::Origin::Application, {}});
    if (!created && created.problem().kind != ProblemKind::AlreadyExists) {
      skip(Skip::WriteFailed);
      spdlog::warn("traffic: cannot raise {}: {}", id, created.problem().detail);
      return;
    }
    t.open_alerts[sensor.id] = id;
    ++jams_raised_;
  }

  void clear_jam(const std::string& tenant, Tenant& t, const std::string& sensor, Timestamp at) {
    const auto open = t.open_alerts.find(sensor);
    if (open == t.open_alerts.end()) return;
    const json::object body{{"validTo", text_property(format_datetime(at))}, {"status", text_property("cleared")}};
    write(tenant, open->second, body, *alert_context_);
    t.open_alerts.erase(open);
    ++jams_cleared_;
  }

  // The jam detector starts afresh: an alert a previous run left active would never clear.
  void clear_stale_alerts() {
    const Term status = Term::intern("https://uri.etsi.org/ngsi-ld/status");
    const Timestamp now = now_ms();
    for (const auto& tenant : services_.twin.tenants()) {
      std::vector<std::string> stale;
      (void)services_.twin.scan(tenant, [&](const model::Entity& e) {
        if (!e.id.starts_with(kAlertPrefix)) return;
        const auto* s = e.find(status);
        if (s && s->value.is_string() && s->value.as_string() == "active") stale.push_back(e.id);
      });
      for (const auto& id : stale)
        write(tenant, id, {{"validTo", text_property(format_datetime(now))}, {"status", text_property("cleared")}},
              *alert_context_);
    }
  }

  void publish(const std::string& tenant, const KpiFigure& figure) {
    auto done = services_.kpis.publish(tenant, figure);
    if (done) ++kpis_published_;
    else spdlog::warn("traffic: cannot publish KPI {}: {}", kpi_entity_id(figure), done.problem().detail);
  }

  AppServices& services_;
  DistrictLocator districts_;
  jsonld::ContextPtr alert_context_;
  std::map<std::string, Tenant> tenants_;
  Timestamp next_publish_ = kNoTimestamp;
  std::atomic<std::uint64_t> readings_{0}, written_{0}, jams_raised_{0}, jams_cleared_{0}, kpis_published_{0};
  std::array<std::atomic<std::uint64_t>, kSkipNames.size()> skipped_{};
};

}  // namespace

std::unique_ptr<Application> make_application(AppServices& services) { return std::make_unique<TrafficApp>(services); }

}  // namespace ct::domains::traffic
