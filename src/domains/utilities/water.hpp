#pragma once
// Leak indicators of a water district metering area (DMA): pure logic over one meter's readings,
// given in time order by the caller (utilities_app.hpp feeds them from the twin).
//
// - Minimum night flow (MNF): the smallest inflow of a DMA in the night window (local 02:00–04:00 by
//   default), when legitimate use is lowest, so that what remains is mostly leakage. A night whose MNF
//   is well above the expected one (configured, else the median of the DMA's recent normal nights)
//   indicates a leak; the next normal night clears it.
// - Pressure drop: a junction's pressure falling well below its own recent level (a burst draws the
//   network down) and staying there for a few readings; recovering clears it.
#include <cstdint>
#include <deque>
#include <optional>

#include "common/time.hpp"

namespace ct::domains::utilities {

struct NightFlowSettings {
  Timestamp window_start = 2 * 3'600'000;  // local time of day the night window opens
  Timestamp window_end = 4 * 3'600'000;    // ... and closes
  double excess_ratio = 0.3;    // a leak: MNF > expected × (1 + excess_ratio) ...
  double min_excess = 0.5;      // ... and at least this many L/s above it
  std::size_t min_samples = 3;  // readings a night needs to be judged
  std::size_t nights_kept = 7;  // the expected MNF: median of up to this many previous normal nights ...
  std::size_t min_nights = 3;   // ... once there are this many
};

struct NightVerdict {
  Timestamp night = kNoTimestamp;   // start of the local day the window belonged to
  double minimum = 0;               // the night's minimum flow, L/s
  std::optional<double> expected;   // the MNF expected, when known
  bool leak = false;
};

class NightFlowTracker {
 public:
  // One inflow reading (L/s) of the local day starting at `day_start`, `time_of_day` ms after local
  // midnight. Returns the verdict of a night window when this reading closes one.
  std::optional<NightVerdict> observe(Timestamp day_start, Timestamp time_of_day, double flow,
                                      const NightFlowSettings& settings, std::optional<double> configured_expected);
  bool leak() const { return leak_; }
  std::optional<double> last_minimum() const { return last_minimum_; }

 private:
  std::optional<NightVerdict> close(const NightFlowSettings& settings, std::optional<double> configured_expected);

  Timestamp night_ = kNoTimestamp;  // the day whose window is being tracked
  double minimum_ = 0;
  std::size_t samples_ = 0;
  std::deque<double> normal_nights_;
  std::optional<double> last_minimum_;
  bool leak_ = false;
};

struct PressureDropSettings {
  std::uint32_t warmup = 6;   // readings averaged before anything is judged
  double alpha = 0.05;        // the recent level: an exponential average with this weight per reading
  double min_drop_m = 5;      // a drop: below the level by max(min_drop_m, drop_ratio × level) ...
  double drop_ratio = 0.15;
  int hold = 2;               // ... for this many readings in a row; back above level − threshold/2 as long to clear
};

enum class DropChange { None, Started, Cleared };

class PressureDropDetector {
 public:
  // One pressure reading (metres of head).
  DropChange observe(double pressure_m, const PressureDropSettings& settings);
  bool dropped() const { return dropped_; }
  // The recent level, once warmed up.
  std::optional<double> level() const;

 private:
  double level_ = 0;
  std::uint32_t samples_ = 0;
  int below_ = 0, recovered_ = 0;
  bool dropped_ = false;
};

}  // namespace ct::domains::utilities
