#include "query/geo.hpp"

#include <gtest/gtest.h>

#include <boost/geometry/formulas/vincenty_direct.hpp>
#include <boost/geometry/srs/spheroid.hpp>
#include <charconv>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jsonld/context_store.hpp"
#include "json_printer.hpp"

namespace ct::query {
namespace {

const jsonld::Context& core() {
  static const jsonld::ContextStore store;
  static const jsonld::ContextPtr context = store.core();
  return *context;
}

// Parses or fails the test (value() on a Problem throws, which GoogleTest reports).
GeoQuery geo_query(std::string_view georel, std::string_view geometry, std::string_view coordinates,
                   std::string_view geoproperty = "") {
  auto q = parse_geo_query(georel, geometry, coordinates, geoproperty, core());
  EXPECT_TRUE(q.ok()) << georel << " " << geometry << " " << coordinates << ": " << q.problem().detail;
  return std::move(q).value();
}

json::value point(double lon, double lat) { return json::value{{"type", "Point"}, {"coordinates", {lon, lat}}}; }

std::string shortest(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, end);
}

// Places in Beijing. Tiananmen is south of the Forbidden City; both lie inside "Central", a box
// around the old city; the Summer Palace lies outside it, to the north-west.
constexpr double kTiananmenLon = 116.3975, kTiananmenLat = 39.9087;
const char* const kTiananmen = R"({"type":"Point","coordinates":[116.3975,39.9087]})";
const char* const kSummerPalace = R"({"type":"Point","coordinates":[116.2755,39.9999]})";
const char* const kCentralCoordinates = "[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]]]";
const char* const kCentral =
    R"({"type":"Polygon","coordinates":[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]]]})";
// The same polygon wound clockwise from another vertex, and as a MultiPolygon.
const char* const kCentralClockwise =
    R"({"type":"Polygon","coordinates":[[[116.45,39.95],[116.45,39.86],[116.35,39.86],[116.35,39.95],[116.45,39.95]]]})";
const char* const kCentralMulti =
    R"({"type":"MultiPolygon","coordinates":[[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]]]]})";
const char* const kForbiddenCity =
    R"({"type":"Polygon","coordinates":[[[116.3908,39.9125],[116.4030,39.9125],[116.4030,39.9235],[116.3908,39.9235],[116.3908,39.9125]]]})";
const char* const kGreaterBeijing =
    R"({"type":"Polygon","coordinates":[[[115.5,39.4],[117.5,39.4],[117.5,40.5],[115.5,40.5],[115.5,39.4]]]})";
// East of Central, sharing its east edge.
const char* const kEastNeighbour =
    R"({"type":"Polygon","coordinates":[[[116.45,39.86],[116.50,39.86],[116.50,39.95],[116.45,39.95],[116.45,39.86]]]})";
// Straddles Central's north-east corner.
const char* const kNorthEast =
    R"({"type":"Polygon","coordinates":[[[116.40,39.90],[116.50,39.90],[116.50,39.99],[116.40,39.99],[116.40,39.90]]]})";
// The north-south axis through the Forbidden City, inside Central.
const char* const kAxis = R"({"type":"LineString","coordinates":[[116.3972,39.90],[116.3972,39.93]]})";
// Chang'an Avenue, inside Central, south of the Forbidden City.
const char* const kChangAn = R"({"type":"LineString","coordinates":[[116.36,39.9075],[116.44,39.9075]]})";
// Crosses Central's west edge.
const char* const kCrossing = R"({"type":"LineString","coordinates":[[116.30,39.90],[116.40,39.90]]})";

struct Expectation {
  const char* entity;
  bool matches;
};

void expect_all(const GeoQuery& q, std::initializer_list<Expectation> cases) {
  for (const auto& c : cases)
    EXPECT_EQ(q.matches(json::parse(c.entity)), c.matches) << georel_name(q.relation()) << " " << c.entity;
}

// ---------------------------------------------------------------------------------------------

TEST(GeoDistance, AgreesWithPublishedGeodesics) {
  // Vincenty's (1975) test line, Flinders Peak to Buninyong: 54 972.271 m.
  EXPECT_NEAR(geodesic_distance_m(144.0 + 25.0 / 60 + 29.52440 / 3600, -(37.0 + 57.0 / 60 + 3.72030 / 3600),
                                  143.0 + 55.0 / 60 + 35.38390 / 3600, -(37.0 + 39.0 / 60 + 10.15610 / 3600)),
              54972.271, 0.01);
  EXPECT_NEAR(geodesic_distance_m(0, 0, 0, 1), 110574.389, 0.01);  // a degree of meridian at the equator
  EXPECT_NEAR(geodesic_distance_m(0, 0, 1, 0), 111319.491, 0.01);  // a degree of the equator
  // Pole to pole, and two antipodal points on the equator (whose shortest path runs over a pole).
  EXPECT_NEAR(geodesic_distance_m(0, 90, 0, -90), 20003931.459, 0.01);
  EXPECT_NEAR(geodesic_distance_m(0, 0, 180, 0), 20003931.459, 0.01);
  // Tiananmen to 0.01 degree north: the meridian arc integrated numerically is 1110.330 m.
  EXPECT_NEAR(geodesic_distance_m(kTiananmenLon, kTiananmenLat, kTiananmenLon, kTiananmenLat + 0.01), 1110.330, 0.01);
  // Tiananmen to People's Square, Shanghai: about 1067 km.
  EXPECT_NEAR(geodesic_distance_m(kTiananmenLon, kTiananmenLat, 121.4737, 31.2304), 1067e3, 1067e3 * 0.005);
  EXPECT_EQ(geodesic_distance_m(10, 20, 10, 20), 0);
  // Nearly antipodal points, where Vincenty's iteration does not converge: Karney's exact value is
  // 19 970 715.5 m; the answer stays within 0.5 %.
  EXPECT_NEAR(geodesic_distance_m(0, 0, 179.4, 0), 19970715.5, 19970715.5 * 0.005);
}

// ---------------------------------------------------------------------------------------------

TEST(GeoParse, NearFromQueryParameters) {
  auto q = geo_query("near;maxDistance==1000", "Point", "[116.3975,39.9087]");
  EXPECT_EQ(q.relation(), GeoRel::Near);
  EXPECT_EQ(q.max_distance(), 1000.0);
  EXPECT_FALSE(q.min_distance().has_value());
  EXPECT_EQ(q.geoproperty().str(), "https://uri.etsi.org/ngsi-ld/location");
  EXPECT_EQ(q.geometry(), json::parse(R"({"type":"Point","coordinates":[116.3975,39.9087]})"));

  auto ring = geo_query("near;minDistance==10;maxDistance==2.5e3", "Point", "[0,0]", "pathway");
  EXPECT_EQ(ring.min_distance(), 10.0);
  EXPECT_EQ(ring.max_distance(), 2500.0);
  EXPECT_EQ(ring.geoproperty().str(), "https://uri.etsi.org/ngsi-ld/default-context/pathway");
  EXPECT_EQ(geo_query("near;maxDistance==1", "Point", "[0,0]", "observationSpace").geoproperty().str(),
            "https://uri.etsi.org/ngsi-ld/observationSpace");
}

TEST(GeoParse, EveryRelationAndGeometry) {
  for (auto [georel, rel] : {std::pair{"within", GeoRel::Within}, {"contains", GeoRel::Contains},
                             {"intersects", GeoRel::Intersects}, {"equals", GeoRel::Equals},
                             {"disjoint", GeoRel::Disjoint}, {"overlaps", GeoRel::Overlaps}}) {
    EXPECT_EQ(geo_query(georel, "Polygon", kCentralCoordinates).relation(), rel);
    EXPECT_EQ(georel_name(rel), georel);
  }
  geo_query("intersects", "Point", "[1,2,30]");
  geo_query("intersects", "MultiPoint", "[[1,2],[3,4]]");
  geo_query("intersects", "LineString", "[[1,2],[3,4]]");
  geo_query("intersects", "MultiLineString", "[[[1,2],[3,4]],[[5,6],[7,8]]]");
  geo_query("intersects", "MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]");
  // A polygon wound clockwise is accepted (and turned round).
  geo_query("within", "Polygon", "[[[0,0],[0,1],[1,1],[1,0],[0,0]]]");
}

TEST(GeoParse, FromJsonObject) {
  auto q = parse_geo_query(
      json::parse(R"({"geometry":"Point","coordinates":[116.3975,39.9087],"georel":"near;maxDistance==1000","geoproperty":"location"})")
          .as_object(),
      core());
  ASSERT_TRUE(q.ok()) << q.problem().detail;
  EXPECT_EQ(q->relation(), GeoRel::Near);
  EXPECT_EQ(q->max_distance(), 1000.0);
  EXPECT_EQ(q->geoproperty().str(), "https://uri.etsi.org/ngsi-ld/location");

  // Coordinates may come as a string holding the JSON array; geoproperty defaults to location.
  auto s = parse_geo_query(
      json::parse(R"({"geometry":"Polygon","coordinates":"[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]]]","georel":"within"})")
          .as_object(),
      core());
  ASSERT_TRUE(s.ok()) << s.problem().detail;
  EXPECT_EQ(s->relation(), GeoRel::Within);
  EXPECT_EQ(s->geoproperty().str(), "https://uri.etsi.org/ngsi-ld/location");
  EXPECT_TRUE(s->matches(json::parse(kTiananmen)));
}

