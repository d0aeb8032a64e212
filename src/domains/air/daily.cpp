#include "domains/air/daily.hpp"

#include <algorithm>
#include <cmath>

#include "domains/air/units.hpp"

namespace ct::domains::air {
namespace {

constexpr std::size_t kMinHoursPerDay = 20;    // GB 3095: a 24-hour mean needs 20 hourly values
constexpr std::size_t kWindowHours = 8;
constexpr std::size_t kMinHoursPerWindow = 6;  // an 8-hour mean needs 6

std::optional<double> day_mean(const std::vector<std::optional<double>>& hours) {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& v : hours)
    if (v) sum += *v, ++n;
  if (n < kMinHoursPerDay) return std::nullopt;
  return sum / static_cast<double>(n);
}

std::optional<double> largest_window_mean(const std::vector<std::optional<double>>& hours) {
  std::optional<double> best;
  for (std::size_t start = 0; start + kWindowHours <= hours.size(); ++start) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t h = start; h < start + kWindowHours; ++h)
      if (hours[h]) sum += *hours[h], ++n;
    if (n < kMinHoursPerWindow) continue;
    const double mean = sum / static_cast<double>(n);
    if (!best || mean > *best) best = mean;
  }
  return best;
}

std::optional<double> largest(const std::vector<std::optional<double>>& hours) {
  std::optional<double> best;
  for (const auto& v : hours)
    if (v && (!best || *v > *best)) best = *v;
  return best;
}

}  // namespace

DailyReport compute_daily(const Profile& profile, const DayHours& day) {
  DailyReport report;
  report.profile = profile.name;
  for (const auto& indicator : profile.daily) {
    const auto& hours = day.values[static_cast<std::size_t>(indicator.pollutant)];
    std::optional<double> value;
    switch (indicator.averaging) {
      case Averaging::Hour24: value = day_mean(hours); break;
      case Averaging::Hour8: value = largest_window_mean(hours); break;
      case Averaging::Hour1: value = largest(hours); break;
    }
    if (value) report.concentrations.push_back({indicator.key, *value});
  }
  report.result = compute_aqi(profile, profile.daily, report.concentrations);
  for (std::size_t h = 0; h < day.hours; ++h) {
    bool any = false;
    for (const auto& series : day.values) any = any || (h < series.size() && series[h]);
    report.hours_with_data += any;
  }
  return report;
}

json::object daily_report_json(const Profile& profile, const DailyReport& report) {
  json::object out{{"id", report.id}, {"date", format_local_date(report.date)}, {"profile", report.profile}};
  if (report.result.aqi) {
    out["aqi"] = *report.result.aqi;
    out["level"] = report.result.category->key;
    out["levelName"] = report.result.category->name;
    out["levelEnglish"] = report.result.category->english;
    out["colour"] = report.result.category->colour;
  } else {
    out["aqi"] = nullptr;
    out["level"] = nullptr;
  }
  json::array primary;
  for (const auto& key : report.result.primary) primary.emplace_back(key);
  out["primaryPollutants"] = std::move(primary);
  json::object iaqi;
  for (const auto& [key, index] : report.result.iaqi) iaqi[key] = index;
  out["iaqi"] = std::move(iaqi);
  json::object concentrations, units;
  for (const auto& indicator : profile.daily) {
    if (indicator.fallback_only) continue;
    for (const auto& v : report.concentrations) {
      if (v.key != indicator.key) continue;
      const double c = from_micrograms(indicator.pollutant, indicator.unit, v.concentration);
      concentrations[v.key] = std::round(c * 1000) / 1000;
      units[v.key] = table_unit_name(indicator.unit);
    }
  }
  out["concentrations"] = std::move(concentrations);
  out["units"] = std::move(units);
  out["hours"] = report.hours_with_data;
  return out;
}

}  // namespace ct::domains::air
