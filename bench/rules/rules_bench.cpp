// rules_bench: the rules engine in process, on a real twin and RocksDB store (no fsync), without
// HTTP: what the engine costs the write path and how fast a condition becomes a visible alert.
//
//   rules_bench --entities 100000 --rules 1000        (the default run takes about three minutes)
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
// Phases, on one store: the rules are created and seeded once; a warm-up paced at `rate` longer than
// the windows (so that the wave of timers of the values seeded at creation has passed and every
// window is in its steady state); then `rounds` pairs of short unpaced runs with the engine cut off
// from the twin's changes and connected to them (the engine keeps its state; each pair is compared,
// and the median of the ratios reported: the growing store moves throughput between pairs); then a
// run paced at `rate` for the latency, the rules thread's CPU per event and whether writers had to
// wait for the engine (back-pressure: the engine never drops a change).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "jsonld/context_store.hpp"
#include "rules/engine.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

using namespace ct;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string dir = "/tmp/citytwin-rules-bench";
  long entities = 100'000;
  int rules = 1000;
  int types = 100;
  int attributes = 10;
  double rate = 50'000;
  double duration = 30;  // the paced run
  double warmup = 65;    // paced, longer than the windows (PT1M)
  int rounds = 4;
  double round_seconds = 5;
  int batch = 500;
  int spike_every = 5;
};

std::string entity_id(long i) { return "urn:ngsi-ld:Sensor:" + std::to_string(i); }

// Records when each Alert is created (by alertSource), to time spikes: a contributor, so that it sees
// the creation as it is applied (before it is durable, as the engine's own timing would).
class AlertWatch final : public twin::ChangeContributor {
 public:
  explicit AlertWatch(model::Term alert_type) : alert_type_(alert_type) {}
  void contribute(const twin::ChangeEvent& e, std::vector<storage::Write>&) override {
    if (e.kind != twin::ChangeEvent::Kind::Created || !e.entity->has_type(alert_type_)) return;
    std::lock_guard lock(mutex);
    created[e.entity->id.substr(e.entity->id.rfind(":urn:") + 1)] = SteadyClock::now();
  }
  std::mutex mutex;
  std::unordered_map<std::string, SteadyClock::time_point> created;

 private:
  model::Term alert_type_;
};

// Connects the engine to the twin's changes or cuts it off, so that runs with and without rules use
// the same store and the same seeded engine: the consumer attached in the engine's stead.
class Switch final : public twin::ChangeConsumer {
 public:
  explicit Switch(rules::RulesEngine& engine) : engine_(engine) {}
  std::string_view name() const override { return engine_.name(); }  // the thread keeps the engine's name
  twin::QueueLimits queue_limits() const override { return engine_.queue_limits(); }
  bool wants(const twin::ChangeEvent& e) const override { return on.load(std::memory_order_relaxed) && engine_.wants(e); }
  void consume(std::span<const twin::ChangeEvent> events) override { engine_.consume(events); }
  Timestamp tick(Timestamp now) override { return engine_.tick(now); }
  std::atomic<bool> on{true};

