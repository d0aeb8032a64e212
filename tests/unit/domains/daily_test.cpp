// The daily report's conventions: 20 hourly values for a 24-h mean, the 17 eight-hour windows
// each with 6 values, the day's largest hourly O3.
#include "domains/air/daily.hpp"

#include <gtest/gtest.h>

namespace ct::domains::air {
namespace {

DayHours day() {
  DayHours d;
  for (auto& v : d.values) v.assign(24, std::nullopt);
  return d;
}

std::optional<double> concentration(const DailyReport& r, std::string_view key) {
  for (const auto& v : r.concentrations)
    if (v.key == key) return v.concentration;
  return std::nullopt;
}

const Profile& china() { return *find_profile("hj633-2012").value(); }

TEST(Daily, TwentyHoursMakeAMean) {
  auto d = day();
  auto& pm25 = d.values[static_cast<std::size_t>(Pollutant::PM25)];
  for (int h = 0; h < 19; ++h) pm25[h] = 100;
  auto r = compute_daily(china(), d);
  EXPECT_FALSE(concentration(r, "pm25"));  // 19 values: left out
  EXPECT_FALSE(r.result.aqi);
  EXPECT_EQ(r.hours_with_data, 19u);
  pm25[19] = 120;  // 20 values, mean (19·100 + 120)/20 = 101
  r = compute_daily(china(), d);
  EXPECT_DOUBLE_EQ(*concentration(r, "pm25"), 101);
  // 100 + 50/40·26 = 132.5 -> 133.
  EXPECT_EQ(*r.result.aqi, 133);
  EXPECT_EQ(r.result.primary, std::vector<std::string>{"pm25"});
}

TEST(Daily, EightHourWindowsNeedSixValues) {
  auto d = day();
  auto& o3 = d.values[static_cast<std::size_t>(Pollutant::O3)];
  // Hours 0-4: five values; no window has six.
  for (int h = 0; h < 5; ++h) o3[h] = 200;
  auto r = compute_daily(china(), d);
  EXPECT_FALSE(concentration(r, "o3_8h"));
  EXPECT_DOUBLE_EQ(*concentration(r, "o3_1h"), 200);
  // A sixth at hour 7: window [0-7] has six values, mean 200 · 5/6 + 80/6 = 180.
  o3[7] = 80;
  r = compute_daily(china(), d);
  EXPECT_DOUBLE_EQ(*concentration(r, "o3_8h"), 180);
  // The last window is [16-23]: six values there with mean 300 win; a window crossing midnight
  // does not exist.
  for (int h = 18; h < 24; ++h) o3[h] = 300;
  r = compute_daily(china(), d);
  EXPECT_DOUBLE_EQ(*concentration(r, "o3_8h"), 300);
  EXPECT_DOUBLE_EQ(*concentration(r, "o3_1h"), 300);
}

TEST(Daily, ReportJson) {
  auto d = day();
  for (int h = 0; h < 24; ++h) {
    d.values[static_cast<std::size_t>(Pollutant::PM25)][h] = 75;
    d.values[static_cast<std::size_t>(Pollutant::CO)][h] = 1000;  // µg/m³: 1 mg/m³
  }
  auto r = compute_daily(china(), d);
  r.id = "urn:ngsi-ld:AirQualityObserved:dongsi";
  r.date = {2017, 2, 1};
  const auto j = daily_report_json(china(), r);
  EXPECT_EQ(j.at("date"), "2017-02-01");
  EXPECT_EQ(j.at("aqi"), 100);
  EXPECT_EQ(j.at("level"), "good");
  EXPECT_EQ(j.at("primaryPollutants").as_array().size(), 1u);
  EXPECT_EQ(j.at("concentrations").at("co").to_number<double>(), 1.0);
  EXPECT_EQ(j.at("units").at("co"), "mg/m³");
  EXPECT_EQ(j.at("iaqi").at("co"), 25);
  EXPECT_EQ(j.at("hours"), 24);
}

}  // namespace
}  // namespace ct::domains::air
