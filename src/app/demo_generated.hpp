#pragma once
// The generated part of the demo city (issue #16): what no public data set describes — water
// metering areas, substations, bridges, dams, hospitals, response units, citizen service requests
// and emergency calls — laid out inside Beijing's 16 districts (data/demo/beijing-districts.geojson),
// deterministically for a given seed, and kept living in real time with plausible daily cycles:
//
// - per district 6 water metering areas (an inlet `Pipe` reporting `flow`, 12 `Junction`s reporting
//   `pressure`), 8 primary substations and 100 distribution transformers
//   (`ThreePhaseAcMeasurement` reporting `totalApparentPower` against `ratedApparentPower`),
//   20 bridges (`Building` category bridge: strain, tilt, vibration), 4 hospitals (`Building`
//   category hospital: occupiedBeds of bedCapacity), 3 ambulances, 2 fire engines and 4 police
//   cars (`ResponseUnit`); 6 reservoirs (`Reservoir`: head against floodControlLevel);
// - 100 open citizen service requests per district (`service_requests`) that move through
//   open → assigned → resolved → closed, and new ones as they come in;
// - emergency calls (`EmergencyCall`) at random places; the units the emergency application
//   dispatches drive there (40 km/h after a minute's turnout), report "onScene", work, and report
//   "available" back at their station.
// Every sensor reports every `sensor_period` (stamped with the wall-clock time: the city happens
// now), in batches spread over the period. Faults are injected at times fixed by the seed, all
// within the first 35 seconds: a breached service request, an overloaded substation, a burst main
// (its metering area's inflow up, its pressures down) and a tilting bridge; one hospital runs
// nearly full. With the applications and the default rules, each raises its alert within the first
// minute.
//
// Threads: load() and start() on the caller's thread; then one thread of its own until stop().
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "twin/twin.hpp"

namespace ct::app {

struct GeneratedCityOptions {
  std::filesystem::path data_dir;      // data/demo
  std::uint64_t seed = 1;
  Timestamp sensor_period_ms = 5'000;  // how often each sensor reports
  double calls_per_minute = 2;         // emergency calls, city-wide
  double requests_per_minute = 4;      // new citizen service requests, city-wide
  bool faults = true;
};

struct GeneratedCitySummary {
  std::size_t metering_areas = 0, junctions = 0, substations = 0, bridges = 0, reservoirs = 0, hospitals = 0,
              units = 0, requests = 0;
  std::size_t entities() const {
    return metering_areas + junctions + substations + bridges + reservoirs + hospitals + units + requests;
  }
};

// The faults injected, in ms after start(), for a seed (the demo logs them; the tests read them).
struct FaultPlan {
  Timestamp breached_request = 0, overload = 0, leak = 0, tilt = 0;
};
FaultPlan fault_plan(std::uint64_t seed);

class GeneratedCity {
 public:
  GeneratedCity(twin::Twin& twin, jsonld::ContextStore& contexts, GeneratedCityOptions options);
  ~GeneratedCity();
  GeneratedCity(const GeneratedCity&) = delete;
  GeneratedCity& operator=(const GeneratedCity&) = delete;

  // Lays the city out and creates (or, on a restart, keeps) its entities; a problem names the file
  // or entity at fault.
  Result<GeneratedCitySummary> load();
  void start();
  void stop();

  struct World;  // demo_generated_world.cpp

 private:
  void run();

  twin::Twin& twin_;
  jsonld::ContextStore& contexts_;
  GeneratedCityOptions options_;
  std::unique_ptr<World> world_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ct::app
