#include "model/geometry.hpp"

#include <array>
#include <string>

namespace ct::model {
namespace {

constexpr std::array<std::string_view, 7> kGeometryTypes = {
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"};

Status check_position(const json::value& v) {
  if (!v.is_array()) return bad_request("a GeoJSON position must be an array of numbers");
  const auto& a = v.get_array();
  if (a.size() < 2 || a.size() > 3) return bad_request("a GeoJSON position must have 2 or 3 numbers");
  for (const auto& n : a)
    if (!n.is_number()) return bad_request("a GeoJSON position must contain only numbers");
  const double lon = a[0].to_number<double>(), lat = a[1].to_number<double>();
  if (lon < -180 || lon > 180) return bad_request("longitude " + std::to_string(lon) + " is outside [-180, 180]");
  if (lat < -90 || lat > 90) return bad_request("latitude " + std::to_string(lat) + " is outside [-90, 90]");
  return {};
}

Status check_positions(const json::value& v, std::size_t minimum, std::string_view what) {
  if (!v.is_array()) return bad_request(std::string(what) + " coordinates must be an array of positions");
  const auto& a = v.get_array();
  if (a.size() < minimum)
    return bad_request(std::string(what) + " needs at least " + std::to_string(minimum) + " positions");
  for (const auto& p : a)
    if (auto st = check_position(p); !st) return st;
  return {};
}

Status check_ring(const json::value& v) {
  if (auto st = check_positions(v, 4, "a Polygon ring"); !st) return st;
  const auto& a = v.get_array();
  if (a.front() != a.back()) return bad_request("a Polygon ring must be closed (first position equal to the last)");
  return {};
}

Status check_polygon(const json::value& v) {
  if (!v.is_array() || v.get_array().empty()) return bad_request("Polygon coordinates must be a non-empty array of rings");
  for (const auto& ring : v.get_array())
    if (auto st = check_ring(ring); !st) return st;
  return {};
}

template <class Check>
Status check_each(const json::value& v, std::string_view what, Check check) {
  if (!v.is_array()) return bad_request(std::string(what) + " coordinates must be an array");
  for (const auto& item : v.get_array())
    if (auto st = check(item); !st) return st;
  return {};
}

Status validate(const json::value& value, int depth) {
  if (!value.is_object()) return bad_request("a GeoProperty value must be a GeoJSON geometry object");
  const auto& o = value.get_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) return bad_request("a GeoJSON geometry needs a string \"type\"");
  const std::string_view t = type->get_string();
  if (t == "GeometryCollection") {
    const auto* geometries = o.if_contains("geometries");
    if (!geometries || !geometries->is_array()) return bad_request("a GeometryCollection needs a \"geometries\" array");
    if (depth > 4) return bad_request("GeometryCollections nest too deeply");
    for (const auto& g : geometries->get_array())
      if (auto st = validate(g, depth + 1); !st) return st;
    return {};
  }
  const auto* coords = o.if_contains("coordinates");
  if (!coords) return bad_request("a GeoJSON " + std::string(t) + " needs \"coordinates\"");
  if (t == "Point") return check_position(*coords);
  if (t == "MultiPoint") return check_positions(*coords, 1, "a MultiPoint");
  if (t == "LineString") return check_positions(*coords, 2, "a LineString");
  if (t == "MultiLineString")
    return check_each(*coords, "MultiLineString", [](const json::value& l) { return check_positions(l, 2, "a LineString"); });
  if (t == "Polygon") return check_polygon(*coords);
  if (t == "MultiPolygon") return check_each(*coords, "MultiPolygon", check_polygon);
  return bad_request("\"" + std::string(t) + "\" is not a GeoJSON geometry type");
}

}  // namespace

bool looks_like_geometry(const json::value& value) {
  if (!value.is_object()) return false;
  const auto* type = value.get_object().if_contains("type");
  if (!type || !type->is_string()) return false;
  for (auto t : kGeometryTypes)
    if (type->get_string() == t) return true;
  return false;
}

Status validate_geometry(const json::value& value) { return validate(value, 0); }

}  // namespace ct::model
