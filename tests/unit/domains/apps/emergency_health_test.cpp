// Response-time statistics (nearest-rank percentiles checked against a sort done here), the unit a
// call needs, and hospital bed occupancy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "domains/emergency/response.hpp"
#include "domains/health/health_app.hpp"

namespace ct::domains {
namespace {

TEST(ResponseTimes, PercentilesByNearestRank) {
  using emergency::median;
  using emergency::percentile;
  EXPECT_FALSE(percentile({}, 90));
  EXPECT_FALSE(median({}));
  EXPECT_EQ(percentile({300}, 90), 300);
  EXPECT_EQ(median({200, 100, 400}), 200);
  EXPECT_EQ(median({400, 100, 200, 300}), 250);
  // 10 values: the 90th percentile is the 9th smallest.
  EXPECT_EQ(percentile({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90), 9);
  // Random sets against the definition: the smallest value with at least 90 % at or below it.
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> seconds(60, 1200);
  for (int n = 1; n < 60; ++n) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = std::round(seconds(rng));
    const double p90 = *percentile(v, 90);
    auto sorted = v;
    std::sort(sorted.begin(), sorted.end());
    double expected = sorted.back();
    for (double x : sorted)
      if (static_cast<double>(std::count_if(sorted.begin(), sorted.end(), [&](double y) { return y <= x; })) >= 0.9 * n) {
        expected = x;
        break;
      }
    EXPECT_EQ(p90, expected) << n;
  }
}

TEST(ResponseTimes, PerDistrictAndCityAndPeriod) {
  emergency::ResponseTimes times;
  times.add(1000, "d1", 300);
  times.add(2000, "d2", 500);
  times.add(3000, "", 700);
  times.add(9000, "d1", 900);
  const auto in = times.between(0, 5000);
  EXPECT_EQ(in.at(""), (std::vector<double>{300, 500, 700}));
  EXPECT_EQ(in.at("d1"), std::vector<double>{300});
  EXPECT_FALSE(in.contains("d3"));
  times.forget(5000);
  EXPECT_EQ(times.between(0, 10'000).at(""), std::vector<double>{900});
}

TEST(ResponseUnits, KindPerCategory) {
  EXPECT_EQ(emergency::unit_kind_for("medical"), "ambulance");
  EXPECT_EQ(emergency::unit_kind_for("fire"), "fireEngine");
  EXPECT_EQ(emergency::unit_kind_for("structural"), "fireEngine");
  EXPECT_EQ(emergency::unit_kind_for("traffic"), "police");
  EXPECT_EQ(emergency::unit_kind_for("lostCat"), "");
}

TEST(Hospitals, BedOccupancy) {
  EXPECT_EQ(health::bed_occupancy(450, 500), 90);
  EXPECT_EQ(health::bed_occupancy(0, 500), 0);
  EXPECT_FALSE(health::bed_occupancy(501, 500));
  EXPECT_FALSE(health::bed_occupancy(-1, 500));
  EXPECT_FALSE(health::bed_occupancy(10, 0));
}

}  // namespace
}  // namespace ct::domains