TEST(GeoParse, ProblemsNameTheParameterAtFault) {
  std::string many = "[";
  for (int i = 0; i <= 10'000; ++i) many += (i ? ",[1," : "[1,") + std::to_string(i % 80) + "]";
  many += "]";
  struct Case {
    std::string georel, geometry, coordinates, geoproperty;
    const char* parameter;
    const char* says;
  } cases[] = {
      {"", "Point", "[1,2]", "", "'georel'", "missing"},
      {"nearby;maxDistance==10", "Point", "[1,2]", "", "'georel'", "'nearby' is not one of"},
      {"NEAR;maxDistance==10", "Point", "[1,2]", "", "'georel'", "not one of"},
      {"near", "Point", "[1,2]", "", "'georel'", "maxDistance"},
      {"near;maxDistance==-5", "Point", "[1,2]", "", "'georel'", "negative"},
      {"near;maxDistance==abc", "Point", "[1,2]", "", "'georel'", "number of metres"},
      {"near;maxDistance==", "Point", "[1,2]", "", "'georel'", "number of metres"},
      {"near;maxDistance==10m", "Point", "[1,2]", "", "'georel'", "number of metres"},
      {"near;maxDistance==nan", "Point", "[1,2]", "", "'georel'", "number of metres"},
      {"near;maxDistance==1e999", "Point", "[1,2]", "", "'georel'", "number of metres"},
      {"near;maxDistance=10", "Point", "[1,2]", "", "'georel'", "is not maxDistance=="},
      {"near;distance==10", "Point", "[1,2]", "", "'georel'", "is not maxDistance=="},
      {"near;maxDistance==10;", "Point", "[1,2]", "", "'georel'", "is not maxDistance=="},
      {"near;maxDistance==10;maxDistance==20", "Point", "[1,2]", "", "'georel'", "twice"},
      {"near;minDistance==100;maxDistance==10", "Point", "[1,2]", "", "'georel'", "greater"},
      {"within;maxDistance==10", "Point", "[1,2]", "", "'georel'", "only near"},
      {"within", "", "[1,2]", "", "'geometry'", "missing"},
      {"within", "Circle", "[1,2]", "", "'geometry'", "'Circle' is not one of"},
      {"within", "point", "[1,2]", "", "'geometry'", "not one of"},
      {"within", "GeometryCollection", "[1,2]", "", "'geometry'", "not one of"},
      {"near;maxDistance==10", "Polygon", kCentralCoordinates, "", "'geometry'", "near needs a Point"},
      {"within", "Point", "", "", "'coordinates'", "missing"},
      {"within", "Point", "[116.4,", "", "'coordinates'", "malformed JSON"},
      {"within", "Point", "116.4,39.9", "", "'coordinates'", "malformed JSON"},
      {"within", "Point", "[200,39.9]", "", "'coordinates'", "longitude"},
      {"within", "Point", "[116.4,-91]", "", "'coordinates'", "latitude"},
      {"within", "Point", "[[116.4,39.9]]", "", "'coordinates'", "for a Point"},
      {"within", "LineString", "[116.4,39.9]", "", "'coordinates'", "for a LineString"},
      {"within", "Polygon", "[[116.4,39.9],[116.5,39.9],[116.5,40],[116.4,39.9]]", "", "'coordinates'", "for a Polygon"},
      {"within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "", "'coordinates'", "closed"},
      {"within", "Polygon", "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]", "", "'coordinates'", "crosses itself"},
      {"within", "Polygon", "[[[0,0],[2,0],[2,2],[0,2],[0,0]],[[1,1],[3,1],[3,3],[1,3],[1,1]]]", "", "'coordinates'", "crosses"},
      {"within", "Polygon", "[[[0,0],[2,0],[2,2],[0,2],[0,0]],[[5,5],[6,5],[6,6],[5,6],[5,5]]]", "", "'coordinates'", "outside"},
      {"within", "MultiPolygon", "[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[1,1],[3,1],[3,3],[1,3],[1,1]]]]", "", "'coordinates'", "crosses"},
      {"within", "MultiPolygon", "[[[[0,0],[4,0],[4,4],[0,4],[0,0]]],[[[1,1],[2,1],[2,2],[1,2],[1,1]]]]", "", "'coordinates'", "overlap"},
      {"within", "LineString", "[[1,1],[1,1]]", "", "'coordinates'", "no length"},
      {"within", "MultiPolygon", "[]", "", "'coordinates'", "at least one"},
      {"within", "Point", "[[[[[[[[[[[[1,2]]]]]]]]]]]]", "", "'coordinates'", "deeper"},
      {"within", "MultiPoint", many, "", "'coordinates'", "more than 10000 positions"},
      {"within", "Point", "[1,2]", "bad name", "'geoproperty'", "not a valid attribute name"},
      {"within", "Point", "[1,2]", "a;b", "'geoproperty'", "not a valid attribute name"},
  };
  for (const auto& c : cases) {
    auto q = parse_geo_query(c.georel, c.geometry, c.coordinates, c.geoproperty, core());
    ASSERT_FALSE(q.ok()) << c.georel << " " << c.geometry << " " << c.coordinates.substr(0, 60);
    EXPECT_EQ(q.problem().kind, ProblemKind::BadRequestData);
    EXPECT_NE(q.problem().detail.find(c.parameter), std::string::npos) << q.problem().detail;
    EXPECT_NE(q.problem().detail.find(c.says), std::string::npos) << q.problem().detail;
  }
}

TEST(GeoParse, JsonObjectProblemsNameTheMember) {
  struct Case {
    const char* geoq;
    const char* parameter;
  } cases[] = {
      {R"({"geometry":"Point","coordinates":[1,2]})", "'georel'"},
      {R"({"geometry":"Point","coordinates":[1,2],"georel":5})", "'georel'"},
      {R"({"coordinates":[1,2],"georel":"within"})", "'geometry'"},
      {R"({"geometry":["Point"],"coordinates":[1,2],"georel":"within"})", "'geometry'"},
      {R"({"geometry":"Point","georel":"within"})", "'coordinates'"},
      {R"({"geometry":"Point","coordinates":{"lon":1},"georel":"within"})", "'coordinates'"},
      {R"({"geometry":"Point","coordinates":"[1,","georel":"within"})", "'coordinates'"},
      {R"({"geometry":"Point","coordinates":[1,2],"georel":"within","geoproperty":7})", "'geoproperty'"},
  };
  for (const auto& c : cases) {
    auto q = parse_geo_query(json::parse(c.geoq).as_object(), core());
    ASSERT_FALSE(q.ok()) << c.geoq;
    EXPECT_NE(q.problem().detail.find(c.parameter), std::string::npos) << q.problem().detail;
  }
}

TEST(GeoParse, EchoedInputStaysValidUtf8) {
  auto q = parse_geo_query("\xff\xfe;maxDistance==1", "Point", "[1,2]", "", core());
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.problem().detail.find("'georel'"), std::string::npos);
  EXPECT_EQ(q.problem().detail.find('\xff'), std::string::npos);
}

// ---------------------------------------------------------------------------------------------

TEST(GeoRelations, Within) {
  auto q = geo_query("within", "Polygon", kCentralCoordinates);
  expect_all(q, {{kTiananmen, true},
                 {kSummerPalace, false},
                 {kForbiddenCity, true},
                 {kAxis, true},
                 {kChangAn, true},
                 {kCrossing, false},
                 {kCentral, true},  // a polygon is within itself
                 {kGreaterBeijing, false},
                 {kNorthEast, false},
                 {R"({"type":"MultiPoint","coordinates":[[116.3975,39.9087,44.0],[116.40,39.92]]})", true},
                 {R"({"type":"MultiPoint","coordinates":[[116.3975,39.9087],[116.2755,39.9999]]})", false},
                 // Along the boundary only: the interiors do not meet.
                 {R"({"type":"LineString","coordinates":[[116.35,39.87],[116.35,39.94]]})", false}});
}

TEST(GeoRelations, WithinAPolygonWithAHole) {
  // Central with the Forbidden City cut out.
  auto q = geo_query("within", "Polygon",
                     "[[[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]],"
                     "[[116.3908,39.9125],[116.3908,39.9235],[116.4030,39.9235],[116.4030,39.9125],[116.3908,39.9125]]]");
  expect_all(q, {{kTiananmen, true},
                 {R"({"type":"Point","coordinates":[116.3970,39.9160]})", false},  // the Hall of Supreme Harmony
                 {kAxis, false},
                 {kChangAn, true}});
}

TEST(GeoRelations, Contains) {
  // The entity contains the reference geometry.
  auto q = geo_query("contains", "Point", "[116.3975,39.9087]");
  expect_all(q, {{kCentral, true},
                 {kGreaterBeijing, true},
                 {kForbiddenCity, false},
                 {kTiananmen, true},
                 {kSummerPalace, false},
                 {R"({"type":"MultiPoint","coordinates":[[116.3975,39.9087],[116.2755,39.9999]]})", true}});
  auto polygon = geo_query("contains", "Polygon", kCentralCoordinates);
  expect_all(polygon, {{kGreaterBeijing, true}, {kCentral, true}, {kForbiddenCity, false}, {kNorthEast, false}});
}

TEST(GeoRelations, ReadingACandidateLeavesNothingForTheNext) {
  // Candidates are read into reused buffers: a hole read for one must not stay for the next.
  auto q = geo_query("contains", "Point", "[116.3975,39.9087]");
  const auto with_hole = json::parse(R"({"type":"Polygon","coordinates":[
      [[116.35,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]],
      [[116.39,39.90],[116.39,39.91],[116.40,39.91],[116.40,39.90],[116.39,39.90]]]})");
  EXPECT_FALSE(q.matches(with_hole));
  EXPECT_TRUE(q.matches(json::parse(kCentral)));
  EXPECT_FALSE(q.matches(with_hole));
}

