#include "domains/utilities/water.hpp"

#include <algorithm>
#include <vector>

namespace ct::domains::utilities {

std::optional<NightVerdict> NightFlowTracker::observe(Timestamp day_start, Timestamp time_of_day, double flow,
                                                      const NightFlowSettings& s,
                                                      std::optional<double> configured_expected) {
  const bool in_window = time_of_day >= s.window_start && time_of_day < s.window_end;
  std::optional<NightVerdict> verdict;
  // A reading outside the window, or in the window of another night, closes the night being tracked.
  if (night_ != kNoTimestamp && (!in_window || day_start != night_)) verdict = close(s, configured_expected);
  if (in_window) {
    if (night_ != day_start) {
      night_ = day_start;
      minimum_ = flow;
      samples_ = 0;
    }
    minimum_ = std::min(minimum_, flow);
    ++samples_;
  }
  return verdict;
}

std::optional<NightVerdict> NightFlowTracker::close(const NightFlowSettings& s,
                                                    std::optional<double> configured_expected) {
  const Timestamp night = night_;
  night_ = kNoTimestamp;
  if (samples_ < s.min_samples) return std::nullopt;  // too few readings to judge the night
  NightVerdict v;
  v.night = night;
  v.minimum = minimum_;
  v.expected = configured_expected;
  if (!v.expected && normal_nights_.size() >= s.min_nights) {
    std::vector<double> sorted(normal_nights_.begin(), normal_nights_.end());
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    v.expected = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
  v.leak = v.expected && v.minimum > *v.expected * (1 + s.excess_ratio) && v.minimum - *v.expected >= s.min_excess;
  if (!v.leak) {
    normal_nights_.push_back(v.minimum);
    while (normal_nights_.size() > s.nights_kept) normal_nights_.pop_front();
  }
  leak_ = v.leak;
  last_minimum_ = v.minimum;
  return v;
}

DropChange PressureDropDetector::observe(double pressure, const PressureDropSettings& s) {
  if (samples_ < s.warmup) {
    ++samples_;
    level_ += (pressure - level_) / samples_;  // the plain mean while warming up
    return DropChange::None;
  }
  const double threshold = std::max(s.min_drop_m, s.drop_ratio * level_);
  if (pressure < level_ - threshold) {
    recovered_ = 0;
    if (!dropped_ && ++below_ >= s.hold) {
      dropped_ = true;
      below_ = 0;
      return DropChange::Started;
    }
    return DropChange::None;  // a reading well below the level is not learned from
  }
  below_ = 0;
  if (dropped_) {
    if (pressure >= level_ - threshold / 2 && ++recovered_ >= s.hold) {
      dropped_ = false;
      recovered_ = 0;
      return DropChange::Cleared;
    }
    if (pressure < level_ - threshold / 2) recovered_ = 0;
    return DropChange::None;
  }
  level_ += s.alpha * (pressure - level_);
  return DropChange::None;
}

std::optional<double> PressureDropDetector::level() const {
  if (samples_ == 0) return std::nullopt;
  return level_;
}

}  // namespace ct::domains::utilities
