#pragma once
// Enrichers: attributes derived from an entity inside the very write that changed it.
//
// An application that derives attributes from a reading (the air application's real-time AQI from a
// station's concentrations) could write them back after the reading's change event arrives; that is a
// second write of the entity, with its own record, store group, history records and change event for
// every consumer. An enricher instead adds them to the reading's own write: one record, one durable
// group, one change event in which the derived attributes count as written.
//
// Contract:
// - enrich() is called by the writing thread, under the tenant's write lock, after every write of one
//   entity applied (create, replace, merge, append, update, attribute patch or deletion, single or in a
//   batch) and before the entity's indexes, its stored record and its change event are made; so what it
//   puts is indexed, stored, recorded in history and delivered as part of that write, and is undone with
//   it if the write's group fails.
// - It runs for every write of every entity, on many threads at once (one per tenant): it must decide
//   quickly whether the entity concerns it, keep any state of its own thread-safe, and never call the
//   twin (its lock is held).
// - It cannot refuse the write: when it cannot derive anything it leaves the entity as it is (or records
//   why in an attribute of its own).
// - Register with Twin::add_enricher; Twin::remove_enricher returns once no write is inside enrich().
#include <string>

#include "model/entity.hpp"
#include "twin/change_event.hpp"

namespace ct::twin {

// The write being enriched.
struct Enrichment {
  const std::string& tenant;
  const WriteOrigin& origin;
  model::Entity& entity;           // as the write left it
  const model::WriteStamp& stamp;  // the write's time and the entity revision it makes

  // Whether this write wrote `attribute` (created or replaced it, or merged into it).
  bool wrote(const model::Attribute& attribute) const { return attribute.revision == stamp.revision; }
  // Puts `attribute` as written by this write, in place of the instance with its name and datasetId.
  void put(model::Attribute attribute) const { model::put_instance(entity, std::move(attribute), stamp); }
  // Removes every instance of `name`; it counts as removed by this write.
  void remove(model::Term name) const { entity.remove(name, {}, true); }
};

class Enricher {
 public:
  virtual ~Enricher() = default;
  virtual void enrich(const Enrichment& write) = 0;
};

}  // namespace ct::twin
