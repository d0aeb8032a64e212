// The key layout of the History collection (history/keys.hpp): the orderings the reader and the
// compactor rely on, and instance ids that round-trip.
#include "history/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace ct::history {
namespace {

constexpr Timestamp kMarch1 = 1'709'251'200'000;  // 2024-03-01T00:00:00Z

TEST(HistoryKeysTest, SeriesKeysSortByTimeWithTheDayBlockBeforeItsRaws) {
  const std::string prefix = series_prefix("t", SeriesId{"urn:e:1", "https://x/temp", ""});
  const std::vector<std::string> in_order = {
      raw_key(prefix, -kBucketMs, 0, 0),          // before 1970: the flipped sign bit sorts it first
      block_key(prefix, day_of(kMarch1)),          // the day's block
      raw_key(prefix, kMarch1, kMarch1, 7),        // then its raws, by time, change time, counter
      raw_key(prefix, kMarch1, kMarch1 + 1, 0),
      raw_key(prefix, kMarch1 + 1, kMarch1, 0),
      block_key(prefix, day_of(kMarch1 + kBucketMs)),
  };
  EXPECT_TRUE(std::is_sorted(in_order.begin(), in_order.end()));
  for (const auto& key : in_order) {
    EXPECT_TRUE(key.starts_with(prefix));
    EXPECT_EQ(series_prefix_of(key), prefix);
    EXPECT_LT(key, prefix_end(prefix));
  }
  // Another dataset of the attribute, or another attribute, is not under the prefix.
  EXPECT_FALSE(series_prefix("t", SeriesId{"urn:e:1", "https://x/temp", "urn:ds:1"}).starts_with(prefix));
  EXPECT_FALSE(series_prefix("t", SeriesId{"urn:e:1", "https://x/temperature", ""}).starts_with(prefix));
  EXPECT_TRUE(prefix.starts_with(entity_series_prefix("t", "urn:e:1")));
}

TEST(HistoryKeysTest, DaysAreUtcDaysAlsoBefore1970AndAtTheExtremes) {
  EXPECT_EQ(day_of(kMarch1 + 5), kMarch1);
  EXPECT_EQ(day_of(-1), -kBucketMs);
  EXPECT_EQ(day_of(-kBucketMs), -kBucketMs);
  EXPECT_EQ(day_of(std::numeric_limits<Timestamp>::min()), day_of(kEarliest));
}

TEST(HistoryKeysTest, EventKeysParseBack) {
  const std::string key = event_key("tenant", "urn:e:1", kMarch1, 0xfffffffe);
  EXPECT_TRUE(key.starts_with(entity_event_prefix("tenant", "urn:e:1")));
  const auto parsed = parse_event_key(key);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->entity_part, entity_part("tenant", "urn:e:1"));
  EXPECT_EQ(parsed->changed_at, kMarch1);
  EXPECT_EQ(parsed->counter, 0xfffffffeu);
  EXPECT_FALSE(parse_event_key(key.substr(0, key.size() - 1)));
  EXPECT_FALSE(parse_event_key("S" + key.substr(1)));
}

TEST(HistoryKeysTest, InstanceIdsRoundTripAndOthersAreRefused) {
  const std::string suffix = raw_suffix(kMarch1, kMarch1 + 3, 42);
  auto raw = parse_instance_id(raw_instance_id(suffix));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->suffix, suffix);
  EXPECT_FALSE(raw->ordinal);
  auto point = parse_instance_id(point_instance_id(kMarch1, 3));
  ASSERT_TRUE(point);
  EXPECT_EQ(get_time(point->suffix), kMarch1);
  EXPECT_EQ(point->ordinal, 3u);
  for (const char* bad : {"urn:ngsi-ld:history:zz", "urn:ngsi-ld:history:0102", "urn:other:0102030405060708",
                          "urn:ngsi-ld:history:0102030405060708-", "urn:ngsi-ld:history:0102030405060708-x1"})
    EXPECT_FALSE(parse_instance_id(bad)) << bad;
}

}  // namespace
}  // namespace ct::history
