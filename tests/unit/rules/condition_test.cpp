#include "rules/condition.hpp"

#include <gtest/gtest.h>

#include "jsonld/context_store.hpp"
#include "rules/dispatch.hpp"

namespace ct::rules {
namespace {

class ConditionTest : public ::testing::Test {
 protected:
  jsonld::ContextStore store;
  jsonld::ContextPtr ctx = store.core();
  model::Term pm25 = model::Term::intern(ctx->expand("pm25"));
};

TEST_F(ConditionTest, ParsesWindowFunctionsAndQTerms) {
  auto c = parse_condition("avg(pm25, PT1H) > 75; status==\"on\"", *ctx);
  ASSERT_TRUE(c) << c.problem().detail;
  ASSERT_EQ(c->windows().size(), 1u);
  EXPECT_EQ(c->windows()[0].function, WindowFunction::Avg);
  EXPECT_EQ(c->windows()[0].window_ms, 3'600'000);
  EXPECT_EQ(c->windows()[0].attribute, pm25);
  EXPECT_TRUE(c->q().has_value());
  auto silence = parse_condition("count(PT5M) == 0", *ctx);
  ASSERT_TRUE(silence);
  EXPECT_TRUE(silence->windows()[0].attribute.empty());
  EXPECT_FALSE(silence->q().has_value());
}

TEST_F(ConditionTest, NamesTheFault) {
  for (auto [text, fault] : {std::pair{"median(pm25,PT1H) > 1", "unknown function"},
                             std::pair{"avg(pm25,PT1Y) > 1", "ISO 8601"},
                             std::pair{"avg(pm25) > 1", "takes (attribute, duration)"},
                             std::pair{"avg(pm25,PT1H) ~ 1", "expected a comparison"},
                             std::pair{"avg(pm25,PT1H) > x", "expected a number"},
                             std::pair{"avg(pm25,PT1H) > 1 | a==1", "only be combined with ';'"},
                             std::pair{"temp==", "expected a value"}}) {
    auto c = parse_condition(text, *ctx);
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.problem().detail.find(fault), std::string::npos) << c.problem().detail;
  }
}

TEST_F(ConditionTest, WindowsSlideWithTime) {
  auto c = parse_condition("avg(pm25,PT10S) > 5; delta(pm25,PT10S) < 0", *ctx);
  ASSERT_TRUE(c);
  WindowSet windows;
  auto& s = windows.at(pm25);
  s.add(1'000, 10);
  s.add(5'000, 4);
  model::Entity entity;
  EXPECT_TRUE(c->holds(entity, windows, 6'000));    // avg 7, delta -6
  EXPECT_FALSE(c->holds(entity, windows, 12'000));  // only 4 left in the window
  EXPECT_EQ(s.count(12'000, 10'000), 1u);
  EXPECT_EQ(*s.first_after(2'000), 5'000);
}

TEST(Series, ZScoreNeedsABaseline) {
  Series s;
  for (int i = 0; i < 3; ++i) s.add(i * 1000, 10 + (i % 2));
  EXPECT_FALSE(s.zscore(3000, 60'000));
  s.add(3000, 30);
  ASSERT_TRUE(s.zscore(3000, 60'000));
  EXPECT_GT(*s.zscore(3000, 60'000), 3);
}

TEST(Dispatch, AssignmentMinimisesTheTotal) {
  // Greedy (row 0 first) would take unit 0 for incident 0 (cost 1) and leave 10 for incident 1.
  const auto choice = assign_min_cost({{1, 2}, {1.5, 10}});
  EXPECT_EQ(choice, (std::vector<int>{1, 0}));
  EXPECT_EQ(assign_min_cost({{1}, {2}}), (std::vector<int>{0, -1}));
}

TEST(Dispatch, RoadGraphTravelTimes) {
  auto doc = parse_json(R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"speed":36},"geometry":{"type":"LineString","coordinates":[[0,0],[0.01,0]]}}]})");
  ASSERT_TRUE(doc);
  auto graph = RoadGraph::parse(*doc);
  ASSERT_TRUE(graph) << graph.problem().detail;
  const auto times = (*graph)->travel_times({0, 0}, {{0.01, 0}});
  EXPECT_NEAR(times[0], great_circle_m({0, 0}, {0.01, 0}) / 10.0, 0.5);
  EXPECT_FALSE(RoadGraph::parse(json::object{{"type", "FeatureCollection"}, {"features", json::array{1}}}));
}

}  // namespace
}  // namespace ct::rules
