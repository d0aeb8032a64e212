#include "query/geo.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <numbers>
#include <string>
#include <utility>

#include "common/text.hpp"
#include "model/geometry.hpp"
#include "model/names.hpp"
#include "query/geo_shapes.hpp"

namespace ct::query {
namespace geo_detail {

struct ReferenceShape {
  json::value geojson;
  Shape<Plane> plane;        // for the Simple Features relations; plane.box is its vertex box
  Earth::Point reference;    // near: the Point
  std::optional<Box> candidates;  // what candidate_box() answers
};

struct Builder {
  static GeoQuery make(GeoRel relation, std::optional<double> max_distance, std::optional<double> min_distance,
                       model::Term geoproperty, std::shared_ptr<const ReferenceShape> shape) {
    GeoQuery query;
    query.relation_ = relation;
    query.max_distance_ = max_distance;
    query.min_distance_ = min_distance;
    query.geoproperty_ = geoproperty;
    query.shape_ = std::move(shape);
    return query;
  }
};

}  // namespace geo_detail

namespace {

using geo_detail::Earth;
using geo_detail::Plane;
using geo_detail::ReferenceShape;
using geo_detail::Shape;
using geo_detail::ShapeType;
namespace bg = boost::geometry;

constexpr std::array<std::pair<std::string_view, GeoRel>, 7> kRelations = {{
    {"near", GeoRel::Near},
    {"within", GeoRel::Within},
    {"contains", GeoRel::Contains},
    {"intersects", GeoRel::Intersects},
    {"equals", GeoRel::Equals},
    {"disjoint", GeoRel::Disjoint},
    {"overlaps", GeoRel::Overlaps},
}};

constexpr int kMaxCollectionDepth = 4;  // as model::validate_geometry allows
constexpr int kMaxCoordinatesDepth = 8;  // MultiPolygon coordinates nest 4 deep

// ---------------------------------------------------------------------------------------------
// Parsing

// Echoes client text in a problem: bounded, and valid UTF-8 whatever was sent.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxEcho = 80;
  std::string out = "'" + printable_utf8(text.substr(0, kMaxEcho));
  out += text.size() > kMaxEcho ? "...'" : "'";
  return out;
}

Problem fault(std::string_view parameter, std::string_view why) {
  return bad_request("invalid geo-query '" + std::string(parameter) + "': " + std::string(why));
}

struct Relation {
  GeoRel rel = GeoRel::Intersects;
  std::optional<double> max_distance, min_distance;
};

Result<double> parse_distance(std::string_view name, std::string_view text) {
  double metres = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), metres);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(metres))
    return fault("georel", std::string(name) + " must be a number of metres, not " + quoted(text));
  if (metres < 0) return fault("georel", std::string(name) + " must not be negative");
  return metres;
}