 private:
  rules::RulesEngine& engine_;
};

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }
double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

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
  std::vector<std::pair<std::string, SteadyClock::time_point>> spikes;
  const auto start = SteadyClock::now();
  long updates = 0;
  int batches = 0;
  while (SteadyClock::now() - start < std::chrono::duration<double>(seconds)) {
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
    if (spike) spikes.emplace_back(spiked, SteadyClock::now());
    updates += o.batch;
    if (rate > 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(updates) / rate);
      std::this_thread::sleep_until(due);
    }
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
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
  app.add_option("--duration", o.duration, "seconds of the paced run");
  app.add_option("--warmup", o.warmup, "seconds of the paced warm-up (longer than the windows)");
  app.add_option("--rounds", o.rounds, "unpaced pairs without and with the engine");
  app.add_option("--round-seconds", o.round_seconds);
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
  rules::RoadGraphs roads;
  rules::Incidents incidents(twin, contexts.core(), roads);
  rules::RulesEngine engine(twin, **store, contexts, incidents, nullptr);
  Switch connection(engine);
  twin.changes().attach(connection);
  auto alert_ctx = contexts.resolve(json::value(rules::kAlertContextUrl)).value();
  AlertWatch watch(model::Term::intern(alert_ctx->expand("Alert")));
  twin.add_contributor(&watch);
  engine.start();
  for (int k = 0; k < o.rules; ++k) {
    const std::string attribute = "a" + std::to_string(k / o.types % o.attributes);
    json::object rule{{"id", "r" + std::to_string(k)},
                      {"watch", json::object{{"type", "T" + std::to_string(k % o.types)}}},
                      {"when", std::string(k % 2 ? "max(" : "avg(") + attribute + ",PT1M) > 1000"},
                      {"actions", json::array{json::object{{"alert", json::object{{"category", "bench"}}}}}}};
    if (auto created = engine.create("", rule, ""); !created) {
      std::fprintf(stderr, "rule: %s\n", created.problem().detail.c_str());
      return 1;
    }
  }
  for (int i = 0; i < 1200; ++i) {  // until every rule is seeded
    int seeded = 0;
    for (int k = 0; k < o.rules; ++k) {
      auto view = engine.get("", "r" + std::to_string(k));
      seeded += view && view->health.watched > 0;
    }
    if (seeded == o.rules) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto drain = [&] {
    for (int i = 0; i < 6000; ++i) {
      const auto s = engine.stats();
      if (s.events_processed == s.events_queued) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  const auto warm = run(twin, o, ctx, o.rate, o.warmup, nullptr, spike_entity);
  drain();
  std::printf("warm-up, paced at %.0f/s for %.0f s: %.0f updates/s\n", o.rate, o.warmup, warm.updates_per_s);

  // Unpaced pairs: engine cut off, then connected.
  std::vector<double> ratios, rules_us, process_off_us, process_on_us;
  for (int round = 0; round < o.rounds; ++round) {
    connection.on = false;
    double cpu0 = cpu_seconds(RUSAGE_SELF);
    const auto off = run(twin, o, ctx, 0, o.round_seconds, nullptr, spike_entity);
    const double off_cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    connection.on = true;
    const auto before = engine.stats();
    const double rules0 = thread_cpu_seconds("citytwin-rules");
    cpu0 = cpu_seconds(RUSAGE_SELF);
    const auto on = run(twin, o, ctx, 0, o.round_seconds, nullptr, spike_entity);
    drain();
    const double on_cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    const double rules_cpu = thread_cpu_seconds("citytwin-rules") - rules0;
    const auto s = engine.stats();
    const auto processed = s.events_processed - before.events_processed;
    const double off_updates = off.updates_per_s * o.round_seconds, on_updates = on.updates_per_s * o.round_seconds;
    ratios.push_back(on.updates_per_s / off.updates_per_s);
    rules_us.push_back(processed ? 1e6 * rules_cpu / static_cast<double>(processed) : 0.0);
    process_off_us.push_back(1e6 * off_cpu / off_updates);
    process_on_us.push_back(1e6 * on_cpu / on_updates);
    std::printf("round %d, unpaced: engine off %.0f updates/s, on %.0f updates/s (%.0f%%); process CPU per update "
                "%.1f / %.1f us; rules thread %.1f us per event; %lu writer waits\n",
                round + 1, off.updates_per_s, on.updates_per_s, 100.0 * ratios.back(), process_off_us.back(),
                process_on_us.back(), rules_us.back(), static_cast<unsigned long>(s.writer_waits - before.writer_waits));
  }
  std::printf("median of %d rounds: throughput with rules %.0f%% of without; process CPU per update %.1f us without, "
              "%.1f us with; rules thread %.1f us per event\n",
              o.rounds, 100.0 * percentile(ratios, 0.5), percentile(process_off_us, 0.5), percentile(process_on_us, 0.5),
              percentile(rules_us, 0.5));

  const auto before = engine.stats();
  const double rules0 = thread_cpu_seconds("citytwin-rules");
  const auto paced = run(twin, o, ctx, o.rate, o.duration, &watch, spike_entity);
  const double rules_cpu = thread_cpu_seconds("citytwin-rules") - rules0;  // includes the 2 s settling after the run
  const auto s2 = engine.stats();
  const auto processed = s2.events_processed - before.events_processed;
  std::printf("%d rules, paced at %.0f/s: %.0f updates/s; %zu spikes, %zu alerts seen; condition -> alert "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms; rules thread %.1f us per event (%lu events, timers included); "
              "%lu writer waits; %lu queued, %lu processed in all\n",
              o.rules, o.rate, paced.updates_per_s, paced.spikes, paced.latencies_ms.size(),
              percentile(paced.latencies_ms, 0.5), percentile(paced.latencies_ms, 0.99),
              percentile(paced.latencies_ms, 1.0), processed ? 1e6 * rules_cpu / static_cast<double>(processed) : 0.0,
              static_cast<unsigned long>(processed), static_cast<unsigned long>(s2.writer_waits - before.writer_waits),
              static_cast<unsigned long>(s2.events_queued), static_cast<unsigned long>(s2.events_processed));
  twin.changes().detach(connection);
  engine.stop();
  (*store)->close();
  std::filesystem::remove_all(o.dir);
  return 0;
}
