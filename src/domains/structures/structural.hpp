#pragma once
// Structural health: pure logic over one structure's readings in time order.
//
// Bridges: strain (µε), tilt (degrees) and vibration (peak velocity, mm/s) each against a limit.
// Strain and vibration count in absolute value; tilt as its change from the bridge's own baseline
// (the mean of its first readings), since a bridge is not built level to the sensor. The worst
// ratio of the three decides: warning from `warning` × limit, alarm once a ratio has been at or
// over 1 for `hold` readings in a row; an alarm clears once every ratio has stayed below `warning`
// as long.
// Dams and reservoirs: the water level (m above datum) against the flood-control level (汛限水位):
// near it within `near_m` below, above it over it; leaving a state needs `hysteresis_m` of margin.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ct::domains::structures {

enum class StructuralState { Normal, Warning, Alarm };
std::string_view structural_state_name(StructuralState state);  // "normal", "warning", "alarm"

struct BridgeLimits {
  double strain_ue = 600;       // microstrain
  double tilt_deg = 0.5;        // change from the baseline
  double vibration_mms = 15;    // peak particle velocity
  double warning = 0.8;         // share of a limit that warns
  int hold = 2;
  std::uint32_t baseline_readings = 5;
};

struct BridgeReading {
  std::optional<double> strain_ue, tilt_deg, vibration_mms;
};

class BridgeMonitor {
 public:
  struct Outcome {
    StructuralState state = StructuralState::Normal;
    bool changed = false;
    double worst_ratio = 0;       // the largest measure / limit of this reading
    std::string cause;            // the measure behind it: "strain", "tilt", "vibration"
    std::optional<double> tilt_change_deg;
  };
  Outcome observe(const BridgeReading& reading, const BridgeLimits& limits);
  StructuralState state() const { return state_; }

 private:
  StructuralState state_ = StructuralState::Normal;
  double tilt_baseline_ = 0;
  std::uint32_t tilt_samples_ = 0;
  int over_ = 0, calm_ = 0;
};

enum class FloodState { Normal, NearFloodControl, AboveFloodControl };
std::string_view flood_state_name(FloodState state);  // "normal", "nearFloodControl", "aboveFloodControl"

struct DamSettings {
  double near_m = 0.5;
  double hysteresis_m = 0.1;
};

class DamMonitor {
 public:
  struct Outcome {
    FloodState state = FloodState::Normal;
    bool changed = false;
    double above_m = 0;  // level − flood-control level (negative: below)
  };
  Outcome observe(double level_m, double flood_control_m, const DamSettings& settings);
  FloodState state() const { return state_; }

 private:
  FloodState state_ = FloodState::Normal;
};

}  // namespace ct::domains::structures
