#include "query/geo_shapes.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

namespace ct::query::geo_detail {
namespace {

// Deep enough for the GeoJSON a client can write, shallow enough to bound recursion (model::
// validate_geometry refuses deeper nesting on writes).
constexpr int kMaxCollectionDepth = 4;

const bg::srs::spheroid<double>& wgs84() {
  static const bg::srs::spheroid<double> spheroid;  // Boost's default spheroid is WGS84
  return spheroid;
}

// Vincenty's geodesic formulas: within 0.1 mm of the exact geodesic, except for nearly antipodal
// points (over 19 900 km apart) where the iteration does not converge and the error reaches tens of
// kilometres (0.4 %). Boost's Karney formulas, exact everywhere, convert negative doubles to
// unsigned (undefined behaviour: Boost 1.81 math::sin_cos_degrees) for any latitude beyond 45°.
using PointDistance = bg::strategy::distance::geographic<bg::strategy::vincenty>;
using GeometryDistance = bg::strategies::distance::geographic<bg::strategy::vincenty>;
using SegmentEnvelope = bg::strategies::envelope::geographic<bg::strategy::vincenty>;

constexpr Box kEmptyBox{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};

void expand(Box& box, double lon, double lat) {
  box.min_lon = std::min(box.min_lon, lon);
  box.max_lon = std::max(box.max_lon, lon);
  box.min_lat = std::min(box.min_lat, lat);
  box.max_lat = std::max(box.max_lat, lat);
}

void expand(Box& box, const Box& other) {
  expand(box, other.min_lon, other.min_lat);
  expand(box, other.max_lon, other.max_lat);
}

bool read_number(const json::value& v, double& out) {
  switch (v.kind()) {
    case json::kind::double_: out = v.get_double(); return true;
    case json::kind::int64: out = static_cast<double>(v.get_int64()); return true;
    case json::kind::uint64: out = static_cast<double>(v.get_uint64()); return true;
    default: return false;
  }
}

template <class Point>
bool read_position(const json::value& v, Point& point, Box& box) {
  const auto* a = v.if_array();
  if (!a || a->size() < 2 || a->size() > 3) return false;
  double lon = 0, lat = 0, altitude = 0;
  if (!read_number((*a)[0], lon) || !read_number((*a)[1], lat)) return false;
  if (a->size() == 3 && !read_number((*a)[2], altitude)) return false;
  if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) return false;  // written so that NaN fails too
  bg::set<0>(point, lon);
  bg::set<1>(point, lat);
  expand(box, lon, lat);
  return true;
}

// Into a std::vector-like range; resize() keeps the capacity of earlier, bigger reads.
template <class Range>
bool read_positions(const json::value& v, std::size_t minimum, Range& out, Box& box) {
  const auto* a = v.if_array();
  if (!a || a->size() < minimum) return false;
  out.resize(a->size());
  for (std::size_t i = 0; i < a->size(); ++i)
    if (!read_position((*a)[i], out[i], box)) return false;
  return true;
}

// Twice the signed area in the lon/lat plane: positive when counterclockwise.
template <class Ring>
double signed_area2(const Ring& ring) {
  double sum = 0;
  for (std::size_t i = 1; i < ring.size(); ++i)
    sum += bg::get<0>(ring[i - 1]) * bg::get<1>(ring[i]) - bg::get<0>(ring[i]) * bg::get<1>(ring[i - 1]);
  return sum;
}

template <class Ring>
bool read_ring(const json::value& v, bool exterior, Ring& ring, Box& box) {
  if (!read_positions(v, 4, ring, box)) return false;
  if (!bg::equals(ring.front(), ring.back())) return false;  // GeoJSON rings are closed
  // Data written before RFC 7946 often winds rings clockwise; the relations need one orientation.
  const double area = signed_area2(ring);
  if ((exterior && area < 0) || (!exterior && area > 0)) std::reverse(ring.begin(), ring.end());
  return true;
}

template <class Polygon>
bool read_polygon(const json::value& v, Polygon& polygon, Box& box) {
  const auto* rings = v.if_array();
  if (!rings || rings->empty()) return false;
  if (!read_ring((*rings)[0], true, polygon.outer(), box)) return false;
  polygon.inners().resize(rings->size() - 1);
  for (std::size_t i = 1; i < rings->size(); ++i)
    if (!read_ring((*rings)[i], false, polygon.inners()[i - 1], box)) return false;
  return true;
}

// Boost.Geometry 1.81's relate() misjudges a MultiPolygon whose members touch where a vertex of
// one lies inside an edge of another: such a MultiPolygon is not even within itself (its relation
// to itself comes out as 2F2F11212). Members touching vertex to vertex are handled, so the vertex
// is also inserted into the edge it touches. Only members whose boxes meet are compared, found by
// a sweep over the boxes in longitude order: members that lie apart, the common case, cost little.
template <class MultiPolygon>
void insert_touching_vertices(MultiPolygon& multi_polygon) {
  using Polygon = typename boost::range_value<MultiPolygon>::type;
  using Point = typename Polygon::point_type;
  using Ring = typename Polygon::ring_type;
  if (multi_polygon.size() < 2) return;
  struct Insertion {
    Ring* ring;
    std::size_t edge;  // the point goes between ring[edge] and ring[edge + 1]
    Point point;
  };
  // Reused from call to call: most calls insert nothing.
  thread_local std::vector<Insertion> insertions;
  thread_local std::vector<Box> boxes;
  thread_local std::vector<std::size_t> by_west_edge;
  insertions.clear();
  boxes.assign(multi_polygon.size(), kEmptyBox);
  by_west_edge.resize(multi_polygon.size());
  for (std::size_t i = 0; i < multi_polygon.size(); ++i) {
    for (const Point& p : multi_polygon[i].outer()) expand(boxes[i], bg::get<0>(p), bg::get<1>(p));
    by_west_edge[i] = i;
  }
  std::sort(by_west_edge.begin(), by_west_edge.end(),
            [](std::size_t l, std::size_t r) { return boxes[l].min_lon < boxes[r].min_lon; });

  // Finds the vertices of member `from` that lie inside an edge of a ring of member `into`.
  auto find_touches = [&](Polygon& into, const Box& into_box, const Polygon& from) {
    auto each_ring = [](auto& polygon, auto f) {
      f(polygon.outer());
      for (auto& inner : polygon.inners()) f(inner);
    };
    each_ring(from, [&](const Ring& other) {
      for (const Point& v : other) {
        const double x = bg::get<0>(v), y = bg::get<1>(v);
        if (!box_contains(into_box, x, y)) continue;
        each_ring(into, [&](Ring& ring) {
          for (std::size_t e = 0; e + 1 < ring.size(); ++e) {
            const Point &a = ring[e], &b = ring[e + 1];
            if (x < std::min(bg::get<0>(a), bg::get<0>(b)) || x > std::max(bg::get<0>(a), bg::get<0>(b)) ||
                y < std::min(bg::get<1>(a), bg::get<1>(b)) || y > std::max(bg::get<1>(a), bg::get<1>(b)) ||
                bg::equals(v, a) || bg::equals(v, b))
              continue;
            // The side test relate() itself uses, so that both agree on what touches.
            if (bg::strategy::side::side_by_triangle<>::apply(a, b, v) == 0) insertions.push_back({&ring, e, v});
          }
        });
      }
    });
  };
  for (std::size_t k = 0; k < by_west_edge.size(); ++k) {
    const std::size_t i = by_west_edge[k];
    for (std::size_t l = k + 1; l < by_west_edge.size() && boxes[by_west_edge[l]].min_lon <= boxes[i].max_lon; ++l) {
      const std::size_t j = by_west_edge[l];
      if (!boxes_intersect(boxes[i], boxes[j])) continue;
      find_touches(multi_polygon[i], boxes[i], multi_polygon[j]);
      find_touches(multi_polygon[j], boxes[j], multi_polygon[i]);
    }
  }
  if (insertions.empty()) return;

  // Rebuilds ring by ring; points on one edge go in order of their distance from its start.
  std::sort(insertions.begin(), insertions.end(), [](const Insertion& l, const Insertion& r) {
    if (l.ring != r.ring) return std::less<const Ring*>()(l.ring, r.ring);
    if (l.edge != r.edge) return l.edge < r.edge;
    const Point& start = (*l.ring)[l.edge];
    return bg::comparable_distance(start, l.point) < bg::comparable_distance(start, r.point);
  });
  for (std::size_t k = 0; k < insertions.size();) {
    Ring* ring = insertions[k].ring;
    Ring noded;
    std::size_t next_edge = 0;
    for (; k < insertions.size() && insertions[k].ring == ring; ++k) {
      for (; next_edge <= insertions[k].edge; ++next_edge) noded.push_back((*ring)[next_edge]);
      if (!bg::equals(noded.back(), insertions[k].point)) noded.push_back(insertions[k].point);
    }
    for (; next_edge < ring->size(); ++next_edge) noded.push_back((*ring)[next_edge]);
    *ring = std::move(noded);
  }
}

// Reads each element of a non-empty array with `read_one` into the matching element of `out`.
template <class Range, class ReadOne>
bool read_each(const json::value& v, Range& out, ReadOne read_one) {
  const auto* a = v.if_array();
  if (!a || a->empty()) return false;
  out.resize(a->size());
  for (std::size_t i = 0; i < a->size(); ++i)
    if (!read_one((*a)[i], out[i])) return false;
  return true;
}

// Widens a vertex box to the geodesic edges between the vertices: an edge bulges poleward of its
// end points, and one joining longitudes more than 180 degrees apart crosses the antimeridian,
// which a box that does not wrap can only hold by spanning every longitude.
template <class Geometry>
void widen_for_geodesic_edges(const Geometry& geometry, Box& box) {
  using Tag = typename bg::tag<Geometry>::type;
  if constexpr (!std::is_same_v<Tag, bg::point_tag> && !std::is_same_v<Tag, bg::multi_point_tag>) {
    bg::for_each_segment(geometry, [&box](const auto& segment) {
      const double lon1 = bg::get<0, 0>(segment), lon2 = bg::get<1, 0>(segment);
      if (std::abs(lon2 - lon1) > 180) {
        box.min_lon = -180;
        box.max_lon = 180;
      }
      if (lon1 == lon2) return;  // a meridian arc: its latitudes lie between its ends
      bg::model::box<Earth::Point> envelope;
      bg::envelope(bg::model::segment<Earth::Point>(segment.first, segment.second), envelope, SegmentEnvelope(wgs84()));
      box.min_lat = std::max(-90.0, std::min(box.min_lat, bg::get<bg::min_corner, 1>(envelope)));
      box.max_lat = std::min(90.0, std::max(box.max_lat, bg::get<bg::max_corner, 1>(envelope)));
    });
  }
}

std::optional<Box> index_box(const json::value& value, int depth) {
  const auto* object = value.if_object();
  if (!object) return std::nullopt;
  if (shape_type(*object) == ShapeType::GeometryCollection) {
    const auto* members = object->if_contains("geometries");
    if (depth >= kMaxCollectionDepth || !members || !members->is_array() || members->get_array().empty())
      return std::nullopt;
    Box box = kEmptyBox;
    for (const auto& member : members->get_array()) {
      auto member_box = index_box(member, depth + 1);
      if (!member_box) return std::nullopt;
      expand(box, *member_box);
    }
    return box;
  }
  thread_local Shape<Earth> shape;
  if (!read_geometry(*object, shape)) return std::nullopt;
  Box box = shape.box;
  shape.visit([&box](const auto& geometry) { widen_for_geodesic_edges(geometry, box); });
  return box;
}

}  // namespace

