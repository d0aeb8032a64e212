#pragma once
// The daily report (日报) from hourly values, with the conventions of issue #15 and GB 3095:
// - the day is [00:00, 24:00) in the city's time zone; each hourly value is stamped at the start of
//   its hour (several values in one hour are averaged into that hour's value);
// - a 24-hour mean needs at least 20 hourly values, else that indicator is left out;
// - an 8-hour value is the largest of the eight-hour windows inside the day ([00–07] … [16–23], 17
//   on a 24-hour day), each needing at least 6 values;
// - a 1-hour value is the day's largest hourly value.
// Pure functions, thread-safe.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "domains/air/aqi.hpp"
#include "domains/core/time_zone.hpp"

namespace ct::domains::air {

// One local day's hourly values of each pollutant, µg/m³; hours.size() is the day's length in
// hours (23 or 25 on a daylight-saving change).
struct DayHours {
  std::size_t hours = 24;
  std::array<std::vector<std::optional<double>>, kPollutantCount> values;  // each of size `hours`
};

struct DailyReport {
  std::string id;
  LocalDate date;
  std::string profile;
  AqiResult result;
  std::vector<IndicatorValue> concentrations;  // µg/m³, by indicator key
  std::size_t hours_with_data = 0;              // hours with at least one pollutant value
};

// The report's indicator values and AQI (id and date are left to the caller).
DailyReport compute_daily(const Profile& profile, const DayHours& day);

// The report as GET /city/v1/air/daily answers it: {"id","date","profile","aqi","level",
// "primaryPollutants","iaqi","concentrations","hours"}; concentrations in each indicator's table unit
// (named in "units").
json::object daily_report_json(const Profile& profile, const DailyReport& report);

}  // namespace ct::domains::air