TEST(GeoRelations, Intersects) {
  auto q = geo_query("intersects", "Polygon", kCentralCoordinates);
  expect_all(q, {{kTiananmen, true},
                 {kSummerPalace, false},
                 {kCrossing, true},
                 {kForbiddenCity, true},
                 {kGreaterBeijing, true},
                 {kEastNeighbour, true},  // touching is intersecting
                 {R"({"type":"Point","coordinates":[116.45,39.90]})", true},  // on the boundary
                 {R"({"type":"LineString","coordinates":[[116.2,39.8],[116.3,39.99]]})", false}});
  auto line = geo_query("intersects", "LineString", "[[116.3972,39.90],[116.3972,39.93]]");
  expect_all(line, {{kForbiddenCity, true},
                    {kChangAn, true},  // they cross at (116.3972, 39.9075)
                    {kTiananmen, false},
                    {R"({"type":"Point","coordinates":[116.3972,39.91]})", true},
                    {kSummerPalace, false}});
}

TEST(GeoRelations, Disjoint) {
  auto q = geo_query("disjoint", "Polygon", kCentralCoordinates);
  expect_all(q, {{kSummerPalace, true},
                 {kTiananmen, false},
                 {kCrossing, false},
                 {kEastNeighbour, false},
                 {kGreaterBeijing, false},
                 {R"({"type":"LineString","coordinates":[[116.2,39.8],[116.3,39.99]]})", true},
                 {R"({"type":"Point","coordinates":[116.45,39.90]})", false}});
}

