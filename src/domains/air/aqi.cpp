#include "domains/air/aqi.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include "domains/air/units.hpp"

namespace ct::domains::air {
namespace {

using enum Pollutant;
using enum Averaging;
using enum TableUnit;

constexpr double kTolerance = 1e-9;

// A Chinese table: concentrations at IAQI 0, 50, 100, 150, 200, 300, 400, 500 (fewer for the 1-h
// SO2 and 8-h O3 tables, which stop at 800 µg/m³).
std::vector<Segment> china(std::initializer_list<double> breakpoints) {
  static constexpr int kIndex[] = {0, 50, 100, 150, 200, 300, 400, 500};
  std::vector<Segment> out;
  const std::vector<double> c(breakpoints);
  for (std::size_t i = 1; i < c.size(); ++i) out.push_back({c[i - 1], c[i], kIndex[i - 1], kIndex[i]});
  return out;
}

Indicator indicator(std::string key, Pollutant p, Averaging a, TableUnit u, std::vector<Segment> s,
                    std::string above = {}, double truncate = 0) {
  Indicator i{std::move(key), p, a, u, truncate, std::move(s), std::move(above)};
  return i;
}

std::vector<Category> china_categories() {
  return {{50, "excellent", "优", "Excellent", "#00e400"},
          {100, "good", "良", "Good", "#ffff00"},
          {150, "lightPollution", "轻度污染", "Lightly polluted", "#ff7e00"},
          {200, "moderatePollution", "中度污染", "Moderately polluted", "#ff0000"},
          {300, "heavyPollution", "重度污染", "Heavily polluted", "#99004c"},
          {INT_MAX, "severePollution", "严重污染", "Severely polluted", "#7e0023"}};
}

// HJ 633: 2012 tables, with `pm25` and `pm10` 24-h tables given (they differ in 2026).
Profile hj633(std::string name, const std::vector<Segment>& pm25, const std::vector<Segment>& pm10, bool secondary) {
  Profile p;
  p.name = std::move(name);
  p.round_up = true;
  p.from_secondary_sources = secondary;
  p.categories = china_categories();
  const auto so2_24 = china({0, 50, 150, 475, 800, 1600, 2100, 2620});
  const auto o3_1 = china({0, 160, 200, 300, 400, 800, 1000, 1200});
  p.daily = {
      indicator("so2", SO2, Hour24, MicrogramsPerM3, so2_24),
      indicator("no2", NO2, Hour24, MicrogramsPerM3, china({0, 40, 80, 180, 280, 565, 750, 940})),
      indicator("co", CO, Hour24, MilligramsPerM3, china({0, 2, 4, 14, 24, 36, 48, 60})),
      indicator("pm10", PM10, Hour24, MicrogramsPerM3, pm10),
      indicator("pm25", PM25, Hour24, MicrogramsPerM3, pm25),
      indicator("o3_1h", O3, Hour1, MicrogramsPerM3, o3_1),
      // Above 800 µg/m³ the 8-h O3 IAQI is the 1-h one.
      indicator("o3_8h", O3, Hour8, MicrogramsPerM3, china({0, 100, 160, 215, 265, 800}), "o3_1h"),
  };
  auto so2_fallback = indicator("so2_24h", SO2, Hour24, MicrogramsPerM3, so2_24);
  so2_fallback.fallback_only = true;
  p.real_time = {
      // Above 800 µg/m³ the 1-h SO2 IAQI is the 24-h one (evaluated on the hourly value: the
      // real-time report has no 24-h mean).
      indicator("so2", SO2, Hour1, MicrogramsPerM3, china({0, 150, 500, 650, 800}), "so2_24h"),
      indicator("no2", NO2, Hour1, MicrogramsPerM3, china({0, 100, 200, 700, 1200, 2340, 3090, 3840})),
      indicator("co", CO, Hour1, MilligramsPerM3, china({0, 5, 10, 35, 60, 90, 120, 150})),
      indicator("o3", O3, Hour1, MicrogramsPerM3, o3_1),
      indicator("pm10", PM10, Hour1, MicrogramsPerM3, pm10),
      indicator("pm25", PM25, Hour1, MicrogramsPerM3, pm25),
      so2_fallback,
  };
  return p;
}

Profile us_epa_2024() {
  Profile p;
  p.name = "us-epa-2024";
  p.round_up = false;
  p.categories = {{50, "good", "Good", "Good", "#00e400"},
                  {100, "moderate", "Moderate", "Moderate", "#ffff00"},
                  {150, "unhealthyForSensitiveGroups", "Unhealthy for Sensitive Groups",
                   "Unhealthy for Sensitive Groups", "#ff7e00"},
                  {200, "unhealthy", "Unhealthy", "Unhealthy", "#ff0000"},
                  {300, "veryUnhealthy", "Very Unhealthy", "Very Unhealthy", "#8f3f97"},
                  {INT_MAX, "hazardous", "Hazardous", "Hazardous", "#7e0023"}};
  const std::vector<Segment> pm25{{0.0, 9.0, 0, 50},       {9.1, 35.4, 51, 100},     {35.5, 55.4, 101, 150},
                                  {55.5, 125.4, 151, 200}, {125.5, 225.4, 201, 300}, {225.5, 325.4, 301, 500}};
  const std::vector<Segment> pm10{{0, 54, 0, 50},       {55, 154, 51, 100},   {155, 254, 101, 150},
                                  {255, 354, 151, 200}, {355, 424, 201, 300}, {425, 604, 301, 500}};
  const std::vector<Segment> o3_8{{0.000, 0.054, 0, 50},
                                  {0.055, 0.070, 51, 100},
                                  {0.071, 0.085, 101, 150},
                                  {0.086, 0.105, 151, 200},
                                  {0.106, 0.200, 201, 300}};
  const std::vector<Segment> o3_1{
      {0.125, 0.164, 101, 150}, {0.165, 0.204, 151, 200}, {0.205, 0.404, 201, 300}, {0.405, 0.604, 301, 500}};
  const std::vector<Segment> co{{0.0, 4.4, 0, 50},      {4.5, 9.4, 51, 100},    {9.5, 12.4, 101, 150},
                                {12.5, 15.4, 151, 200}, {15.5, 30.4, 201, 300}, {30.5, 50.4, 301, 500}};
  const std::vector<Segment> so2_1{{0, 35, 0, 50}, {36, 75, 51, 100}, {76, 185, 101, 150}, {186, 304, 151, 200}};
  const std::vector<Segment> so2_24{{305, 604, 201, 300}, {605, 1004, 301, 500}};
  const std::vector<Segment> no2{{0, 53, 0, 50},       {54, 100, 51, 100},    {101, 360, 101, 150},
                                 {361, 649, 151, 200}, {650, 1249, 201, 300}, {1250, 2049, 301, 500}};
  auto so2_fallback = indicator("so2_24h", SO2, Hour24, Ppb, so2_24, {}, 1);
  so2_fallback.fallback_only = true;
  p.daily = {
      indicator("pm25", PM25, Hour24, MicrogramsPerM3, pm25, {}, 0.1),
      indicator("pm10", PM10, Hour24, MicrogramsPerM3, pm10, {}, 1),
      indicator("o3_8h", O3, Hour8, Ppm, o3_8, "o3_1h", 0.001),
      indicator("o3_1h", O3, Hour1, Ppm, o3_1, {}, 0.001),
      indicator("co", CO, Hour8, Ppm, co, {}, 0.1),
      // Above 304 ppb the 1-h SO2 table ends: the 24-h mean decides (at least 200).
      indicator("so2", SO2, Hour1, Ppb, so2_1, "so2_24h", 1),
      indicator("no2", NO2, Hour1, Ppb, no2, {}, 1),
      so2_fallback,
  };
  // Real time: each hourly value on the table of its pollutant (no NowCast).
  p.real_time = {
      indicator("pm25", PM25, Hour1, MicrogramsPerM3, pm25, {}, 0.1),
      indicator("pm10", PM10, Hour1, MicrogramsPerM3, pm10, {}, 1),
      indicator("o3", O3, Hour1, Ppm, o3_8, "o3_1h", 0.001),
      indicator("co", CO, Hour1, Ppm, co, {}, 0.1),
      indicator("so2", SO2, Hour1, Ppb, so2_1, "so2_24h", 1),
      indicator("no2", NO2, Hour1, Ppb, no2, {}, 1),
  };
  auto o3_1_fallback = indicator("o3_1h", O3, Hour1, Ppm, o3_1, {}, 0.001);
  o3_1_fallback.fallback_only = true;
  p.real_time.push_back(o3_1_fallback);
  p.real_time.push_back(so2_fallback);
  return p;
}

std::vector<Profile> make_profiles() {
  std::vector<Profile> out;
  out.push_back(hj633("hj633-2012", china({0, 35, 75, 115, 150, 250, 350, 500}),
                      china({0, 50, 150, 250, 350, 420, 500, 600}), false));
  out.push_back(hj633("hj633-2026", china({0, 35, 60, 115, 150, 250, 350, 500}),
                      china({0, 50, 120, 250, 350, 420, 500, 600}), true));
  out.push_back(us_epa_2024());
  return out;
}

// Linear interpolation on a segment, rounded as the profile says.
int interpolate(const Profile& profile, const Segment& s, double c) {
  const double exact = s.c_hi == s.c_lo ? s.i_lo
                                        : static_cast<double>(s.i_hi - s.i_lo) / (s.c_hi - s.c_lo) * (c - s.c_lo) + s.i_lo;
  // The tolerance keeps a value that is an integer in exact arithmetic from rounding up to the next.
  const double rounded = profile.round_up ? std::ceil(exact - 1e-9) : std::floor(exact + 0.5 + 1e-9);
  return static_cast<int>(rounded);
}

const Indicator* find_indicator(const std::vector<Indicator>& indicators, std::string_view key) {
  for (const auto& i : indicators)
    if (i.key == key) return &i;
  return nullptr;
}

}  // namespace

std::string_view pollutant_key(Pollutant p) {
  switch (p) {
    case SO2: return "so2";
    case NO2: return "no2";
    case CO: return "co";
    case O3: return "o3";
    case PM10: return "pm10";
    case PM25: return "pm25";
  }
  return "";
}

std::optional<Pollutant> pollutant_from_key(std::string_view key) {
  for (std::size_t i = 0; i < kPollutantCount; ++i)
    if (pollutant_key(static_cast<Pollutant>(i)) == key) return static_cast<Pollutant>(i);
  return std::nullopt;
}

const std::vector<Profile>& profiles() {
  static const std::vector<Profile> all = make_profiles();
  return all;
}

Result<const Profile*> find_profile(std::string_view name) {
  for (const auto& p : profiles())
    if (p.name == name) return &p;
  std::string known;
  for (const auto& p : profiles()) known += (known.empty() ? "" : ", ") + p.name;
  return bad_request("unknown AQI profile '" + std::string(name) + "' (known: " + known + ")");
}

const Profile& profile_or_default(std::string_view name) {
  for (const auto& p : profiles())
    if (p.name == name) return p;
  return profiles().front();
}

std::optional<int> sub_index(const Profile& profile, const Indicator& indicator, double micrograms_per_m3) {
  if (!(micrograms_per_m3 >= 0) || indicator.segments.empty()) return std::nullopt;
  double c = from_micrograms(indicator.pollutant, indicator.unit, micrograms_per_m3);
  if (indicator.truncate_to > 0) c = std::floor(c / indicator.truncate_to + 1e-9) * indicator.truncate_to;
  const auto& segments = indicator.segments;
  // Comparisons allow for the rounding error of unit conversions (tables have at most 3 decimals).
  if (c < segments.front().c_lo - kTolerance) return std::nullopt;  // below a table above zero (EPA 1-h O3)
  if (c > segments.back().c_hi + kTolerance) {
    if (!indicator.above_table_use.empty()) return std::nullopt;
    return segments.back().i_hi;  // beyond the scale: its top
  }
  // The segment holding c: the first whose upper breakpoint is not below it (a breakpoint belongs to
  // the lower segment; both give the same index there). A value in a gap between two EPA segments
  // (possible only without truncation) goes with the upper one.
  for (const auto& s : segments)
    if (c <= s.c_hi + kTolerance) return interpolate(profile, s, std::clamp(c, s.c_lo, s.c_hi));
  return segments.back().i_hi;
}

const Category* category_of(const Profile& profile, int aqi) {
  for (const auto& c : profile.categories)
    if (aqi <= c.max_aqi) return &c;
  return profile.categories.empty() ? nullptr : &profile.categories.back();
}

AqiResult compute_aqi(const Profile& profile, const std::vector<Indicator>& indicators,
                      const std::vector<IndicatorValue>& values) {
  AqiResult out;
  auto value_of = [&](std::string_view key) -> std::optional<double> {
    for (const auto& v : values)
      if (v.key == key) return v.concentration;
    return std::nullopt;
  };
  for (const auto& indicator : indicators) {
    if (indicator.fallback_only) continue;
    const auto c = value_of(indicator.key);
    if (!c) continue;
    auto index = sub_index(profile, indicator, *c);
    if (!index && !indicator.above_table_use.empty() && *c >= 0 &&
        from_micrograms(indicator.pollutant, indicator.unit, *c) > indicator.segments.back().c_hi + kTolerance) {
      // Beyond this table: the other indicator's IAQI, from its own value when the report has one
      // (daily) or else from this value; never less than the top of this table.
      if (const auto* other = find_indicator(indicators, indicator.above_table_use)) {
        const auto other_value = value_of(other->key);
        auto other_index = sub_index(profile, *other, other_value ? *other_value : *c);
        index = std::max(other_index.value_or(0), indicator.segments.back().i_hi);
      }
    }
    if (!index) continue;
    out.iaqi.emplace_back(indicator.key, *index);
    if (!out.aqi || *index > *out.aqi) out.aqi = *index;
  }
  if (out.aqi) {
    out.category = category_of(profile, *out.aqi);
    if (*out.aqi > 50)
      for (const auto& [key, index] : out.iaqi)
        if (index == *out.aqi) out.primary.push_back(key);
  }
  return out;
}

}  // namespace ct::domains::air
