#include "app/demo_city.hpp"

#include <fstream>
#include <sstream>

#include "common/json.hpp"
#include "common/problem.hpp"
#include "common/text_file.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::app {
namespace {

// Splits one line of a CSV file without quoted fields (the demo files have none).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string::size_type start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!fields.empty() && !fields.back().empty() && fields.back().back() == '\r') fields.back().pop_back();
  return fields;
}

Status upsert(twin::Twin& twin, storage::Store& store, const std::string& tenant, const json::array& bodies,
              const jsonld::Context& ctx, const std::string& file) {
  std::vector<jsonld::DecodedEntity> entities;
  for (const auto& body : bodies) {
    auto decoded = jsonld::decode_entity(body.as_object(), ctx, {});
    if (!decoded) return Problem{ProblemKind::InternalError, "demo city: " + file + ": " + decoded.problem().detail};
    entities.push_back(std::move(decoded).value());
  }
  auto outcome = twin.batch_upsert(tenant, std::move(entities), twin::UpsertMode::Replace);
  for (const auto& item : outcome.items)
    if (item.error) return Problem{ProblemKind::InternalError, "demo city: " + item.id + ": " + item.error->detail};
  return store.wait_durable(outcome.sequence);
}

Result<std::size_t> load_districts(twin::Twin& twin, jsonld::ContextStore& contexts, storage::Store& store,
                                   const std::filesystem::path& file) {
  auto text = read_text_file(file);
  if (!text) return text.problem();
  auto document = parse_json(*text);
  if (!document || !document->is_object() || !document->as_object().contains("features"))
    return Problem{ProblemKind::InternalError, "demo city: " + file.string() + " is not a GeoJSON FeatureCollection"};
  json::array bodies;
  for (const auto& feature : document->as_object().at("features").as_array()) {
    const auto& properties = feature.at("properties").as_object();
    const auto adcode = properties.at("adcode").to_number<std::int64_t>();
    bodies.push_back(json::object{
        {"id", "urn:ngsi-ld:District:" + std::to_string(adcode)},
        {"type", "District"},
        {"name", json::object{{"type", "Property"}, {"value", properties.at("name")}}},
        {"adcode", json::object{{"type", "Property"}, {"value", adcode}}},
        {"location", json::object{{"type", "GeoProperty"}, {"value", feature.at("geometry")}}},
        {"centroid", json::object{{"type", "GeoProperty"},
                                  {"value", json::object{{"type", "Point"}, {"coordinates", properties.at("centroid")}}}}},
    });
  }
  if (auto st = upsert(twin, store, "", bodies, *contexts.core(), file.string()); !st) return st.problem();
  return bodies.size();
}

Result<std::size_t> load_traffic_sensors(twin::Twin& twin, jsonld::ContextStore& contexts, storage::Store& store,
                                         const std::filesystem::path& folder) {
  auto ctx = contexts.resolve_url(kTransportationContext);
  if (!ctx) return ctx.problem();
  auto sensors = read_text_file(folder / "la-traffic-sensors.csv");
  if (!sensors) return sensors.problem();
  auto speeds = read_text_file(folder / "la-traffic-speeds.csv.gz");
  if (!speeds) return speeds.problem();

  // The first two lines of the speeds file: sensor ids, then the first reading of each.
  std::istringstream speed_lines(*speeds);
  std::string header_line, first_line;
  std::getline(speed_lines, header_line);
  std::getline(speed_lines, first_line);
  const auto speed_ids = csv_fields(header_line), first = csv_fields(first_line);
  if (speed_ids.size() != first.size() || first.empty())
    return Problem{ProblemKind::InternalError, "demo city: la-traffic-speeds.csv has no first reading"};
  std::unordered_map<std::string, std::size_t> column;
  for (std::size_t i = 1; i < speed_ids.size(); ++i) column[speed_ids[i]] = i;

  json::array bodies;
  std::istringstream lines(*sensors);
  std::string line;
  std::getline(lines, line);  // header: sensor_id,latitude,longitude
  while (std::getline(lines, line)) {
    const auto f = csv_fields(line);
    if (f.size() != 3) continue;
    const auto c = column.find(f[0]);
    if (c == column.end()) return Problem{ProblemKind::InternalError, "demo city: no speeds for sensor " + f[0]};
    const double mph = std::stod(first[c->second]);
    bodies.push_back(json::object{
        {"id", "urn:ngsi-ld:TrafficFlowObserved:metr-la-" + f[0]},
        {"type", "TrafficFlowObserved"},
        {"name", json::object{{"type", "Property"}, {"value", "METR-LA loop detector " + f[0]}}},
        {"averageVehicleSpeed", json::object{{"type", "Property"},
                                             {"value", std::round(mph * 1.609344 * 10) / 10},
                                             {"unitCode", "KMH"},
                                             {"observedAt", first[0]}}},
        {"location", json::object{{"type", "GeoProperty"},
                                  {"value", json::object{{"type", "Point"},
                                                         {"coordinates", json::array{std::stod(f[2]), std::stod(f[1])}}}}}},
    });
  }
  if (auto st = upsert(twin, store, kLosAngelesTenant, bodies, **ctx, "la-traffic-sensors.csv"); !st) return st.problem();
  return bodies.size();
}

