#include "domains/health/health_app.hpp"

#include <array>
#include <cmath>
#include <map>

#include "domains/core/app_support.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/districts.hpp"

namespace ct::domains::health {

std::optional<double> bed_occupancy(double occupied, double capacity) {
  if (!(capacity > 0) || !(occupied >= 0) || occupied > capacity) return std::nullopt;
  return 100.0 * occupied / capacity;
}

namespace {

using model::Term;

constexpr std::string_view kBuilding = "https://smartdatamodels.org/dataModel.Building/";
constexpr Timestamp kHourMs = 3'600'000;

enum class Skip : std::uint8_t { NotNumeric, BadCapacity, OverCapacity };
constexpr std::array<std::string_view, 3> kSkipNames{"not_numeric", "bad_capacity", "over_capacity"};

bool is_hospital(const model::Entity& e, Term category) {
  const auto* c = e.find(category);
  if (c == nullptr) return false;
  if (c->value.is_string()) return c->value.as_string() == "hospital";
  if (c->value.is_array())
    for (const auto& v : c->value.as_array())
      if (v.is_string() && v.as_string() == "hospital") return true;
  return false;
}

class HealthApp final : public Application {
 public:
  explicit HealthApp(AppServices& services)
      : services_(services), districts_(services.twin, services.contexts),
        writer_(services.twin, services.contexts.core(), "health") {}

  std::string_view name() const override { return "health"; }
  std::vector<Term> consumes() const override { return {building_}; }

  void on_change(const twin::ChangeEvent& event) override {
    if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return;
    const auto& e = *event.entity;
    if (!wrote(event, occupied_) && !wrote(event, capacity_)) return;
    const auto* o = e.find(occupied_);
    if (o == nullptr || !is_hospital(e, category_)) return;  // a hospital without a reading yet
    ++readings_;
    const Timestamp at = reading_time(*o);
    const auto occupied = number_of(e, occupied_), capacity = number_of(e, capacity_);
    if (!occupied || !capacity) return skip(Skip::NotNumeric, event.tenant, e.id, "occupiedBeds and bedCapacity must be numbers", at);
    if (!(*capacity > 0)) return skip(Skip::BadCapacity, event.tenant, e.id, "bedCapacity must be a positive number", at);
    const auto share = bed_occupancy(*occupied, *capacity);
    if (!share)
      return skip(Skip::OverCapacity, event.tenant, e.id,
                  "occupiedBeds " + json::serialize(json::value(*occupied)) + " is not between 0 and bedCapacity " +
                      json::serialize(json::value(*capacity)),
                  at);
    auto& t = tenants_[event.tenant];
    auto [it, added] = t.hospitals.try_emplace(e.id);
    auto& h = it->second;
    if (added)
      if (const auto point = point_location(e))
        h.district = districts_
                         .district_of(event.tenant, services_.settings.get(event.tenant)->district_type, point->first,
                                      point->second)
                         .value_or("");
    h.occupied = *occupied;
    h.capacity = *capacity;
    t.changed = true;
    if (std::abs(*share - h.written) < 1) return;
    h.written = *share;
    writer_.merge(event.tenant, e.id, {{"bedOccupancy", property(std::round(*share * 10) / 10, at, "P1")}});
  }

  void on_tick(Timestamp now) override {
    const Timestamp hour = now - now % kHourMs;
    for (auto& [tenant, t] : tenants_) {
      if (!t.changed && hour == hour_) continue;
      t.changed = false;
      std::map<std::string, std::pair<double, double>> areas;  // occupied, capacity; "" the city
      for (const auto& [id, h] : t.hospitals) {
        areas[""].first += h.occupied;
        areas[""].second += h.capacity;
        if (h.district.empty()) continue;
        areas[h.district].first += h.occupied;
        areas[h.district].second += h.capacity;
      }
      for (const auto& [district, beds] : areas) {
        KpiFigure f;
        f.application = "health";
        f.indicator = "bedOccupancy";
        f.name = "Hospital bed occupancy";
        f.description = "Occupied beds / beds of the area's hospitals (%)";
        f.frequency = "hourly";
        if (!district.empty()) f.district = district;
        f.from = hour;
        f.to = hour + kHourMs;
        f.value = std::round(1000.0 * beds.first / beds.second) / 10;
        f.standing = f.value < 85 ? "good" : f.value < 95 ? "fair" : "bad";
        board_.set(tenant, std::move(f));
      }
    }
    hour_ = hour;
    board_.flush(services_.kpis, now);
  }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"health_readings", "hospital bed readings received", "", readings_.load()});
    for (std::size_t i = 0; i < kSkipNames.size(); ++i)
      out.push_back({"health_readings_skipped", "readings left out, by cause",
                     "cause=\"" + std::string(kSkipNames[i]) + "\"", skipped_[i].load()});
    out.push_back({"health_kpis_published", "health KPI values published", "", board_.published()});
    out.push_back({"health_write_failures", "write-backs that failed", "", writer_.failures()});
  }

 private:
  struct Hospital {
    std::string district;
    double occupied = 0, capacity = 0, written = -100;
  };
  struct Tenant {
    std::map<std::string, Hospital> hospitals;
    bool changed = false;
  };

  void skip(Skip cause, const std::string& tenant, const std::string& id, std::string detail, Timestamp at) {
    ++skipped_[static_cast<std::size_t>(cause)];
    writer_.report_problem(tenant, id, bad_request(std::move(detail)), at);
  }

  AppServices& services_;
  DistrictLocator districts_;
  WriteBack writer_;
  KpiBoard board_;
  Term building_ = Term::intern(std::string(kBuilding) + "Building");
  Term category_ = Term::intern(std::string(kBuilding) + "category");
  Term occupied_ = default_term("occupiedBeds"), capacity_ = default_term("bedCapacity");
  std::map<std::string, Tenant> tenants_;
  Timestamp hour_ = kNoTimestamp;
  std::atomic<std::uint64_t> readings_{0};
  std::array<std::atomic<std::uint64_t>, kSkipNames.size()> skipped_{};
};

}  // namespace

std::unique_ptr<Application> make_application(AppServices& services) { return std::make_unique<HealthApp>(services); }

}  // namespace ct::domains::health
