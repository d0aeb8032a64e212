#pragma once
// The synthetic but realistic sensor signals of the history benchmarks: one year of 1-minute
// readings, deterministic (fixed seeds), so sizes are reproducible across runs and machines.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "history/series_codec.hpp"

namespace ct::history::bench {

constexpr Timestamp kMinute = 60'000;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = 24 * kHour;
constexpr Timestamp kYearStart = 1'672'531'200'000;  // 2023-01-01T00:00:00Z, a Sunday
constexpr std::size_t kYearPoints = 525'600;

// splitmix64 and Box-Muller: a fixed, portable random stream.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double normal() {
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v);
  }

 private:
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

inline double round_to_tenth(double x) { return std::round(x * 10) / 10; }  // as "21.3" parses from JSON

// Outdoor temperature in degrees C at 0.1 resolution: seasonal and daily cycles, weather as a slow
// random walk pulled back to the climate (about 1.6 C spread), and sensor noise (0.04 C, about
// an SHT3x's repeatability), which makes the last digit flicker.
inline std::vector<SeriesPoint> temperature_year() {
  Random rng(1);
  std::vector<SeriesPoint> points;
  points.reserve(kYearPoints);
  double weather = 0;
  for (std::size_t i = 0; i < kYearPoints; ++i) {
    const double day = static_cast<double>(i) / 1440;
    const double hour = static_cast<double>(i % 1440) / 60;
    const double seasonal = 11 - 9 * std::cos(2 * std::numbers::pi * (day - 20) / 365);
    const double daily = (4 + 1.5 * std::cos(2 * std::numbers::pi * (day - 200) / 365)) *
                         std::sin(2 * std::numbers::pi * (hour - 9) / 24);
    weather = 0.9995 * weather + 0.05 * rng.normal();
    const double x = seasonal + daily + weather + 0.04 * rng.normal();
    points.push_back({kYearStart + static_cast<Timestamp>(i) * kMinute, round_to_tenth(x)});
  }
  return points;
}

// PM2.5 in ug/m3 at 0.1 resolution, as a low-cost optical sensor reports it: a background level
// driven by multi-day weather episodes (log-normal), weekday rush-hour peaks, winter heating,
// and about 10% multiplicative measurement noise, so the value changes nearly every minute.
inline std::vector<SeriesPoint> pm25_year(Timestamp jitter_ms = 0) {
  Random rng(2);
  std::vector<SeriesPoint> points;
  points.reserve(kYearPoints);
  double episode = 0;
  for (std::size_t i = 0; i < kYearPoints; ++i) {
    const double day = static_cast<double>(i) / 1440;
    const double hour = static_cast<double>(i % 1440) / 60;
    const bool weekday = (i / 1440) % 7 != 0 && (i / 1440) % 7 != 6;
    episode = 0.9998 * episode + 0.02 * rng.normal();
    const double heating = 4 * (1 + std::cos(2 * std::numbers::pi * (day - 15) / 365)) / 2;
    const double traffic = (weekday ? 1.0 : 0.4) * (9 * std::exp(-std::pow((hour - 8) / 1.5, 2)) +
                                                    7 * std::exp(-std::pow((hour - 18) / 2.0, 2)));
    const double x = (8 * std::exp(episode) + heating + traffic) * (1 + 0.1 * rng.normal());
    Timestamp t = kYearStart + static_cast<Timestamp>(i) * kMinute;
    if (jitter_ms > 0) t += static_cast<Timestamp>(rng.uniform() * static_cast<double>(jitter_ms));
    points.push_back({t, std::max(0.0, round_to_tenth(x))});
  }
  return points;
}


}  // namespace ct::history::bench
