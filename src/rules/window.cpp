#include "rules/window.hpp"

#include <algorithm>
#include <cmath>

namespace ct::rules {

void Series::add(Timestamp at, double value) {
  if (points_.empty() || points_.back().at <= at) {
    points_.push_back({at, value});
    return;
  }
  auto it = std::upper_bound(points_.begin(), points_.end(), at, [](Timestamp t, const Point& p) { return t < p.at; });
  points_.insert(it, {at, value});
}

void Series::prune(Timestamp before) {
  auto keep = std::upper_bound(points_.begin(), points_.end(), before, [](Timestamp t, const Point& p) { return t < p.at; });
  points_.erase(points_.begin(), keep);
}

std::pair<Series::Points::const_iterator, Series::Points::const_iterator> Series::range(Timestamp now,
                                                                                         std::int64_t window_ms) const {
  const Timestamp from = now - window_ms;
  auto first = std::upper_bound(points_.begin(), points_.end(), from, [](Timestamp t, const Point& p) { return t < p.at; });
  auto last = std::upper_bound(first, points_.end(), now, [](Timestamp t, const Point& p) { return t < p.at; });
  return {first, last};
}

std::size_t Series::count(Timestamp now, std::int64_t window_ms) const {
  auto [first, last] = range(now, window_ms);
  return static_cast<std::size_t>(last - first);
}

std::optional<double> Series::sum(Timestamp now, std::int64_t window_ms) const {
  auto [first, last] = range(now, window_ms);
  if (first == last) return std::nullopt;
  double total = 0;
  for (auto it = first; it != last; ++it) total += it->value;
  return total;
}

std::optional<double> Series::avg(Timestamp now, std::int64_t window_ms) const {
  auto total = sum(now, window_ms);
  if (!total) return std::nullopt;
  return *total / static_cast<double>(count(now, window_ms));
}

std::optional<double> Series::min(Timestamp now, std::int64_t window_ms) const {
  auto [first, last] = range(now, window_ms);
  if (first == last) return std::nullopt;
  return std::min_element(first, last, [](const Point& a, const Point& b) { return a.value < b.value; })->value;
}

std::optional<double> Series::max(Timestamp now, std::int64_t window_ms) const {
  auto [first, last] = range(now, window_ms);
  if (first == last) return std::nullopt;
  return std::max_element(first, last, [](const Point& a, const Point& b) { return a.value < b.value; })->value;
}

std::optional<double> Series::delta(Timestamp now, std::int64_t window_ms) const {
  auto [first, last] = range(now, window_ms);
  if (first == last) return std::nullopt;
  return std::prev(last)->value - first->value;
}

std::optional<double> Series::zscore(Timestamp now, std::int64_t window_ms) const {
  auto [first, last] = range(now, window_ms);
  const auto n = last - first;
  if (n < 4) return std::nullopt;
  const auto baseline_end = std::prev(last);
  double mean = 0;
  for (auto it = first; it != baseline_end; ++it) mean += it->value;
  mean /= static_cast<double>(n - 1);
  double variance = 0;
  for (auto it = first; it != baseline_end; ++it) variance += (it->value - mean) * (it->value - mean);
  variance /= static_cast<double>(n - 2);  // sample variance of the baseline
  if (variance <= 0) return std::nullopt;
  return (baseline_end->value - mean) / std::sqrt(variance);
}

std::optional<Timestamp> Series::first_after(Timestamp t) const {
  auto it = std::upper_bound(points_.begin(), points_.end(), t, [](Timestamp x, const Point& p) { return x < p.at; });
  if (it == points_.end()) return std::nullopt;
  return it->at;
}

std::optional<Timestamp> Series::oldest() const {
  if (points_.empty()) return std::nullopt;
  return points_.front().at;
}

Series* WindowSet::find(model::Term attribute) {
  for (auto& [name, s] : series)
    if (name == attribute) return &s;
  return nullptr;
}

const Series* WindowSet::find(model::Term attribute) const {
  for (const auto& [name, s] : series)
    if (name == attribute) return &s;
  return nullptr;
}

Series& WindowSet::at(model::Term attribute) {
  if (auto* s = find(attribute)) return *s;
  series.emplace_back(attribute, Series{});
  return series.back().second;
}

}  // namespace ct::rules
