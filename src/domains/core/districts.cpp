#include "domains/core/districts.hpp"

#include <cstdio>

#include "query/geo.hpp"
#include "query/type_expression.hpp"

namespace ct::domains {

std::optional<std::pair<double, double>> point_location(const model::Entity& entity) {
  static const auto location = model::Term::intern("https://uri.etsi.org/ngsi-ld/location");
  const auto* attribute = entity.find(location);
  if (attribute == nullptr || !attribute->value.is_object()) return std::nullopt;
  const auto& geometry = attribute->value.as_object();
  const auto* type = geometry.if_contains("type");
  const auto* coordinates = geometry.if_contains("coordinates");
  if (type == nullptr || !type->is_string() || type->as_string() != "Point" || coordinates == nullptr ||
      !coordinates->is_array() || coordinates->as_array().size() < 2)
    return std::nullopt;
  const auto& c = coordinates->as_array();
  if (!c[0].is_number() || !c[1].is_number()) return std::nullopt;
  return std::pair{c[0].to_number<double>(), c[1].to_number<double>()};
}

DistrictLocator::DistrictLocator(twin::Twin& twin, jsonld::ContextStore& contexts) : twin_(twin), contexts_(contexts) {}

std::optional<std::string> DistrictLocator::district_of(const std::string& tenant, const std::string& district_type,
                                                        double lon, double lat) {
  char point[64];
  std::snprintf(point, sizeof point, "[%.7f,%.7f]", lon, lat);
  const std::string key = tenant + '\n' + district_type + '\n' + point;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  const auto& ctx = *contexts_.core();
  auto types = query::parse_type_expression(district_type, ctx);
  auto geo = query::parse_geo_query("intersects", "Point", point, "location", ctx);
  if (!types || !geo) return std::nullopt;
  twin::EntityQuery q;
  q.selectors.push_back(twin::EntitySelector{std::move(types).value(), {}, {}});
  q.geo = std::move(geo).value();
  std::optional<std::string> found;
  (void)twin_.query(tenant, q, 0, 1, [&](const model::Entity& e) { found = e.id; });
  std::lock_guard lock(mutex_);
  if (cache_.size() > 100'000) cache_.clear();
  cache_[key] = found;
  return found;
}

std::vector<std::string> DistrictLocator::districts(const std::string& tenant, const std::string& district_type) {
  std::vector<std::string> ids;
  auto types = query::parse_type_expression(district_type, *contexts_.core());
  if (!types) return ids;
  twin::EntityQuery q;
  q.selectors.push_back(twin::EntitySelector{std::move(types).value(), {}, {}});
  (void)twin_.query(tenant, q, 0, 10'000, [&](const model::Entity& e) { ids.push_back(e.id); });
  return ids;
}

void DistrictLocator::forget() {
  std::lock_guard lock(mutex_);
  cache_.clear();
}

}  // namespace ct::domains
