// The generated demo city's life: sensor readings on daily cycles, injected faults, service requests
// moving through their workflow, emergency calls, and response units driving to incidents.
#include "app/demo_generated.hpp"

#include <algorithm>
#include <numbers>

#include <spdlog/spdlog.h>

#include "app/demo_generated_world.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::app {
namespace {

constexpr Timestamp kMinuteMs = 60'000, kHourMs = 60 * kMinuteMs, kDayMs = 24 * kHourMs;
constexpr int kRequestsPerDistrict = 100;
constexpr double kUnitSpeedMs = 40 / 3.6;  // 40 km/h through city traffic
constexpr Timestamp kTurnoutMs = kMinuteMs;

double bump(double hour, double centre, double width) {
  double d = std::fabs(hour - centre);
  d = std::min(d, 24 - d);
  return std::exp(-(d / width) * (d / width));
}

double round_to(double v, double step) { return std::round(v / step) * step; }

double distance_m(LonLat a, LonLat b) {
  const double dx = (b[0] - a[0]) * std::cos(a[1] * std::numbers::pi / 180) * 111'320, dy = (b[1] - a[1]) * 110'540;
  return std::sqrt(dx * dx + dy * dy);
}

const char* status_name(int status) {
  static constexpr std::array<const char*, 4> kNames{"open", "assigned", "resolved", "closed"};
  return kNames[static_cast<std::size_t>(std::clamp(status, 0, 3))];
}

void plan(GeneratedCity::World& w, GeneratedRequest& r, Timestamp requested) {
  const auto sla = static_cast<double>(w.categories.at(r.category).sla_ms);
  const bool late = w.rng.uniform() < 0.04;
  r.assign_at = requested + static_cast<Timestamp>(sla * w.rng.uniform(0.02, 0.15));
  r.resolve_at = requested + static_cast<Timestamp>(sla * (late ? w.rng.uniform(1.05, 1.4) : w.rng.uniform(0.2, 0.95)));
  r.close_at = r.resolve_at + static_cast<Timestamp>(w.rng.uniform(0.5, 4) * static_cast<double>(kHourMs));
}

json::object request_body(GeneratedCity::World& w, const GeneratedRequest& r, std::size_t district, Timestamp requested) {
  const auto& category = w.categories.at(r.category);
  return {{"id", r.id},
          {"type", "service_requests"},
          {"service_code", demo_property(json::string(r.category))},
          {"service_name", demo_property(json::string(category.name))},
          {"description", demo_property(json::string(category.name + ", reported to the 12345 hotline"))},
          {"agency_responsible", demo_property(json::string(w.districts[district].name + " 12345"))},
          {"status", demo_property(json::string(status_name(r.status)))},
          {"requested_datetime", demo_property(json::string(format_datetime(requested)))},
          {"location", demo_point(w.random_point(district))}};
}

std::string pick_category(GeneratedCity::World& w) {
  auto it = w.categories.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(w.rng.below(w.categories.size())));
  return it->first;
}

// The status of a request at `now` by its plan (3: closed).
int status_at(const GeneratedRequest& r, Timestamp now) {
  return now >= r.close_at ? 3 : now >= r.resolve_at ? 2 : now >= r.assign_at ? 1 : 0;
}

}  // namespace

double water_demand(double h) {
  return 0.55 + 0.55 * bump(h, 7.5, 1.5) + 0.35 * bump(h, 12.5, 2) + 0.5 * bump(h, 19.5, 2) - 0.25 * bump(h, 3.5, 2);
}
double electric_load(double h) { return 0.45 + 0.25 * bump(h, 11, 3) + 0.3 * bump(h, 20, 2.5) - 0.1 * bump(h, 4, 2.5); }
double road_traffic(double h) { return 0.2 + 0.8 * bump(h, 8, 1.5) + 0.7 * bump(h, 18, 2) + 0.3 * bump(h, 13, 3); }
double beijing_hour(Timestamp at) {
  const Timestamp local = at + 8 * kHourMs;
  return static_cast<double>(((local % kDayMs) + kDayMs) % kDayMs) / static_cast<double>(kHourMs);
}

