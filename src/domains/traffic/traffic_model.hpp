#pragma once
// The transport application's state for one tenant, without the twin: per road sensor its free-flow
// learner, jam detector and current congestion index; per district and city-wide the mean index,
// kept as running sums so that a reading costs O(1) whatever the number of sensors.
// Not thread-safe: one thread (the application's worker) owns a model.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domains/traffic/congestion.hpp"
#include "domains/traffic/jam_detector.hpp"

namespace ct::domains::traffic {

struct TrafficSettings {
  CongestionBands bands;
  JamSettings jam;
  double configured_free_flow_kmh = 0;  // > 0: every sensor's free-flow speed (unless configured per sensor)
  double free_flow_quantile = 0.85;     // else each sensor's own, learned as this percentile of its speeds
  double default_free_flow_kmh = 0;    // used until a sensor has learned its own (0: its fastest speed so far)
  std::uint32_t min_free_flow_samples = 12;  // samples before the learned free-flow speed is used
};

// What one reading changed.
struct SensorUpdate {
  double speed_kmh = 0;
  double free_flow_kmh = 0;
  double index = 0;
  std::size_t level = 0;        // position in the bands
  bool level_changed = false;   // the level differs from the sensor's previous one (or is its first)
  JamDetector::Outcome jam;
};

// Running means of the congestion index per group (a district) and over every sensor.
class CongestionAggregates {
 public:
  struct Mean {
    double sum = 0;
    std::size_t sensors = 0;
    std::optional<double> value() const { return sensors ? std::optional<double>(sum / sensors) : std::nullopt; }
  };
  // A sensor's index changed from `before` (nullopt: it had none) to `after`, in `group` ("" = none).
  void replace(const std::string& group, std::optional<double> before, double after);
  // A sensor moved from one group to another with its current index.
  void move(const std::string& from, const std::string& to, double index);
  const Mean& city() const { return city_; }
  const Mean* group(const std::string& name) const;
  const std::unordered_map<std::string, Mean>& groups() const { return groups_; }

 private:
  Mean city_;
  std::unordered_map<std::string, Mean> groups_;
};

class TrafficModel {
 public:
  explicit TrafficModel(TrafficSettings settings = {}) : settings_(std::move(settings)) {}

  // One speed reading (km/h) of sensor `id` at `t`. Readings not after the sensor's previous one
  // update its index but teach nothing and raise no jam.
  SensorUpdate observe(const std::string& id, Timestamp t, double speed_kmh);
  // A configured free-flow speed for a sensor (overrides the learned one); <= 0 removes it.
  void configure_free_flow(const std::string& id, double kmh);
  // The district a sensor lies in ("" for none); its index moves to that district's mean.
  void assign_group(const std::string& id, const std::string& group);
  bool has_sensor(const std::string& id) const { return sensors_.contains(id); }
  std::optional<std::string> group_of(const std::string& id) const;

  const CongestionAggregates& aggregates() const { return aggregates_; }
  const TrafficSettings& settings() const { return settings_; }
  // Replaces the settings; the learned state is kept (a changed quantile applies to new sensors).
  void set_settings(TrafficSettings settings) { settings_ = std::move(settings); }
  // The city's UTC offset now (it changes with daylight saving time); local time of day for the jams.
  void set_utc_offset_minutes(int minutes) { settings_.jam.utc_offset_minutes = minutes; }

 private:
  struct Sensor {
    explicit Sensor(double quantile) : learner(quantile) {}
    FreeFlowLearner learner;
    JamDetector jam;
    double configured_free_flow = 0;
    double fastest = 0;
    std::optional<double> index;
    std::optional<std::size_t> level;
    std::string group;
  };
  double free_flow(const Sensor& s) const;
  Sensor& sensor(const std::string& id);

  TrafficSettings settings_;
  std::unordered_map<std::string, Sensor> sensors_;
  CongestionAggregates aggregates_;
};

}  // namespace ct::domains::traffic
