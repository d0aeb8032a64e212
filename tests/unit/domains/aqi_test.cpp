// AQI on every profile, with hand-worked cases: each table's breakpoints (written out here from
// the standards, independently of the profile data), interpolation rounded up (China) or to the
// nearest integer (EPA), the >800 rules, several primary pollutants, missing data, units.
#include "domains/air/aqi.hpp"

#include <gtest/gtest.h>

#include "domains/air/units.hpp"

namespace ct::domains::air {
namespace {

const Profile& profile(std::string_view name) { return *find_profile(name).value(); }

const Indicator& indicator(const std::vector<Indicator>& list, std::string_view key) {
  for (const auto& i : list)
    if (i.key == key) return i;
  ADD_FAILURE() << "no indicator " << key;
  return list.front();
}

// µg/m³ of a concentration given in the table's own unit.
double ug(Pollutant p, TableUnit unit, double c) {
  switch (unit) {
    case TableUnit::MicrogramsPerM3: return c;
    case TableUnit::MilligramsPerM3: return to_micrograms(p, "GP", c).value();
    case TableUnit::Ppm: return to_micrograms(p, "59", c).value();
    case TableUnit::Ppb: return to_micrograms(p, "61", c).value();
  }
  return c;
}

std::optional<int> iaqi(std::string_view profile_name, bool daily, std::string_view key, double c_in_table_unit) {
  const auto& p = profile(profile_name);
  const auto& i = indicator(daily ? p.daily : p.real_time, key);
  return sub_index(p, i, ug(i.pollutant, i.unit, c_in_table_unit));
}

struct Row {
  std::string_view key;
  bool daily;
  std::vector<double> breakpoints;  // at IAQI 0, 50, 100, 150, 200, 300, 400, 500
};

void expect_breakpoints(std::string_view profile_name, const std::vector<Row>& rows) {
  static constexpr int kIndex[] = {0, 50, 100, 150, 200, 300, 400, 500};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.breakpoints.size(); ++i)
      EXPECT_EQ(iaqi(profile_name, row.daily, row.key, row.breakpoints[i]), kIndex[i])
          << profile_name << " " << row.key << (row.daily ? " daily" : " real-time") << " at " << row.breakpoints[i];
}

TEST(Aqi, Hj633_2012AtEveryBreakpoint) {
  expect_breakpoints("hj633-2012", {
                                       {"so2", true, {0, 50, 150, 475, 800, 1600, 2100, 2620}},
                                       {"so2", false, {0, 150, 500, 650, 800}},
                                       {"no2", true, {0, 40, 80, 180, 280, 565, 750, 940}},
                                       {"no2", false, {0, 100, 200, 700, 1200, 2340, 3090, 3840}},
                                       {"pm10", true, {0, 50, 150, 250, 350, 420, 500, 600}},
                                       {"co", true, {0, 2, 4, 14, 24, 36, 48, 60}},
                                       {"co", false, {0, 5, 10, 35, 60, 90, 120, 150}},
                                       {"o3_1h", true, {0, 160, 200, 300, 400, 800, 1000, 1200}},
                                       {"o3", false, {0, 160, 200, 300, 400, 800, 1000, 1200}},
                                       {"o3_8h", true, {0, 100, 160, 215, 265, 800}},
                                       {"pm25", true, {0, 35, 75, 115, 150, 250, 350, 500}},
                                   });
}

TEST(Aqi, Hj633_2026AtEveryBreakpoint) {
  expect_breakpoints("hj633-2026", {
                                       {"pm25", true, {0, 35, 60, 115, 150, 250, 350, 500}},
                                       {"pm10", true, {0, 50, 120, 250, 350, 420, 500, 600}},
                                       {"so2", true, {0, 50, 150, 475, 800, 1600, 2100, 2620}},
                                       {"no2", true, {0, 40, 80, 180, 280, 565, 750, 940}},
                                       {"co", true, {0, 2, 4, 14, 24, 36, 48, 60}},
                                       {"o3_1h", true, {0, 160, 200, 300, 400, 800, 1000, 1200}},
                                       {"o3_8h", true, {0, 100, 160, 215, 265, 800}},
                                   });
  EXPECT_TRUE(profile("hj633-2026").from_secondary_sources);
}

TEST(Aqi, UsEpa2024AtEveryBreakpoint) {
  struct Range {
    std::string_view key;
    double c_lo, c_hi;
    int i_lo, i_hi;
  };
  const std::vector<Range> ranges{
      {"pm25", 0.0, 9.0, 0, 50},       {"pm25", 9.1, 35.4, 51, 100},     {"pm25", 35.5, 55.4, 101, 150},
      {"pm25", 55.5, 125.4, 151, 200}, {"pm25", 125.5, 225.4, 201, 300}, {"pm25", 225.5, 325.4, 301, 500},
      {"pm10", 0, 54, 0, 50},          {"pm10", 55, 154, 51, 100},       {"pm10", 155, 254, 101, 150},
      {"pm10", 255, 354, 151, 200},    {"pm10", 355, 424, 201, 300},     {"pm10", 425, 604, 301, 500},
      {"o3_8h", 0.000, 0.054, 0, 50},  {"o3_8h", 0.055, 0.070, 51, 100}, {"o3_8h", 0.071, 0.085, 101, 150},
      {"o3_8h", 0.086, 0.105, 151, 200}, {"o3_8h", 0.106, 0.200, 201, 300},
      {"o3_1h", 0.125, 0.164, 101, 150}, {"o3_1h", 0.165, 0.204, 151, 200}, {"o3_1h", 0.205, 0.404, 201, 300},
      {"o3_1h", 0.405, 0.604, 301, 500},
      {"co", 0.0, 4.4, 0, 50},         {"co", 4.5, 9.4, 51, 100},        {"co", 9.5, 12.4, 101, 150},
      {"co", 12.5, 15.4, 151, 200},    {"co", 15.5, 30.4, 201, 300},     {"co", 30.5, 50.4, 301, 500},
      {"so2", 0, 35, 0, 50},           {"so2", 36, 75, 51, 100},         {"so2", 76, 185, 101, 150},
      {"so2", 186, 304, 151, 200},
      {"no2", 0, 53, 0, 50},           {"no2", 54, 100, 51, 100},        {"no2", 101, 360, 101, 150},
      {"no2", 361, 649, 151, 200},     {"no2", 650, 1249, 201, 300},     {"no2", 1250, 2049, 301, 500},
  };
  for (const auto& r : ranges) {
    EXPECT_EQ(iaqi("us-epa-2024", true, r.key, r.c_lo), r.i_lo) << r.key << " at " << r.c_lo;
    EXPECT_EQ(iaqi("us-epa-2024", true, r.key, r.c_hi), r.i_hi) << r.key << " at " << r.c_hi;
  }
  // 1-h O3 defines nothing below 0.125 ppm.
  EXPECT_EQ(iaqi("us-epa-2024", true, "o3_1h", 0.100), std::nullopt);
}

TEST(Aqi, ChinaInterpolatesAndRoundsUp) {
  // PM2.5 45: 50 + (100-50)/(75-35)·(45-35) = 62.5 -> 63.
  EXPECT_EQ(iaqi("hj633-2012", true, "pm25", 45), 63);
  // Just above a breakpoint: 75.1 -> 100.125 -> 101.
  EXPECT_EQ(iaqi("hj633-2012", true, "pm25", 75.1), 101);
  // An exact integer stays: PM2.5 55 -> 75.
  EXPECT_EQ(iaqi("hj633-2012", true, "pm25", 55), 75);
  // PM10 151 -> 100.5 -> 101; NO2 24-h 41 -> 51.25 -> 52; CO 24-h 2.1 mg/m³ -> 52.5 -> 53.
  EXPECT_EQ(iaqi("hj633-2012", true, "pm10", 151), 101);
  EXPECT_EQ(iaqi("hj633-2012", true, "no2", 41), 52);
  EXPECT_EQ(iaqi("hj633-2012", true, "co", 2.1), 53);
  // O3 8-h 101 -> 50 + 50/60·1 = 50.83 -> 51; 161 -> 100 + 50/55·1 = 100.9 -> 101; O3 1-h 161 -> 51.25 -> 52.
  EXPECT_EQ(iaqi("hj633-2012", true, "o3_8h", 101), 51);
  EXPECT_EQ(iaqi("hj633-2012", true, "o3_8h", 161), 101);
  EXPECT_EQ(iaqi("hj633-2012", true, "o3_1h", 161), 52);
  // 2026: PM2.5 45 -> 50 + 50/25·10 = 70.
  EXPECT_EQ(iaqi("hj633-2026", true, "pm25", 45), 70);
  // Beyond the top of a table: its top.
  EXPECT_EQ(iaqi("hj633-2012", true, "pm25", 900), 500);
  // Negative: no index.
  EXPECT_EQ(iaqi("hj633-2012", true, "pm25", -1), std::nullopt);
}

TEST(Aqi, EpaTruncatesAndRoundsToNearest) {
  // PM2.5 12.0: 51 + 49/26.3·2.9 = 56.40 -> 56.
  EXPECT_EQ(iaqi("us-epa-2024", true, "pm25", 12.0), 56);
  // 35.45 truncates to 35.4 -> 100 (not 101).
  EXPECT_EQ(iaqi("us-epa-2024", true, "pm25", 35.45), 100);
  // 9.05 truncates to 9.0 -> 50.
  EXPECT_EQ(iaqi("us-epa-2024", true, "pm25", 9.05), 50);
  // NO2 60 ppb: 51 + 49/46·6 = 57.39 -> 57; 70 ppb: 51 + 49/46·16 = 68.04 -> 68.
  EXPECT_EQ(iaqi("us-epa-2024", true, "no2", 60), 57);
  EXPECT_EQ(iaqi("us-epa-2024", true, "no2", 70), 68);
  // PM10 100: 51 + 49/99·45 = 73.27 -> 73.
  EXPECT_EQ(iaqi("us-epa-2024", true, "pm10", 100), 73);
}

AqiResult daily(std::string_view profile_name, std::vector<IndicatorValue> values) {
  const auto& p = profile(profile_name);
  return compute_aqi(p, p.daily, values);
}

double in_ug(std::string_view profile_name, std::string_view key, double c) {
  const auto& p = profile(profile_name);
  const auto& i = indicator(p.daily, key);
  return ug(i.pollutant, i.unit, c);
}

TEST(Aqi, LargestIaqiAndPrimaryPollutants) {
  // PM2.5 75 (100) and PM10 150 (100), NO2 40 (50): AQI 100, both particulates primary.
  auto r = daily("hj633-2012", {{"pm25", 75}, {"pm10", 150}, {"no2", 40}});
  ASSERT_TRUE(r.aqi);
  EXPECT_EQ(*r.aqi, 100);
  EXPECT_EQ(r.primary, (std::vector<std::string>{"pm10", "pm25"}));
  EXPECT_EQ(r.category->key, "good");
  EXPECT_EQ(r.category->name, "良");
  // Three at once.
  r = daily("hj633-2012", {{"pm25", 115}, {"pm10", 250}, {"so2", 475}});
  EXPECT_EQ(*r.aqi, 150);
  EXPECT_EQ(r.primary, (std::vector<std::string>{"so2", "pm10", "pm25"}));
  EXPECT_EQ(r.category->name, "轻度污染");
  EXPECT_EQ(r.category->colour, "#ff7e00");
  // At or below 50 there is no primary pollutant.
  r = daily("hj633-2012", {{"pm25", 35}, {"pm10", 50}});
  EXPECT_EQ(*r.aqi, 50);
  EXPECT_TRUE(r.primary.empty());
  EXPECT_EQ(r.category->name, "优");
  // One above: 51 -> primary.
  r = daily("hj633-2012", {{"pm25", 35.5}, {"pm10", 50}});
  EXPECT_EQ(*r.aqi, 51);
  EXPECT_EQ(r.primary, std::vector<std::string>{"pm25"});
}

TEST(Aqi, CategoriesOfEveryBand) {
  const auto& p = profile("hj633-2012");
  const std::vector<std::pair<int, std::string>> expected{{0, "优"},      {50, "优"},      {51, "良"},
                                                          {100, "良"},    {101, "轻度污染"}, {150, "轻度污染"},
                                                          {151, "中度污染"}, {200, "中度污染"}, {201, "重度污染"},
                                                          {300, "重度污染"}, {301, "严重污染"}, {500, "严重污染"}};
  for (const auto& [aqi, name] : expected) EXPECT_EQ(category_of(p, aqi)->name, name) << aqi;
  EXPECT_EQ(category_of(p, 301)->key, "severePollution");
  EXPECT_EQ(category_of(profile("us-epa-2024"), 120)->key, "unhealthyForSensitiveGroups");
}

TEST(Aqi, MissingData) {
  // Only one pollutant: the AQI is its IAQI.
  auto r = daily("hj633-2012", {{"pm25", 45}});
  EXPECT_EQ(*r.aqi, 63);
  EXPECT_EQ(r.iaqi.size(), 1u);
  // Nothing: no AQI, no category.
  r = daily("hj633-2012", {});
  EXPECT_FALSE(r.aqi);
  EXPECT_EQ(r.category, nullptr);
}

TEST(Aqi, So2HourlyAbove800UsesThe24HourTable) {
  const auto& p = profile("hj633-2012");
  // Real time, 1-h SO2 800 -> 200 on its own table; 900 is beyond it: the 24-h table gives
  // 200 + 100/800·100 = 212.5 -> 213.
  auto r = compute_aqi(p, p.real_time, {{"so2", 800}});
  EXPECT_EQ(*r.aqi, 200);
  r = compute_aqi(p, p.real_time, {{"so2", 900}});
  EXPECT_EQ(*r.aqi, 213);
  EXPECT_EQ(r.primary, std::vector<std::string>{"so2"});
}

TEST(Aqi, O3EightHourAbove800UsesTheOneHourIaqi) {
  // 8-h 850 is beyond its table; the 1-h value 900 gives 300 + 100/200·100 = 350 for both.
  auto r = daily("hj633-2012", {{"o3_8h", 850}, {"o3_1h", 900}, {"pm25", 40}});
  EXPECT_EQ(*r.aqi, 350);
  EXPECT_EQ(r.primary, (std::vector<std::string>{"o3_1h", "o3_8h"}));
  // At 800 the 8-h table still applies: 300.
  r = daily("hj633-2012", {{"o3_8h", 800}, {"o3_1h", 820}});
  EXPECT_EQ(r.iaqi.back(), (std::pair<std::string, int>{"o3_8h", 300}));
}

TEST(Aqi, EpaOzoneAndSulphurFallbacks) {
  // 8-h O3 0.250 ppm is beyond its table: the 1-h 0.450 ppm decides, 301 + 199/0.199·0.045 = 346.
  auto r = daily("us-epa-2024", {{"o3_8h", in_ug("us-epa-2024", "o3_8h", 0.250)},
                                 {"o3_1h", in_ug("us-epa-2024", "o3_1h", 0.450)}});
  EXPECT_EQ(*r.aqi, 346);
  // ... but never less than the top of the 8-h table (300): a 1-h 0.300 ppm alone would give 248.
  r = daily("us-epa-2024", {{"o3_8h", in_ug("us-epa-2024", "o3_8h", 0.250)},
                            {"o3_1h", in_ug("us-epa-2024", "o3_1h", 0.300)}});
  EXPECT_EQ(*r.aqi, 300);
  EXPECT_EQ(r.iaqi.front(), (std::pair<std::string, int>{"o3_8h", 300}));
  EXPECT_EQ(r.iaqi[1], (std::pair<std::string, int>{"o3_1h", 248}));
  // 1-h SO2 400 ppb is beyond its table: the 24-h mean decides, at least 200.
  r = daily("us-epa-2024", {{"so2", in_ug("us-epa-2024", "so2", 400)},
                            {"so2_24h", in_ug("us-epa-2024", "so2", 200)}});
  EXPECT_EQ(*r.aqi, 200);
  // 24-h 400 ppb: 201 + 99/299·95 = 232.45 -> 232.
  r = daily("us-epa-2024", {{"so2", in_ug("us-epa-2024", "so2", 400)},
                            {"so2_24h", in_ug("us-epa-2024", "so2", 400)}});
  EXPECT_EQ(*r.aqi, 232);
  EXPECT_EQ(r.primary, std::vector<std::string>{"so2"});
}

TEST(Units, ConversionsAndRefusals) {
  EXPECT_DOUBLE_EQ(to_micrograms(Pollutant::CO, "", 400).value(), 400);  // no unitCode: µg/m³
  EXPECT_DOUBLE_EQ(to_micrograms(Pollutant::CO, "GP", 0.4).value(), 400);
  EXPECT_DOUBLE_EQ(to_micrograms(Pollutant::PM25, "GQ", 12).value(), 12);
  // 1 ppm of O3 at 25 °C: 47.997 / 24.45 mg/m³ = 1963.1 µg/m³.
  EXPECT_NEAR(to_micrograms(Pollutant::O3, "59", 1).value(), 1963.07, 0.01);
  EXPECT_NEAR(to_micrograms(Pollutant::NO2, "61", 100).value(), 188.16, 0.01);
  auto refused = to_micrograms(Pollutant::PM25, "59", 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.problem().detail.find("'59'"), std::string::npos);
  EXPECT_FALSE(to_micrograms(Pollutant::SO2, "KGM", 1).ok());
  // The Beijing data's CO of 400 µg/m³ is 0.4 mg/m³ on the Chinese table: IAQI 10.
  const auto& p = profile("hj633-2012");
  EXPECT_EQ(sub_index(p, indicator(p.daily, "co"), 400), 10);
}

TEST(Aqi, UnknownProfileIsNamed) {
  auto missing = find_profile("hj633-1999");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(missing.problem().detail.find("hj633-1999"), std::string::npos);
}

}  // namespace
}  // namespace ct::domains::air