// near;maxDistance==N, near;minDistance==N (both may be given, for a ring), or a bare relation.
Result<Relation> parse_georel(std::string_view text) {
  if (text.empty()) return fault("georel", "missing");
  const std::size_t semicolon = text.find(';');
  const std::string_view op = text.substr(0, semicolon);
  const auto known = std::find_if(kRelations.begin(), kRelations.end(), [op](const auto& r) { return r.first == op; });
  if (known == kRelations.end())
    return fault("georel", quoted(op) + " is not one of near, within, contains, intersects, equals, disjoint, overlaps");
  Relation relation;
  relation.rel = known->second;
  if (relation.rel != GeoRel::Near) {
    if (semicolon != std::string_view::npos) return fault("georel", "only near takes a distance");
    return relation;
  }
  if (semicolon == std::string_view::npos)
    return fault("georel", "near needs maxDistance==<metres> or minDistance==<metres>");
  std::string_view rest = text.substr(semicolon + 1);
  while (true) {
    const std::size_t next = rest.find(';');
    const std::string_view modifier = rest.substr(0, next);
    const std::size_t equals = modifier.find("==");
    const std::string_view name = modifier.substr(0, equals);
    std::optional<double>* slot = name == "maxDistance"   ? &relation.max_distance
                                  : name == "minDistance" ? &relation.min_distance
                                                          : nullptr;
    if (equals == std::string_view::npos || !slot)
      return fault("georel", quoted(modifier) + " is not maxDistance==<metres> or minDistance==<metres>");
    if (*slot) return fault("georel", std::string(name) + " is given twice");
    auto metres = parse_distance(name, modifier.substr(equals + 2));
    if (!metres) return std::move(metres).problem();
    *slot = *metres;
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  if (relation.max_distance && relation.min_distance && *relation.min_distance > *relation.max_distance)
    return fault("georel", "minDistance is greater than maxDistance");
  return relation;
}

// Counts positions (arrays that start with a number), giving up once past `limit`.
std::size_t count_positions(const json::value& v, std::size_t limit, int depth) {
  const auto* a = v.if_array();
  if (!a || a->empty() || depth > kMaxCoordinatesDepth) return 0;
  if (a->front().is_number()) return 1;
  std::size_t count = 0;
  for (const auto& item : *a) {
    count += count_positions(item, limit, depth + 1);
    if (count > limit) break;
  }
  return count;
}

// A box that holds every point within `metres` (geodesic) of (lon, lat), without wrapping.
// Along a geodesic, latitude changes by at most ds/M and longitude by at most ds/(N cos(lat)),
// where the meridional radius M is at least a(1 - e^2) and the transverse radius N at least a; so
// every point within the distance lies within these bounds, cos taken at the most poleward
// latitude reachable.
Box circle_box(double lon, double lat, double metres) {
  constexpr double kEquatorialRadius = 6378137.0;              // a
  constexpr double kMinMeridionalRadius = 6335439.327083168;  // a(1 - e^2), at the equator
  constexpr double kDegreesPerRadian = 180.0 / std::numbers::pi;
  // Room for the rounding of the distances that matches() compares (sub-millimetre in practice).
  const double reach = metres * 1.001 + 1.0;
  const double dlat = reach / kMinMeridionalRadius * kDegreesPerRadian;
  Box box{-180, std::max(-90.0, lat - dlat), 180, std::min(90.0, lat + dlat)};
  if (box.min_lat <= -90 || box.max_lat >= 90) return box;  // a pole is within reach: every longitude
  const double poleward = std::max(std::abs(box.min_lat), std::abs(box.max_lat));
  const double dlon = reach / (kEquatorialRadius * std::cos(poleward / kDegreesPerRadian)) * kDegreesPerRadian;
  // Across the antimeridian the circle would need two boxes: one box of every longitude holds it.
  if (lon - dlon < -180 || lon + dlon > 180) return box;
  box.min_lon = lon - dlon;
  box.max_lon = lon + dlon;
  return box;
}

const char* invalidity_reason(bg::validity_failure_type failure) {
  switch (failure) {
    case bg::failure_few_points:
    case bg::failure_wrong_topological_dimension: return "the geometry has no length or no area";
    case bg::failure_spikes: return "a ring has a spike (it turns back on itself)";
    case bg::failure_self_intersections: return "a ring crosses itself or another ring";
    // The reader turns rings the right way round, so only a ring with no area is left wrong.
    case bg::failure_wrong_orientation: return "a ring has no area or crosses itself";
    case bg::failure_interior_rings_outside: return "a hole lies outside its polygon";
    case bg::failure_nested_interior_rings: return "a hole lies inside another hole";
    case bg::failure_disconnected_interior: return "the holes cut the polygon in pieces";
    case bg::failure_intersecting_interiors: return "polygons of the MultiPolygon overlap";
    default: return "the geometry is not valid";
  }
}

// The geometry and coordinates parameters, made into the prepared reference geometry.
Result<std::shared_ptr<const ReferenceShape>> prepare_reference(std::string_view geometry, json::value coordinates,
                                                               const Relation& relation) {
  if (geometry.empty()) return fault("geometry", "missing");
  const ShapeType type = geo_detail::shape_type(geometry);
  if (type == ShapeType::Unknown || type == ShapeType::GeometryCollection)
    return fault("geometry",
                 quoted(geometry) + " is not one of Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon");
  if (relation.rel == GeoRel::Near && type != ShapeType::Point)
    return fault("geometry", "near needs a Point, not a " + std::string(geometry));
  if (count_positions(coordinates, kMaxGeoQueryPositions, 0) > kMaxGeoQueryPositions)
    return fault("coordinates", "more than " + std::to_string(kMaxGeoQueryPositions) + " positions");

  auto shape = std::make_shared<ReferenceShape>();
  shape->geojson = json::object{{"type", geometry}, {"coordinates", std::move(coordinates)}};
  const std::string what = "for a " + std::string(geometry) + ", ";
  if (auto st = model::validate_geometry(shape->geojson); !st) return fault("coordinates", what + st.problem().detail);
  // validate_geometry accepts empty multi-geometries, which relate to nothing.
  if (!geo_detail::read_coordinates(type, shape->geojson.at("coordinates"), shape->plane))
    return fault("coordinates", what + "at least one member is needed");
  // The Simple Features relations are undefined for self-intersecting polygons and the like.
  bg::validity_failure_type failure = bg::no_failure;
  shape->plane.visit([&failure](const auto& g) { return bg::is_valid(g, failure); });
  if (failure != bg::no_failure) return fault("coordinates", what + invalidity_reason(failure));

  if (relation.rel == GeoRel::Near) {
    const double lon = bg::get<0>(shape->plane.point), lat = bg::get<1>(shape->plane.point);
    shape->reference = Earth::Point(lon, lat);
    if (relation.max_distance) shape->candidates = circle_box(lon, lat, *relation.max_distance);
  } else if (relation.rel != GeoRel::Disjoint) {
    // Within, contains, intersects, equals and overlaps all need the two geometries to meet.
    shape->candidates = shape->plane.box;
  }
  return std::shared_ptr<const ReferenceShape>(std::move(shape));
}

Result<model::Term> expand_geoproperty(std::string_view name, const jsonld::Context& ctx) {
  if (name.empty()) name = "location";
  if (!model::is_valid_term(name) && !model::is_uri(name))
    return fault("geoproperty", quoted(name) + " is not a valid attribute name");
  return model::Term::intern(ctx.expand(name));
}

Result<GeoQuery> assemble(std::string_view georel, std::string_view geometry, Result<json::value> coordinates,
                          std::string_view geoproperty, const jsonld::Context& ctx) {
  auto relation = parse_georel(georel);
  if (!relation) return std::move(relation).problem();
  if (!coordinates) return std::move(coordinates).problem();
  auto shape = prepare_reference(geometry, std::move(coordinates).value(), *relation);
  if (!shape) return std::move(shape).problem();
  auto term = expand_geoproperty(geoproperty, ctx);
  if (!term) return std::move(term).problem();
  return geo_detail::Builder::make(relation->rel, relation->max_distance, relation->min_distance, *term,
                                   std::move(shape).value());
}

Result<json::value> parse_coordinates(std::string_view text) {
  if (text.empty()) return fault("coordinates", "missing");
  auto parsed = parse_json(text, kMaxCoordinatesDepth);
  if (!parsed) return fault("coordinates", parsed.problem().detail);
  return parsed;
}

// A string member of the GeoQuery object: the string, empty when absent, or the Problem.
Result<std::string_view> string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) return std::string_view();
  if (!v->is_string()) return fault(name, "must be a string");
  return std::string_view(v->get_string());
}