Result<std::size_t> load_air_stations(twin::Twin& twin, jsonld::ContextStore& contexts, storage::Store& store,
                                      const std::filesystem::path& file) {
  auto text = read_text_file(file);
  if (!text) return text.problem();
  std::istringstream lines(*text);
  std::string line;
  std::getline(lines, line);  // header: station,station_id,longitude,latitude
  json::array bodies;
  while (std::getline(lines, line)) {
    const auto f = csv_fields(line);
    if (f.size() != 4) continue;
    std::string id = "urn:ngsi-ld:AirQualityObserved:";
    for (char c : f[0]) id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    bodies.push_back(json::object{
        {"id", id},
        {"type", "AirQualityObserved"},
        {"name", json::object{{"type", "Property"}, {"value", f[0]}}},
        {"location", json::object{{"type", "GeoProperty"},
                                  {"value", json::object{{"type", "Point"},
                                                         {"coordinates", json::array{std::stod(f[2]), std::stod(f[3])}}}}}},
    });
  }
  // Update, not Replace: a restart keeps the stations' latest readings and AQI.
  std::vector<jsonld::DecodedEntity> entities;
  for (const auto& body : bodies) {
    auto decoded = jsonld::decode_entity(body.as_object(), *contexts.core(), {});
    if (!decoded) return Problem{ProblemKind::InternalError, "demo city: " + file.string() + ": " + decoded.problem().detail};
    entities.push_back(std::move(decoded).value());
  }
  auto outcome = twin.batch_upsert("", std::move(entities), twin::UpsertMode::Update);
  for (const auto& item : outcome.items)
    if (item.error) return Problem{ProblemKind::InternalError, "demo city: " + item.id + ": " + item.error->detail};
  if (auto st = store.wait_durable(outcome.sequence); !st) return st.problem();
  return bodies.size();
}

}  // namespace

Status configure_demo_tenants(domains::CitySettingsStore& city, storage::Store& store) {
  if (city.get(kLosAngelesTenant)->time_zone.name() != domains::TimeZone::default_zone().name()) return {};
  auto written = city.put(kLosAngelesTenant, json::object{{"timeZone", "America/Los_Angeles"}}, true);
  if (!written) return Problem{ProblemKind::InternalError, "demo city: Los Angeles settings: " + written.problem().detail};
  return store.wait_durable(written->sequence);
}

Status load_demo_road_graph(rules::RoadGraphs& roads, const std::filesystem::path& data_dir) {
  const auto file = data_dir / "la-roads.geojson";
  auto text = read_text_file(file);
  if (!text) return text.problem();
  auto document = parse_json(*text);
  if (!document) return Problem{ProblemKind::InternalError, "demo city: " + file.string() + " is not JSON"};
  auto graph = rules::RoadGraph::parse(*document);
  if (!graph) return Problem{ProblemKind::InternalError, "demo city: " + file.string() + ": " + graph.problem().detail};
  roads.put(kLosAngelesTenant, std::move(graph).value());
  return {};
}

Result<std::size_t> install_demo_rules(rules::RulesEngine& rules, const std::filesystem::path& data_dir) {
  const auto file = data_dir / "rules.json";
  auto text = read_text_file(file);
  if (!text) return text.problem();
  auto document = parse_json(*text);
  if (!document || !document->is_object() || !document->as_object().contains("rules"))
    return Problem{ProblemKind::InternalError, "demo city: " + file.string() + " has no \"rules\" list"};
  std::size_t active = 0;
  for (const auto& entry : document->as_object().at("rules").as_array()) {
    const auto& e = entry.as_object();
    const std::string tenant(e.at("tenant").as_string());
    const auto& rule = e.at("rule").as_object();
    const std::string id(rule.at("id").as_string());
    if (!rules.get(tenant, id)) {
      const std::string context = e.at("context").is_string() ? std::string(e.at("context").as_string()) : "";
      auto created = rules.create(tenant, rule, context);
      if (!created) return Problem{ProblemKind::InternalError, "demo city: rule " + id + ": " + created.problem().detail};
    }
    ++active;
  }
  return active;
}

Result<DemoCitySummary> load_demo_city(twin::Twin& twin, jsonld::ContextStore& contexts, storage::Store& store,
                                       const std::filesystem::path& data_dir) {
  DemoCitySummary summary;
  auto districts = load_districts(twin, contexts, store, data_dir / "beijing-districts.geojson");
  if (!districts) return districts.problem();
  summary.districts = *districts;
  auto sensors = load_traffic_sensors(twin, contexts, store, data_dir);
  if (!sensors) return sensors.problem();
  summary.traffic_sensors = *sensors;
  auto stations = load_air_stations(twin, contexts, store, data_dir / ".." / "beijing-air" / "stations.csv");
  if (!stations) return stations.problem();
  summary.air_stations = *stations;
  return summary;
}

}  // namespace ct::app
