#include "domains/traffic/traffic_model.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace ct::domains::traffic {
namespace {

constexpr Timestamp kModelStart = 1'330'588'800'000;
constexpr Timestamp kStep = 5 * 60'000;

TEST(TrafficModel, UsesTheConfiguredThenTheLearnedFreeFlowSpeed) {
  TrafficSettings settings;
  settings.default_free_flow_kmh = 90;
  settings.min_free_flow_samples = 3;
  TrafficModel model(settings);
  auto u = model.observe("a", kModelStart, 45);
  EXPECT_DOUBLE_EQ(u.free_flow_kmh, 90);  // not enough samples yet: the tenant's default
  EXPECT_DOUBLE_EQ(u.index, 5);
  EXPECT_EQ(model.settings().bands.levels()[u.level].key, "lightCongestion");
  EXPECT_TRUE(u.level_changed);
  model.observe("a", kModelStart + kStep, 100);
  u = model.observe("a", kModelStart + 2 * kStep, 100);
  EXPECT_DOUBLE_EQ(u.free_flow_kmh, 100.5);  // learned: the 85th percentile's 1 km/h bin
  EXPECT_EQ(u.level, 0u);
  model.configure_free_flow("a", 120);
  u = model.observe("a", kModelStart + 3 * kStep, 60);
  EXPECT_DOUBLE_EQ(u.free_flow_kmh, 120);
  EXPECT_DOUBLE_EQ(u.index, 5);
  EXPECT_TRUE(u.level_changed);
  u = model.observe("a", kModelStart + 4 * kStep, 61);
  EXPECT_FALSE(u.level_changed);
}

TEST(TrafficModel, WithoutADefaultTheFastestSpeedSoFarIsTheFreeFlowSpeed) {
  TrafficModel model;
  EXPECT_DOUBLE_EQ(model.observe("a", kModelStart, 80).index, 0);
  EXPECT_DOUBLE_EQ(model.observe("a", kModelStart + kStep, 40).index, 5);
}

// The running means equal a mean recomputed from every sensor's latest index, after any sequence of
// readings and district moves.
TEST(TrafficModel, DistrictAndCityMeansMatchARecomputation) {
  TrafficModel model;
  std::mt19937 random(11);
  std::uniform_int_distribution<int> sensor(0, 29), district(0, 3);
  std::uniform_real_distribution<double> speed(5, 110);
  std::map<std::string, double> index;
  std::map<std::string, std::string> group;
  for (int step = 0; step < 5000; ++step) {
    const auto id = "s" + std::to_string(sensor(random));
    if (step % 7 == 0) {
      const auto g = district(random) == 0 ? std::string() : "d" + std::to_string(district(random));
      model.assign_group(id, g);
      group[id] = g;
    } else {
      index[id] = model.observe(id, kModelStart + step * kStep, speed(random)).index;
    }
    std::map<std::string, std::pair<double, int>> expected;
    double city = 0;
    for (const auto& [s, i] : index) {
      city += i;
      if (!group[s].empty()) {
        expected[group[s]].first += i;
        ++expected[group[s]].second;
      }
    }
    ASSERT_EQ(model.aggregates().city().sensors, index.size());
    if (index.empty()) {
      EXPECT_FALSE(model.aggregates().city().value());
      continue;
    }
    ASSERT_NEAR(*model.aggregates().city().value(), city / static_cast<double>(index.size()), 1e-9);
    for (const auto& [g, sum_count] : expected) {
      const auto* mean = model.aggregates().group(g);
      ASSERT_NE(mean, nullptr);
      ASSERT_EQ(mean->sensors, static_cast<std::size_t>(sum_count.second));
      ASSERT_NEAR(*mean->value(), sum_count.first / sum_count.second, 1e-6);
    }
  }
}

}  // namespace
}  // namespace ct::domains::traffic
