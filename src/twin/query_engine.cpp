// Query Entities over one tenant: choose the narrowest index, filter the candidates with every
// criterion, order by id, and keep the ordered ids for the pages that follow.
#include <algorithm>
#include <cstdint>
#include <mutex>

#include "twin/tenant.hpp"
#include "twin/twin.hpp"

namespace ct::twin {

using model::Entity;
using model::Term;

namespace {

// Below this many entities a scan is as fast as an index: none is built.
constexpr std::size_t kIndexThreshold = 2000;
constexpr std::size_t kMaxSnapshots = 16;
constexpr auto kSnapshotLifetime = std::chrono::minutes(2);

bool geo_matches(const Entity& entity, const query::GeoQuery& geo) {
  const Term property = geo.geoproperty();
  for (const auto& a : entity.attributes)
    if (a.name == property && a.kind == model::AttributeKind::GeoProperty && geo.matches(a.value)) return true;
  return false;
}

bool selected(const Entity& entity, const EntitySelector& s) {
  if (s.types && !s.types->matches(entity.types)) return false;
  if (!s.ids.empty() && std::find(s.ids.begin(), s.ids.end(), entity.id) == s.ids.end()) return false;
  if (s.id_pattern && !s.id_pattern->matches(entity.id)) return false;
  return true;
}

bool matches_apart_from_geo(const Entity& entity, const EntityQuery& q) {
  if (!q.selectors.empty() &&
      std::none_of(q.selectors.begin(), q.selectors.end(), [&](const EntitySelector& s) { return selected(entity, s); }))
    return false;
  if (!q.any_attribute.empty() &&
      std::none_of(q.any_attribute.begin(), q.any_attribute.end(), [&](Term a) { return entity.has_attribute(a); }))
    return false;
  if (q.scope && !q.scope->matches(entity.scopes)) return false;
  if (q.q && !q.q->matches(entity)) return false;
  return true;
}

// GCC treats __builtin_prefetch as free of side effects: a function that only prefetches is found
// to be "const" and every call to it is deleted at -O3 (the prefetches this file had before were
// not in the binary). The empty asm that takes the address keeps each prefetch.
inline void prefetch(const void* address) {
  __builtin_prefetch(address);
  asm volatile("" : : "r"(address));
}

// The candidates are scattered over a large heap, and checking them waits on memory more than it
// computes: fetch the entities a few places ahead, and their type and id arrays (which need the
// entity itself first) a little less far ahead.
void prefetch_ahead(const std::vector<const Entity*>& entities, std::size_t i) {
  constexpr std::size_t kEntityDistance = 16, kMembersDistance = 8;
  if (i + kEntityDistance < entities.size()) {
    const Entity* e = entities[i + kEntityDistance];
    prefetch(&e->id);
    prefetch(&e->types);
  }
  if (i + kMembersDistance < entities.size()) {
    const Entity* e = entities[i + kMembersDistance];
    prefetch(e->types.data());
    prefetch(e->id.data());
  }
}

// Printing an entity follows chains of pointers, each a cache miss on a large heap: the entity to
// its attribute array, an attribute to what its value holds (a GeoJSON geometry's member table, a
// string), a member to its key and to the coordinates array. Printing one entity takes far longer
// than one miss, so each step of the chain is fetched for a different entity ahead of the one being
// printed: by the time an entity is printed, every level is in cache.
// The lines may lie beyond the object `begin` points into (a prefetch never faults): the address
// is computed as an integer, not by pointer arithmetic past the object.
void prefetch_lines(const void* begin, std::size_t bytes) {
  constexpr std::size_t kCacheLine = 64;
  const auto first = reinterpret_cast<std::uintptr_t>(begin);
  for (std::uintptr_t line = first; line < first + bytes; line += kCacheLine) prefetch(reinterpret_cast<const void*>(line));
}

// The block a value points to: an object's member table, an array's elements, a long string. Its
// size is not read (that would wait for the very miss being avoided): the first two lines, which
// hold a small geometry whole, and the table header just before them.
void prefetch_held(const json::value& v) {
  const void* block = nullptr;
  if (const auto* o = v.if_object())
    block = o->begin();
  else if (const auto* a = v.if_array())
    block = a->data();
  else if (const auto* s = v.if_string())
    block = s->data();
  if (!block) return;
  constexpr std::uintptr_t kHeader = 16;
  prefetch_lines(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(block) - kHeader), 128);
}

// One level further: the keys of an object's members and the blocks their values point to.
void prefetch_members(const json::value& v) {
  const auto* o = v.if_object();
  if (!o) return;
  for (const auto& member : *o) {
    prefetch(member.key().data());
    prefetch_held(member.value());
  }
}

void prefetch_for_rendering(const std::vector<const Entity*>& entities, std::size_t i) {
  constexpr std::size_t kEntity = 8, kAttributes = 4, kValues = 2, kMembers = 1;
  const auto ahead = [&](std::size_t distance) { return i + distance < entities.size() ? entities[i + distance] : nullptr; };
  if (const Entity* e = ahead(kEntity)) prefetch(&e->attributes);
  if (const Entity* e = ahead(kAttributes)) prefetch_lines(e->attributes.data(), e->attributes.size() * sizeof(model::Attribute));
  if (const Entity* e = ahead(kValues))
    for (const auto& a : e->attributes) {
      prefetch_held(a.value);
      if (!a.sub_attributes.empty()) prefetch_lines(a.sub_attributes.data(), a.sub_attributes.size() * sizeof(model::Attribute));
    }
  if (const Entity* e = ahead(kMembers))
    for (const auto& a : e->attributes) prefetch_members(a.value);
}

}  // namespace

