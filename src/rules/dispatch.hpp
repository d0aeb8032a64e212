#pragma once
// Choosing response units: by great-circle distance, or by travel time over a road graph when the
// tenant has one, and the assignment of several incidents at once with the smallest total cost.
//
// A road graph is a GeoJSON FeatureCollection of LineStrings, each with properties.speed (km/h,
// default 50) and optional properties.oneway (true: only in the order of its coordinates).
// Consecutive positions are road segments; positions shared by LineStrings (equal to 1e-7 degree)
// are junctions. A point off the network reaches its nearest junction or vertex in a straight line
// at kOffRoadSpeedKmh. Shortest paths are Boost.Graph's dijkstra_shortest_paths; the assignment is a
// min-cost flow (Boost.Graph's successive_shortest_path_nonnegative_weights).
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"

namespace ct::rules {

inline constexpr double kOffRoadSpeedKmh = 20;

enum class RankBy : std::uint8_t { Distance, TravelTime };

struct Position {
  double lon = 0, lat = 0;
};

struct Unit {
  std::string id;
  Position at;
};

struct Candidate {
  std::string unit;
  double distance_m = 0;       // great-circle, from the incident
  double travel_time_s = -1;   // over the road graph; -1 without one (or unreachable)
  Position at;
};

class RoadGraph {
 public:
  // BadRequestData naming the feature at fault.
  static Result<std::shared_ptr<const RoadGraph>> parse(const json::value& feature_collection);
  ~RoadGraph();
  // Seconds from `from` to every target (negative when unreachable).
  std::vector<double> travel_times(Position from, const std::vector<Position>& targets) const;
  std::size_t junctions() const;
  std::size_t segments() const;

  struct Impl;

 private:
  explicit RoadGraph(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The road graph of each tenant (in memory; the HTTP layer persists its source document).
class RoadGraphs {
 public:
  void put(const std::string& tenant, std::shared_ptr<const RoadGraph> graph);
  void remove(const std::string& tenant);
  std::shared_ptr<const RoadGraph> find(const std::string& tenant) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const RoadGraph>> graphs_;
};

double great_circle_m(Position a, Position b);
std::optional<Position> representative_point(const json::value& geometry);  // a Point, or the first position

// Ranks `units` for an incident at `at`: by distance, or by travel time when `roads` is given
// (units it cannot reach come last, by distance).
std::vector<Candidate> rank_units(Position at, const std::vector<Unit>& units, RankBy rank, const RoadGraph* roads);

// For cost[i][j] (incident i, unit j; negative: impossible), a unit index for each incident
// (-1 when there are fewer reachable units than incidents) minimising the total cost.
std::vector<int> assign_min_cost(const std::vector<std::vector<double>>& cost);

}  // namespace ct::rules
