#pragma once
// The recent values of the attributes one rule watches on one entity, kept in memory for its
// window functions. Points older than the longest window are dropped as new ones arrive.
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <optional>
#include <utility>

#include "common/time.hpp"
#include "model/term.hpp"

namespace ct::rules {

struct Point {
  Timestamp at;
  double value;
};

class Series {
 public:
  // A window of the bench's shape (an update every ~20 s, one minute long) fits inline: a state's
  // points then share its cache lines instead of costing one more memory access per event.
  using Points = boost::container::small_vector<Point, 3>;

  // Keeps points in time order (an older point than the last is inserted in place).
  void add(Timestamp at, double value);
  // Drops points at or before `before` (they can no longer be in any window).
  void prune(Timestamp before);
  // Points in (now - window, now].
  std::size_t count(Timestamp now, std::int64_t window_ms) const;
  std::optional<double> avg(Timestamp now, std::int64_t window_ms) const;
  std::optional<double> min(Timestamp now, std::int64_t window_ms) const;
  std::optional<double> max(Timestamp now, std::int64_t window_ms) const;
  std::optional<double> sum(Timestamp now, std::int64_t window_ms) const;
  std::optional<double> delta(Timestamp now, std::int64_t window_ms) const;
  std::optional<double> zscore(Timestamp now, std::int64_t window_ms) const;
  // The time of the first point after `t`, if any.
  std::optional<Timestamp> first_after(Timestamp t) const;
  // The time of the oldest point kept, if any (when the next point leaves a window).
  std::optional<Timestamp> oldest() const;
  bool empty() const { return points_.empty(); }

 private:
  std::pair<Points::const_iterator, Points::const_iterator> range(Timestamp now, std::int64_t window_ms) const;
  Points points_;
};

// One Series per watched attribute; the empty term counts every update of the entity.
struct WindowSet {
  boost::container::small_vector<std::pair<model::Term, Series>, 1> series;  // rules mostly watch one attribute

  Series* find(model::Term attribute);
  const Series* find(model::Term attribute) const;
  Series& at(model::Term attribute);
};

}  // namespace ct::rules
