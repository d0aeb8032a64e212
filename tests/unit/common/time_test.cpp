#include "common/time.hpp"

#include <gtest/gtest.h>

namespace ct {

TEST(Time, ParsesUtcAndOffsets) {
  EXPECT_EQ(parse_datetime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_datetime("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_datetime("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_datetime("2016-03-15T11:00:00"), parse_datetime("2016-03-15T11:00:00Z"));
}

TEST(Time, RejectsWhatIsNotADateTime) {
  for (const char* bad : {"", "2016-13-01T00:00:00Z", "2016-02-30T00:00:00Z", "2016-03-15", "2016-03-15T25:00:00Z",
                          "2016-03-15T11:00:00Zjunk", "yesterday", "2016-03-15T11:00:00+1"})
    EXPECT_FALSE(parse_datetime(bad).has_value()) << bad;
}

TEST(Time, FormatsWithMilliseconds) {
  EXPECT_EQ(format_datetime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_datetime(*parse_datetime("2024-02-29T23:59:59.123Z")), "2024-02-29T23:59:59.123Z");
  EXPECT_EQ(format_datetime(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace ct