std::size_t create_request_backlog(twin::Twin& twin, GeneratedCity::World& w, Timestamp now) {
  const model::Term status = model::Term::intern("https://uri.etsi.org/ngsi-ld/status");
  for (std::size_t d = 0; d < w.districts.size(); ++d)
    for (int i = 0; i < kRequestsPerDistrict; ++i) {
      GeneratedRequest r;
      r.id = "urn:ngsi-ld:service_requests:backlog-" + w.districts[d].id.substr(w.districts[d].id.rfind(':') + 1) + "-" +
             std::to_string(i);
      r.category = pick_category(w);
      const auto sla = static_cast<double>(w.categories.at(r.category).sla_ms);
      const Timestamp requested = now - static_cast<Timestamp>(sla * w.rng.uniform(0, 0.6));
      plan(w, r, requested);
      if (r.resolve_at <= now) r.resolve_at = now + static_cast<Timestamp>(w.rng.uniform(0.05, 0.3) * sla);
      r.close_at = std::max(r.close_at, r.resolve_at + kHourMs);
      r.status = status_at(r, now);
      auto decoded = jsonld::decode_entity(request_body(w, r, d, requested), *w.issue, {});
      if (!decoded) continue;
      auto created = twin.create("", std::move(decoded).value(), {twin::Origin::Device, {}});
      if (!created) {  // a restart: carry on from the status it has
        (void)twin.read("", r.id, [&](const model::Entity& e) {
          if (const auto* a = e.find(status); a && a->value.is_string())
            for (int s = 0; s < 4; ++s)
              if (a->value.as_string() == status_name(s)) r.status = std::max(r.status, s);
        });
      }
      if (r.status < 3) w.requests.push_back(std::move(r));
    }
  return w.requests.size();
}

namespace {

class Life {
 public:
  Life(twin::Twin& twin, GeneratedCity::World& w, const GeneratedCityOptions& options)
      : twin_(twin), w_(w), options_(options) {
    const auto& core = *w.core;
    available_ = model::Term::intern(core.expand("available"));
    assigned_ = model::Term::intern(core.expand("assignedIncident"));
    location_ = model::Term::intern(core.expand("location"));
  }

  void tick(Timestamp now) {
    const Timestamp elapsed = now - w_.started;
    readings(now, elapsed);
    requests(now, elapsed);
    calls(now);
    units(now);
    flush();
    ++w_.ticks;
  }

 private:
  void add(const json::object& body, const jsonld::Context& ctx) {
    auto decoded = jsonld::decode_entity(body, ctx, {});
    if (decoded) batch_.push_back(std::move(decoded).value());
    else spdlog::warn("generated city: {}", decoded.problem().detail);
  }

  void flush() {
    if (batch_.empty()) return;
    auto outcome = twin_.batch_upsert("", std::move(batch_), twin::UpsertMode::Update, {twin::Origin::Device, {}});
    batch_.clear();
    for (const auto& item : outcome.items)
      if (item.error) spdlog::warn("generated city: {}: {}", item.id, item.error->detail);
  }

