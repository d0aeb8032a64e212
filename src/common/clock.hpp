#pragma once
// Where time comes from, for the parts of CityTwin whose behaviour depends on it passing (rule
// timers, windows and `for` durations; device liveness): they take a Clock instead of calling
// now_ms(), so that tests move time on by hand instead of sleeping and hoping.
//
// Contract:
//   - now() is the current time as epoch milliseconds (Timestamp, common/time.hpp), the same scale
//     as the timestamps the twin writes. It never goes backwards.
//   - Every Clock may be read from any thread at any time, concurrently, without a lock.
//   - A Clock is not owned by its readers: it must outlive them. system_clock() lives for the
//     whole program.
//
// Production uses system_clock() (now_ms()). Tests use ManualClock, which only moves when told; a
// component that sleeps until a deadline of its clock must be woken after advance() (each such
// component says how: RulesEngine::sync(), Ingestor's liveness round counter).
#include <atomic>
#include <chrono>

#include "common/time.hpp"

namespace ct {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

// The real wall clock (now_ms()).
class SystemClock final : public Clock {
 public:
  Timestamp now() const override { return now_ms(); }
};

inline const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

// A clock that stands still until advance() or set() (tests). Starts at the real time of its
// construction unless told otherwise, so that what it stamps sorts with what the twin stamps.
class ManualClock final : public Clock {
 public:
  ManualClock() : now_(now_ms()) {}
  explicit ManualClock(Timestamp start) : now_(start) {}
  Timestamp now() const override { return now_.load(std::memory_order_acquire); }
  void advance(std::chrono::milliseconds by) { now_.fetch_add(by.count(), std::memory_order_acq_rel); }
  // Moves it to `to` if that is later (a clock never goes backwards).
  void set(Timestamp to) {
    Timestamp current = now_.load(std::memory_order_acquire);
    while (to > current && !now_.compare_exchange_weak(current, to, std::memory_order_acq_rel)) {
    }
  }

 private:
  std::atomic<Timestamp> now_;
};

}  // namespace ct
