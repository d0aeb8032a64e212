#include "domains/core/time_zone.hpp"

#include <gtest/gtest.h>

namespace ct::domains {
namespace {

TEST(TimeZone, ShanghaiDays) {
  const auto zone = TimeZone::default_zone();
  EXPECT_EQ(zone.name(), "Asia/Shanghai");
  EXPECT_EQ(format_datetime(zone.start_of_day({2017, 2, 1})), format_datetime(*parse_datetime("2017-01-31T16:00:00Z")));
  EXPECT_EQ(zone.date_of(*parse_datetime("2017-01-31T16:00:00Z")), (LocalDate{2017, 2, 1}));
  EXPECT_EQ(zone.date_of(*parse_datetime("2017-01-31T15:59:59Z")), (LocalDate{2017, 1, 31}));
}

TEST(TimeZone, DaylightSavingDaysHave23And25Hours) {
  auto la = TimeZone::find("America/Los_Angeles");
  ASSERT_TRUE(la.ok());
  EXPECT_EQ(la->start_of_day({2024, 3, 11}) - la->start_of_day({2024, 3, 10}), 23 * 3'600'000);
  EXPECT_EQ(la->start_of_day({2024, 11, 4}) - la->start_of_day({2024, 11, 3}), 25 * 3'600'000);
}

TEST(TimeZone, UnknownNamesAndBadDates) {
  auto bad = TimeZone::find("Mars/Olympus_Mons");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.problem().detail.find("Mars/Olympus_Mons"), std::string::npos);
  EXPECT_FALSE(parse_local_date("2017-02-30").ok());
  EXPECT_FALSE(parse_local_date("2017-2-1").ok());
  EXPECT_FALSE(parse_local_date("yesterday").ok());
  EXPECT_EQ(parse_local_date("2016-02-29").value(), (LocalDate{2016, 2, 29}));
  EXPECT_EQ(add_days({2016, 2, 28}, 2), (LocalDate{2016, 3, 1}));
  EXPECT_EQ(days_in_month(2016, 2), 29u);
  EXPECT_EQ(format_local_date({2017, 3, 9}), "2017-03-09");
}

}  // namespace
}  // namespace ct::domains
