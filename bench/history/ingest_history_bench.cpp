// Ingest with history on and off, in process (no HTTP, so the difference is not hidden in request
// parsing): batch upserts of 100 entities x 10 attributes (9 numbers and a location) into the twin
// over RocksDB, with the history recorder observing the twin or not. Four writer threads, each
// waiting for its batch to be durable as the HTTP path does. Reports wall time and process CPU
// time (RocksDB's threads included) per attribute value, alternating the modes.
//
//   ingest_history_bench [--batches 200] [--rounds 3] [--entities 20000]
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "history/history_store.hpp"
#include "jsonld/context_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace {

using namespace ct;

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Stands in for the subscriptions consumer that is always attached (with no subscription it wants
// nothing), so that both modes build the same change events.
class NullConsumer final : public twin::ChangeConsumer {
 public:
  std::string_view name() const override { return "null"; }
  bool wants(const twin::ChangeEvent&) const override { return false; }
  void consume(std::span<const twin::ChangeEvent>) override {}
};

std::vector<jsonld::DecodedEntity> make_batch(const jsonld::Context& ctx, std::size_t first, std::size_t entities,
                                              unsigned seed) {
  std::vector<jsonld::DecodedEntity> batch;
  for (std::size_t i = 0; i < 100; ++i) {
    json::object body{{"id", "urn:ngsi-ld:Sensor:" + std::to_string((first + i) % entities)}, {"type", "Sensor"}};
    int k = 0;
    for (const char* name : {"speed", "flow", "occupancy", "temperature", "humidity", "pm25", "pm10", "no2", "co"})
      body[name] = json::object{{"type", "Property"}, {"value", static_cast<double>((seed * 7919 + i * 31 + k++) % 2000) / 10}};
    body["location"] = json::object{
        {"type", "GeoProperty"},
        {"value", json::object{{"type", "Point"}, {"coordinates", json::array{116.0 + static_cast<double>(i) * 0.001, 39.9}}}}};
    batch.push_back(jsonld::decode_entity(body, ctx, {}).value());
  }
  return batch;
}

struct Run {
  double wall = 0, cpu = 0;
};

Run run(bool history_on, std::size_t batches, std::size_t entities, const std::vector<std::vector<jsonld::DecodedEntity>>& bodies) {
  const auto dir = std::filesystem::temp_directory_path() / "citytwin-ingest-history-bench";
  std::filesystem::remove_all(dir);
  auto store = storage::open_rocksdb_store({dir, true}).value();
  NullConsumer others;  // outlives the twin, which detaches it
  twin::Twin twin(*store);
  (void)twin.load();
  history::HistoryStore history(*store);
  if (history_on) twin.add_contributor(&history);
  twin.changes().attach(others);
  // The entities exist first: the measured writes are updates, the steady state of a city.
  for (std::size_t b = 0; b * 100 < entities; ++b) {
    auto batch = bodies[b % bodies.size()];
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].header.id = "urn:ngsi-ld:Sensor:" + std::to_string(b * 100 + i);
    (void)store->wait_durable(twin.batch_upsert("", std::move(batch), twin::UpsertMode::Update).sequence);
  }
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&] {
      for (std::size_t b; (b = next.fetch_add(1)) < batches;) {
        auto batch = bodies[b % bodies.size()];
        auto outcome = twin.batch_upsert("", std::move(batch), twin::UpsertMode::Update);
        (void)store->wait_durable(outcome.sequence);
      }
    });
  for (auto& t : writers) t.join();
  Run r{std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(), cpu_seconds() - cpu0};
  store->close();
  store.reset();
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ingest with history on and off"};
  std::size_t batches = 200, entities = 20'000;
  int rounds = 3;
  std::string mode = "both";
  app.add_option("--batches", batches, "measured batches of 100 entities x 10 attributes per run");
  app.add_option("--entities", entities, "distinct entities updated");
  app.add_option("--rounds", rounds, "runs of each mode, alternating");
  app.add_option("--mode", mode, "both, or only on or off (to profile one mode)")->check(CLI::IsMember({"both", "on", "off"}));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  jsonld::ContextStore contexts;
  std::vector<std::vector<jsonld::DecodedEntity>> bodies;
  for (unsigned k = 0; k < 16; ++k) bodies.push_back(make_batch(*contexts.core(), k * 1237, entities, k));

  std::vector<double> wall[2], cpu[2];
  for (int r = 0; r < rounds; ++r)
    for (int on = 1; on >= 0; --on) {
      if (mode != "both" && (mode == "on") != (on == 1)) continue;
      const Run x = run(on == 1, batches, entities, bodies);
      wall[on].push_back(x.wall);
      cpu[on].push_back(x.cpu);
      std::printf("round %d, history %-3s: %.2f s wall, %.2f s CPU, %.0f values/s\n", r + 1, on ? "on" : "off", x.wall,
                  x.cpu, static_cast<double>(batches) * 1000 / x.wall);
    }
  if (mode != "both") return 0;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double values = static_cast<double>(batches) * 1000;
  std::printf("median: history on %.0f values/s (%.2f us CPU each), off %.0f values/s (%.2f us CPU each): "
              "throughput with history %.0f%% of without, CPU +%.0f%%\n",
              values / median(wall[1]), median(cpu[1]) / values * 1e6, values / median(wall[0]),
              median(cpu[0]) / values * 1e6, 100 * median(wall[0]) / median(wall[1]),
              100 * (median(cpu[1]) / median(cpu[0]) - 1));
  return 0;
}
