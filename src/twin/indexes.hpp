#pragma once
// The indexes of one tenant's entities, so that queries do not scan.
//
// - By type: always kept; every type's entities in id order (results are returned in id order).
// - By attribute value and spatially: built the first time a query could use them (an index nobody
//   queries costs no memory), then maintained on every write. Value indexes hold numbers (any
//   comparison) and strings (equality); spatial indexes an R-tree of each GeoProperty's bounding box.
//
// Entities are referred to by address: the twin keeps them in a node-based map, so an entity's
// address is stable until it is deleted, and it is removed from every index before that.
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/entity.hpp"
#include "query/geo.hpp"
#include "query/q.hpp"

namespace ct::twin {

struct ById {
  bool operator()(const model::Entity* a, const model::Entity* b) const { return a->id < b->id; }
};
using EntitySet = std::set<const model::Entity*, ById>;

class Indexes {
 public:
  Indexes();
  ~Indexes();

  // What an entity contributes to the indexes that exist. Taken before and after a change.
  struct Keys {
    std::vector<model::Term> types;
    std::vector<std::pair<model::Term, double>> numbers;
    std::vector<std::pair<model::Term, std::string>> strings;
    std::vector<model::Term> unindexed;  // attributes with a value the index cannot hold (objects, lists)
    std::vector<std::pair<model::Term, query::Box>> boxes;
  };
  Keys keys_of(const model::Entity& entity) const;
  // Moves `entity` from the `before` keys to the `after` keys (empty Keys: not indexed before/after).
  void update(const model::Entity* entity, const Keys& before, const Keys& after);

  const EntitySet* of_type(model::Term type) const;
  std::vector<model::Term> types() const;

  bool has_value_index(model::Term attribute) const;
  bool has_spatial_index(model::Term attribute) const;
  // Builds the index over `population` (every entity of the tenant).
  void build_value_index(model::Term attribute, const std::vector<const model::Entity*>& population);
  void build_spatial_index(model::Term attribute, const std::vector<const model::Entity*>& population);

  // Candidates for `term`: every entity whose `term.attribute` may satisfy the comparison (a superset:
  // entities with values the index cannot hold, such as language maps, are always included). nullopt
  // if the term cannot use the value index (a date-time, a string range) or there is none.
  std::optional<std::vector<const model::Entity*>> lookup(const query::IndexableTerm& term) const;
  // The entities whose bounding box of `geo`'s GeoProperty intersects geo's candidate box, leaving
  // out those whose box is a point that `geo` rejects (GeoQuery::decide_point); nullopt without a
  // spatial index or a candidate box. `decided` tells whether decide_point accepted every entity
  // listed, so that the geo criterion holds for each without reading its geometry.
  std::optional<std::vector<const model::Entity*>> lookup(const query::GeoQuery& geo, bool& decided) const;

 private:
  struct ValueIndex;
  struct SpatialIndex;
  static void add_value_keys(const model::Entity& entity, model::Term attribute, Keys& keys);
  static void add_box_keys(const model::Entity& entity, model::Term attribute, Keys& keys);
  void insert(const model::Entity* entity, const Keys& keys);
  void erase(const model::Entity* entity, const Keys& keys);

  std::unordered_map<model::Term, EntitySet> by_type_;
  std::unordered_map<model::Term, std::unique_ptr<ValueIndex>> values_;
  std::unordered_map<model::Term, std::unique_ptr<SpatialIndex>> spatial_;
};

}  // namespace ct::twin