// ---------------------------------------------------------------------------------------------
// Evaluation. The entity geometry is the first operand of every relation.

// The relations as DE-9IM masks (OGC Simple Features): one relate() per pair of geometry types
// serves every relation, which keeps the template instantiations (and build time) down.
const bg::de9im::mask kWithin("T*F**F***");
const bg::de9im::mask kCoveredBy("**F**F***");
const bg::de9im::mask kContains("T*****FF*");
const bg::de9im::mask kDisjoint("FF*FF****");
const bg::de9im::mask kEquals("T*F**FFF*");
const bg::de9im::mask kOverlapsPointsOrAreas("T*T***T**");
const bg::de9im::mask kOverlapsLines("1*T***T**");

// The relations that a GeometryCollection is evaluated through, member by member.
enum class Predicate { Within, CoveredBy, Contains, Intersects, Disjoint, Equals, Overlaps };

bool box_inside(const Box& inner, const Box& outer) {
  return inner.min_lon >= outer.min_lon && inner.max_lon <= outer.max_lon && inner.min_lat >= outer.min_lat &&
         inner.max_lat <= outer.max_lat;
}

bool relate(const Shape<Plane>& candidate, const Shape<Plane>& reference, const bg::de9im::mask& mask) {
  return candidate.visit([&](const auto& c) { return reference.visit([&](const auto& r) { return bg::relate(c, r, mask); }); });
}

