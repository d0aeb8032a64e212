#include "domains/traffic/congestion.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace ct::domains::traffic {
namespace {

TEST(SpeedUnits, ConvertsByUnitCode) {
  EXPECT_DOUBLE_EQ(*kmh_factor("KMH"), 1.0);
  EXPECT_NEAR(64.375 * *kmh_factor("HM"), 103.6, 0.05);  // METR-LA's first reading of sensor 773869
  EXPECT_DOUBLE_EQ(*kmh_factor("MTS"), 3.6);
  const auto bad = kmh_factor("FOO");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(bad.problem().detail.find("FOO"), std::string::npos);
}

// The oracle: the bin of the sample at rank ceil(0.85 n) of the sorted samples.
double percentile_bin(std::vector<double> samples, double q) {
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
  return std::min(std::floor(samples[rank - 1]), FreeFlowLearner::kMaxKmh - 1.0) + 0.5;
}

TEST(FreeFlowLearner, FollowsThe85thPercentileAfterEverySample) {
  std::mt19937 random(7);
  // Mostly free-flowing traffic around 100 km/h with congested spells, and a few absurd values.
  std::normal_distribution<double> free(100, 8), jam(25, 10);
  std::bernoulli_distribution congested(0.3);
  FreeFlowLearner learner;
  std::vector<double> seen;
  EXPECT_FALSE(learner.estimate());
  for (int i = 0; i < 3000; ++i) {
    double v = congested(random) ? jam(random) : free(random);
    if (i % 500 == 0) v = 250;  // above the histogram: counts in the last bin
    v = std::max(v, 0.0);
    learner.add(v);
    seen.push_back(v);
    ASSERT_DOUBLE_EQ(*learner.estimate(), percentile_bin(seen, 0.85)) << "after sample " << i;
  }
  EXPECT_EQ(learner.samples(), 3000u);
}

TEST(FreeFlowLearner, DecreasingAndIncreasingSequences) {
  FreeFlowLearner down, up;
  std::vector<double> a, b;
  for (int i = 0; i < 200; ++i) {
    down.add(199.0 - i);
    a.push_back(199.0 - i);
    up.add(i);
    b.push_back(i);
    ASSERT_DOUBLE_EQ(*down.estimate(), percentile_bin(a, 0.85));
    ASSERT_DOUBLE_EQ(*up.estimate(), percentile_bin(b, 0.85));
  }
}

TEST(FreeFlowLearner, IgnoresNegativeAndNonFiniteSpeeds) {
  FreeFlowLearner learner;
  learner.add(-3);
  learner.add(std::nan(""));
  EXPECT_EQ(learner.samples(), 0u);
}

TEST(CongestionIndex, IsTenTimesTheSpeedLossClamped) {
  EXPECT_DOUBLE_EQ(CongestionBands::index(100, 100), 0);
  EXPECT_DOUBLE_EQ(CongestionBands::index(120, 100), 0);
  EXPECT_DOUBLE_EQ(CongestionBands::index(50, 100), 5);
  EXPECT_DOUBLE_EQ(CongestionBands::index(20, 80), 7.5);
  EXPECT_DOUBLE_EQ(CongestionBands::index(0, 100), 10);
  EXPECT_DOUBLE_EQ(CongestionBands::index(30, 0), 0);  // no free-flow speed yet
}

TEST(CongestionBands, DefaultFiveLevelsAtTwoFourSixEight) {
  CongestionBands bands;
  ASSERT_EQ(bands.levels().size(), 5u);
  EXPECT_EQ(bands.levels()[0].key, "freeFlow");
  EXPECT_EQ(bands.levels()[0].name, "畅通");
  EXPECT_EQ(bands.levels()[4].key, "severeCongestion");
  EXPECT_EQ(bands.levels()[4].name, "严重拥堵");
  EXPECT_EQ(bands.level_of(0), 0u);
  EXPECT_EQ(bands.level_of(1.99), 0u);
  EXPECT_EQ(bands.level_of(2), 1u);
  EXPECT_EQ(bands.level_of(4), 2u);
  EXPECT_EQ(bands.level_of(5.5), 2u);
  EXPECT_EQ(bands.level_of(6), 3u);
  EXPECT_EQ(bands.level_of(7.99), 3u);
  EXPECT_EQ(bands.level_of(8), 4u);
  EXPECT_EQ(bands.level_of(10), 4u);
  // At 80 km/h free flow the level bounds fall near GB/T 33171's expressway bands (65/50/35/20 km/h).
  EXPECT_EQ(bands.level_of(CongestionBands::index(66, 80)), 0u);
  EXPECT_EQ(bands.level_of(CongestionBands::index(15, 80)), 4u);
}

TEST(CongestionBands, CustomBandsAreValidated) {
  auto three = CongestionBands::make({{3, "smooth", "畅通"}, {7, "slow", "缓行"}, {10, "jammed", "拥堵"}});
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->level_of(2.9), 0u);
  EXPECT_EQ(three->level_of(7), 2u);
  EXPECT_FALSE(CongestionBands::make({}).ok());
  const auto unordered = CongestionBands::make({{5, "a", ""}, {5, "b", ""}});
  ASSERT_FALSE(unordered.ok());
  EXPECT_NE(unordered.problem().detail.find("'b'"), std::string::npos);
  EXPECT_FALSE(CongestionBands::make({{5, "", ""}}).ok());
}

}  // namespace
}  // namespace ct::domains::traffic
