#pragma once
// NGSI-LD geo-queries (ETSI GS CIM 009, clause 4.10): georel + geometry + coordinates +
// geoproperty, parsed once against a @context and then evaluated against many entity geometries.
//
// Semantics and precision:
// - Coordinates are WGS84 [longitude, latitude] in degrees; a third (altitude) number is ignored.
// - The Simple Features relations (within, contains, intersects, equals, disjoint, overlaps) are
//   evaluated in the lon/lat plane, as most brokers and GIS tools do for GeoJSON: edges are straight
//   lines in degrees, not geodesics, and nothing wraps around the antimeridian.
// - near;maxDistance / near;minDistance use geodesic distances on the WGS84 ellipsoid (Vincenty's
//   formulas: within 0.1 mm, but up to 0.4 % short for nearly antipodal points, over 19 900 km
//   apart), measured to the closest point of the entity geometry, whose edges are geodesics; the
//   distance to a polygon containing the point is 0.
// - `within` means the entity geometry is within the query geometry; `contains` means the entity
//   geometry contains the query geometry (the entity is always the first operand).
// - The query geometry must be valid in the OGC sense (no self-intersecting rings, holes inside
//   their polygon...): the relations are undefined otherwise. Rings may be wound either way.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context.hpp"
#include "model/term.hpp"

namespace ct::query {

enum class GeoRel : std::uint8_t { Near, Within, Contains, Intersects, Equals, Disjoint, Overlaps };

std::string_view georel_name(GeoRel rel);  // "near", "within", ...

// A box in degrees, min_lon <= max_lon (boxes never wrap around the antimeridian: one that would
// is widened to all longitudes).
struct Box {
  double min_lon, min_lat, max_lon, max_lat;
};

inline bool boxes_intersect(const Box& a, const Box& b) {
  return a.min_lon <= b.max_lon && b.min_lon <= a.max_lon && a.min_lat <= b.max_lat && b.min_lat <= a.max_lat;
}
inline bool box_contains(const Box& box, double lon, double lat) {
  return lon >= box.min_lon && lon <= box.max_lon && lat >= box.min_lat && lat <= box.max_lat;
}

// A reference geometry of more positions than this is refused (BadRequestData): evaluation cost
// grows with it for every candidate entity.
inline constexpr std::size_t kMaxGeoQueryPositions = 10'000;

// Geodesic distance in metres between two WGS84 positions (degrees), on the ellipsoid.
double geodesic_distance_m(double lon1, double lat1, double lon2, double lat2);

// The box to index an entity geometry under (any GeoJSON type, GeometryCollections included):
// it contains every vertex and also the geodesic edges between them (which bulge poleward of
// their vertices, and span all longitudes when they cross the antimeridian), so that it is
// consistent with both the planar relations and the geodesic distances. nullopt for a value
// that is not a usable geometry.
std::optional<Box> bounding_box(const json::value& geojson_geometry);

namespace geo_detail {
struct ReferenceShape;  // the query geometry, prepared for evaluation (geo.cpp)
struct Builder;         // the parser's access to GeoQuery's members (geo.cpp)
}  // namespace geo_detail

class GeoQuery;

// From the HTTP query parameters (already percent-decoded). `coordinates` is JSON text such as
// [116.4,39.9]; an empty `geoproperty` means "location". The Problem (BadRequestData) names the
// parameter at fault: 'georel', 'geometry', 'coordinates' or 'geoproperty'.
Result<GeoQuery> parse_geo_query(std::string_view georel, std::string_view geometry, std::string_view coordinates,
                                 std::string_view geoproperty, const jsonld::Context& ctx);
// From a GeoQuery JSON object (queries by POST, subscriptions): {"geometry": "Point",
// "coordinates": [..] or the same as a JSON string, "georel": "near;maxDistance==1000",
// "geoproperty": "location" (optional)}.
Result<GeoQuery> parse_geo_query(const json::object& geoq, const jsonld::Context& ctx);

// Immutable once parsed; copies share the prepared geometry, and one query may be evaluated from
// several threads at once.
class GeoQuery {
 public:
  GeoRel relation() const { return relation_; }
  // The expanded name of the GeoProperty to test (by default the expansion of "location").
  model::Term geoproperty() const { return geoproperty_; }
  // near only: the distance bounds in metres (one or both).
  std::optional<double> max_distance() const { return max_distance_; }
  std::optional<double> min_distance() const { return min_distance_; }
  // The reference geometry as GeoJSON ({"type": …, "coordinates": …}).
  const json::value& geometry() const;

  // True when the entity geometry (a GeoProperty value) is in the relation to the reference
  // geometry. Anything that is not a usable GeoJSON geometry does not match, nor does a
  // GeometryCollection with such a member. A GeometryCollection matches near, intersects and
  // disjoint exactly, within when every member is covered by the reference and one is within it,
  // contains when one member contains it (sufficient, not necessary); never equals or overlaps.
  bool matches(const json::value& geojson_geometry) const;

  // near only: whether an entity geometry whose bounding_box() is the single point (lon, lat)
  // matches, without reading the geometry; nullopt for other relations, and where the distance is
  // so close to a bound (a centimetre) that the geometry itself must decide.
  std::optional<bool> decide_point(double lon, double lat) const;

  // A box that the bounding_box() of every matching entity geometry intersects, to pre-select
  // candidates from a spatial index; nullopt when no box bounds the matches (disjoint, and near
  // with only a minDistance).
  std::optional<Box> candidate_box() const;

 private:
  friend struct geo_detail::Builder;
  GeoQuery() = default;  // only the parser makes one, so every GeoQuery has a reference geometry

  GeoRel relation_ = GeoRel::Intersects;
  std::optional<double> max_distance_, min_distance_;
  model::Term geoproperty_;
  std::shared_ptr<const geo_detail::ReferenceShape> shape_;
};

}  // namespace ct::query