// The vertex boxes settle most candidates before relate() runs.
bool holds_simple(Predicate predicate, const Shape<Plane>& c, const Shape<Plane>& r) {
  const bool boxes_meet = boxes_intersect(c.box, r.box);
  switch (predicate) {
    case Predicate::Within: return box_inside(c.box, r.box) && relate(c, r, kWithin);
    case Predicate::CoveredBy: return box_inside(c.box, r.box) && relate(c, r, kCoveredBy);
    case Predicate::Contains: return box_inside(r.box, c.box) && relate(c, r, kContains);
    case Predicate::Intersects: return boxes_meet && !relate(c, r, kDisjoint);
    case Predicate::Disjoint: return !boxes_meet || relate(c, r, kDisjoint);
    case Predicate::Equals: return box_inside(c.box, r.box) && box_inside(r.box, c.box) && relate(c, r, kEquals);
    case Predicate::Overlaps: {
      // Only geometries of the same dimension overlap.
      const int dimension = geo_detail::topological_dimension(c.type);
      if (dimension != geo_detail::topological_dimension(r.type) || !boxes_meet) return false;
      return relate(c, r, dimension == 1 ? kOverlapsLines : kOverlapsPointsOrAreas);
    }
  }
  return false;
}

const json::array* collection_members(const json::object& geometry, int depth) {
  const auto* members = geometry.if_contains("geometries");
  if (depth >= kMaxCollectionDepth || !members || !members->is_array() || members->get_array().empty()) return nullptr;
  return &members->get_array();
}

// Whether the entity geometry is in the relation; nullopt when it is not a usable geometry (a
// collection is usable only when all its members are, as bounding_box() has it).
std::optional<bool> holds(Predicate predicate, const json::value& value, const ReferenceShape& reference, int depth) {
  const auto* geometry = value.if_object();
  if (!geometry) return std::nullopt;
  if (geo_detail::shape_type(*geometry) != ShapeType::GeometryCollection) {
    // Reused from call to call: reading a candidate allocates only when it outgrows earlier ones.
    thread_local Shape<Plane> candidate;
    if (!geo_detail::read_geometry(*geometry, candidate)) return std::nullopt;
    return holds_simple(predicate, candidate, reference.plane);
  }
  const auto* members = collection_members(*geometry, depth);
  if (!members) return std::nullopt;
  // How many members hold `p`; every member is read, to find any that is not usable.
  auto count = [&](Predicate p) -> std::optional<std::size_t> {
    std::size_t n = 0;
    for (const auto& member : *members) {
      const auto holds_for_member = holds(p, member, reference, depth + 1);
      if (!holds_for_member) return std::nullopt;
      n += *holds_for_member ? 1 : 0;
    }
    return n;
  };
  const std::size_t all = members->size();
  switch (predicate) {
    case Predicate::Equals:
    case Predicate::Overlaps: return false;  // would need the union of the members
    case Predicate::Within: {
      // Within the reference: all of it is covered, and the interiors meet (through some member).
      const auto covered = count(Predicate::CoveredBy);
      if (!covered) return std::nullopt;
      return *covered == all && count(Predicate::Within).value_or(0) > 0;
    }
    default: break;
  }
  const auto n = count(predicate);
  if (!n) return std::nullopt;
  switch (predicate) {
    case Predicate::Intersects: return *n > 0;
    case Predicate::Contains: return *n > 0;  // one member containing it: sufficient, not necessary
    default: return *n == all;                // Disjoint, CoveredBy
  }
}

// Geodesic distance from the reference Point to the closest point of the entity geometry (or, for
// a Point outside the candidate box, infinity: it is beyond maxDistance, and a geodesic computation
// costs microseconds); nullopt when the value is not a usable geometry.
std::optional<double> distance_to(const json::value& value, const ReferenceShape& reference, int depth) {
  const auto* geometry = value.if_object();
  if (!geometry) return std::nullopt;
  if (geo_detail::shape_type(*geometry) != ShapeType::GeometryCollection) {
    thread_local Shape<Earth> candidate;
    if (!geo_detail::read_geometry(*geometry, candidate)) return std::nullopt;
    if (candidate.type == ShapeType::Point && reference.candidates &&
        !box_contains(*reference.candidates, bg::get<0>(candidate.point), bg::get<1>(candidate.point)))
      return std::numeric_limits<double>::infinity();
    return geo_detail::geodesic_distance(reference.reference, candidate);
  }
  const auto* members = collection_members(*geometry, depth);
  if (!members) return std::nullopt;
  std::optional<double> closest;
  for (const auto& member : *members) {
    auto d = distance_to(member, reference, depth + 1);
    if (!d) return std::nullopt;
    closest = closest ? std::min(*closest, *d) : *d;
  }
  return closest;
}

