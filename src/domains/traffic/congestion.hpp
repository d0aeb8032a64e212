#pragma once
// The pure logic of the transport application (no twin, no threads): speeds in km/h, a free-flow
// speed learned per sensor, the congestion index and its level bands. Everything here is a value
// type used by one thread at a time (the application's worker); nothing allocates per reading.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace ct::domains::traffic {

// The factor that turns a speed in the unit named by a UN/CEFACT `unitCode` into km/h:
// KMH (km/h) 1, HM (mile per hour; METR-LA reports these) 1.609344, MTS (m/s) 3.6, KNT (knot) 1.852.
// An unknown code is a BadRequestData problem naming it.
Result<double> kmh_factor(std::string_view unit_code);

// A streaming estimate of the 85th percentile of a sensor's speeds (the traffic engineer's free-flow
// speed): a histogram of 1 km/h bins over [0, kMaxKmh) and a cursor on the percentile's bin, moved
// after each sample. A sample costs O(1) (the cursor moves at most a few bins; bounded by the bin
// count). Accurate to the bin width; speeds at or above kMaxKmh count in the last bin.
class FreeFlowLearner {
 public:
  static constexpr int kMaxKmh = 200;
  explicit FreeFlowLearner(double quantile = 0.85) : quantile_(quantile) {}

  void add(double kmh);
  std::uint32_t samples() const { return count_; }
  // The percentile (the middle of its bin) once there are samples, else nullopt.
  std::optional<double> estimate() const;

 private:
  double quantile_;
  std::array<std::uint32_t, kMaxKmh> bins_{};
  std::uint32_t count_ = 0;
  int cursor_ = 0;              // the bin holding the percentile
  std::uint32_t below_ = 0;     // samples in bins before the cursor
};

// One level of the congestion index: an index below `upper` (and at or above the previous level's
// upper bound) is this level.
struct CongestionLevel {
  double upper = 0;
  std::string key;   // English key written on the entity: freeFlow, basicallyFreeFlow, ...
  std::string name;  // the Chinese name: 畅通, 基本畅通, ...
};

// The congestion index of a road sensor on the 0–10 scale of China's road traffic performance index
// (交通运行指数): 10 × (1 − speed ÷ free-flow speed), clamped to [0, 10]. The default bands are the
// index's five levels at 2/4/6/8: 畅通 freeFlow, 基本畅通 basicallyFreeFlow, 轻度拥堵 lightCongestion,
// 中度拥堵 moderateCongestion, 严重拥堵 severeCongestion. At a free-flow speed of 80 km/h their speed
// bounds (64/48/32/16 km/h) are close to GB/T 33171-2016's expressway bands (65/50/35/20 km/h).
class CongestionBands {
 public:
  // The default five levels.
  CongestionBands();
  // Custom bands: upper bounds strictly increasing, the last one above 10 is not required (an index
  // past every bound is the last level). Fails on an empty list or bounds out of order.
  static Result<CongestionBands> make(std::vector<CongestionLevel> levels);

  static double index(double speed_kmh, double free_flow_kmh);
  // The level of an index (its position in levels()).
  std::size_t level_of(double index) const;
  const std::vector<CongestionLevel>& levels() const { return levels_; }

 private:
  explicit CongestionBands(std::vector<CongestionLevel> levels) : levels_(std::move(levels)) {}
  std::vector<CongestionLevel> levels_;
};

}  // namespace ct::domains::traffic
