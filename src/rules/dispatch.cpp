#include "rules/dispatch.hpp"

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/successive_shortest_path_nonnegative_weights.hpp>
#include <cmath>
#include <limits>

namespace ct::rules {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using GeoPoint = bg::model::point<double, 2, bg::cs::geographic<bg::degree>>;
using IndexPoint = bg::model::point<double, 2, bg::cs::cartesian>;  // lon/lat plane: for the nearest vertex only
using Road = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                   boost::property<boost::edge_weight_t, double>>;

constexpr double kEarthRadiusM = 6'371'008.8;

std::optional<Position> position_of(const json::value& v) {
  if (!v.is_array() || v.get_array().size() < 2 || !v.get_array()[0].is_number() || !v.get_array()[1].is_number())
    return std::nullopt;
  Position p{v.get_array()[0].to_number<double>(), v.get_array()[1].to_number<double>()};
  if (!(p.lon >= -180 && p.lon <= 180 && p.lat >= -90 && p.lat <= 90)) return std::nullopt;
  return p;
}

}  // namespace

double great_circle_m(Position a, Position b) {
  return bg::distance(GeoPoint(a.lon, a.lat), GeoPoint(b.lon, b.lat), bg::strategy::distance::haversine<double>(kEarthRadiusM));
}

std::optional<Position> representative_point(const json::value& geometry) {
  if (!geometry.is_object()) return std::nullopt;
  const auto* coordinates = geometry.get_object().if_contains("coordinates");
  if (!coordinates) return std::nullopt;
  const json::value* v = coordinates;
  while (v->is_array() && !v->get_array().empty() && v->get_array()[0].is_array()) v = &v->get_array()[0];
  return position_of(*v);
}

struct RoadGraph::Impl {
  Road reverse;  // edges point from where a unit arrives to where it came from
  std::vector<Position> nodes;
  bgi::rtree<std::pair<IndexPoint, std::size_t>, bgi::quadratic<16>> index;
  std::size_t segments = 0;

  std::size_t nearest(Position p, double& off_road_s) const {
    std::vector<std::pair<IndexPoint, std::size_t>> found;
    index.query(bgi::nearest(IndexPoint(p.lon, p.lat), 1), std::back_inserter(found));
    const std::size_t node = found.front().second;
    off_road_s = great_circle_m(p, nodes[node]) / (kOffRoadSpeedKmh / 3.6);
    return node;
  }
};

RoadGraph::RoadGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RoadGraph::~RoadGraph() = default;
std::size_t RoadGraph::junctions() const { return impl_->nodes.size(); }
std::size_t RoadGraph::segments() const { return impl_->segments; }

Result<std::shared_ptr<const RoadGraph>> RoadGraph::parse(const json::value& document) {
  const auto* o = document.if_object();
  const auto* features = o ? o->if_contains("features") : nullptr;
  if (!o || !o->contains("type") || o->at("type") != "FeatureCollection" || !features || !features->is_array())
    return bad_request("a road graph is a GeoJSON FeatureCollection of LineStrings");
  auto impl = std::make_unique<Impl>();
  std::map<std::pair<long long, long long>, std::size_t> ids;
  auto node_of = [&](Position p) {
    const auto key = std::make_pair(std::llround(p.lon * 1e7), std::llround(p.lat * 1e7));
    auto [it, added] = ids.emplace(key, impl->nodes.size());
    if (added) impl->nodes.push_back(p);
    return it->second;
  };
  struct Edge {
    std::size_t from, to;
    double seconds;
  };
  std::vector<Edge> edges;
  std::size_t index = 0;
  for (const auto& feature : features->get_array()) {
    const std::string at = "features[" + std::to_string(index++) + "]";
    const auto* f = feature.if_object();
    const auto* geometry = f ? f->if_contains("geometry") : nullptr;
    if (!geometry || !geometry->is_object() || !geometry->get_object().contains("type") ||
        geometry->get_object().at("type") != "LineString")
      return bad_request(at + ": must be a Feature with a LineString geometry");
    const auto* coordinates = geometry->get_object().if_contains("coordinates");
    if (!coordinates || !coordinates->is_array() || coordinates->get_array().size() < 2)
      return bad_request(at + ": a LineString needs at least two positions");
    double speed = 50;
    bool oneway = false;
    if (const auto* props = f->if_contains("properties"); props && props->is_object()) {
      if (const auto* s = props->get_object().if_contains("speed")) {
        if (!s->is_number() || s->to_number<double>() <= 0 || s->to_number<double>() > 1000)
          return bad_request(at + ".properties.speed: must be a speed in km/h above 0");
        speed = s->to_number<double>();
      }
      if (const auto* w = props->get_object().if_contains("oneway")) {
        if (!w->is_bool()) return bad_request(at + ".properties.oneway: must be true or false");
        oneway = w->get_bool();
      }
    }
    std::optional<std::size_t> previous;
    Position previous_at;
    for (const auto& c : coordinates->get_array()) {
      auto p = position_of(c);
      if (!p) return bad_request(at + ": positions must be [longitude, latitude] in degrees");
      const auto node = node_of(*p);
      if (previous && *previous != node) {
        const double seconds = great_circle_m(previous_at, *p) / (speed / 3.6);
        edges.push_back({*previous, node, seconds});
        if (!oneway) edges.push_back({node, *previous, seconds});
        ++impl->segments;
      }
      previous = node;
      previous_at = *p;
    }
  }
  if (impl->nodes.empty()) return bad_request("a road graph needs at least one LineString");
  if (impl->nodes.size() > 2'000'000) return bad_request("a road graph may have at most 2,000,000 junctions");
  impl->reverse = Road(impl->nodes.size());
  for (const auto& e : edges) boost::add_edge(e.to, e.from, e.seconds, impl->reverse);
  for (std::size_t i = 0; i < impl->nodes.size(); ++i)
    impl->index.insert({IndexPoint(impl->nodes[i].lon, impl->nodes[i].lat), i});
  return std::shared_ptr<const RoadGraph>(new RoadGraph(std::move(impl)));
}

