// Leak and overload indicators on crafted series: they fire on a leak, a burst and an overload, and stay
// quiet on normal days with their daily cycle and noise.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "domains/utilities/power.hpp"
#include "domains/utilities/water.hpp"

namespace ct::domains::utilities {
namespace {

constexpr Timestamp kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;

// A metering area's inflow (L/s) at a local time of day: a double-peaked day, about 9 L/s at night.
double inflow(Timestamp time_of_day) {
  const double h = static_cast<double>(time_of_day) / kHour;
  return 30 * (0.55 + 0.55 * std::exp(-std::pow((h - 7.5) / 1.5, 2)) + 0.5 * std::exp(-std::pow((h - 19.5) / 2, 2)) -
               0.25 * std::exp(-std::pow((h - 3.5) / 2, 2)));
}

struct NightRun {
  std::vector<NightVerdict> verdicts;
};

// Feeds `days` days of 15-minute readings; from day `leak_from` on, `leak` L/s more.
NightRun run_days(NightFlowTracker& tracker, int days, int leak_from, double leak, unsigned seed = 1,
                  std::optional<double> configured = std::nullopt) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 0.02);
  NightFlowSettings s;
  NightRun run;
  for (int d = 0; d < days; ++d)
    for (Timestamp t = 0; t < kDay; t += 15 * kMinute) {
      const double flow = inflow(t) * (1 + noise(rng)) + (d >= leak_from ? leak : 0);
      if (auto v = tracker.observe(d * kDay, t, flow, s, configured)) run.verdicts.push_back(*v);
    }
  return run;
}

TEST(NightFlow, QuietOnNormalNights) {
  NightFlowTracker tracker;
  const auto run = run_days(tracker, 14, 99, 0);
  ASSERT_EQ(run.verdicts.size(), 14u);  // one verdict per night, when its window closes
  for (const auto& v : run.verdicts) EXPECT_FALSE(v.leak) << v.night;
  EXPECT_FALSE(tracker.leak());
  // From the fourth night on, the expected MNF is learned, and close to the true night minimum (~9 L/s).
  EXPECT_FALSE(run.verdicts[2].expected);
  ASSERT_TRUE(run.verdicts[3].expected);
  EXPECT_NEAR(*run.verdicts[10].expected, inflow(3 * kHour + 30 * kMinute), 1.0);
}

TEST(NightFlow, ALeakRaisesTheMinimumNightFlowAndIsFlagged) {
  NightFlowTracker tracker;
  const auto run = run_days(tracker, 10, 7, 6);  // 6 L/s of leakage from day 7
  for (std::size_t d = 0; d < run.verdicts.size(); ++d) EXPECT_EQ(run.verdicts[d].leak, d >= 7) << "night " << d;
  EXPECT_TRUE(tracker.leak());
  // The leaking nights do not become the new normal.
  EXPECT_NEAR(*run.verdicts.back().expected, *run.verdicts[6].expected, 0.5);
}

TEST(NightFlow, ASmallRiseWithinTheMarginIsNotALeak) {
  NightFlowTracker tracker;
  const auto run = run_days(tracker, 10, 7, 0.4);  // below min_excess (0.5 L/s) and 30 %
  for (const auto& v : run.verdicts) EXPECT_FALSE(v.leak);
}

TEST(NightFlow, AConfiguredExpectationJudgesTheFirstNight) {
  NightFlowTracker tracker;
  const auto run = run_days(tracker, 1, 0, 5, 1, 9.0);
  ASSERT_EQ(run.verdicts.size(), 1u);
  EXPECT_TRUE(run.verdicts[0].leak);
  EXPECT_EQ(run.verdicts[0].expected, 9.0);
}

TEST(NightFlow, ANightWithTooFewReadingsIsNotJudged) {
  NightFlowTracker tracker;
  NightFlowSettings s;
  EXPECT_FALSE(tracker.observe(0, 2 * kHour + kMinute, 30, s, 9.0));
  EXPECT_FALSE(tracker.observe(0, 5 * kHour, 30, s, 9.0));  // closes a night of one reading: no verdict
  EXPECT_FALSE(tracker.leak());
}

// A junction's pressure over a day of 5-second readings: 38 m, 4 m lower at peak demand, noise 0.3 m.
double pressure(Timestamp t, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, 0.3);
  return 38 - 4 * (inflow(t % kDay) / 30 - 0.7) + noise(rng);
}