bool matches(const Entity& entity, const EntityQuery& q) {
  return matches_apart_from_geo(entity, q) && (!q.geo || geo_matches(entity, *q.geo));
}

void Twin::prepare_indexes(Tenant& t, const EntityQuery& q) {
  auto needs_build = [&] {
    if (t.entities.size() < kIndexThreshold) return false;
    if (q.geo && q.geo->candidate_box() && !t.indexes.has_spatial_index(q.geo->geoproperty())) return true;
    if (q.q)
      for (const auto& term : q.q->required_terms())
        if (!t.indexes.has_value_index(term.attribute)) return true;
    return false;
  };
  {
    std::shared_lock lock(t.mutex);
    if (!needs_build()) return;
  }
  std::unique_lock lock(t.mutex);
  if (!needs_build()) return;
  const auto population = t.population();
  if (q.geo && q.geo->candidate_box()) t.indexes.build_spatial_index(q.geo->geoproperty(), population);
  if (q.q)
    for (const auto& term : q.q->required_terms()) t.indexes.build_value_index(term.attribute, population);
}

namespace {

// How many entities the selectors can match, from the id lists and the type index sizes (cheap);
// nullopt when some selector can match any entity (an idPattern alone, or no criterion).
std::optional<std::size_t> selector_bound(const Tenant& t, const std::vector<EntitySelector>& selectors) {
  std::size_t bound = 0;
  for (const auto& s : selectors) {
    if (!s.ids.empty()) {
      bound += s.ids.size();
      continue;
    }
    auto types = s.types ? s.types->any_of() : std::nullopt;
    if (!types) return std::nullopt;
    for (Term type : *types)
      if (const auto* set = t.indexes.of_type(type)) bound += set->size();
  }
  return bound;
}

std::vector<const Entity*> selector_candidates(const Tenant& t, const std::vector<EntitySelector>& selectors) {
  std::vector<const Entity*> out;
  for (const auto& s : selectors) {
    if (!s.ids.empty()) {
      for (const auto& id : s.ids)
        if (auto it = t.entities.find(id); it != t.entities.end()) out.push_back(&it->second);
      continue;
    }
    const auto types = s.types->any_of();  // held: ranging over the temporary's contents would dangle
    for (Term type : *types)
      if (const auto* set = t.indexes.of_type(type)) out.insert(out.end(), set->begin(), set->end());
  }
  return out;
}

}  // namespace

