// evaluation_bench: the whole GB/T 33356-2016 framework (data/frameworks) evaluated for 16 districts and
// the city, in process on a real twin and RocksDB store, as POST /admin/v1/evaluations runs it:
// every query and KPI source answered from the twin, manual values read, the scores published as
// KeyPerformanceIndicator entities.
//
//   evaluation_bench --stations 12 --sensors 207 --rounds 5
//
// Population: 16 districts in a 4 × 4 grid; `stations` AirQualityObserved and `sensors`
// TrafficFlowObserved spread over them (the demo city has 12 and 207); the air and traffic KPIs
// per district and for the city; a manual value for every manual indicator of every area. Reports
// the median wall time of one evaluation of all 17 areas over `rounds` rounds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "evaluation/evaluations.hpp"
#include "jsonld/entity_codec.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

using namespace ct;
using BenchClock = std::chrono::steady_clock;

namespace {

json::object point_property(double lon, double lat) {
  return {{"type", "GeoProperty"}, {"value", json::object{{"type", "Point"}, {"coordinates", json::array{lon, lat}}}}};
}

bool create(twin::Twin& twin, jsonld::ContextStore& contexts, const json::object& body) {
  auto decoded = jsonld::decode_entity(body, *contexts.core(), {});
  if (!decoded) return std::fprintf(stderr, "%s\n", decoded.problem().detail.c_str()), false;
  std::vector<jsonld::DecodedEntity> one;
  one.push_back(std::move(decoded).value());
  auto outcome = twin.batch_upsert("", std::move(one), twin::UpsertMode::Replace);
  return outcome.items.empty() || !outcome.items.front().error;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"GB/T 33356-2016 evaluated for 16 districts and the city"};
  int stations = 12, sensors = 207, rounds = 5;
  std::string dir = "/tmp/citytwin-evaluation-bench-" + std::to_string(::getpid());
  app.add_option("--stations", stations);
  app.add_option("--sensors", sensors);
  app.add_option("--rounds", rounds);
  app.add_option("--dir", dir);
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  auto store = storage::open_rocksdb_store({dir, /*sync=*/true});
  if (!store) return std::fprintf(stderr, "%s\n", store.problem().detail.c_str()), 1;
  twin::Twin twin(**store);
  if (!twin.load()) return 1;
  jsonld::ContextStore contexts;
  if (!contexts.load_directory(std::filesystem::path(CITYTWIN_SOURCE_DIR) / "data/contexts")) return 1;
  auto frameworks = evaluation::load_framework_directory(std::filesystem::path(CITYTWIN_SOURCE_DIR) / "data/frameworks");
  if (!frameworks) return std::fprintf(stderr, "%s\n", frameworks.problem().detail.c_str()), 1;
  domains::KpiPublisher kpis(twin, contexts);
  evaluation::Evaluations evaluations(std::move(frameworks).value(), twin, contexts, kpis);
  const auto* gbt = evaluations.framework("gbt33356-2016");
  if (!gbt) return 1;

  std::vector<std::string> areas{"city"};
  for (int d = 0; d < 16; ++d) {
    const double x = d % 4, y = d / 4;
    json::array ring{json::array{x, y}, json::array{x + 1, y}, json::array{x + 1, y + 1}, json::array{x, y + 1}, json::array{x, y}};
    areas.push_back("urn:ngsi-ld:District:" + std::to_string(d));
    if (!create(twin, contexts, {{"id", areas.back()}, {"type", "District"},
                                 {"location", json::object{{"type", "GeoProperty"},
                                                           {"value", json::object{{"type", "Polygon"}, {"coordinates", json::array{ring}}}}}}}))
      return 1;
  }
  auto spot = [](int i, int n) { return std::pair{4.0 * (i + 0.5) / n, 0.5 + (i * 7 % 4)}; };
  for (int i = 0; i < stations; ++i) {
    auto [lon, lat] = spot(i, stations);
    if (!create(twin, contexts, {{"id", "urn:ngsi-ld:AirQualityObserved:" + std::to_string(i)}, {"type", "AirQualityObserved"},
                                 {"airQualityIndex", json::object{{"type", "Property"}, {"value", 30 + i % 150}}},
                                 {"location", point_property(lon, lat)}}))
      return 1;
  }
  for (int i = 0; i < sensors; ++i) {
    auto [lon, lat] = spot(i, sensors);
    if (!create(twin, contexts, {{"id", "urn:ngsi-ld:TrafficFlowObserved:" + std::to_string(i)}, {"type", "TrafficFlowObserved"},
                                 {"averageVehicleSpeed", json::object{{"type", "Property"}, {"value", 20 + i % 60}}},
                                 {"location", point_property(lon, lat)}}))
      return 1;
  }
  for (const auto& area : areas) {
    for (auto [app_name, indicator, frequency, value] :
         {std::tuple{"air", "goodAirDaysShare", "daily", 70.0}, std::tuple{"air", "meanAqi", "hourly", 80.0},
          std::tuple{"traffic", "meanCongestionIndex", "hourly", 4.0}}) {
      domains::KpiFigure f{app_name, indicator, indicator, "", frequency, std::nullopt, 0, 3'600'000, value, std::nullopt, std::nullopt};
      if (area != "city") f.district = area;
      if (!kpis.publish("", f)) return 1;
    }
    for (const auto& ind : gbt->indicators) {
      if (!ind.leaf() || !std::holds_alternative<evaluation::ManualSource>(*ind.source)) continue;
      evaluation::ManualEntry m{0.5, "bench", "bench", 0, area, gbt->id};
      if (auto s = evaluations.set_manual("", ind.code, m); !s) return std::fprintf(stderr, "%s\n", s.problem().detail.c_str()), 1;
    }
  }

  std::vector<evaluation::EvaluationDefinition> definitions;
  for (const auto& area : areas) {
    auto body = json::object{{"framework", gbt->id}, {"scope", area}, {"period", "2026"}};
    auto d = evaluations.define("", body);
    if (!d) return std::fprintf(stderr, "%s\n", d.problem().detail.c_str()), 1;
    definitions.push_back(*d);
  }
  std::vector<double> ms;
  std::size_t computed = 0, manual = 0, missing = 0;
  for (int r = 0; r < rounds; ++r) {
    const auto start = BenchClock::now();
    computed = manual = missing = 0;
    for (const auto& d : definitions) {
      auto run = evaluations.run("", d);
      if (!run) return std::fprintf(stderr, "%s\n", run.problem().detail.c_str()), 1;
      computed += run->result.computed, manual += run->result.manual, missing += run->result.missing;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(BenchClock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("gbt33356-2016, %zu areas (16 districts + city), %d stations, %d sensors: median %.1f ms per round "
              "(min %.1f, max %.1f, %d rounds); leaves per round: %zu computed, %zu manual, %zu missing\n",
              definitions.size(), stations, sensors, ms[ms.size() / 2], ms.front(), ms.back(), rounds, computed, manual,
              missing);
  std::filesystem::remove_all(dir);
  return 0;
}