ShapeType shape_type(std::string_view t) {
  if (t == "Point") return ShapeType::Point;
  if (t == "MultiPoint") return ShapeType::MultiPoint;
  if (t == "LineString") return ShapeType::LineString;
  if (t == "MultiLineString") return ShapeType::MultiLineString;
  if (t == "Polygon") return ShapeType::Polygon;
  if (t == "MultiPolygon") return ShapeType::MultiPolygon;
  if (t == "GeometryCollection") return ShapeType::GeometryCollection;
  return ShapeType::Unknown;
}

ShapeType shape_type(const json::object& geometry) {
  const auto* type = geometry.if_contains("type");
  return type && type->is_string() ? shape_type(std::string_view(type->get_string())) : ShapeType::Unknown;
}

int topological_dimension(ShapeType type) {
  switch (type) {
    case ShapeType::LineString:
    case ShapeType::MultiLineString: return 1;
    case ShapeType::Polygon:
    case ShapeType::MultiPolygon: return 2;
    default: return 0;
  }
}

template <class M>
bool read_coordinates(ShapeType type, const json::value& coordinates, Shape<M>& shape) {
  shape.type = ShapeType::Unknown;
  shape.box = kEmptyBox;
  Box& box = shape.box;
  bool ok = false;
  switch (type) {
    case ShapeType::Point: ok = read_position(coordinates, shape.point, box); break;
    case ShapeType::MultiPoint: ok = read_positions(coordinates, 1, shape.multi_point, box); break;
    case ShapeType::LineString: ok = read_positions(coordinates, 2, shape.line, box); break;
    case ShapeType::MultiLineString:
      ok = read_each(coordinates, shape.multi_line, [&box](const json::value& v, auto& line) {
        return read_positions(v, 2, line, box);
      });
      break;
    case ShapeType::Polygon: ok = read_polygon(coordinates, shape.polygon, box); break;
    case ShapeType::MultiPolygon:
      ok = read_each(coordinates, shape.multi_polygon, [&box](const json::value& v, auto& polygon) {
        return read_polygon(v, polygon, box);
      });
      if constexpr (std::is_same_v<M, Plane>) {  // only relate() needs it
        if (ok) insert_touching_vertices(shape.multi_polygon);
      }
      break;
    default: break;
  }
  if (ok) shape.type = type;
  return ok;
}

template bool read_coordinates<Plane>(ShapeType, const json::value&, Shape<Plane>&);
template bool read_coordinates<Earth>(ShapeType, const json::value&, Shape<Earth>&);

double geodesic_distance(const Earth::Point& from, const Shape<Earth>& shape) {
  if (shape.type == ShapeType::Point) return PointDistance(wgs84()).apply(from, shape.point);
  return shape.visit([&from](const auto& geometry) { return bg::distance(from, geometry, GeometryDistance(wgs84())); });
}

}  // namespace ct::query::geo_detail

namespace ct::query {

double geodesic_distance_m(double lon1, double lat1, double lon2, double lat2) {
  using geo_detail::Earth;
  return geo_detail::PointDistance(geo_detail::wgs84()).apply(Earth::Point(lon1, lat1), Earth::Point(lon2, lat2));
}

std::optional<Box> bounding_box(const json::value& geojson_geometry) {
  return geo_detail::index_box(geojson_geometry, 0);
}

}  // namespace ct::query
