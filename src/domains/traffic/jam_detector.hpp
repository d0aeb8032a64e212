#pragma once
// Congestion events: a sensor's speed falls well below its usual speed for that time of day and stays
// there. Recurrent congestion (every weekday's rush hour) is the usual speed, so it raises nothing;
// an accident or closure does. Pure logic for one sensor; the caller gives readings in time order.
#include <cstdint>
#include <optional>
#include <vector>

#include "common/time.hpp"

namespace ct::domains::traffic {

struct JamSettings {
  int bucket_minutes = 30;           // the time-of-day resolution of the usual speed
  bool split_weekends = true;        // weekends (Saturday, Sunday) have their own usual speeds
  int utc_offset_minutes = 0;        // local time = UTC + this (the city's time zone)
  std::uint32_t min_baseline = 12;   // samples a bucket needs before its usual speed is trusted (two days at 5-minute steps)
  std::uint32_t baseline_memory = 16;  // the usual speed is a running mean, then an average over about this many days
  double drop_ratio = 0.5;           // "well below": speed < drop_ratio × usual ...
  double min_drop_kmh = 20;          // ... and at least this much below it
  Timestamp hold_ms = 20 * 60'000;   // a jam is raised once the drop has lasted this long
  double recover_ratio = 0.8;        // recovered: speed ≥ recover_ratio × usual ...
  Timestamp recover_hold_ms = 10 * 60'000;  // ... for this long
};

// The usual speed of one sensor per time-of-day bucket (local time; weekdays and weekends apart unless
// told otherwise): a running mean of the bucket's
// samples, turning into an exponential average once it has `baseline_memory` of them, so that it
// follows slow change. Samples taken while a jam is on are left out (an incident is not "usual").
class TimeOfDayBaseline {
 public:
  std::size_t bucket_of(Timestamp t, const JamSettings& s) const;
  // The usual speed at t, once its bucket has enough samples.
  std::optional<double> usual(Timestamp t, const JamSettings& s) const;
  void learn(Timestamp t, double kmh, const JamSettings& s);

 private:
  struct Bucket {
    double mean = 0;
    std::uint32_t samples = 0;
  };
  std::vector<Bucket> buckets_;  // one per bucket of the day, allocated at the first sample
};

enum class JamChange { None, Started, Cleared };

// One sensor's jam state machine over its readings.
class JamDetector {
 public:
  struct Outcome {
    bool in_order = false;            // false: the reading was not after the previous one, and ignored
    JamChange change = JamChange::None;
    std::optional<double> usual_kmh;  // the usual speed for this time of day, when known
    Timestamp since = kNoTimestamp;   // a started jam: when the drop began; a cleared one: when it began too
  };

  // Judges one reading (km/h) against the usual speed, then learns from it. Readings not after the
  // previous one are ignored (Outcome with no change).
  Outcome observe(Timestamp t, double kmh, const JamSettings& s);
  bool jammed() const { return jammed_; }
  Timestamp jam_since() const { return jam_since_; }
  const TimeOfDayBaseline& baseline() const { return baseline_; }

 private:
  TimeOfDayBaseline baseline_;
  Timestamp last_ = kNoTimestamp;
  bool jammed_ = false;
  Timestamp drop_since_ = kNoTimestamp;     // start of the current run of "well below" readings
  Timestamp recover_since_ = kNoTimestamp;  // start of the current run of recovered readings
  Timestamp jam_since_ = kNoTimestamp;
};

}  // namespace ct::domains::traffic
