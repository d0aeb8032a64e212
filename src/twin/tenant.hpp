#pragma once
// One tenant's state inside the twin (private to twin/): its entities, their indexes, and the lock
// that guards both. Readers share the lock; writers and index builders take it alone.
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "model/entity.hpp"
#include "twin/indexes.hpp"
#include "twin/rollback.hpp"

namespace ct::twin {

struct Tenant {
  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, model::Entity> entities;  // node-based: addresses stay valid
  Indexes indexes;
  RollbackJournal journal;  // the changes not known durable yet, to undo if their group fails

  // Inserts a new entity and indexes it; returns its stable address.
  model::Entity& insert(model::Entity entity) {
    auto [it, inserted] = entities.emplace(entity.id, std::move(entity));
    indexes.update(&it->second, {}, indexes.keys_of(it->second));
    return it->second;
  }
  // Unindexes and removes an entity, handing it back (a deletion's change event keeps it, uncopied).
  model::Entity take(std::unordered_map<std::string, model::Entity>::iterator it) {
    indexes.update(&it->second, indexes.keys_of(it->second), {});
    model::Entity entity = std::move(it->second);
    entities.erase(it);
    return entity;
  }
  std::vector<const model::Entity*> population() const {
    std::vector<const model::Entity*> out;
    out.reserve(entities.size());
    for (const auto& [id, e] : entities) out.push_back(&e);
    return out;
  }
};

}  // namespace ct::twin
