#pragma once
// What the applications of issue #16 (utilities, structures, services, emergency, health) share beyond
// the host: writing their results back onto entities, a board of KPI figures republished when they
// change, the local day of an instant, and reading numbers and texts off entities.
//
// Threads: every class here is used from the applications thread only (Application's contract),
// except the counters, which are atomics.
#include <atomic>
#include <map>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "domains/core/application.hpp"
#include "domains/core/kpi.hpp"
#include "domains/core/time_zone.hpp"

namespace ct::domains {

// NGSI-LD normalized attribute bodies.
json::object property(json::value value, Timestamp observed_at = kNoTimestamp, std::string_view unit_code = {});
json::object relationship(std::string_view object);

// The core @context's default vocabulary: what attributes written with the core @context expand to.
model::Term default_term(std::string_view name);

// The value of an entity's attribute when it is a number / a string.
std::optional<double> number_of(const model::Entity& entity, model::Term name);
std::optional<std::string> text_of(const model::Entity& entity, model::Term name);
// A date-time attribute given as text or as {"@type": "DateTime", "@value": text}.
std::optional<Timestamp> date_time_of(const model::Entity& entity, model::Term name);
// Whether `event` wrote the attribute `name` (its default instance).
bool wrote(const twin::ChangeEvent& event, model::Term name);

// Merges an application's results into an entity (origin Application). A failure is logged and
// counted; an entity deleted meanwhile is not a failure.
class WriteBack {
 public:
  WriteBack(twin::Twin& twin, jsonld::ContextPtr core, std::string application)
      : twin_(twin), core_(std::move(core)), application_(std::move(application)) {}
  // `attributes` expanded with `context` (by default the core @context: the default vocabulary).
  bool merge(const std::string& tenant, const std::string& id, const json::object& attributes,
             const jsonld::Context* context = nullptr);
  // Writes `problemDetail` on the entity: the RFC 7807 problem (type, title, status, detail naming the
  // fault) that kept the application from using its last reading or request, observed at `at`.
  bool report_problem(const std::string& tenant, const std::string& id, const Problem& problem, Timestamp at);
  std::uint64_t failures() const { return failures_.load(); }

 private:
  twin::Twin& twin_;
  jsonld::ContextPtr core_;
  std::string application_;
  std::atomic<std::uint64_t> failures_{0};
};

// The latest value of each KPI figure, published when it changed, at most once per `interval`.
class KpiBoard {
 public:
  // Records a figure's current value (keyed by its entity id).
  void set(const std::string& tenant, KpiFigure figure);
  // Publishes the figures changed since their last publication, once `interval` has passed since the
  // previous flush; returns how many were published.
  std::size_t flush(KpiPublisher& publisher, Timestamp now, Timestamp interval = 10'000);
  std::uint64_t published() const { return published_.load(); }

 private:
  struct Entry {
    std::string tenant;
    KpiFigure figure;
    bool dirty = false;
  };
  std::map<std::string, Entry> entries_;
  Timestamp next_flush_ = kNoTimestamp;
  std::atomic<std::uint64_t> published_{0};
};

// The local day [start, end) of an instant in a time zone, cached until the instant leaves it.
class LocalDay {
 public:
  struct Span {
    Timestamp start = kNoTimestamp, end = kNoTimestamp;
  };
  Span of(const TimeZone& zone, Timestamp at);
  // Milliseconds since local midnight.
  Timestamp time_of_day(const TimeZone& zone, Timestamp at) { return at - of(zone, at).start; }

 private:
  std::string zone_;
  Span span_;
};

// The timestamp of an attribute's reading: its observedAt, else now.
Timestamp reading_time(const model::Attribute& attribute);

}  // namespace ct::domains