TEST(GeoRelations, Equals) {
  auto q = geo_query("equals", "Polygon", kCentralCoordinates);
  expect_all(q, {{kCentral, true},
                 {kCentralClockwise, true},
                 {kCentralMulti, true},
                 // The same area with an extra vertex on an edge.
                 {R"({"type":"Polygon","coordinates":[[[116.35,39.86],[116.40,39.86],[116.45,39.86],[116.45,39.95],[116.35,39.95],[116.35,39.86]]]})",
                  true},
                 {kForbiddenCity, false},
                 {kGreaterBeijing, false},
                 {kTiananmen, false}});
  expect_all(geo_query("equals", "Point", "[116.3975,39.9087]"),
             {{kTiananmen, true}, {R"({"type":"Point","coordinates":[116.3975,39.9088]})", false}});
  expect_all(geo_query("equals", "LineString", "[[116.44,39.9075],[116.36,39.9075]]"), {{kChangAn, true}, {kAxis, false}});
}

TEST(GeoRelations, Overlaps) {
  auto q = geo_query("overlaps", "Polygon", kCentralCoordinates);
  expect_all(q, {{kNorthEast, true},
                 {kForbiddenCity, false},   // within, not overlapping
                 {kGreaterBeijing, false},  // contains
                 {kCentral, false},         // equal
                 {kEastNeighbour, false},   // touches only
                 {kCrossing, false},        // a line: another dimension
                 {kTiananmen, false}});
  auto line = geo_query("overlaps", "LineString", "[[116.36,39.9075],[116.40,39.9075]]");
  expect_all(line, {{R"({"type":"LineString","coordinates":[[116.38,39.9075],[116.42,39.9075]]})", true},
                    {kChangAn, false},  // contains the reference
                    {R"({"type":"LineString","coordinates":[[116.37,39.90],[116.37,39.92]]})", false}});  // crosses
  auto points = geo_query("overlaps", "MultiPoint", "[[1,1],[2,2]]");
  expect_all(points, {{R"({"type":"MultiPoint","coordinates":[[2,2],[3,3]]})", true},
                      {R"({"type":"MultiPoint","coordinates":[[1,1]]})", false}});
}