std::vector<const Entity*> Twin::candidates(const Tenant& t, const EntityQuery& q, bool& geo_decided) const {
  // The narrowest of: the spatial index, a value index, what the selectors can match; else everything.
  // Index lookups are materialized (they are usually small); the selectors' candidates only when
  // their size, known from the type index without walking it, is smaller still.
  std::optional<std::vector<const Entity*>> best;
  geo_decided = false;
  auto consider = [&](std::optional<std::vector<const Entity*>> c, bool decided = false) {
    if (c && (!best || c->size() < best->size())) {
      best = std::move(c);
      geo_decided = decided;
    }
  };
  if (q.geo) {
    bool decided = false;
    auto spatial = t.indexes.lookup(*q.geo, decided);
    consider(std::move(spatial), decided);
  }
  if (q.q)
    for (const auto& term : q.q->required_terms()) consider(t.indexes.lookup(term));
  if (!q.selectors.empty())
    if (auto bound = selector_bound(t, q.selectors); bound && (!best || *bound < best->size())) {
      best = selector_candidates(t, q.selectors);
      geo_decided = false;
    }
  return best ? std::move(*best) : t.population();
}

Twin::SnapshotIds Twin::find_snapshot(const std::string& key) {
  std::lock_guard lock(snapshots_mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(snapshots_, [&](const auto& s) { return now - s.second.used > kSnapshotLifetime; });
  for (auto it = snapshots_.begin(); it != snapshots_.end(); ++it) {
    if (it->first != key) continue;
    it->second.used = now;
    snapshots_.splice(snapshots_.begin(), snapshots_, it);
    return snapshots_.front().second.ids;
  }
  return nullptr;
}

void Twin::keep_snapshot(const std::string& key, SnapshotIds ids) {
  std::lock_guard lock(snapshots_mutex_);
  std::erase_if(snapshots_, [&](const auto& s) { return s.first == key; });
  snapshots_.emplace_front(key, Snapshot{std::move(ids), std::chrono::steady_clock::now()});
  if (snapshots_.size() > kMaxSnapshots) snapshots_.pop_back();
}

Result<std::size_t> Twin::query(const std::string& tenant, const EntityQuery& q, std::size_t offset, std::size_t limit,
                                const std::function<void(const Entity&)>& visit) {
  Tenant* t = find_tenant(tenant);
  if (!t) {
    if (tenant.empty()) return std::size_t{0};
    return Problem{ProblemKind::NonexistentTenant, "tenant " + tenant + " does not exist"};
  }
  // Later pages come from the first page's ordered result, re-checked: an entity deleted or changed
  // so that it no longer matches is left out, and no unchanged entity moves between pages.
  if (offset > 0 && !q.paging_key.empty()) {
    if (SnapshotIds ids = find_snapshot(q.paging_key)) {
      std::shared_lock lock(t->mutex);
      for (std::size_t i = offset; i < ids->size() && i < offset + limit; ++i) {
        auto it = t->entities.find((*ids)[i]);
        if (it != t->entities.end() && matches(it->second, q)) visit(it->second);
      }
      return ids->size();
    }
  }
  prepare_indexes(*t, q);
  std::shared_lock lock(t->mutex);
  bool geo_decided = false;
  auto found = candidates(*t, q, geo_decided);
  std::sort(found.begin(), found.end());  // index lookups may list an entity once per matching instance
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < found.size(); ++i) {
    prefetch_ahead(found, i);
    const Entity& e = *found[i];
    if (geo_decided ? matches_apart_from_geo(e, q) : matches(e, q)) found[kept++] = &e;
  }
  found.resize(kept);
  std::sort(found.begin(), found.end(), ById());
  for (std::size_t i = offset; i < found.size() && i < offset + limit; ++i) {
    prefetch_for_rendering(found, i);
    visit(*found[i]);
  }
  if (!q.paging_key.empty() && found.size() > offset + limit) {
    auto ids = std::make_shared<std::vector<std::string>>();
    ids->reserve(found.size());
    for (const Entity* e : found) ids->push_back(e->id);
    keep_snapshot(q.paging_key, std::move(ids));
  }
  return found.size();
}

}  // namespace ct::twin