Predicate predicate_for(GeoRel rel) {
  switch (rel) {
    case GeoRel::Within: return Predicate::Within;
    case GeoRel::Contains: return Predicate::Contains;
    case GeoRel::Equals: return Predicate::Equals;
    case GeoRel::Disjoint: return Predicate::Disjoint;
    case GeoRel::Overlaps: return Predicate::Overlaps;
    default: return Predicate::Intersects;
  }
}

}  // namespace

std::string_view georel_name(GeoRel rel) {
  for (const auto& [name, r] : kRelations)
    if (r == rel) return name;
  return "intersects";
}

Result<GeoQuery> parse_geo_query(std::string_view georel, std::string_view geometry, std::string_view coordinates,
                                 std::string_view geoproperty, const jsonld::Context& ctx) {
  return assemble(georel, geometry, parse_coordinates(coordinates), geoproperty, ctx);
}

Result<GeoQuery> parse_geo_query(const json::object& geoq, const jsonld::Context& ctx) {
  auto georel = string_member(geoq, "georel");
  if (!georel) return std::move(georel).problem();
  auto geometry = string_member(geoq, "geometry");
  if (!geometry) return std::move(geometry).problem();
  auto geoproperty = string_member(geoq, "geoproperty");
  if (!geoproperty) return std::move(geoproperty).problem();
  // JSON-LD compatible forms may carry the coordinates as a string holding the JSON array.
  Result<json::value> coordinates = fault("coordinates", "missing");
  if (const auto* c = geoq.if_contains("coordinates")) {
    if (c->is_array())
      coordinates = *c;
    else if (c->is_string())
      coordinates = parse_coordinates(c->get_string());
    else
      coordinates = fault("coordinates", "must be an array, or a string holding one");
  }
  return assemble(*georel, *geometry, std::move(coordinates), *geoproperty, ctx);
}

const json::value& GeoQuery::geometry() const { return shape_->geojson; }

bool GeoQuery::matches(const json::value& geojson_geometry) const {
  const ReferenceShape& reference = *shape_;
  // Boost.Geometry reports some degenerate inputs by throwing; such a geometry matches nothing.
  try {
    if (relation_ != GeoRel::Near)
      return holds(predicate_for(relation_), geojson_geometry, reference, 0).value_or(false);
    const auto distance = distance_to(geojson_geometry, reference, 0);
    if (!distance) return false;
    return (!max_distance_ || *distance <= *max_distance_) && (!min_distance_ || *distance >= *min_distance_);
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

// Great-circle distance on the sphere of the Earth's mean radius (haversine).
double spherical_distance_m(double lon1, double lat1, double lon2, double lat2) {
  constexpr double kMeanRadius = 6'371'008.8;
  constexpr double kRadians = std::numbers::pi / 180;
  const double dlat = (lat2 - lat1) * kRadians, dlon = (lon2 - lon1) * kRadians;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRadians) * std::cos(lat2 * kRadians) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kMeanRadius * std::asin(std::sqrt(std::min(1.0, h)));
}

}  // namespace

std::optional<bool> GeoQuery::decide_point(double lon, double lat) const {
  if (relation_ != GeoRel::Near) return std::nullopt;
  const ReferenceShape& reference = *shape_;
  if (reference.candidates && !box_contains(*reference.candidates, lon, lat)) return false;
  const double ref_lon = bg::get<0>(reference.reference), ref_lat = bg::get<1>(reference.reference);
  // Whether distance `d`, known within ±margin, is decidedly inside or outside the bounds.
  auto decide = [this](double d, double margin) -> std::optional<bool> {
    if (!std::isfinite(d)) return std::nullopt;
    if ((max_distance_ && d > *max_distance_ + margin) || (min_distance_ && d < *min_distance_ - margin)) return false;
    if ((!max_distance_ || d < *max_distance_ - margin) && (!min_distance_ || d > *min_distance_ + margin)) return true;
    return std::nullopt;
  };
  // The sphere is within 0.6 % of the WGS84 geodesic: away from the bounds it decides alone, at a
  // fraction of the cost of Vincenty's iteration.
  const double spherical = spherical_distance_m(ref_lon, ref_lat, lon, lat);
  if (auto decided = decide(spherical, 0.01 * spherical + 0.01)) return decided;
  // A geometry whose box is one point lies at that point (a Point, or one repeated vertex), but
  // matches() may measure it with another formula: only a clear margin (a centimetre) decides here.
  try {
    return decide(geodesic_distance_m(ref_lon, ref_lat, lon, lat), 0.01);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<Box> GeoQuery::candidate_box() const { return shape_->candidates; }

}  // namespace ct::query
