#include "domains/traffic/jam_detector.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace ct::domains::traffic {
namespace {

constexpr Timestamp kMinute = 60'000;
constexpr Timestamp kDay = 24 * 60 * kMinute;
constexpr Timestamp kStart = 1'330'588'800'000;  // 2012-03-01T08:00:00Z, midnight in Los Angeles
constexpr int kLosAngeles = -8 * 60;
constexpr Timestamp kMonday = kStart + 4 * kDay;  // 2012-03-01 was a Thursday

struct Event {
  JamChange change;
  Timestamp at;
  Timestamp since;
};

// A freeway sensor's usual day: 100 km/h, 45 km/h in the 07:00–09:00 and 16:30–18:30 rush hours (local).
double usual_day(Timestamp t) {
  const auto minute = ((t + kLosAngeles * kMinute) % kDay + kDay) % kDay / kMinute;
  const bool rush = (minute >= 7 * 60 && minute < 9 * 60) || (minute >= 16 * 60 + 30 && minute < 18 * 60 + 30);
  return rush ? 45 : 100;
}

// Feeds `days` of 5-minute readings speed(t) × noise and returns the jam events.
std::vector<Event> run(int days, const std::function<double(Timestamp)>& speed, unsigned seed = 1, double noise = 0.08,
                       bool split_weekends = true) {
  JamSettings settings;
  settings.split_weekends = split_weekends;
  settings.utc_offset_minutes = kLosAngeles;
  JamDetector detector;
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> jitter(1 - noise, 1 + noise);
  std::vector<Event> events;
  for (Timestamp t = kStart; t < kStart + days * kDay; t += 5 * kMinute) {
    const auto out = detector.observe(t, speed(t) * jitter(random), settings);
    if (out.change != JamChange::None) events.push_back({out.change, t, out.since});
  }
  return events;
}

TEST(JamDetector, QuietOnAWeekOfNormalDaysWithRushHours) {
  for (unsigned seed = 1; seed <= 5; ++seed) EXPECT_TRUE(run(7, usual_day, seed).empty()) << "seed " << seed;
}

TEST(JamDetector, QuietOnAWeekOfNoisyButUnremarkableTraffic) {
  // ±25 % noise on every reading: short dips never last the hold time.
  EXPECT_TRUE(run(7, usual_day, 3, 0.25).empty());
}

TEST(JamDetector, RaisesAJamThatLastsAndClearsItOnRecovery) {
  // Monday 5 March (after Thursday and Friday taught the weekday speeds), 14:00–15:00 local: an
  // incident holds traffic at 20 km/h.
  const Timestamp begin = kMonday + 14 * 60 * kMinute, end = begin + 60 * kMinute;
  const auto events = run(5, [&](Timestamp t) { return t >= begin && t < end ? 20.0 : usual_day(t); }, 1, 0.0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].change, JamChange::Started);
  EXPECT_EQ(events[0].since, begin);
  EXPECT_EQ(events[0].at, begin + 20 * kMinute);  // once the drop has lasted the hold time
  EXPECT_EQ(events[1].change, JamChange::Cleared);
  EXPECT_EQ(events[1].at, end + 10 * kMinute);  // once recovery has lasted its hold time
  EXPECT_EQ(events[1].since, begin);
}

TEST(JamDetector, ARushHourThatFailsToRecoverIsAJam) {
  // Tuesday: the morning rush hour's 45 km/h becomes 15 km/h, well below its usual for that time.
  const Timestamp begin = kMonday + kDay + 7 * 60 * kMinute, end = begin + 90 * kMinute;
  const auto events = run(6, [&](Timestamp t) { return t >= begin && t < end ? 15.0 : usual_day(t); }, 2, 0.05);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].change, JamChange::Started);
  EXPECT_EQ(events[1].change, JamChange::Cleared);
}

TEST(JamDetector, ShortDipsAndSmallDropsStayQuiet) {
  const Timestamp dip = kMonday + 12 * 60 * kMinute;
  // 15 minutes at 20 km/h: shorter than the hold time.
  EXPECT_TRUE(run(5, [&](Timestamp t) { return t >= dip && t < dip + 15 * kMinute ? 20.0 : usual_day(t); }, 1, 0)
                  .empty());
  // A slow street (usual 30 km/h) falling to 12 km/h: well below half its speed, but less than 20 km/h lost.
  EXPECT_TRUE(run(5, [&](Timestamp t) { return t >= dip && t < dip + kDay ? 12.0 : 30.0; }, 1, 0).empty());
}