TEST(GeoRelations, MultiPolygonsWhoseMembersTouch) {
  // A vertex of the second member lies inside an edge of the first: Boost.Geometry's relate()
  // alone would find this MultiPolygon neither within nor equal to itself.
  const char* touching = "[[[[0,0],[2,0],[2,1],[0,1],[0,0]]],[[[1,1],[2,2],[0,2],[1,1]]]]";
  const auto self = json::parse(std::string(R"({"type":"MultiPolygon","coordinates":)") + touching + "}");
  for (const char* georel : {"within", "contains", "intersects", "equals"})
    EXPECT_TRUE(geo_query(georel, "MultiPolygon", touching).matches(self)) << georel;
  EXPECT_FALSE(geo_query("disjoint", "MultiPolygon", touching).matches(self));
  expect_all(geo_query("within", "MultiPolygon", touching),
             {{R"({"type":"Polygon","coordinates":[[[0,0],[2,0],[2,1],[0,1],[0,0]]]})", true},
              {R"({"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]})", false}});
  // As the entity geometry: it contains its first member, and overlaps a polygon across the touch.
  EXPECT_TRUE(geo_query("contains", "Polygon", "[[[0,0],[2,0],[2,1],[0,1],[0,0]]]").matches(self));
  EXPECT_TRUE(geo_query("overlaps", "Polygon", "[[[0.5,0.5],[1.5,0.5],[1.5,1.5],[0.5,1.5],[0.5,0.5]]]").matches(self));
}

TEST(GeoRelations, GeometryCollections) {
  const char* inside = R"({"type":"GeometryCollection","geometries":[
      {"type":"Point","coordinates":[116.3975,39.9087]},
      {"type":"Polygon","coordinates":[[[116.3908,39.9125],[116.4030,39.9125],[116.4030,39.9235],[116.3908,39.9235],[116.3908,39.9125]]]}]})";
  const char* straddling = R"({"type":"GeometryCollection","geometries":[
      {"type":"Point","coordinates":[116.3975,39.9087]},{"type":"Point","coordinates":[116.2755,39.9999]}]})";
  const char* outside = R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[116.2755,39.9999]}]})";
  const char* nested = R"({"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[
      {"type":"Point","coordinates":[116.3975,39.9087]}]}]})";
  expect_all(geo_query("within", "Polygon", kCentralCoordinates), {{inside, true}, {straddling, false}, {nested, true}});
  expect_all(geo_query("intersects", "Polygon", kCentralCoordinates), {{straddling, true}, {outside, false}});
  expect_all(geo_query("disjoint", "Polygon", kCentralCoordinates), {{straddling, false}, {outside, true}});
  expect_all(geo_query("contains", "Point", "[116.3975,39.9087]"), {{straddling, true}, {outside, false}});
  expect_all(geo_query("equals", "Point", "[116.2755,39.9999]"), {{outside, false}});  // not evaluated: no match
  expect_all(geo_query("near;maxDistance==10", "Point", "[116.2755,39.9999]"), {{straddling, true}, {inside, false}});
}

TEST(GeoRelations, UnusableEntityGeometriesMatchNothing) {
  for (const char* georel : {"within", "contains", "intersects", "equals", "disjoint", "overlaps"}) {
    auto q = geo_query(georel, "Polygon", kCentralCoordinates);
    for (const char* bad : {R"x("POINT(116.39 39.90)")x", "null", "[116.39,39.90]", R"({"type":"Circle","coordinates":[1,2]})",
                            R"({"type":"Point"})", R"({"type":"Point","coordinates":[200,39.9]})",
                            R"({"type":"Point","coordinates":["116.39","39.90"]})",
                            R"({"type":"Polygon","coordinates":[[[116.36,39.87],[116.37,39.87],[116.37,39.88]]]})",
                            R"({"type":"MultiPoint","coordinates":[]})", R"({"type":"GeometryCollection","geometries":[]})",
                            R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[116.39]}]})",
                            // One unusable member makes the whole collection unusable, as for bounding_box().
                            R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[116.39,39.90]},{"type":"Point"}]})"})
      EXPECT_FALSE(q.matches(json::parse(bad))) << georel << " " << bad;
  }
}

