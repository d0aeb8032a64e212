#pragma once
// Air quality indices from concentrations: breakpoint tables as data, in selectable profiles.
//
//   hj633-2012   China, HJ 633-2012 (IAQI rounded up; primary pollutants above AQI 50)
//   hj633-2026   China, HJ 633-2026: PM2.5 0/35/60/115/150/250/350/500 and PM10
//                0/50/120/250/350/420/500/600, the rest as 2012 — taken from secondary sources,
//                not yet checked against the published text
//   us-epa-2024  US EPA AQI with the 2024 PM2.5 revision: concentrations converted to ppm/ppb at
//                25 °C and truncated before lookup, the index rounded to the nearest integer
//
// Every concentration given to this module is in µg/m³ (see units.hpp for conversions); each
// indicator converts to the unit of its table. Pure functions, thread-safe.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace ct::domains::air {

enum class Pollutant : std::uint8_t { SO2, NO2, CO, O3, PM10, PM25 };
inline constexpr std::size_t kPollutantCount = 6;
std::string_view pollutant_key(Pollutant p);  // "so2", "no2", "co", "o3", "pm10", "pm25"
std::optional<Pollutant> pollutant_from_key(std::string_view key);

// How an indicator's concentration is obtained from hourly values.
enum class Averaging : std::uint8_t {
  Hour1,   // one hourly value (real-time); the day's largest (daily)
  Hour8,   // the largest eight-hour mean of the day
  Hour24,  // the day's 24-hour mean
};

enum class TableUnit : std::uint8_t { MicrogramsPerM3, MilligramsPerM3, Ppm, Ppb };

// One segment of a breakpoint table: concentrations [c_lo, c_hi] map linearly onto [i_lo, i_hi].
struct Segment {
  double c_lo, c_hi;
  int i_lo, i_hi;
};

struct Indicator {
  std::string key;  // how reports name it: "pm25", "o3_8h", ...
  Pollutant pollutant;
  Averaging averaging;
  TableUnit unit;
  double truncate_to = 0;  // > 0: the concentration is truncated to a multiple of this first (EPA)
  std::vector<Segment> segments;
  // Above the last segment: the IAQI is the one of this indicator (its key) instead, e.g. SO2 1-h
  // above 800 µg/m³ uses the SO2 24-h IAQI. Empty: above the table the IAQI is the top of it.
  std::string above_table_use;
  // Only a fallback of another indicator (above_table_use): never evaluated or reported on its own.
  bool fallback_only = false;
};

struct Category {
  int max_aqi;             // the category holds AQI values up to this one
  std::string key;         // English key (airQualityLevel): "excellent", "good", ...
  std::string name;        // as the standard names it: 优, 良, ... or "Good", ...
  std::string english;     // English name
  std::string colour;      // #rrggbb
};

struct Profile {
  std::string name;
  bool round_up = true;  // China: IAQI rounded up; EPA: to the nearest integer
  bool from_secondary_sources = false;
  std::vector<Indicator> daily;      // the daily report's indicators
  std::vector<Indicator> real_time;  // the real-time (hourly) report's indicators
  std::vector<Category> categories;  // in increasing order
};

const std::vector<Profile>& profiles();
// BadRequestData naming an unknown profile.
Result<const Profile*> find_profile(std::string_view name);
// The profile named `name`, or the default one (the first) when this build does not know it.
const Profile& profile_or_default(std::string_view name);

// The IAQI of one concentration (µg/m³) on one indicator's table; nullopt above the table when it
// defers to another indicator (the caller then uses that one) or for a negative concentration.
std::optional<int> sub_index(const Profile& profile, const Indicator& indicator, double micrograms_per_m3);

// The concentrations of one report, µg/m³, by indicator key (absent: no valid value).
struct IndicatorValue {
  std::string key;
  double concentration;  // µg/m³
};

struct AqiResult {
  std::optional<int> aqi;  // none when no indicator had a value
  std::vector<std::pair<std::string, int>> iaqi;  // by indicator key, in the profile's order
  std::vector<std::string> primary;              // indicator keys at the AQI, when AQI > 50
  const Category* category = nullptr;
};

// The AQI of a set of indicator values, evaluated on `indicators` (profile.daily or .real_time).
AqiResult compute_aqi(const Profile& profile, const std::vector<Indicator>& indicators,
                      const std::vector<IndicatorValue>& values);

const Category* category_of(const Profile& profile, int aqi);

}  // namespace ct::domains::air
