// libFuzzer target for geo-queries. The input is split at newlines into georel, geometry,
// coordinates and geoproperty (the query parameters); it is also tried whole as a GeoQuery JSON
// object, and as an entity geometry. Whatever parses is evaluated against fixed geometries and
// its candidate box checked: the box must meet the bounding box of every geometry that matches,
// or a spatial index would lose results.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "jsonld/context_store.hpp"
#include "query/geo.hpp"

namespace {

constexpr std::array<const char*, 10> kGeometries = {
    R"({"type":"Point","coordinates":[116.3975,39.9087]})",
    R"({"type":"Point","coordinates":[180,90]})",
    R"({"type":"MultiPoint","coordinates":[[0,0],[-179.5,-10,12]]})",
    R"({"type":"LineString","coordinates":[[170,10],[-170,10]]})",
    R"({"type":"LineString","coordinates":[[-60,60],[60,60],[60,60]]})",
    R"({"type":"MultiLineString","coordinates":[[[116.36,39.9075],[116.44,39.9075]],[[0,-90],[0,90]]]})",
    R"({"type":"Polygon","coordinates":[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]],
        [[116.39,39.91],[116.39,39.92],[116.40,39.92],[116.40,39.91],[116.39,39.91]]]})",
    R"({"type":"MultiPolygon","coordinates":[[[[0,0],[0,1],[1,1],[1,0],[0,0]]],[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]]})",
    R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},
        {"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":[[1,2],[3,4]]}]}]})",
    R"({"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]})",  // crosses itself
};

struct Fixture {
  ct::jsonld::ContextStore store;
  ct::jsonld::ContextPtr ctx = store.core();
  std::vector<ct::json::value> geometries;
  std::vector<ct::query::GeoQuery> queries;  // to evaluate the input as an entity geometry

  Fixture() {
    for (const char* g : kGeometries) geometries.push_back(ct::json::parse(g));
    const char* const fixed[][3] = {
        {"near;maxDistance==2000", "Point", "[116.3975,39.9087]"},
        {"near;minDistance==10;maxDistance==5e6", "Point", "[179.9,-89.9]"},
        {"within", "Polygon", "[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]]]"},
        {"contains", "Point", "[1,2]"},
        {"intersects", "LineString", "[[-180,0],[180,0]]"},
        {"equals", "MultiPoint", "[[1,2],[3,4]]"},
        {"disjoint", "MultiPolygon", "[[[[0,0],[0,1],[1,1],[1,0],[0,0]]]]"},
        {"overlaps", "MultiLineString", "[[[0,0],[5,5]],[[1,0],[1,9]]]"},
    };
    for (const auto& f : fixed) {
      auto q = ct::query::parse_geo_query(f[0], f[1], f[2], "", *ctx);
      if (!q.ok()) __builtin_trap();  // the fixture itself is wrong
      queries.push_back(std::move(q).value());
    }
  }
};

const Fixture& fixture() {
  static const Fixture* instance = new Fixture();  // never destroyed, like the term pool
  return *instance;
}

void check_rejection(const ct::Problem& problem) {
  if (problem.kind != ct::ProblemKind::BadRequestData || problem.detail.empty()) __builtin_trap();
}

// Evaluates a parsed query and checks that its candidate box does not lose a match.
void exercise(const ct::query::GeoQuery& q, const ct::json::value& geometry) {
  const auto box = q.candidate_box();
  if (!q.matches(geometry) || !box) return;
  const auto geometry_box = ct::query::bounding_box(geometry);
  if (!geometry_box || !ct::query::boxes_intersect(*geometry_box, *box)) __builtin_trap();
}

void exercise(const ct::query::GeoQuery& q) {
  for (const auto& g : fixture().geometries) exercise(q, g);
  exercise(q, q.geometry());
  // A valid geometry is within, contains, intersects and equals itself, and is not disjoint from it.
  using ct::query::GeoRel;
  const bool with_itself = q.matches(q.geometry());
  switch (q.relation()) {
    case GeoRel::Within:
    case GeoRel::Contains:
    case GeoRel::Intersects:
    case GeoRel::Equals:
      if (!with_itself) __builtin_trap();
      break;
    case GeoRel::Disjoint:
      if (with_itself) __builtin_trap();
      break;
    case GeoRel::Near:
      if (with_itself != (q.min_distance().value_or(0) == 0)) __builtin_trap();  // 0 m from itself
      break;
    case GeoRel::Overlaps: break;
  }
  volatile bool empty = q.geoproperty().empty();
  (void)empty;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& f = fixture();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::array<std::string_view, 4> parts{};
  std::string_view rest = text;
  for (std::size_t i = 0; i < parts.size() && !rest.empty(); ++i) {
    const std::size_t newline = i + 1 < parts.size() ? rest.find('\n') : std::string_view::npos;
    parts[i] = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  }
  if (auto q = ct::query::parse_geo_query(parts[0], parts[1], parts[2], parts[3], *f.ctx); q.ok())
    exercise(*q);
  else
    check_rejection(q.problem());

  auto document = ct::parse_json(text);
  if (!document.ok() || !document->is_object()) return 0;
  if (auto q = ct::query::parse_geo_query(document->get_object(), *f.ctx); q.ok())
    exercise(*q);
  else
    check_rejection(q.problem());
  // The input as an entity geometry.
  for (const auto& q : f.queries) exercise(q, *document);
  volatile bool indexed = ct::query::bounding_box(*document).has_value();
  (void)indexed;
  return 0;
}
