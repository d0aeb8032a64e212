#include "model/geometry.hpp"

#include <gtest/gtest.h>

namespace ct::model {

TEST(Geometry, AcceptsEveryGeoJsonType) {
  for (const char* ok : {
           R"({"type":"Point","coordinates":[116.4,39.9]})",
           R"({"type":"Point","coordinates":[116.4,39.9,50]})",
           R"({"type":"MultiPoint","coordinates":[[116.4,39.9]]})",
           R"({"type":"LineString","coordinates":[[116.4,39.9],[116.5,39.95]]})",
           R"({"type":"MultiLineString","coordinates":[[[116.4,39.9],[116.5,39.95]]]})",
           R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]})",
           R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]})",
           R"({"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]})"})
    EXPECT_TRUE(validate_geometry(json::parse(ok)).ok()) << ok;
}

TEST(Geometry, NamesWhatIsWrong) {
  struct Case {
    const char* geometry;
    const char* says;
  } cases[] = {
      {R"({"type":"Point","coordinates":[200,39.9]})", "longitude"},
      {R"({"type":"Point","coordinates":[116,95]})", "latitude"},
      {R"({"type":"Point","coordinates":[116]})", "2 or 3"},
      {R"({"type":"Point","coordinates":["116","39"]})", "numbers"},
      {R"({"type":"LineString","coordinates":[[116.4,39.9]]})", "at least 2"},
      {R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})", "closed"},
      {R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]})", "at least 4"},
      {R"({"type":"Circle","coordinates":[1,2]})", "not a GeoJSON geometry type"},
      {R"({"coordinates":[1,2]})", "\"type\""},
      {R"x("POINT(1 2)")x", "geometry object"},
  };
  for (const auto& c : cases) {
    auto st = validate_geometry(json::parse(c.geometry));
    ASSERT_FALSE(st.ok()) << c.geometry;
    EXPECT_NE(st.problem().detail.find(c.says), std::string::npos) << st.problem().detail;
  }
}

}  // namespace ct::model
