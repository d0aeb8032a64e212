// Structural alarms on crafted series: a tilting bridge, an overstrained one, a vibration spike that
// does not last, and a reservoir rising past its flood-control level; normal days stay quiet.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "domains/structures/structural.hpp"

namespace ct::domains::structures {
namespace {

// A bridge's readings through a day of 5-minute steps: traffic-driven strain and vibration, a tilt
// that only jitters around its at-rest value.
BridgeReading normal_reading(int step, std::mt19937& rng, double tilt_at_rest = 0.2) {
  std::normal_distribution<double> noise(0, 1);
  const double h = step * 5.0 / 60.0;
  const double traffic = 0.2 + 0.8 * std::exp(-std::pow((h - 8) / 1.5, 2)) + 0.7 * std::exp(-std::pow((h - 18) / 2, 2));
  return {40 + 250 * traffic * (1 + 0.05 * noise(rng)), tilt_at_rest + 0.003 * noise(rng),
          1 + 5 * traffic * std::fabs(1 + 0.2 * noise(rng))};
}

TEST(Bridge, QuietOverNormalDays) {
  BridgeMonitor bridge;
  BridgeLimits limits;
  std::mt19937 rng(11);
  for (int step = 0; step < 3 * 288; ++step) {
    const auto o = bridge.observe(normal_reading(step % 288, rng), limits);
    ASSERT_EQ(o.state, StructuralState::Normal) << "step " << step << ": " << o.cause << " " << o.worst_ratio;
  }
}

TEST(Bridge, ATiltingBridgeWarnsThenAlarmsAndNamesTheTilt) {
  BridgeMonitor bridge;
  BridgeLimits limits;
  std::mt19937 rng(5);
  int step = 0;
  for (; step < 20; ++step) bridge.observe(normal_reading(step, rng, -0.25), limits);
  // The tilt grows by 0.1° a reading (plus 0.02°, clear of the noise at the thresholds) from its at-rest -0.25°.
  std::vector<StructuralState> states;
  for (int i = 1; i <= 8; ++i, ++step) {
    auto r = normal_reading(step, rng, -0.25);
    *r.tilt_deg += 0.1 * i + 0.02;
    const auto o = bridge.observe(r, limits);
    states.push_back(o.state);
    if (o.state != StructuralState::Normal) {
      EXPECT_EQ(o.cause, "tilt");
    }
    ASSERT_TRUE(o.tilt_change_deg);
    EXPECT_NEAR(*o.tilt_change_deg, 0.1 * i + 0.02, 0.015);
  }
  // Change 0.12 … 0.82: warning from 0.4 (80 % of 0.5), alarm on the second reading at or over 0.5.
  EXPECT_EQ(states[2], StructuralState::Normal);
  EXPECT_EQ(states[3], StructuralState::Warning);
  EXPECT_EQ(states[4], StructuralState::Warning);
  EXPECT_EQ(states[5], StructuralState::Alarm);
  EXPECT_EQ(states[7], StructuralState::Alarm);
  // Straightened (repaired): calm for two readings clears it.
  auto o = bridge.observe(normal_reading(step++, rng, -0.25), limits);
  EXPECT_EQ(o.state, StructuralState::Alarm);
  o = bridge.observe(normal_reading(step++, rng, -0.25), limits);
  EXPECT_EQ(o.state, StructuralState::Normal);
  EXPECT_TRUE(o.changed);
}

TEST(Bridge, OverstrainAlarmsButASingleVibrationSpikeDoesNot) {
  BridgeMonitor bridge;
  BridgeLimits limits;
  for (int i = 0; i < 6; ++i) bridge.observe({100.0, 0.0, 2.0}, limits);
  auto o = bridge.observe({100.0, 0.0, 30.0}, limits);  // a lorry's jolt
  EXPECT_EQ(o.state, StructuralState::Warning);
  EXPECT_EQ(o.cause, "vibration");
  o = bridge.observe({100.0, 0.0, 2.0}, limits);
  EXPECT_EQ(o.state, StructuralState::Normal);
  bridge.observe({-700.0, 0.0, 2.0}, limits);  // compression counts too
  o = bridge.observe({-700.0, 0.0, 2.0}, limits);
  EXPECT_EQ(o.state, StructuralState::Alarm);
  EXPECT_EQ(o.cause, "strain");
  EXPECT_EQ(structural_state_name(o.state), "alarm");
}

TEST(Dam, RisingPastFloodControlWithHysteresis) {
  DamMonitor dam;
  DamSettings s;
  EXPECT_EQ(dam.observe(148.0, 152.0, s).state, FloodState::Normal);
  EXPECT_EQ(dam.observe(151.6, 152.0, s).state, FloodState::NearFloodControl);
  auto o = dam.observe(152.05, 152.0, s);
  EXPECT_EQ(o.state, FloodState::AboveFloodControl);
  EXPECT_TRUE(o.changed);
  EXPECT_NEAR(o.above_m, 0.05, 1e-9);
  EXPECT_EQ(dam.observe(151.95, 152.0, s).state, FloodState::AboveFloodControl);  // within the hysteresis
  EXPECT_EQ(dam.observe(151.85, 152.0, s).state, FloodState::NearFloodControl);
  EXPECT_EQ(dam.observe(151.45, 152.0, s).state, FloodState::NearFloodControl);
  EXPECT_EQ(dam.observe(151.3, 152.0, s).state, FloodState::Normal);
  EXPECT_EQ(flood_state_name(FloodState::AboveFloodControl), "aboveFloodControl");
}

TEST(Dam, QuietBelowFloodControl) {
  DamMonitor dam;
  DamSettings s;
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(dam.observe(150 + 0.05 * std::sin(i / 50.0), 152.0, s).state, FloodState::Normal);
}

}  // namespace
}  // namespace ct::domains::structures