TEST(PressureDrop, QuietOverNormalDays) {
  PressureDropDetector detector;
  PressureDropSettings s;
  std::mt19937 rng(7);
  int changes = 0;
  for (Timestamp t = 0; t < 2 * kDay; t += 5'000)
    if (detector.observe(pressure(t, rng), s) != DropChange::None) ++changes;
  EXPECT_EQ(changes, 0);
  EXPECT_FALSE(detector.dropped());
}

TEST(PressureDrop, ABurstIsFlaggedAfterHoldReadingsAndClearsOnRepair) {
  PressureDropDetector detector;
  PressureDropSettings s;
  std::mt19937 rng(3);
  Timestamp t = 8 * kHour;
  for (int i = 0; i < 100; ++i, t += 5'000) ASSERT_EQ(detector.observe(pressure(t, rng), s), DropChange::None);
  // The burst: 9 m down.
  std::vector<DropChange> seen;
  for (int i = 0; i < s.hold; ++i, t += 5'000) seen.push_back(detector.observe(pressure(t, rng) - 9, s));
  EXPECT_EQ(seen.back(), DropChange::Started);
  for (int i = 0; i + 1 < s.hold; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], DropChange::None);
  EXPECT_TRUE(detector.dropped());
  for (int i = 0; i < 50; ++i, t += 5'000) EXPECT_EQ(detector.observe(pressure(t, rng) - 9, s), DropChange::None);
  // The level did not follow the drop down: the repair clears it.
  DropChange last = DropChange::None;
  for (int i = 0; i < s.hold; ++i, t += 5'000) last = detector.observe(pressure(t, rng), s);
  EXPECT_EQ(last, DropChange::Cleared);
  EXPECT_FALSE(detector.dropped());
}

TEST(PressureDrop, OneLowReadingIsNotADrop) {
  PressureDropDetector detector;
  PressureDropSettings s;
  for (int i = 0; i < 20; ++i) detector.observe(40, s);
  EXPECT_EQ(detector.observe(30, s), DropChange::None);
  EXPECT_EQ(detector.observe(40, s), DropChange::None);
  EXPECT_EQ(detector.observe(30, s), DropChange::None);
  EXPECT_FALSE(detector.dropped());
}

TEST(Load, QuietOnANormalDayAndOverloadedAfterHoldReadings) {
  LoadMonitor monitor;
  LoadSettings s;
  for (Timestamp t = 0; t < kDay; t += 5 * kMinute) {
    const double h = static_cast<double>(t) / kHour;
    const double load = 50'000 * (0.45 + 0.3 * std::exp(-std::pow((h - 20) / 2.5, 2)));  // at most 75 %
    EXPECT_FALSE(monitor.observe(load, 50'000, s).status == LoadStatus::Overloaded);
  }
  EXPECT_NEAR(monitor.peak(), 0.75, 0.01);
  EXPECT_EQ(monitor.status(), LoadStatus::Normal);
  // 112 % of the rating: the first reading is "high", the second "overloaded".
  auto o = monitor.observe(56'000, 50'000, s);
  EXPECT_EQ(o.status, LoadStatus::High);
  o = monitor.observe(56'000, 50'000, s);
  EXPECT_EQ(o.status, LoadStatus::Overloaded);
  EXPECT_TRUE(o.changed);
  EXPECT_DOUBLE_EQ(o.ratio, 1.12);
  // Hysteresis: 97 % keeps it overloaded; 90 % twice clears it to high.
  EXPECT_EQ(monitor.observe(48'500, 50'000, s).status, LoadStatus::Overloaded);
  EXPECT_EQ(monitor.observe(45'000, 50'000, s).status, LoadStatus::Overloaded);
  o = monitor.observe(45'000, 50'000, s);
  EXPECT_EQ(o.status, LoadStatus::High);
  EXPECT_TRUE(o.changed);
  EXPECT_DOUBLE_EQ(monitor.peak(), 1.12);
  monitor.reset_peak();
  EXPECT_EQ(monitor.peak(), 0);
}

TEST(Load, ASingleSpikeIsNotAnOverload) {
  LoadMonitor monitor;
  LoadSettings s;
  EXPECT_EQ(monitor.observe(600, 500, s).status, LoadStatus::High);
  EXPECT_EQ(monitor.observe(300, 500, s).status, LoadStatus::Normal);
  EXPECT_EQ(monitor.observe(600, 500, s).status, LoadStatus::High);
  EXPECT_EQ(load_status_name(monitor.status()), "high");
}

}  // namespace
}  // namespace ct::domains::utilities
