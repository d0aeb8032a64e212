// In-process benchmark of producing query and GET answers: the twin's query or read plus printing
// the entities into a body, as the HTTP handlers do, without HTTP, the kernel or the load generator.
// It loads a store seeded by citytwin_seed and reports the CPU time of the measuring thread per
// answer (stable on a shared machine, unlike requests/s).
//   render_bench --data-dir DIR [--distance 3200] [--limit 1000] [--answers 3000] [--get]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <random>

#include "http/entity_query.hpp"
#include "jsonld/context_store.hpp"
#include "jsonld/entity_writer.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"CPU per query or GET answer, in process"};
  std::string data_dir;
  int distance = 3200;
  std::size_t limit = 1000, answers = 3000, rounds = 3;
  bool get = false;
  app.add_option("--data-dir", data_dir)->required();
  app.add_option("--distance", distance, "near;maxDistance in metres")->capture_default_str();
  app.add_option("--limit", limit)->capture_default_str();
  app.add_option("--answers", answers, "answers per round")->capture_default_str();
  app.add_option("--rounds", rounds)->capture_default_str();
  app.add_flag("--get", get, "GET one entity by id instead of the near query");
  CLI11_PARSE(app, argc, argv);

  auto store = ct::storage::open_rocksdb_store({data_dir, /*sync=*/false});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.problem().detail.c_str());
    return 1;
  }
  ct::twin::Twin twin(**store);
  if (!twin.load().ok()) return 1;
  ct::jsonld::ContextStore contexts;
  const auto context = contexts.core();
  std::size_t population = 0;
  if (auto all = twin.query("", {}, 0, 0, [](const ct::model::Entity&) {}); all) population = *all;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> lon(116.0, 116.8), lat(39.6, 40.2);
  std::uniform_int_distribution<std::size_t> pick(0, population == 0 ? 0 : population - 1);

  auto one_answer = [&](std::string& body) -> std::size_t {
    const ct::jsonld::EncodeOptions options;
    ct::jsonld::EntityWriter writer(context, options);  // as the server: names kept per thread
    body.clear();
    if (get) {
      auto status = twin.read("", "urn:ngsi-ld:Sensor:" + std::to_string(pick(rng)),
                              [&](const ct::model::Entity& e) { writer.entity(body, e); });
      return status.ok() ? 1 : 0;
    }
    ct::http::Criteria criteria;
    criteria.selectors.push_back({"Sensor", "", ""});
    criteria.georel = "near;maxDistance==" + std::to_string(distance);
    criteria.geometry = "Point";
    char coordinates[64];
    std::snprintf(coordinates, sizeof coordinates, "[%.5f,%.5f]", lon(rng), lat(rng));
    criteria.coordinates = coordinates;
    auto query = ct::http::build_query(criteria, *context, "", "");
    if (!query) return 0;
    body = "[";
    std::size_t entities = 0;
    auto total = twin.query("", *query, 0, limit, [&](const ct::model::Entity& e) {
      if (entities++ > 0) body.push_back(',');
      writer.entity(body, e);
    });
    body += ']';
    return total ? entities : 0;
  };

  std::string body;
  for (std::size_t i = 0; i < 200; ++i) one_answer(body);  // builds the spatial index, warms up
  for (std::size_t round = 0; round < rounds; ++round) {
    std::size_t entities = 0, bytes = 0;
    const double start = thread_cpu_seconds();
    for (std::size_t i = 0; i < answers; ++i) {
      entities += one_answer(body);
      bytes += body.size();
    }
    const double cpu = thread_cpu_seconds() - start;
    std::printf("%s: %.1f us CPU per answer, %.0f entities and %.0f bytes per answer\n", get ? "GET" : "near",
                cpu * 1e6 / static_cast<double>(answers), static_cast<double>(entities) / static_cast<double>(answers),
                static_cast<double>(bytes) / static_cast<double>(answers));
  }
  return 0;
}