TEST(GeoRelations, EntityPolygonsWoundEitherWay) {
  auto q = geo_query("contains", "Point", "[116.3975,39.9087]");
  EXPECT_TRUE(q.matches(json::parse(kCentralClockwise)));
  auto within = geo_query("within", "Polygon", "[[[116.45,39.95],[116.45,39.86],[116.35,39.86],[116.35,39.95],[116.45,39.95]]]");
  EXPECT_TRUE(within.matches(json::parse(kTiananmen)));
  EXPECT_FALSE(within.matches(json::parse(kSummerPalace)));
}

// ---------------------------------------------------------------------------------------------

TEST(GeoNear, MaxAndMinDistanceAtTheBoundary) {
  // A point 0.01 degree north of Tiananmen, 1110.330 m away.
  const auto north = point(kTiananmenLon, kTiananmenLat + 0.01);
  const double d = geodesic_distance_m(kTiananmenLon, kTiananmenLat, kTiananmenLon, kTiananmenLat + 0.01);
  ASSERT_NEAR(d, 1110.330, 0.01);
  const std::string at = shortest(d), below = shortest(std::nextafter(d, 0.0)), above = shortest(std::nextafter(d, 1e9));
  const char* here = "[116.3975,39.9087]";
  EXPECT_TRUE(geo_query("near;maxDistance==" + at, "Point", here).matches(north)) << "maxDistance is inclusive";
  EXPECT_FALSE(geo_query("near;maxDistance==" + below, "Point", here).matches(north));
  EXPECT_TRUE(geo_query("near;minDistance==" + at, "Point", here).matches(north)) << "minDistance is inclusive";
  EXPECT_FALSE(geo_query("near;minDistance==" + above, "Point", here).matches(north));
  EXPECT_FALSE(geo_query("near;maxDistance==1105", "Point", here).matches(north));
  EXPECT_TRUE(geo_query("near;maxDistance==1115", "Point", here).matches(north));
  EXPECT_TRUE(geo_query("near;minDistance==1105", "Point", here).matches(north));
  EXPECT_FALSE(geo_query("near;minDistance==1115", "Point", here).matches(north));
  // Both bounds: a ring.
  auto ring = geo_query("near;minDistance==1000;maxDistance==1200", "Point", here);
  EXPECT_TRUE(ring.matches(north));
  EXPECT_FALSE(ring.matches(json::parse(kTiananmen)));
  EXPECT_FALSE(ring.matches(point(kTiananmenLon, kTiananmenLat + 0.02)));
}

TEST(GeoNear, DistanceToLinesAndPolygonsIsToTheirClosestPoint) {
  const char* here = "[116.3975,39.9087]";
  // An east-west street 0.01 degree north of Tiananmen: about 1110 m away at its closest point,
  // though its ends are more than 2 km away.
  const auto street = json::parse(R"({"type":"LineString","coordinates":[[116.37,39.9187],[116.42,39.9187]]})");
  EXPECT_TRUE(geo_query("near;maxDistance==1115", "Point", here).matches(street));
  EXPECT_FALSE(geo_query("near;maxDistance==1100", "Point", here).matches(street));
  EXPECT_TRUE(geo_query("near;minDistance==1100", "Point", here).matches(street));
  // Central contains Tiananmen: distance 0.
  EXPECT_TRUE(geo_query("near;maxDistance==0", "Point", here).matches(json::parse(kCentral)));
  EXPECT_FALSE(geo_query("near;minDistance==1", "Point", here).matches(json::parse(kCentral)));
  // The Forbidden City's south edge (39.9125) is 0.0038 degree north: about 422 m.
  EXPECT_TRUE(geo_query("near;maxDistance==430", "Point", here).matches(json::parse(kForbiddenCity)));
  EXPECT_FALSE(geo_query("near;maxDistance==415", "Point", here).matches(json::parse(kForbiddenCity)));
  // MultiPoint: the closest member counts.
  EXPECT_TRUE(geo_query("near;maxDistance==10", "Point", here)
                  .matches(json::parse(R"({"type":"MultiPoint","coordinates":[[0,0],[116.3975,39.9087]]})")));
}

TEST(GeoNear, AcrossTheAntimeridianAndAtThePoles) {
  // Two points 0.002 degree of longitude apart across the antimeridian, at the equator: 222.6 m.
  auto fiji = geo_query("near;maxDistance==300", "Point", "[179.999,0]");
  EXPECT_TRUE(fiji.matches(point(-179.999, 0)));
  EXPECT_FALSE(geo_query("near;maxDistance==200", "Point", "[179.999,0]").matches(point(-179.999, 0)));
  ASSERT_TRUE(fiji.candidate_box());
  EXPECT_TRUE(box_contains(*fiji.candidate_box(), -179.999, 0));
  // Across the north pole: 2 x 0.001 degree of meridian = 223.4 m.
  auto pole = geo_query("near;maxDistance==230", "Point", "[0,89.999]");
  EXPECT_TRUE(pole.matches(point(180, 89.999)));
  EXPECT_FALSE(geo_query("near;maxDistance==220", "Point", "[0,89.999]").matches(point(180, 89.999)));
  ASSERT_TRUE(pole.candidate_box());
  EXPECT_TRUE(box_contains(*pole.candidate_box(), 180, 89.999));
  EXPECT_TRUE(box_contains(*pole.candidate_box(), -90, 90));
}

// ---------------------------------------------------------------------------------------------

