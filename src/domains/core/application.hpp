#pragma once
// The smart-city applications (air quality, transport, ...): each one consumes the twin's changes
// off the write path and may write its results back into the twin as ordinary entities and
// attributes (so they have history, can be queried, subscribed to and used in rules). What derives
// from one entity's own attributes (a station's AQI) is better added inside the write itself by an
// enricher (twin/enricher.hpp): no second write.
//
// Adding an application: one folder src/domains/<name>/ (its own library target) with a class
// implementing Application and a factory, and one line in src/domains/catalog.cpp (catalog.hpp).
//
// Threads: the Host (host.hpp) calls start() and stop() on the thread that owns it, and every other
// member on its one applications thread, never two at a time; so an application needs no lock for
// state only these calls touch. HTTP handlers that read an application's state must lock it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context_store.hpp"
#include "model/term.hpp"
#include "storage/store.hpp"
#include "twin/change_event.hpp"
#include "twin/enricher.hpp"
#include "twin/twin.hpp"

namespace ct::history {
class HistoryStore;
}
namespace ct::rules {
class Incidents;
}

namespace ct::domains {

class CitySettingsStore;
class KpiPublisher;

// What an application is given by the host; everything outlives the application.
struct AppServices {
  twin::Twin& twin;
  storage::Store& store;
  jsonld::ContextStore& contexts;
  CitySettingsStore& settings;
  KpiPublisher& kpis;
  const history::HistoryStore* history = nullptr;  // null: the server keeps no history
  rules::Incidents* incidents = nullptr;            // the incident workflow and dispatcher; null: none
};

// One counter an application exposes on /metrics, as citytwin_<application>_<name>_total.
struct AppCounter {
  std::string name;    // e.g. "aqi_skipped"
  std::string help;
  std::string labels;  // Prometheus labels `k="v",...` (escaped), or empty
  std::uint64_t value = 0;
};

class Application {
 public:
  virtual ~Application() = default;

  // Its registration name ("air", "traffic"): lowercase, used in metric names and logs.
  virtual std::string_view name() const = 0;
  // The entity types (expanded IRIs) whose changes it receives. Fixed once start() returned.
  virtual std::vector<model::Term> consumes() const = 0;

  // Before any change is delivered (restore state, load what it needs). A failure stops the server.
  virtual Status start() { return {}; }
  // After the last delivery; the twin is still usable.
  virtual void stop() {}

  // A change of an entity of one of the consumed types, once it is durable, in the order applied per
  // entity. Writes back to the twin (twin.merge, ...) are allowed here: they produce change events of
  // their own, which come back through on_change — an application recognises its own write-backs by
  // what they wrote (the attribute instances in event.written), never by the thread they came from.
  virtual void on_change(const twin::ChangeEvent& event) = 0;

  // Its enricher, if it derives attributes inside the writes of the entities it consumes
  // (twin/enricher.hpp: called on the writing threads, not the applications thread). The host adds it
  // to the twin after start() and removes it before stop(); it lives as long as the application.
  virtual twin::Enricher* enricher() { return nullptr; }

  // About once a second (and after a batch of changes): time-driven work, such as publishing KPIs at
  // the turn of an hour. `now` is the wall clock.
  virtual void on_tick(Timestamp now) { (void)now; }

  // Its counters for /metrics (called on any thread: use atomics or a lock).
  virtual void counters(std::vector<AppCounter>& out) const { (void)out; }
};

using ApplicationFactory = std::function<std::unique_ptr<Application>(AppServices&)>;

struct ApplicationRegistration {
  std::string_view name;
  ApplicationFactory make;
};

}  // namespace ct::domains
