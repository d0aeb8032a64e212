// rules_bench: the rules engine in process, on a real twin and RocksDB store (no fsync), without
// HTTP: what the engine costs the write path and how fast a condition becomes a visible alert.
//
//   rules_bench --dir /tmp/rb --entities 100000 --rules 1000 --rate 50000 --duration 10
//
// Population: `types` entity types (T0..), entities spread evenly over them, each with
// `attributes` numeric attributes (a0..). Rule k watches type T(k % types) and attribute
// a(k / types % attributes): half `avg(aN,PT1M) > 1000`, half `max(aN,PT1M) > 1000`, each with an
// alert action, so every entity of a type is in the windows of the rules of that type.
// Updates are batch upserts (Update mode) of `batch` entities writing one attribute each, values
// in [0, 100) so that no condition holds, except "spikes" (value 5000 on a0 of a new entity of type T1,
// watched by rule 1, a max rule), one every `spike_every` batches: the time from the end of the write call to
// the alert's creation event (seen by an observer on the twin) is the condition → alert latency.
//
// Runs: unpaced without the engine; then twice unpaced with every rule disabled and then enabled
// (throughput ratio of adjacent runs: the growing store moves throughput more than the rules); then
// paced at `rate` with the rules for latency and whether the engine keeps up (events dropped).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "jsonld/context_store.hpp"
#include "rules/engine.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

using namespace ct;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string dir = "/tmp/citytwin-rules-bench";
  long entities = 100'000;
  int rules = 1000;
  int types = 100;
  int attributes = 10;
  double rate = 50'000;
  double duration = 10;
  int batch = 500;
  int spike_every = 5;
};

std::string entity_id(long i) { return "urn:ngsi-ld:Sensor:" + std::to_string(i); }

// Records when each Alert is created (by alertSource), to time spikes.
class AlertWatch final : public twin::ChangeObserver {
 public:
  explicit AlertWatch(model::Term alert_type) : alert_type_(alert_type) {}
  void on_change(const twin::ChangeEvent& e) override {
    if (e.kind != twin::ChangeEvent::Kind::Created || !e.entity->has_type(alert_type_)) return;
    std::lock_guard lock(mutex);
    created[e.entity->id.substr(e.entity->id.rfind(":urn:") + 1)] = Clock::now();
  }
  std::mutex mutex;
  std::unordered_map<std::string, Clock::time_point> created;

 private:
  model::Term alert_type_;
};

struct RunResult {
  double updates_per_s = 0;
  std::vector<double> latencies_ms;
  std::size_t spikes = 0;
};

jsonld::DecodedEntity update_of(long entity, int types, int attribute, double value, const jsonld::Context& ctx) {
  json::object body{{"id", entity_id(entity)},
                    {"type", "T" + std::to_string(entity % types)},
                    {"a" + std::to_string(attribute), json::object{{"type", "Property"}, {"value", value}}}};
  return jsonld::decode_entity(body, ctx, {}).value();
}

RunResult run(twin::Twin& twin, const Options& o, const jsonld::Context& ctx, double rate, double seconds,
              AlertWatch* watch, long& spike_entity) {
  std::mt19937_64 random(42);
  RunResult result;
  std::vector<std::pair<std::string, Clock::time_point>> spikes;
  const auto start = Clock::now();
  long updates = 0;
  int batches = 0;
  while (Clock::now() - start < std::chrono::duration<double>(seconds)) {
    std::vector<jsonld::DecodedEntity> batch;
    bool spike = watch && ++batches % o.spike_every == 0;
    for (int i = 0; i < o.batch; ++i) {
      const long e = static_cast<long>(random() % static_cast<unsigned long>(o.entities));
      batch.push_back(update_of(e, o.types, static_cast<int>(random() % static_cast<unsigned long>(o.attributes)),
                                static_cast<double>(random() % 100), ctx));
    }
    std::string spiked;
    if (spike) {
      // Rule 1 (a max rule) watches a0 of type T1: entities e with e % types == 1. Each spike takes
      // the next such entity, so each raises a new alert.
      ++spike_entity;
      const long e = (spike_entity * o.types + 1) % o.entities;
      batch.push_back(update_of(e, o.types, 0, 5000, ctx));
      spiked = entity_id(e);
    }
    auto outcome = twin.batch_upsert("", std::move(batch), twin::UpsertMode::Update);
    (void)outcome;
    if (spike) spikes.emplace_back(spiked, Clock::now());
    updates += o.batch;
    if (rate > 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(updates) / rate);
      std::this_thread::sleep_until(due);
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  result.updates_per_s = static_cast<double>(updates) / elapsed;
  if (watch) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::lock_guard lock(watch->mutex);
    for (const auto& [id, sent] : spikes) {
      auto it = watch->created.find(id);
      if (it != watch->created.end())
        result.latencies_ms.push_back(std::chrono::duration<double, std::milli>(it->second - sent).count());
    }
    result.spikes = spikes.size();
  }
  return result;
}