TEST(JamDetector, WeekendsHaveTheirOwnUsualSpeed) {
  // A street through a weekend market: 100 km/h on weekdays, 35 on Saturdays and Sundays. Judged
  // against the weekday speeds, the second weekend would look like a jam.
  auto market = [](Timestamp t) {
    const auto day = (t - kStart) / kDay % 7;  // 0: Thursday
    return day == 2 || day == 3 ? 35.0 : 100.0;
  };
  EXPECT_TRUE(run(14, market, 1, 0.05).empty());
  EXPECT_FALSE(run(14, market, 1, 0.05, false).empty());
}

TEST(JamDetector, NothingIsRaisedBeforeTheUsualSpeedIsKnown) {
  // The first days teach the baseline: a standstill on day one is not judged.
  const Timestamp begin = kStart + 10 * 60 * kMinute;
  EXPECT_TRUE(run(1, [&](Timestamp t) { return t >= begin && t < begin + 3 * 60 * kMinute ? 5.0 : 100.0; }, 1, 0)
                  .empty());
}

TEST(JamDetector, ALongJamDoesNotBecomeTheUsualSpeed) {
  // Monday: a closure at 10 km/h for ten hours; it is one jam, cleared when traffic returns.
  const Timestamp begin = kMonday + 8 * 60 * kMinute, end = begin + 10 * 60 * kMinute;
  const auto events = run(6, [&](Timestamp t) { return t >= begin && t < end ? 10.0 : 100.0; }, 1, 0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].change, JamChange::Cleared);
  EXPECT_EQ(events[1].at, end + 10 * kMinute);
}

TEST(JamDetector, OutOfOrderReadingsAreIgnored) {
  JamSettings settings;
  JamDetector detector;
  EXPECT_TRUE(detector.observe(kStart, 100, settings).in_order);
  EXPECT_FALSE(detector.observe(kStart, 10, settings).in_order);
  EXPECT_FALSE(detector.observe(kStart - kMinute, 10, settings).in_order);
}

TEST(TimeOfDayBaseline, BucketsFollowTheLocalClock) {
  JamSettings settings;
  settings.utc_offset_minutes = 8 * 60;  // Beijing
  settings.split_weekends = false;
  TimeOfDayBaseline baseline;
  // 2012-03-01T16:00:00Z is midnight in Beijing: bucket 0; 16:29Z still 0; 16:30Z bucket 1.
  const Timestamp midnight = 1'330'617'600'000;
  EXPECT_EQ(baseline.bucket_of(midnight, settings), 0u);
  EXPECT_EQ(baseline.bucket_of(midnight + 29 * kMinute, settings), 0u);
  EXPECT_EQ(baseline.bucket_of(midnight + 30 * kMinute, settings), 1u);
  EXPECT_EQ(baseline.bucket_of(midnight - kMinute, settings), 47u);
  for (int i = 0; i < 6; ++i) baseline.learn(midnight + i * kDay, 50 + i, settings);
  settings.min_baseline = 7;
  EXPECT_FALSE(baseline.usual(midnight, settings));
  settings.min_baseline = 6;
  EXPECT_DOUBLE_EQ(*baseline.usual(midnight + 10 * kMinute, settings), 52.5);
  EXPECT_FALSE(baseline.usual(midnight + 60 * kMinute, settings));
  settings.min_baseline = 6;
  EXPECT_DOUBLE_EQ(*baseline.usual(midnight + 10 * kMinute, settings), 52.5);
  // With weekends apart, Saturday 3 March (Beijing) 00:00 is the first bucket of the second half.
  settings.split_weekends = true;
  EXPECT_EQ(baseline.bucket_of(midnight, settings), 0u);  // Friday
  EXPECT_EQ(baseline.bucket_of(midnight + kDay, settings), 48u);
  EXPECT_EQ(baseline.bucket_of(midnight + 2 * kDay + 30 * kMinute, settings), 49u);  // Sunday
  EXPECT_EQ(baseline.bucket_of(midnight + 3 * kDay, settings), 0u);  // Monday
}

}  // namespace
}  // namespace ct::domains::traffic
