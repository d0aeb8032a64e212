#pragma once
// The rules thread's timers: when a (rule, entity) state must be evaluated again without a change
// arriving (a `for` or clearFor running out, a value leaving a window, a silence to notice).
//
// Contract:
//   - Not thread-safe: one owner (the rules thread) pushes and takes.
//   - take_due(now, limit, out) moves every timer with due <= now into `out`, up to `limit`, and
//     nothing later; timers due in the same kWidth ms come out in no particular order, earlier
//     buckets before later ones.
//   - A timer is only a reminder: it names a rule runtime by serial and a state by index, and the
//     owner checks both are still the ones it was set for (a freed state may have been reused).
//   - next_due() is the earliest due time kept (kNoTimestamp when empty).
//
// Why buckets: pushing appends to the bucket's vector (timers are mostly pushed in the order they
// fall due, so mostly to the last bucket used) and taking the due ones reads a vector, where a
// binary heap of a million timers (one per watched state) costs a cache miss per level on every pop.
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_set>
#include <vector>

#include "common/time.hpp"

namespace ct::rules {

struct Timer {
  Timestamp due;
  std::uint64_t serial;         // the rule runtime it is for
  std::uint32_t state, entity;  // the state's index in that runtime, and the entity it held
  bool operator>(const Timer& o) const { return due > o.due; }
};

class TimerBuckets {
 public:
  static constexpr Timestamp kWidth = 8;  // ms of due time per bucket

  void push(const Timer& timer);
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  Timestamp next_due() const;
  // Moves up to `limit` timers due at `now` or before into `out` (appended).
  void take_due(Timestamp now, std::size_t limit, std::vector<Timer>& out);
  // Drops the timers of rule runtimes that no longer exist.
  void drop_serials(const std::unordered_set<std::uint64_t>& serials);

 private:
  struct Bucket {
    Timestamp min_due = 0, max_due = 0;
    std::vector<Timer> timers;
  };
  // The buckets by key (due / kWidth), and their keys in a min-heap: a few thousand keys, where a
  // tree of buckets cost a walk over cold nodes on every push.
  boost::unordered_flat_map<Timestamp, Bucket> buckets_;
  using Keys = std::priority_queue<Timestamp, std::vector<Timestamp>, std::greater<>>;
  Keys keys_;
  std::size_t size_ = 0;
};

}  // namespace ct::rules