// CPU seconds used so far by this process's thread named `name` (from /proc), -1 if not found.
double thread_cpu_seconds(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    std::getline(comm, line);
    if (line != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
      if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return -1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("rules engine benchmark (in process)");
  app.add_option("--dir", o.dir);
  app.add_option("--entities", o.entities);
  app.add_option("--rules", o.rules);
  app.add_option("--types", o.types);
  app.add_option("--attributes", o.attributes);
  app.add_option("--rate", o.rate);
  app.add_option("--duration", o.duration);
  app.add_option("--batch", o.batch);
  app.add_option("--spike-every", o.spike_every);
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(o.dir);
  auto store = storage::open_rocksdb_store({o.dir, /*sync=*/false});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.problem().detail.c_str());
    return 1;
  }
  twin::Twin twin(**store);
  (void)twin.load();
  jsonld::ContextStore contexts;
  const auto& ctx = *contexts.core();
  {
    std::vector<jsonld::DecodedEntity> batch;
    for (long e = 0; e < o.entities; ++e) {
      json::object body{{"id", entity_id(e)}, {"type", "T" + std::to_string(e % o.types)}};
      for (int a = 0; a < o.attributes; ++a) body["a" + std::to_string(a)] = json::object{{"type", "Property"}, {"value", 1}};
      batch.push_back(jsonld::decode_entity(body, ctx, {}).value());
      if (batch.size() == 1000) {
        (void)twin.batch_upsert("", std::move(batch), twin::UpsertMode::Replace);
        batch.clear();
      }
    }
  }
  long spike_entity = 0;
  const auto first = run(twin, o, ctx, 0, o.duration / 4, nullptr, spike_entity);
  std::printf("no engine, unpaced: %.0f updates/s\n", first.updates_per_s);

  rules::RoadGraphs roads;
  rules::Incidents incidents(twin, contexts.core(), roads);
  rules::RulesEngine engine(twin, **store, contexts, incidents, nullptr);
  twin.add_observer(&engine);
  auto alert_ctx = contexts.resolve(json::value(rules::kAlertContextUrl)).value();
  AlertWatch watch(model::Term::intern(alert_ctx->expand("Alert")));
  twin.add_observer(&watch);
  engine.start();
  for (int k = 0; k < o.rules; ++k) {
    const std::string attribute = "a" + std::to_string(k / o.types % o.attributes);
    json::object rule{{"id", "r" + std::to_string(k)},
                      {"watch", json::object{{"type", "T" + std::to_string(k % o.types)}}},
                      {"when", std::string(k % 2 ? "max(" : "avg(") + attribute + ",PT1M) > 1000"},
                      {"enabled", false},
                      {"actions", json::array{json::object{{"alert", json::object{{"category", "bench"}}}}}}};
    if (auto created = engine.create("", rule, ""); !created) {
      std::fprintf(stderr, "rule: %s\n", created.problem().detail.c_str());
      return 1;
    }
  }
  auto set_all = [&](bool enabled) {
    for (int k = 0; k < o.rules; ++k) (void)engine.set_enabled("", "r" + std::to_string(k), enabled);
    // Wait until the engine has seeded (or dropped) every rule's state before measuring.
    for (int i = 0; i < 600; ++i) {
      int done = 0;
      for (int k = 0; k < o.rules; ++k) {
        auto view = engine.get("", "r" + std::to_string(k));
        done += view && (view->health.watched > 0) == enabled;
      }
      if (done == o.rules) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
  };
  // The store grows and compacts as the run goes on, which moves throughput more than the rules do:
  // compare each run with rules to the run without rules just before it.
  for (int round = 0; round < 2; ++round) {
    set_all(false);
    const auto off = run(twin, o, ctx, 0, o.duration / 4, nullptr, spike_entity);
    set_all(true);
    const auto before = engine.stats();
    const double cpu_before = thread_cpu_seconds("citytwin-rules");
    const auto on = run(twin, o, ctx, 0, o.duration / 4, nullptr, spike_entity);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it drain
    const double cpu = thread_cpu_seconds("citytwin-rules") - cpu_before;
    const auto s = engine.stats();
    const auto processed = s.events_processed - before.events_processed;
    std::printf("round %d, unpaced: rules disabled %.0f updates/s, %d rules enabled %.0f updates/s (%.0f%%); engine: "
                "%lu events, %lu writer waits, rules thread %.2f CPU s = %.1f us per event\n",
                round + 1, off.updates_per_s, o.rules, on.updates_per_s, 100.0 * on.updates_per_s / off.updates_per_s,
                static_cast<unsigned long>(processed), static_cast<unsigned long>(s.writer_waits - before.writer_waits),
                cpu, processed ? 1e6 * cpu / static_cast<double>(processed) : 0.0);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto paced = run(twin, o, ctx, o.rate, o.duration, &watch, spike_entity);
  const auto s2 = engine.stats();
  std::printf("%d rules, paced at %.0f/s: %.0f updates/s; %zu spikes, %zu alerts seen; condition -> alert "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms; engine: %lu queued, %lu processed, %lu writer waits in all\n",
              o.rules, o.rate, paced.updates_per_s, paced.spikes, paced.latencies_ms.size(),
              percentile(paced.latencies_ms, 0.5), percentile(paced.latencies_ms, 0.99),
              percentile(paced.latencies_ms, 1.0), static_cast<unsigned long>(s2.events_queued),
              static_cast<unsigned long>(s2.events_processed), static_cast<unsigned long>(s2.writer_waits));
  engine.stop();
  (*store)->close();
  std::filesystem::remove_all(o.dir);
  return 0;
}
