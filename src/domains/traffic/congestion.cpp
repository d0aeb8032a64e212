#include "domains/traffic/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace ct::domains::traffic {

Result<double> kmh_factor(std::string_view unit_code) {
  if (unit_code == "KMH") return 1.0;
  if (unit_code == "HM") return 1.609344;
  if (unit_code == "MTS") return 3.6;
  if (unit_code == "KNT") return 1.852;
  return Problem{ProblemKind::BadRequestData,
                 "speed unitCode '" + std::string(unit_code) + "' is not one of KMH, HM (mph), MTS (m/s), KNT"};
}

void FreeFlowLearner::add(double kmh) {
  if (!std::isfinite(kmh) || kmh < 0) return;
  const int bin = std::min(static_cast<int>(kmh), kMaxKmh - 1);
  ++bins_[static_cast<std::size_t>(bin)];
  ++count_;
  if (bin < cursor_) ++below_;
  // The percentile's rank: the smallest bin whose cumulative count reaches it.
  const auto rank = static_cast<std::uint32_t>(std::ceil(quantile_ * count_));
  // The smallest bin whose cumulative count reaches the rank; it always holds samples.
  auto at = [this](int i) { return bins_[static_cast<std::size_t>(i)]; };
  while (below_ + at(cursor_) < rank) below_ += at(cursor_++);
  while (cursor_ > 0 && below_ >= rank) below_ -= at(--cursor_);
}

std::optional<double> FreeFlowLearner::estimate() const {
  if (count_ == 0) return std::nullopt;
  return cursor_ + 0.5;
}

CongestionBands::CongestionBands()
    : levels_{{2, "freeFlow", "畅通"},
              {4, "basicallyFreeFlow", "基本畅通"},
              {6, "lightCongestion", "轻度拥堵"},
              {8, "moderateCongestion", "中度拥堵"},
              {10, "severeCongestion", "严重拥堵"}} {}

Result<CongestionBands> CongestionBands::make(std::vector<CongestionLevel> levels) {
  if (levels.empty()) return Problem{ProblemKind::BadRequestData, "congestion bands: at least one level is needed"};
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].key.empty()) return Problem{ProblemKind::BadRequestData, "congestion bands: a level has no key"};
    if (i > 0 && !(levels[i].upper > levels[i - 1].upper))
      return Problem{ProblemKind::BadRequestData,
                     "congestion bands: the upper bound of '" + levels[i].key + "' is not above the previous one"};
  }
  return CongestionBands(std::move(levels));
}

double CongestionBands::index(double speed_kmh, double free_flow_kmh) {
  if (!(free_flow_kmh > 0)) return 0;
  return std::clamp(10.0 * (1.0 - speed_kmh / free_flow_kmh), 0.0, 10.0);
}

std::size_t CongestionBands::level_of(double index) const {
  for (std::size_t i = 0; i + 1 < levels_.size(); ++i)
    if (index < levels_[i].upper) return i;
  return levels_.size() - 1;
}

}  // namespace ct::domains::traffic