  void readings(Timestamp now, Timestamp elapsed) {
    const auto slices = static_cast<std::uint64_t>(std::max<Timestamp>(1, options_.sensor_period_ms / 1000));
    const double h = beijing_hour(now);
    const bool leak = options_.faults && elapsed >= w_.faults.leak, overload = options_.faults && elapsed >= w_.faults.overload;
    const double tilt = options_.faults && elapsed >= w_.faults.tilt
                            ? 0.9 * std::min(1.0, static_cast<double>(elapsed - w_.faults.tilt) / 8'000.0)
                            : 0;
    auto& rng = w_.rng;
    for (std::size_t i = w_.ticks % slices; i < w_.sensors.size(); i += slices) {
      const auto& s = w_.sensors[i];
      json::object body{{"id", s.id}};
      switch (s.kind) {
        case SensorKind::Inlet: {
          double flow = s.base * water_demand(h) * (1 + 0.03 * rng.normal());
          if (leak && s.dma == static_cast<int>(w_.leak_dma)) flow += 0.35 * s.base;
          body["type"] = "Pipe";
          body["flow"] = demo_property(round_to(flow, 0.01), now, "L2");
          add(body, *w_.water);
          break;
        }
        case SensorKind::Junction: {
          double pressure = s.base - 4 * (water_demand(h) - 0.7) + 0.3 * rng.normal();
          if (leak && s.dma == static_cast<int>(w_.leak_dma)) pressure -= s.drop;
          body["type"] = "Junction";
          body["pressure"] = demo_property(round_to(pressure, 0.01), now, "MTR");
          add(body, *w_.water);
          break;
        }
        case SensorKind::Substation: {
          double load = s.base * s.scale * electric_load(h) * (1 + 0.02 * rng.normal());
          if (overload && i == w_.overload_sensor) load = s.base * (1.12 + 0.01 * rng.normal());
          body["type"] = "ThreePhaseAcMeasurement";
          body["totalApparentPower"] = demo_property(round_to(load, 0.1), now, "KVA");
          add(body, *w_.energy);
          break;
        }
        case SensorKind::Bridge: {
          const double traffic = road_traffic(h);
          body["type"] = "Building";
          body["strain"] = demo_property(round_to(40 + s.base * traffic * (1 + 0.05 * rng.normal()), 0.1), now, "59");
          body["tilt"] = demo_property(round_to(s.scale + 0.003 * rng.normal() + (i == w_.tilt_sensor ? tilt : 0), 0.0001), now, "DD");
          body["vibration"] = demo_property(round_to(1 + 5 * traffic * std::fabs(1 + 0.2 * rng.normal()), 0.01), now, "C16");
          add(body, *w_.building);
          break;
        }
        case SensorKind::Reservoir: {
          const double level = s.base - s.scale + 0.05 * std::sin(2 * std::numbers::pi * h / 24) + 0.005 * rng.normal();
          body["type"] = "Reservoir";
          body["head"] = demo_property(round_to(level, 0.001), now, "MTR");
          add(body, *w_.water);
          break;
        }
        case SensorKind::Hospital: {
          const double share = s.scale > 0.95 ? s.scale + 0.003 * rng.normal()
                                              : s.scale + 0.03 * std::sin(2 * std::numbers::pi * (h - 10) / 24) + 0.005 * rng.normal();
          body["type"] = "Building";
          body["occupiedBeds"] = demo_property(std::min(s.base, std::round(s.base * share)), now);
          add(body, *w_.building);
          break;
        }
      }
    }
  }

  void request_status(const GeneratedRequest& r, Timestamp now) {
    add({{"id", r.id},
         {"type", "service_requests"},
         {"status", demo_property(json::string(status_name(r.status)))},
         {"updated_datetime", demo_property(json::string(format_datetime(now)))}},
        *w_.issue);
  }

  void requests(Timestamp now, Timestamp elapsed) {
    for (auto& r : w_.requests) {
      const int next = std::max(r.status, status_at(r, now));
      if (next == r.status) continue;
      r.status = next;
      request_status(r, now);
    }
    std::erase_if(w_.requests, [](const GeneratedRequest& r) { return r.status >= 3; });
    auto create = [&](GeneratedRequest r, std::size_t district, Timestamp requested) {
      auto decoded = jsonld::decode_entity(request_body(w_, r, district, requested), *w_.issue, {});
      if (!decoded || !twin_.create("", std::move(decoded).value(), {twin::Origin::Device, {}})) return;
      w_.requests.push_back(std::move(r));
    };
    if (options_.faults && !w_.breach_done && elapsed >= w_.faults.breached_request) {
      w_.breach_done = true;
      GeneratedRequest r;
      r.id = "urn:ngsi-ld:service_requests:breached-" + std::to_string(w_.started);
      r.category = "water";
      const Timestamp requested = now - w_.categories.at(r.category).sla_ms - 10 * kMinuteMs;
      r.status = 1;
      r.assign_at = requested + kHourMs;
      r.resolve_at = now + 20 * kMinuteMs;
      r.close_at = r.resolve_at + kHourMs;
      spdlog::info("generated city: fault: service request {} is past its SLA", r.id);
      create(std::move(r), w_.rng.below(w_.districts.size()), requested);
    }
    if (options_.requests_per_minute <= 0) return;
    if (w_.next_request == 0) w_.next_request = now;
    while (now >= w_.next_request) {
      w_.next_request += static_cast<Timestamp>(-std::log(std::max(w_.rng.uniform(), 1e-9)) * 60'000.0 / options_.requests_per_minute);
      GeneratedRequest r;
      r.id = "urn:ngsi-ld:service_requests:" + std::to_string(w_.started) + "-" + std::to_string(++w_.new_requests);
      r.category = pick_category(w_);
      plan(w_, r, now);
      create(std::move(r), w_.rng.below(w_.districts.size()), now);
    }
  }

  void calls(Timestamp now) {
    if (options_.calls_per_minute <= 0) return;
    if (w_.next_call == 0) w_.next_call = now + 3'000;
    while (now >= w_.next_call) {
      w_.next_call += static_cast<Timestamp>(-std::log(std::max(w_.rng.uniform(), 1e-9)) * 60'000.0 / options_.calls_per_minute);
      static constexpr std::array<std::pair<const char*, double>, 5> kCategories{
          {{"medical", 0.5}, {"traffic", 0.2}, {"crime", 0.15}, {"fire", 0.1}, {"rescue", 0.05}}};
      double u = w_.rng.uniform();
      const char* category = kCategories.back().first;
      for (const auto& [name, share] : kCategories)
        if ((u -= share) < 0) {
          category = name;
          break;
        }
      const std::size_t district = w_.rng.below(w_.districts.size());
      json::object body{{"id", "urn:ngsi-ld:EmergencyCall:" + std::to_string(w_.started) + "-" + std::to_string(++w_.calls)},
                        {"type", "EmergencyCall"},
                        {"category", demo_property(json::string(category))},
                        {"description", demo_property(json::string(std::string(category) + " call from " + w_.districts[district].name))},
                        {"dateCalled", demo_property(json::string(format_datetime(now)))},
                        {"location", demo_point(w_.random_point(district))}};
      auto decoded = jsonld::decode_entity(body, *w_.core, {});
      if (decoded) (void)twin_.create("", std::move(decoded).value(), {twin::Origin::Device, {}});
    }
  }

  void unit_report(const GeneratedUnit& u, const char* status, Timestamp now, bool with_location) {
    json::object body{{"id", u.id}, {"type", "ResponseUnit"}, {"status", demo_property(json::string(status), now)}};
    if (with_location) body["location"] = demo_point({round_to(u.at[0], 1e-6), round_to(u.at[1], 1e-6)});
    if (std::string_view(status) == "available") body["available"] = demo_property(true);
    add(body, *w_.core);
  }

  void units(Timestamp now) {
    for (auto& u : w_.units) {
      switch (u.state) {
        case GeneratedUnit::State::Idle: {
          std::string incident;
          (void)twin_.read("", u.id, [&](const model::Entity& e) {
            const auto* a = e.find(available_);
            const auto* i = e.find(assigned_);
            if (a && a->value == json::value(false) && i && i->value.is_string() && i->value.as_string() != u.incident)
              incident = std::string(i->value.as_string());
          });
          if (incident.empty()) break;
          std::optional<LonLat> target;
          (void)twin_.read("", incident, [&](const model::Entity& e) {
            const auto* l = e.find(location_);
            if (l && l->value.is_object() && l->value.as_object().contains("coordinates")) {
              const auto& c = l->value.at("coordinates");
              if (c.is_array() && c.as_array().size() >= 2 && c.at(0).is_number())
                target = LonLat{c.at(0).to_number<double>(), c.at(1).to_number<double>()};
            }
          });
          u.incident = incident;
          if (!target) break;
          u.target = *target;
          u.state = GeneratedUnit::State::Turnout;
          u.since = now;
          u.until = now + kTurnoutMs;
          unit_report(u, "dispatched", now, false);
          break;
        }
        case GeneratedUnit::State::Turnout:
          if (now < u.until) break;
          u.state = GeneratedUnit::State::EnRoute;
          u.from = u.at;
          u.since = now;
          u.until = now + static_cast<Timestamp>(1000 * distance_m(u.from, u.target) / kUnitSpeedMs);
          unit_report(u, "enRoute", now, false);
          break;
        case GeneratedUnit::State::EnRoute: {
          if (now >= u.until) {
            u.at = u.target;
            u.state = GeneratedUnit::State::OnScene;
            u.until = now + static_cast<Timestamp>(w_.rng.uniform(3, 8) * kMinuteMs);
            unit_report(u, "onScene", now, true);
            break;
          }
          const double f = static_cast<double>(now - u.since) / static_cast<double>(std::max<Timestamp>(1, u.until - u.since));
          u.at = {u.from[0] + f * (u.target[0] - u.from[0]), u.from[1] + f * (u.target[1] - u.from[1])};
          if ((now - u.since) % 5'000 < 1'000) unit_report(u, "enRoute", now, true);
          break;
        }
        case GeneratedUnit::State::OnScene:
          if (now < u.until) break;
          u.state = GeneratedUnit::State::Idle;
          u.at = u.base;
          unit_report(u, "available", now, true);
          break;
      }
    }
  }

  twin::Twin& twin_;
  GeneratedCity::World& w_;
  const GeneratedCityOptions& options_;
  model::Term available_, assigned_, location_;
  std::vector<jsonld::DecodedEntity> batch_;
};

}  // namespace

void GeneratedCity::start() {
  if (thread_.joinable()) return;
  world_->started = now_ms();
  const auto& f = world_->faults;
  if (options_.faults)
    spdlog::info("generated city: seed {}: faults at +{} ms (breached request), +{} ms (overload of {}), +{} ms (leak "
                 "in metering area {}), +{} ms (tilt of {})",
                 options_.seed, f.breached_request, f.overload, world_->sensors[world_->overload_sensor].id, f.leak,
                 world_->leak_dma, f.tilt, world_->sensors[world_->tilt_sensor].id);
  thread_ = std::thread([this] { run(); });
}

void GeneratedCity::run() {
  Life life(twin_, *world_, options_);
  std::unique_lock lock(mutex_);
  Timestamp next = now_ms();
  while (!stopping_) {
    lock.unlock();
    const Timestamp now = now_ms();
    life.tick(now);
    next = std::max(next + 1000, now);
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(std::max<Timestamp>(next - now_ms(), 1)), [this] { return stopping_; });
  }
}

void GeneratedCity::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ct::app
