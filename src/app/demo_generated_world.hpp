#pragma once
// The state of the generated demo city (demo_generated.hpp), shared by its layout
// (demo_generated_layout.cpp) and its life (demo_generated.cpp). Private to src/app.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "app/demo_generated.hpp"
#include "domains/core/city_settings.hpp"

namespace ct::app {

using LonLat = std::array<double, 2>;

// splitmix64: the same numbers for a seed on every platform (std:: distributions are not).
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)) % n; }
  double normal() {  // Box–Muller
    const double u = std::max(uniform(), 1e-12), v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
  }
};

struct GeneratedDistrict {
  std::string id, name;
  std::vector<std::vector<LonLat>> rings;  // outer rings of its polygons
  double min_lon = 180, max_lon = -180, min_lat = 90, max_lat = -90;
  bool contains(LonLat p) const;
};

enum class SensorKind { Inlet, Junction, Substation, Bridge, Reservoir, Hospital };

struct GeneratedSensor {
  std::string id;
  SensorKind kind = SensorKind::Inlet;
  std::size_t district = 0;
  int dma = -1;              // inlets and junctions: their metering area
  double base = 0;           // inlet: mean flow L/s; junction: static pressure m; substation: rated kVA;
                             // bridge: strain scale; reservoir: flood-control level; hospital: bed capacity
  double scale = 1;          // substation: share of its rating used at the daily peak; bridge: tilt at rest;
                             // reservoir: metres below flood control; hospital: usual occupancy share
  double drop = 0;           // junction: the pressure a burst in its area takes away (m)
};

struct GeneratedUnit {
  std::string id, kind;
  LonLat base{}, at{}, from{}, target{};
  enum class State { Idle, Turnout, EnRoute, OnScene } state = State::Idle;
  Timestamp since = 0, until = 0;
  std::string incident;
};

struct GeneratedRequest {
  std::string id, category;
  Timestamp assign_at = 0, resolve_at = 0, close_at = 0;
  int status = 0;  // 0 open, 1 assigned, 2 resolved, 3 closed
};

struct GeneratedCity::World {
  Rng rng{1};
  std::vector<GeneratedDistrict> districts;
  std::vector<GeneratedSensor> sensors;
  std::vector<GeneratedUnit> units;
  std::vector<GeneratedRequest> requests;  // those not closed yet
  std::map<std::string, domains::ServiceCategory> categories;
  jsonld::ContextPtr core, water, energy, building, issue;
  FaultPlan faults;
  std::size_t leak_dma = 0, overload_sensor = 0, tilt_sensor = 0;
  bool breach_done = false;
  Timestamp started = 0;
  std::uint64_t ticks = 0, calls = 0, new_requests = 0;
  Timestamp next_call = 0, next_request = 0;

  LonLat random_point(std::size_t district);
};

// The daily cycles, by local hour (0–24): water demand, electric load, road traffic (about 0.3–1.1).
double water_demand(double hour);
double electric_load(double hour);
double road_traffic(double hour);
// Beijing local hour of an instant (UTC+8, no daylight saving).
double beijing_hour(Timestamp at);

// Creates the service requests open at start (100 per district, requested within the last part of
// their SLA, none breached); on a restart, adopts those that exist. Returns how many are open.
std::size_t create_request_backlog(twin::Twin& twin, GeneratedCity::World& world, Timestamp now);

// Normalized NGSI-LD attribute bodies.
json::object demo_property(json::value value, Timestamp at = kNoTimestamp, const char* unit = nullptr);
json::object demo_point(LonLat p);

}  // namespace ct::app