TEST(GeoCandidateBox, TopologicalRelationsUseTheReferenceBox) {
  for (const char* georel : {"within", "contains", "intersects", "equals", "overlaps"}) {
    auto box = geo_query(georel, "Polygon", kCentralCoordinates).candidate_box();
    ASSERT_TRUE(box) << georel;
    EXPECT_EQ(box->min_lon, 116.35);
    EXPECT_EQ(box->min_lat, 39.86);
    EXPECT_EQ(box->max_lon, 116.45);
    EXPECT_EQ(box->max_lat, 39.95);
  }
  EXPECT_FALSE(geo_query("disjoint", "Polygon", kCentralCoordinates).candidate_box());
  EXPECT_FALSE(geo_query("near;minDistance==10", "Point", "[1,2]").candidate_box());
  EXPECT_TRUE(geo_query("near;minDistance==10;maxDistance==20", "Point", "[1,2]").candidate_box());
}

TEST(GeoCandidateBox, NearBoxIsTightAroundBeijing) {
  auto box = geo_query("near;maxDistance==10000", "Point", "[116.3975,39.9087]").candidate_box();
  ASSERT_TRUE(box);
  // 10 km is 0.0900 degree of latitude and 0.1169 degree of longitude here.
  EXPECT_GT(box->max_lat - kTiananmenLat, 0.0900);
  EXPECT_LT(box->max_lat - kTiananmenLat, 0.0910);
  EXPECT_GT(box->max_lon - kTiananmenLon, 0.1169);
  EXPECT_LT(box->max_lon - kTiananmenLon, 0.1190);
  EXPECT_NEAR(box->min_lon + box->max_lon, 2 * kTiananmenLon, 1e-9);
}

// The point at `metres` from (lon, lat) in direction `azimuth` (degrees), on the WGS84 ellipsoid.
std::pair<double, double> destination(double lon, double lat, double metres, double azimuth) {
  namespace bg = boost::geometry;
  constexpr double kRad = std::numbers::pi / 180;
  const auto r = bg::formula::vincenty_direct<double, true, false, false, false>::apply(
      lon * kRad, lat * kRad, metres, azimuth * kRad, bg::srs::spheroid<double>());
  double lon2 = r.lon2 / kRad;
  if (lon2 > 180) lon2 -= 360;
  if (lon2 < -180) lon2 += 360;
  return {lon2, std::clamp(r.lat2 / kRad, -90.0, 90.0)};
}

TEST(GeoCandidateBox, HoldsEveryMatchingPointOfABruteForceSample) {
  // Centres at mid latitudes, on the equator, by the antimeridian and by both poles.
  std::mt19937_64 random(20240611);
  std::uniform_real_distribution<double> unit(0, 1);
  struct Centre {
    double lon, lat;
  } centres[] = {{116.3975, 39.9087}, {0, 0}, {179.95, -16.8}, {-179.99, 65.0}, {25.0, 70.0}, {10.0, 89.9}, {-60.0, -88.0}};
  int matched = 0;
  for (const auto& c : centres) {
    for (double metres : {50.0, 10e3, 500e3, 3000e3}) {
      auto q = geo_query("near;maxDistance==" + shortest(metres), "Point",
                         "[" + shortest(c.lon) + "," + shortest(c.lat) + "]");
      const auto box = q.candidate_box();
      ASSERT_TRUE(box);
      for (int i = 0; i < 400; ++i) {
        // Half the sample on the rim of the circle (the extreme cases), half anywhere near it.
        const double reach = i % 2 ? metres * (0.999 + 0.002 * unit(random)) : metres * 1.5 * unit(random);
        const auto [lon, lat] = destination(c.lon, c.lat, reach, 360 * unit(random));
        // matches() itself skips points outside the box, so the box is checked against the
        // geodesic distance, and matches() against the distance too.
        const bool within_reach = geodesic_distance_m(c.lon, c.lat, lon, lat) <= metres;
        EXPECT_EQ(q.matches(point(lon, lat)), within_reach) << c.lon << "," << c.lat << " to " << lon << "," << lat;
        if (!within_reach) continue;
        ++matched;
        EXPECT_TRUE(box_contains(*box, lon, lat)) << "centre " << c.lon << "," << c.lat << " radius " << metres
                                                  << ": " << lon << "," << lat;
      }
    }
  }
  EXPECT_GT(matched, 4000) << "the sample must exercise the boxes";
}

TEST(GeoCandidateBox, IntersectsTheBoundingBoxOfEveryMatchingLine) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> unit(0, 1);
  int matched = 0;
  for (auto [lon, lat] : {std::pair{116.3975, 39.9087}, {0.0, 62.0}, {179.9, 10.0}}) {
    for (double metres : {1e3, 100e3}) {
      auto q = geo_query("near;maxDistance==" + shortest(metres), "Point", "[" + shortest(lon) + "," + shortest(lat) + "]");
      const auto box = q.candidate_box();
      ASSERT_TRUE(box);
      for (int i = 0; i < 300; ++i) {
        // Long segments whose ends are far away, passing by the centre: their geodesics bulge.
        const double length = metres * (2 + 200 * unit(random));
        const double azimuth = 360 * unit(random);
        const auto [mlon, mlat] = destination(lon, lat, metres * 1.2 * unit(random), 360 * unit(random));
        const auto [lon1, lat1] = destination(mlon, mlat, length / 2, azimuth);
        const auto [lon2, lat2] = destination(mlon, mlat, length / 2, azimuth + 180);
        json::value line{{"type", "LineString"}, {"coordinates", {{lon1, lat1}, {lon2, lat2}}}};
        if (!q.matches(line)) continue;
        ++matched;
        const auto line_box = bounding_box(line);
        ASSERT_TRUE(line_box);
        EXPECT_TRUE(boxes_intersect(*line_box, *box)) << to_text(line);
      }
    }
  }
  EXPECT_GT(matched, 300);
}

