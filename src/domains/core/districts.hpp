#pragma once
// Placing things in districts: point-in-polygon against the tenant's district layer (the entities of
// the type the city settings name, by their `location` polygons), through the twin's geo-query.
//
// Thread-safe; answers are cached per (tenant, point) until forget() — districts rarely change.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "jsonld/context_store.hpp"
#include "twin/twin.hpp"

namespace ct::domains {

class DistrictLocator {
 public:
  DistrictLocator(twin::Twin& twin, jsonld::ContextStore& contexts);

  // The id of the district (of entity type `district_type`, a short name expanded with the core
  // @context) whose location contains [lon, lat]; nullopt when none does. The first in id order
  // when districts overlap.
  std::optional<std::string> district_of(const std::string& tenant, const std::string& district_type, double lon,
                                         double lat);
  // The ids of every district of the tenant, in id order.
  std::vector<std::string> districts(const std::string& tenant, const std::string& district_type);
  void forget();

 private:
  twin::Twin& twin_;
  jsonld::ContextStore& contexts_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::optional<std::string>> cache_;
};

// The [lon, lat] of an entity's `location` if it is a GeoJSON Point.
std::optional<std::pair<double, double>> point_location(const model::Entity& entity);

}  // namespace ct::domains
