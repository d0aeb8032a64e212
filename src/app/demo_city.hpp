#pragma once
// The demo city that `citytwin demo` serves: real public data (data/demo/, provenance in its
// SOURCES.md) loaded into the twin, so that a new user sees a city at once.
//
// - Default tenant (Beijing): the 16 districts as `District` entities with their boundaries (WGS84).
// - Tenant "los-angeles": the 207 METR-LA loop detectors as Smart Data Model `TrafficFlowObserved`
//   entities at their locations, with the first speed reading of the data set.
// Loading is an upsert: starting the demo again on the same data directory changes nothing.
#include <filesystem>

#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "twin/twin.hpp"

namespace ct::app {

inline constexpr const char* kLosAngelesTenant = "los-angeles";

struct DemoCitySummary {
  std::size_t districts = 0;
  std::size_t traffic_sensors = 0;
};

// Loads the demo city from `data_dir` (the repository's data/demo) into `twin` and waits until it
// is durable. Fails with a problem naming the file at fault.
Result<DemoCitySummary> load_demo_city(twin::Twin& twin, jsonld::ContextStore& contexts, storage::Store& store,
                                       const std::filesystem::path& data_dir);

}  // namespace ct::app
