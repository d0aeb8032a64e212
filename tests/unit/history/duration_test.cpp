#include "history/duration.hpp"

#include <gtest/gtest.h>

namespace ct::history {

TEST(IsoDuration, ParsesFixedLengthDurations) {
  EXPECT_EQ(*parse_duration_ms("PT1H"), 3'600'000);
  EXPECT_EQ(*parse_duration_ms("P1D"), 86'400'000);
  EXPECT_EQ(*parse_duration_ms("PT15M"), 900'000);
  EXPECT_EQ(*parse_duration_ms("PT0.5S"), 500);
  EXPECT_EQ(*parse_duration_ms("PT0,5S"), 500);
  EXPECT_EQ(*parse_duration_ms("PT1.5H"), 5'400'000);
  EXPECT_EQ(*parse_duration_ms("PT0.001S"), 1);
  EXPECT_EQ(*parse_duration_ms("PT1.500000000000S"), 1500) << "trailing zeros do not count as precision";
  EXPECT_EQ(*parse_duration_ms("P1W"), 604'800'000);
  EXPECT_EQ(*parse_duration_ms("P1DT12H"), 129'600'000);
  EXPECT_EQ(*parse_duration_ms("P2DT3H4M5.006S"), 2 * 86'400'000 + 3 * 3'600'000 + 4 * 60'000 + 5006);
  EXPECT_EQ(*parse_duration_ms("PT36H"), 129'600'000);
  EXPECT_EQ(*parse_duration_ms("PT0S"), 0);
  EXPECT_EQ(*parse_duration_ms("P0D"), 0);
  EXPECT_EQ(*parse_duration_ms("PT90M"), 5'400'000);
  EXPECT_EQ(*parse_duration_ms("P106751991167DT7H12M55.807S"), INT64_MAX);
}

TEST(IsoDuration, RefusesCalendarUnitsWithAClearMessage) {
  for (const char* calendar : {"P1Y", "P2M", "P1Y2M10DT2H30M", "P0Y"}) {
    auto r = parse_duration_ms(calendar);
    ASSERT_FALSE(r.ok()) << calendar;
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
    EXPECT_NE(r.problem().detail.find("years and months"), std::string::npos) << r.problem().detail;
    EXPECT_NE(r.problem().detail.find(calendar), std::string::npos) << "quotes the input";
  }
}

TEST(IsoDuration, NamesTheFaultOfMalformedInput) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"1H", "starts with 'P'"},
      {"pt1h", "starts with 'P'"},
      {"-PT1H", "sign"},
      {"P", "no component"},
      {"PT", "'T' must be followed"},
      {"P1DT", "'T' must be followed"},
      {"PT1H30", "no designator"},
      {"PT1M1H", "out of order"},
      {"PT1H1H", "repeated or out of order"},
      {"P1D1D", "repeated or out of order"},
      {"P1H", "come after 'T'"},
      {"PT1D", "unknown designator 'D'"},
      {"PT1X", "unknown designator 'X'"},
      {"PTH", "expected a number"},
      {"PT.5S", "expected a number"},
      {"PT1.S", "followed by digits"},
      {"PT0.0001S", "finer than a millisecond"},
      {"PT0.5H30M", "only the last component"},
      {"P0.5DT1H", "only the last component"},
      {"PT1HT1M", "'T' appears twice"},
      {"P99999999999999999999D", "too long"},
      {"P106751991168D", "too long"},
      {"P106751991167DT7H12M55.808S", "too long"},
  };
  for (const auto& [text, fault] : cases) {
    auto r = parse_duration_ms(text);
    ASSERT_FALSE(r.ok()) << text << " gave " << r.value();
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData) << text;
    EXPECT_NE(r.problem().detail.find(fault), std::string::npos) << text << ": " << r.problem().detail;
  }
}

TEST(IsoDuration, QuotesHostileInputSafely) {
  auto r = parse_duration_ms(std::string("P\xff\xfe") + std::string(200, 'D'));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.problem().detail.size(), 200u);
  EXPECT_NE(r.problem().detail.find("invalid duration"), std::string::npos);
}

}  // namespace ct::history

namespace ct::history {

TEST(IsoDuration, FormatsWhatItParsesBack) {
  EXPECT_EQ(format_duration_ms(90 * 86'400'000LL), "P90D");
  EXPECT_EQ(format_duration_ms(3'600'000), "PT1H");
  EXPECT_EQ(format_duration_ms(86'400'000 + 12 * 3'600'000), "P1DT12H");
  EXPECT_EQ(format_duration_ms(500), "PT0.500S");
  EXPECT_EQ(format_duration_ms(0), "PT0S");
  for (std::int64_t ms : {1LL, 999LL, 61'001LL, 3'661'000LL, 400 * 86'400'000LL + 1})
    EXPECT_EQ(*parse_duration_ms(format_duration_ms(ms)), ms);
}

}  // namespace ct::history
