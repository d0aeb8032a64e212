#pragma once
// Internal to the geo-query module (geo.cpp, geo_shapes.cpp): GeoJSON geometries as
// Boost.Geometry models, read straight from Boost.JSON values without an intermediate document.
//
// The same degrees are modelled in two coordinate systems: the lon/lat plane (cartesian), in which
// the Simple Features relations are evaluated, and the WGS84 ellipsoid (geographic), for geodesic
// distances. Kept out of geo.hpp so that users of geo-queries do not compile Boost.Geometry.
#include <boost/geometry.hpp>
#include <cstdint>
#include <string_view>

#include "common/json.hpp"
#include "query/geo.hpp"

namespace ct::query::geo_detail {

namespace bg = boost::geometry;

template <class CoordinateSystem>
struct Models {
  using Point = bg::model::point<double, 2, CoordinateSystem>;
  using MultiPoint = bg::model::multi_point<Point>;
  using LineString = bg::model::linestring<Point>;
  using MultiLineString = bg::model::multi_linestring<LineString>;
  // As RFC 7946 asks: exterior rings counterclockwise, holes clockwise (the reader turns rings
  // written the other way round), first position repeated last.
  using Polygon = bg::model::polygon<Point, /*ClockWise=*/false, /*Closed=*/true>;
  using MultiPolygon = bg::model::multi_polygon<Polygon>;
};
using Plane = Models<bg::cs::cartesian>;
using Earth = Models<bg::cs::geographic<bg::degree>>;

enum class ShapeType : std::uint8_t {
  Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon, GeometryCollection, Unknown
};

ShapeType shape_type(std::string_view geojson_type);
// The "type" of a GeoJSON geometry object; Unknown when it is not one.
ShapeType shape_type(const json::object& geometry);
// 0 for points, 1 for lines, 2 for polygons.
int topological_dimension(ShapeType type);

// One simple (not collection) geometry read from JSON. Its members are reused from one read to
// the next, so that reading allocates only when a geometry is bigger than those read before.
template <class M>
struct Shape {
  ShapeType type = ShapeType::Unknown;
  typename M::Point point;
  typename M::MultiPoint multi_point;
  typename M::LineString line;
  typename M::MultiLineString multi_line;
  typename M::Polygon polygon;
  typename M::MultiPolygon multi_polygon;
  Box box{};  // the box of the vertices

  // Calls f with the member that holds the geometry; only after a successful read.
  template <class F>
  decltype(auto) visit(F&& f) const {
    switch (type) {
      case ShapeType::MultiPoint: return f(multi_point);
      case ShapeType::LineString: return f(line);
      case ShapeType::MultiLineString: return f(multi_line);
      case ShapeType::Polygon: return f(polygon);
      case ShapeType::MultiPolygon: return f(multi_polygon);
      default: return f(point);
    }
  }
};

// Reads the "coordinates" of a simple geometry of `type` into `shape`. False when they are not what
// GeoJSON requires of that type (nesting, position counts, closed rings, numbers with longitude in
// [-180, 180] and latitude in [-90, 90]), when a multi-geometry is empty, or for other types.
template <class M>
bool read_coordinates(ShapeType type, const json::value& coordinates, Shape<M>& shape);
extern template bool read_coordinates<Plane>(ShapeType, const json::value&, Shape<Plane>&);
extern template bool read_coordinates<Earth>(ShapeType, const json::value&, Shape<Earth>&);

// Reads a simple geometry object ({"type": …, "coordinates": …}); false as above.
template <class M>
bool read_geometry(const json::object& geometry, Shape<M>& shape) {
  const auto* coordinates = geometry.if_contains("coordinates");
  return coordinates && read_coordinates(shape_type(geometry), *coordinates, shape);
}

// Geodesic distance in metres from `from` to the closest point of the geometry (0 inside a polygon).
double geodesic_distance(const Earth::Point& from, const Shape<Earth>& shape);

}  // namespace ct::query::geo_detail
