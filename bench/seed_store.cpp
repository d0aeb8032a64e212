// Fills a data directory with N city sensors of 10 attributes each, through the same twin and store
// the server uses, so that the server can then be measured starting on (and holding) that city.
//   citytwin_seed --data-dir DIR --entities 1000000
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>

#include "jsonld/context_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

int main(int argc, char** argv) {
  CLI::App app{"seed a CityTwin data directory with synthetic sensors"};
  std::string data_dir;
  std::size_t entities = 100000;
  std::string tenant;
  app.add_option("--data-dir", data_dir)->required();
  app.add_option("--entities", entities)->capture_default_str();
  app.add_option("--tenant", tenant);
  CLI11_PARSE(app, argc, argv);

  auto store = ct::storage::open_rocksdb_store({data_dir, /*sync=*/false});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.problem().detail.c_str());
    return 1;
  }
  ct::twin::Twin twin(**store);
  if (!twin.load().ok()) return 1;
  ct::jsonld::ContextStore contexts;
  const auto& ctx = *contexts.core();
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> lon(116.0, 116.8), lat(39.6, 40.2), reading(0, 200);
  const auto start = std::chrono::steady_clock::now();
  ct::storage::Sequence last = 0;
  for (std::size_t i = 0; i < entities; ++i) {
    ct::json::object e;
    e["id"] = "urn:ngsi-ld:Sensor:" + std::to_string(i);
    e["type"] = "Sensor";
    for (const char* name : {"speed", "flow", "occupancy", "temperature", "humidity", "pm25", "pm10", "no2"})
      e[name] = ct::json::object{{"type", "Property"}, {"value", std::round(reading(rng) * 10) / 10}};
    e["status"] = ct::json::object{{"type", "Property"}, {"value", "ok"}};
    e["location"] = ct::json::object{
        {"type", "GeoProperty"},
        {"value", ct::json::object{{"type", "Point"}, {"coordinates", ct::json::array{lon(rng), lat(rng)}}}}};
    auto decoded = ct::jsonld::decode_entity(e, ctx, {});
    if (!decoded) {
      std::fprintf(stderr, "%s\n", decoded.problem().detail.c_str());
      return 1;
    }
    auto outcome = twin.create(tenant, std::move(decoded).value());
    if (outcome) last = outcome->sequence;
  }
  if (!(*store)->wait_durable(last).ok()) return 1;
  (*store)->close();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seeded %zu entities in %.1f s\n", entities, seconds);
  return 0;
}
