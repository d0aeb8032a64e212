#pragma once
// The demo city that `citytwin demo` serves: real public data (data/demo/, provenance in its
// SOURCES.md) loaded into the twin, so that a new user sees a city at once.
//
// - Default tenant (Beijing): the 16 districts as `District` entities with their boundaries (WGS84).
// - Default tenant: the 12 air-quality monitoring stations (data/beijing-air/stations.csv) as
//   `AirQualityObserved` entities with their names and locations (the live feed, demo_feed.hpp,
//   brings their readings).
// - Tenant "los-angeles": the 207 METR-LA loop detectors as Smart Data Model `TrafficFlowObserved`
//   entities at their locations, with the first speed reading of the data set; and its road graph
//   (la-roads.geojson) for dispatching units, in memory.
// - The default rules (rules.json), created when missing.
// Loading is an upsert: starting the demo again on the same data directory changes nothing.
#include <filesystem>

#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "domains/core/city_settings.hpp"
#include "rules/dispatch.hpp"
#include "rules/engine.hpp"
#include "twin/twin.hpp"

namespace ct::app {

inline constexpr const char* kLosAngelesTenant = "los-angeles";
// The Smart Data Model context of the Los Angeles traffic entities (the demo city and its feed).
inline constexpr const char* kTransportationContext =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld";

struct DemoCitySummary {
  std::size_t districts = 0;
  std::size_t traffic_sensors = 0;
  std::size_t air_stations = 0;
};

// Loads the demo city from `data_dir` (the repository's data/demo) into `twin` and waits until it
// is durable. Fails with a problem naming the file at fault.
Result<DemoCitySummary> load_demo_city(twin::Twin& twin, jsonld::ContextStore& contexts, storage::Store& store,
                                       const std::filesystem::path& data_dir);

// Tenant "los-angeles" lives in America/Los_Angeles (the default is Asia/Shanghai): set once, when its
// city settings still have the default time zone.
Status configure_demo_tenants(domains::CitySettingsStore& city, storage::Store& store);

// The Los Angeles road graph (la-roads.geojson, in the PUT /admin/v1/roadgraph format) for dispatch.
Status load_demo_road_graph(rules::RoadGraphs& roads, const std::filesystem::path& data_dir);

// Creates the default rules of rules.json that do not exist yet; returns how many are active.
Result<std::size_t> install_demo_rules(rules::RulesEngine& rules, const std::filesystem::path& data_dir);

}  // namespace ct::app
