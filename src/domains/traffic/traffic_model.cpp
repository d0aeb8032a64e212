#include "domains/traffic/traffic_model.hpp"

#include <algorithm>

namespace ct::domains::traffic {

void CongestionAggregates::replace(const std::string& group, std::optional<double> before, double after) {
  auto apply = [&](Mean& m) {
    if (before) m.sum -= *before;
    else ++m.sensors;
    m.sum += after;
  };
  apply(city_);
  if (!group.empty()) apply(groups_[group]);
}

void CongestionAggregates::move(const std::string& from, const std::string& to, double index) {
  if (from == to) return;
  if (!from.empty()) {
    auto& m = groups_[from];
    m.sum -= index;
    --m.sensors;
  }
  if (!to.empty()) {
    auto& m = groups_[to];
    m.sum += index;
    ++m.sensors;
  }
}

const CongestionAggregates::Mean* CongestionAggregates::group(const std::string& name) const {
  const auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

double TrafficModel::free_flow(const Sensor& s) const {
  if (s.configured_free_flow > 0) return s.configured_free_flow;
  if (settings_.configured_free_flow_kmh > 0) return settings_.configured_free_flow_kmh;
  if (s.learner.samples() >= settings_.min_free_flow_samples) return *s.learner.estimate();
  if (settings_.default_free_flow_kmh > 0) return settings_.default_free_flow_kmh;
  return s.fastest;
}

TrafficModel::Sensor& TrafficModel::sensor(const std::string& id) {
  auto it = sensors_.find(id);
  if (it == sensors_.end()) it = sensors_.emplace(id, Sensor(settings_.free_flow_quantile)).first;
  return it->second;
}

SensorUpdate TrafficModel::observe(const std::string& id, Timestamp t, double speed_kmh) {
  auto& s = sensor(id);
  SensorUpdate u;
  u.speed_kmh = speed_kmh;
  u.jam = s.jam.observe(t, speed_kmh, settings_.jam);
  if (u.jam.in_order) s.learner.add(speed_kmh);
  s.fastest = std::max(s.fastest, speed_kmh);
  u.free_flow_kmh = free_flow(s);
  u.index = CongestionBands::index(speed_kmh, u.free_flow_kmh);
  u.level = settings_.bands.level_of(u.index);
  u.level_changed = !s.level || *s.level != u.level;
  aggregates_.replace(s.group, s.index, u.index);
  s.index = u.index;
  s.level = u.level;
  return u;
}

void TrafficModel::configure_free_flow(const std::string& id, double kmh) {
  sensor(id).configured_free_flow = kmh > 0 ? kmh : 0;
}

void TrafficModel::assign_group(const std::string& id, const std::string& group) {
  auto& s = sensor(id);
  if (s.index) aggregates_.move(s.group, group, *s.index);
  s.group = group;
}

std::optional<std::string> TrafficModel::group_of(const std::string& id) const {
  const auto it = sensors_.find(id);
  if (it == sensors_.end()) return std::nullopt;
  return it->second.group;
}

}  // namespace ct::domains::traffic
