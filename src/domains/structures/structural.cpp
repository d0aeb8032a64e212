#include "domains/structures/structural.hpp"

#include <cmath>

namespace ct::domains::structures {

std::string_view structural_state_name(StructuralState state) {
  switch (state) {
    case StructuralState::Normal: return "normal";
    case StructuralState::Warning: return "warning";
    case StructuralState::Alarm: return "alarm";
  }
  return "normal";
}

std::string_view flood_state_name(FloodState state) {
  switch (state) {
    case FloodState::Normal: return "normal";
    case FloodState::NearFloodControl: return "nearFloodControl";
    case FloodState::AboveFloodControl: return "aboveFloodControl";
  }
  return "normal";
}

BridgeMonitor::Outcome BridgeMonitor::observe(const BridgeReading& r, const BridgeLimits& limits) {
  Outcome o;
  auto consider = [&](double ratio, const char* cause) {
    if (ratio > o.worst_ratio || o.cause.empty()) {
      o.worst_ratio = ratio;
      o.cause = cause;
    }
  };
  if (r.strain_ue) consider(std::abs(*r.strain_ue) / limits.strain_ue, "strain");
  if (r.vibration_mms) consider(std::abs(*r.vibration_mms) / limits.vibration_mms, "vibration");
  if (r.tilt_deg) {
    if (tilt_samples_ < limits.baseline_readings) {
      ++tilt_samples_;
      tilt_baseline_ += (*r.tilt_deg - tilt_baseline_) / tilt_samples_;
    } else {
      o.tilt_change_deg = *r.tilt_deg - tilt_baseline_;
      consider(std::abs(*o.tilt_change_deg) / limits.tilt_deg, "tilt");
    }
  }
  StructuralState next = state_;
  over_ = o.worst_ratio >= 1 ? over_ + 1 : 0;
  calm_ = o.worst_ratio < limits.warning ? calm_ + 1 : 0;
  if (state_ == StructuralState::Alarm) {
    if (calm_ >= limits.hold) next = StructuralState::Normal;
  } else if (over_ >= limits.hold) {
    next = StructuralState::Alarm;
  } else {
    next = o.worst_ratio >= limits.warning ? StructuralState::Warning : StructuralState::Normal;
  }
  o.changed = next != state_;
  state_ = next;
  o.state = state_;
  return o;
}

DamMonitor::Outcome DamMonitor::observe(double level, double flood_control, const DamSettings& s) {
  Outcome o;
  o.above_m = level - flood_control;
  // Entering a higher state needs the plain threshold; leaving one needs the hysteresis below it.
  FloodState next;
  if (o.above_m > 0) next = FloodState::AboveFloodControl;
  else if (o.above_m > -s.near_m) next = FloodState::NearFloodControl;
  else next = FloodState::Normal;
  if (next < state_) {
    const double bound = state_ == FloodState::AboveFloodControl ? 0 : -s.near_m;
    if (o.above_m > bound - s.hysteresis_m) next = state_;
  }
  o.changed = next != state_;
  state_ = next;
  o.state = state_;
  return o;
}

}  // namespace ct::domains::structures
