#pragma once
// The entity-selection criteria of the core query API (type, id, idPattern, q, scopeQ, geoQ,
// attrs) in text form, and how they become one twin::EntityQuery: shared by Query Entities and
// the temporal API, which selects entities on their current state as Mintaka does.
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context.hpp"
#include "twin/twin.hpp"

namespace ct::http {

struct SelectorText {
  std::string type, id, id_pattern;
};
struct Criteria {
  std::vector<SelectorText> selectors;  // OR-ed; each item's criteria AND-ed
  std::string q, scope_q, attrs;
  std::string georel, geometry, coordinates, geoproperty;
  std::optional<json::object> geo_object;
  bool project_attrs = false;  // a Query body's attrs also choose what is rendered
};

struct Call;

// The criteria a GET names in its query parameters (type, id, idPattern, q, scopeQ, attrs, geo-query).
Criteria criteria_from_parameters(const Call& call);

// BadRequestData naming the first malformed criterion.
Result<twin::EntityQuery> build_query(const Criteria& c, const jsonld::Context& ctx, const std::string& tenant,
                                      const std::string& context_url);

}  // namespace ct::http
