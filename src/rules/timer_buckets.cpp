#include "rules/timer_buckets.hpp"

#include <algorithm>
#include <limits>

namespace ct::rules {

void TimerBuckets::push(const Timer& timer) {
  const Timestamp key = timer.due / kWidth;
  auto [it, fresh] = buckets_.try_emplace(key);
  if (fresh) keys_.push(key);
  Bucket& b = it->second;
  if (b.timers.empty() || timer.due < b.min_due) b.min_due = timer.due;
  if (b.timers.empty() || timer.due > b.max_due) b.max_due = timer.due;
  b.timers.push_back(timer);
  ++size_;
}

Timestamp TimerBuckets::next_due() const {
  return keys_.empty() ? kNoTimestamp : buckets_.find(keys_.top())->second.min_due;
}

void TimerBuckets::take_due(Timestamp now, std::size_t limit, std::vector<Timer>& out) {
  while (out.size() < limit && !keys_.empty()) {
    auto first = buckets_.find(keys_.top());
    Bucket& b = first->second;
    if (b.min_due > now) return;
    if (b.max_due <= now) {  // all due: take from the back
      while (!b.timers.empty() && out.size() < limit) {
        out.push_back(b.timers.back());
        b.timers.pop_back();
        --size_;
      }
      if (!b.timers.empty()) return;  // `limit` reached; min/max still bound what is left
    } else {                          // the bucket `now` falls in: take the due ones, keep the rest
      std::size_t kept = 0;
      Timestamp min_due = std::numeric_limits<Timestamp>::max();
      for (const Timer& t : b.timers) {
        if (t.due <= now && out.size() < limit) {
          out.push_back(t);
          --size_;
        } else {
          b.timers[kept++] = t;
          min_due = std::min(min_due, t.due);
        }
      }
      b.timers.resize(kept);
      if (kept > 0) {
        b.min_due = min_due;
        return;
      }
    }
    buckets_.erase(first);
    keys_.pop();
  }
}

void TimerBuckets::drop_serials(const std::unordered_set<std::uint64_t>& serials) {
  std::vector<Timestamp> emptied;
  for (auto& [key, bucket] : buckets_) {
    auto& timers = bucket.timers;
    size_ -= std::erase_if(timers, [&](const Timer& t) { return serials.count(t.serial) > 0; });
    if (timers.empty()) {
      emptied.push_back(key);
      continue;
    }
    auto by_due = [](const Timer& a, const Timer& b) { return a.due < b.due; };
    bucket.min_due = std::min_element(timers.begin(), timers.end(), by_due)->due;
    bucket.max_due = std::max_element(timers.begin(), timers.end(), by_due)->due;
  }
  for (auto key : emptied) buckets_.erase(key);
  Keys kept;
  for (const auto& [key, bucket] : buckets_) kept.push(key);
  keys_ = std::move(kept);
}

}  // namespace ct::rules