std::vector<double> RoadGraph::travel_times(Position to, const std::vector<Position>& from) const {
  double arrive_s = 0;
  const auto target = impl_->nearest(to, arrive_s);
  std::vector<double> distance(impl_->nodes.size(), std::numeric_limits<double>::infinity());
  boost::dijkstra_shortest_paths(impl_->reverse, target,
                                 boost::distance_map(boost::make_iterator_property_map(
                                     distance.begin(), boost::get(boost::vertex_index, impl_->reverse))));
  std::vector<double> out;
  out.reserve(from.size());
  for (const auto& p : from) {
    double leave_s = 0;
    const auto start = impl_->nearest(p, leave_s);
    out.push_back(std::isinf(distance[start]) ? -1 : leave_s + distance[start] + arrive_s);
  }
  return out;
}

void RoadGraphs::put(const std::string& tenant, std::shared_ptr<const RoadGraph> graph) {
  std::lock_guard lock(mutex_);
  graphs_[tenant] = std::move(graph);
}
void RoadGraphs::remove(const std::string& tenant) {
  std::lock_guard lock(mutex_);
  graphs_.erase(tenant);
}
std::shared_ptr<const RoadGraph> RoadGraphs::find(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  auto it = graphs_.find(tenant);
  return it == graphs_.end() ? nullptr : it->second;
}

std::vector<Candidate> rank_units(Position at, const std::vector<Unit>& units, RankBy rank, const RoadGraph* roads) {
  std::vector<Candidate> out;
  std::vector<Position> where;
  for (const auto& u : units) {
    out.push_back({u.id, great_circle_m(at, u.at), -1, u.at});
    where.push_back(u.at);
  }
  if (roads) {
    const auto times = roads->travel_times(at, where);
    for (std::size_t i = 0; i < out.size(); ++i) out[i].travel_time_s = times[i];
  }
  const bool by_time = rank == RankBy::TravelTime && roads;
  std::stable_sort(out.begin(), out.end(), [by_time](const Candidate& a, const Candidate& b) {
    if (by_time) {
      const bool ra = a.travel_time_s >= 0, rb = b.travel_time_s >= 0;
      if (ra != rb) return ra;
      if (ra && a.travel_time_s != b.travel_time_s) return a.travel_time_s < b.travel_time_s;
    }
    if (a.distance_m != b.distance_m) return a.distance_m < b.distance_m;
    return a.unit < b.unit;
  });
  return out;
}

std::vector<int> assign_min_cost(const std::vector<std::vector<double>>& cost) {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using Flow = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, long,
                      boost::property<boost::edge_residual_capacity_t, long,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor,
                                                      boost::property<boost::edge_weight_t, long>>>>>;
  const std::size_t incidents = cost.size();
  const std::size_t units = incidents ? cost.front().size() : 0;
  std::vector<int> out(incidents, -1);
  if (incidents == 0 || units == 0) return out;
  const std::size_t source = incidents + units, sink = source + 1;
  Flow g(sink + 1);
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  auto weight = boost::get(boost::edge_weight, g);
  auto link = [&](std::size_t u, std::size_t v, long w) {
    auto e = boost::add_edge(u, v, g).first;
    auto r = boost::add_edge(v, u, g).first;
    capacity[e] = 1;
    capacity[r] = 0;
    weight[e] = w;
    weight[r] = -w;
    reverse[e] = r;
    reverse[r] = e;
    return e;
  };
  std::vector<std::pair<Traits::edge_descriptor, std::pair<std::size_t, std::size_t>>> choices;
  for (std::size_t i = 0; i < incidents; ++i) link(source, i, 0);
  for (std::size_t j = 0; j < units; ++j) link(incidents + j, sink, 0);
  for (std::size_t i = 0; i < incidents; ++i)
    for (std::size_t j = 0; j < units; ++j)
      if (cost[i][j] >= 0) choices.push_back({link(i, incidents + j, std::lround(cost[i][j] * 1000)), {i, j}});
  boost::successive_shortest_path_nonnegative_weights(g, source, sink);
  auto residual = boost::get(boost::edge_residual_capacity, g);
  for (const auto& [edge, pair] : choices)
    if (capacity[edge] - residual[edge] == 1) out[pair.first] = static_cast<int>(pair.second);
  return out;
}

}  // namespace ct::rules