// ---------------------------------------------------------------------------------------------

TEST(GeoBoundingBox, CoversVerticesAndGeodesicEdges) {
  auto point_box = bounding_box(json::parse(kTiananmen));
  ASSERT_TRUE(point_box);
  EXPECT_EQ(point_box->min_lon, kTiananmenLon);
  EXPECT_EQ(point_box->max_lat, kTiananmenLat);

  auto central = bounding_box(json::parse(kCentral));
  ASSERT_TRUE(central);
  EXPECT_EQ(central->min_lon, 116.35);
  EXPECT_EQ(central->max_lon, 116.45);
  EXPECT_NEAR(central->max_lat, 39.95, 1e-4) << "a 8.5 km edge bulges by a few metres only";

  // The geodesic from (-60, 60) to (60, 60) passes north of 73.9.
  auto arc = bounding_box(json::parse(R"({"type":"LineString","coordinates":[[-60,60],[60,60]]})"));
  ASSERT_TRUE(arc);
  EXPECT_EQ(arc->min_lat, 60);
  EXPECT_NEAR(arc->max_lat, 73.909, 0.001);
  auto q = geo_query("near;maxDistance==1000", "Point", "[0,73.9]");
  EXPECT_TRUE(q.matches(json::parse(R"({"type":"LineString","coordinates":[[-60,60],[60,60]]})")));

  // Across the antimeridian: every longitude.
  auto pacific = bounding_box(json::parse(R"({"type":"LineString","coordinates":[[170,10],[-170,10]]})"));
  ASSERT_TRUE(pacific);
  EXPECT_EQ(pacific->min_lon, -180);
  EXPECT_EQ(pacific->max_lon, 180);

  auto collection = bounding_box(json::parse(R"({"type":"GeometryCollection","geometries":[
      {"type":"Point","coordinates":[1,2]},{"type":"Point","coordinates":[-3,4]}]})"));
  ASSERT_TRUE(collection);
  EXPECT_EQ(collection->min_lon, -3);
  EXPECT_EQ(collection->max_lon, 1);
  EXPECT_EQ(collection->min_lat, 2);
  EXPECT_EQ(collection->max_lat, 4);

  for (const char* bad : {"null", R"({"type":"Point","coordinates":[1]})", R"({"type":"GeometryCollection","geometries":[]})",
                          R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})"})
    EXPECT_FALSE(bounding_box(json::parse(bad))) << bad;
}

TEST(GeoQuery, OneQueryServesManyThreadsAndCandidates) {
  // Points along a parallel crossing Central, and polygons of different sizes in between, so that
  // each thread's reused buffers keep growing and shrinking.
  auto q = geo_query("within", "Polygon", kCentralCoordinates);
  std::vector<json::value> candidates;
  for (int i = 0; i < 200; ++i) {
    candidates.push_back(point(116.3005 + 0.001 * i, 39.9087));  // inside for i = 50 .. 149
    candidates.push_back(json::parse(i % 2 ? kGreaterBeijing : kForbiddenCity));  // outside, inside
  }
  auto count = [&] {
    int inside = 0;
    for (const auto& c : candidates) inside += q.matches(c) ? 1 : 0;
    return inside;
  };
  std::vector<int> counts(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { counts[static_cast<std::size_t>(t)] = count(); });
  for (auto& t : threads) t.join();
  for (int c : counts) EXPECT_EQ(c, 100 + 100);
}

}  // namespace
}  // namespace ct::query

namespace ct::query {

// decide_point is how the spatial index spares reading Point geometries: where it decides, it
// must agree with matches() on that Point, near the bounds included.
TEST(GeoQueryDecidePoint, AgreesWithMatchesWhereverItDecides) {
  std::mt19937 random(7);
  int decided = 0, undecided = 0;
  for (const char* georel : {"near;maxDistance==1000", "near;minDistance==500", "near;maxDistance==2000;minDistance==1990"}) {
    for (double ref_lat : {0.0, 39.9, 78.0, -60.0}) {
      const std::string coordinates = "[116.4," + std::to_string(ref_lat) + "]";
      const GeoQuery q = geo_query(georel, "Point", coordinates);
      std::uniform_real_distribution<double> offset(-0.04, 0.04);
      for (int i = 0; i < 3000; ++i) {
        const double lon = 116.4 + offset(random) / std::max(0.1, std::cos(ref_lat * std::numbers::pi / 180));
        const double lat = ref_lat + offset(random);
        const auto verdict = q.decide_point(lon, lat);
        if (!verdict) {
          ++undecided;
          continue;
        }
        ++decided;
        json::value point = {{"type", "Point"}, {"coordinates", json::array{lon, lat}}};
        ASSERT_EQ(*verdict, q.matches(point)) << georel << " at " << lon << "," << lat;
      }
    }
  }
  EXPECT_GT(decided, 20 * undecided);  // the margin leaves few to the geometry
  EXPECT_FALSE(geo_query("within", "Polygon", "[[[116,39],[117,39],[117,40],[116,39]]]").decide_point(116.5, 39.2));
}

}  // namespace ct::query
