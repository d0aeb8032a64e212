// The timer buckets on their own, against a plain sorted list as the oracle: every timer comes out
// once, none before it is due, and at most `limit` per call.
#include "rules/timer_buckets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace ct::rules {
namespace {

std::vector<Timestamp> due_times(std::vector<Timer> timers) {
  std::vector<Timestamp> out;
  for (const auto& t : timers) out.push_back(t.due);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TimerBuckets, TakesExactlyTheDueTimersInBucketOrder) {
  std::mt19937 random(7);
  std::uniform_int_distribution<Timestamp> due(1'000, 2'000);
  TimerBuckets buckets;
  std::vector<Timer> pending;
  for (std::uint32_t i = 0; i < 5'000; ++i) {
    Timer t{due(random), i % 7, i, i};
    buckets.push(t);
    pending.push_back(t);
  }
  ASSERT_EQ(buckets.size(), pending.size());
  for (Timestamp now = 900; now <= 2'100; now += 37) {
    EXPECT_EQ(buckets.next_due(), due_times(pending).front());
    std::vector<Timer> taken;
    buckets.take_due(now, std::numeric_limits<std::size_t>::max(), taken);
    std::vector<Timer> expected, rest;
    for (const auto& t : pending) (t.due <= now ? expected : rest).push_back(t);
    EXPECT_EQ(due_times(taken), due_times(expected)) << "at " << now;
    pending = std::move(rest);
    EXPECT_EQ(buckets.size(), pending.size());
    if (pending.empty()) break;
  }
  EXPECT_TRUE(buckets.empty());
  EXPECT_EQ(buckets.next_due(), kNoTimestamp);
}

TEST(TimerBuckets, TakesAtMostTheLimitAndKeepsTheRest) {
  TimerBuckets buckets;
  for (std::uint32_t i = 0; i < 100; ++i) buckets.push(Timer{static_cast<Timestamp>(10 + i % 3), 1, i, i});
  buckets.push(Timer{500, 1, 999, 999});
  std::vector<Timer> taken;
  buckets.take_due(100, 30, taken);
  EXPECT_EQ(taken.size(), 30u);
  buckets.take_due(100, 1'000, taken);
  EXPECT_EQ(taken.size(), 100u) << "the rest of the due ones, not the one due at 500";
  for (const auto& t : taken) EXPECT_LE(t.due, 100);
  EXPECT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets.next_due(), 500);
}

TEST(TimerBuckets, ABucketPartlyDueKeepsItsLaterTimers) {
  TimerBuckets buckets;
  // One bucket (kWidth ms of due time) holding timers on both sides of `now`.
  const Timestamp base = 80 * TimerBuckets::kWidth;
  for (Timestamp d = 0; d < TimerBuckets::kWidth; ++d)
    buckets.push(Timer{base + d, 1, static_cast<std::uint32_t>(d), 0});
  std::vector<Timer> taken;
  buckets.take_due(base + 3, 100, taken);
  EXPECT_EQ(due_times(taken), (std::vector<Timestamp>{base, base + 1, base + 2, base + 3}));
  EXPECT_EQ(buckets.next_due(), base + 4);
}

TEST(TimerBuckets, DroppingSerialsForgetsTheirTimers) {
  TimerBuckets buckets;
  for (std::uint32_t i = 0; i < 50; ++i) buckets.push(Timer{static_cast<Timestamp>(100 + i), i % 2, i, i});
  buckets.drop_serials({0});
  EXPECT_EQ(buckets.size(), 25u);
  EXPECT_EQ(buckets.next_due(), 101);
  std::vector<Timer> taken;
  buckets.take_due(1'000, 1'000, taken);
  EXPECT_EQ(taken.size(), 25u);
  for (const auto& t : taken) EXPECT_EQ(t.serial, 1u);
}

}  // namespace
}  // namespace ct::rules
