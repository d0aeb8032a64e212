// The generated demo city's layout: districts from the GeoJSON, and every generated entity placed
// inside them (demo_generated.hpp).
#include <spdlog/spdlog.h>

#include "app/demo_generated_world.hpp"
#include "common/text_file.hpp"
#include "domains/services/services_app.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::app {
namespace {

constexpr const char* kWaterContext =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WaterDistributionManagementEPANET/master/context.jsonld";
constexpr const char* kEnergyContext =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Energy/master/context.jsonld";
constexpr const char* kBuildingContext =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Building/master/context.jsonld";

constexpr int kDmasPerDistrict = 6, kJunctionsPerDma = 12, kPrimaryPerDistrict = 8, kTransformersPerDistrict = 100,
              kBridgesPerDistrict = 20, kHospitalsPerDistrict = 4;
constexpr std::array<std::pair<const char*, int>, 3> kUnitsPerDistrict{{{"ambulance", 3}, {"fireEngine", 2}, {"police", 4}}};

// Beijing's larger reservoirs (approximate WGS84 positions; the levels are made up).
struct ReservoirSite {
  const char* id;
  const char* name;
  LonLat at;
  double flood_control_m;
};
constexpr std::array<ReservoirSite, 6> kReservoirs{{
    {"miyun", "密云水库 Miyun", {116.95, 40.48}, 152.0},
    {"huairou", "怀柔水库 Huairou", {116.60, 40.31}, 58.0},
    {"shisanling", "十三陵水库 Shisanling", {116.25, 40.25}, 88.0},
    {"baihebao", "白河堡水库 Baihebao", {116.14, 40.61}, 602.0},
    {"haizi", "海子水库 Haizi", {117.16, 40.19}, 150.0},
    {"guanting", "官厅水库 Guanting", {115.82, 40.40}, 476.0},
}};

Status load_districts(GeneratedCity::World& w, const std::filesystem::path& file) {
  auto text = read_text_file(file);
  if (!text) return text.problem();
  auto doc = parse_json(*text);
  if (!doc || !doc->is_object() || !doc->as_object().contains("features"))
    return Problem{ProblemKind::InternalError, "generated city: " + file.string() + " is not a FeatureCollection"};
  for (const auto& feature : doc->as_object().at("features").as_array()) {
    const auto& props = feature.at("properties").as_object();
    GeneratedDistrict d;
    d.id = "urn:ngsi-ld:District:" + std::to_string(props.at("adcode").to_number<std::int64_t>());
    d.name = std::string(props.at("name").as_string());
    const auto& geometry = feature.at("geometry").as_object();
    const bool multi = geometry.at("type").as_string() == "MultiPolygon";
    auto add_polygon = [&](const json::array& polygon) {
      std::vector<LonLat> ring;
      for (const auto& p : polygon.at(0).as_array()) {
        const LonLat ll{p.at(0).to_number<double>(), p.at(1).to_number<double>()};
        d.min_lon = std::min(d.min_lon, ll[0]);
        d.max_lon = std::max(d.max_lon, ll[0]);
        d.min_lat = std::min(d.min_lat, ll[1]);
        d.max_lat = std::max(d.max_lat, ll[1]);
        ring.push_back(ll);
      }
      d.rings.push_back(std::move(ring));
    };
    if (multi)
      for (const auto& polygon : geometry.at("coordinates").as_array()) add_polygon(polygon.as_array());
    else
      add_polygon(geometry.at("coordinates").as_array());
    w.districts.push_back(std::move(d));
  }
  if (w.districts.empty()) return Problem{ProblemKind::InternalError, "generated city: no districts in " + file.string()};
  return {};
}

std::string index_id(const char* prefix, const std::string& district, int i) {
  return std::string(prefix) + district.substr(district.rfind(':') + 1) + "-" + std::to_string(i);
}

}  // namespace

bool GeneratedDistrict::contains(LonLat p) const {
  bool inside = false;
  for (const auto& ring : rings)
    for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++)
      if ((ring[i][1] > p[1]) != (ring[j][1] > p[1]) &&
          p[0] < (ring[j][0] - ring[i][0]) * (p[1] - ring[i][1]) / (ring[j][1] - ring[i][1]) + ring[i][0])
        inside = !inside;
  return inside;
}

LonLat GeneratedCity::World::random_point(std::size_t district) {
  const auto& d = districts[district];
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    const LonLat p{rng.uniform(d.min_lon, d.max_lon), rng.uniform(d.min_lat, d.max_lat)};
    if (d.contains(p)) return {std::round(p[0] * 1e6) / 1e6, std::round(p[1] * 1e6) / 1e6};
  }
  return {(d.min_lon + d.max_lon) / 2, (d.min_lat + d.max_lat) / 2};
}

json::object demo_property(json::value value, Timestamp at, const char* unit) {
  json::object p{{"type", "Property"}, {"value", std::move(value)}};
  if (unit != nullptr) p["unitCode"] = unit;
  if (at != kNoTimestamp) p["observedAt"] = format_datetime(at);
  return p;
}

json::object demo_point(LonLat p) {
  return {{"type", "GeoProperty"}, {"value", json::object{{"type", "Point"}, {"coordinates", json::array{p[0], p[1]}}}}};
}

FaultPlan fault_plan(std::uint64_t seed) {
  Rng rng{seed ^ 0xFA017ULL};
  FaultPlan f;
  f.breached_request = static_cast<Timestamp>(rng.uniform(2'000, 6'000));
  f.overload = static_cast<Timestamp>(rng.uniform(4'000, 12'000));
  f.leak = static_cast<Timestamp>(rng.uniform(27'000, 32'000));
  f.tilt = static_cast<Timestamp>(rng.uniform(28'000, 33'000));
  return f;
}

GeneratedCity::GeneratedCity(twin::Twin& twin, jsonld::ContextStore& contexts, GeneratedCityOptions options)
    : twin_(twin), contexts_(contexts), options_(std::move(options)), world_(std::make_unique<World>()) {}

GeneratedCity::~GeneratedCity() { stop(); }

Result<GeneratedCitySummary> GeneratedCity::load() {
  auto& w = *world_;
  w.rng = Rng{options_.seed};
  w.faults = fault_plan(options_.seed);
  w.categories = domains::default_service_categories();
  w.core = contexts_.core();
  for (auto [url, slot] : {std::pair{kWaterContext, &w.water}, std::pair{kEnergyContext, &w.energy},
                           std::pair{kBuildingContext, &w.building},
                           std::pair{domains::services::kIssueTrackingContextUrl.data(), &w.issue}}) {
    auto ctx = contexts_.resolve_url(url);
    if (!ctx) return ctx.problem();
    *slot = *ctx;
  }
  if (auto st = load_districts(w, options_.data_dir / "beijing-districts.geojson"); !st) return st.problem();

  GeneratedCitySummary summary;
  const Timestamp now = now_ms();
  std::vector<jsonld::DecodedEntity> entities;
  Status failed;
  auto add = [&](const json::object& body, const jsonld::Context& ctx) {
    auto decoded = jsonld::decode_entity(body, ctx, {});
    if (!decoded) {
      if (failed) failed = Problem{ProblemKind::InternalError, "generated city: " + decoded.problem().detail};
      return;
    }
    entities.push_back(std::move(decoded).value());
  };
  for (std::size_t d = 0; d < w.districts.size(); ++d) {
    const auto& district = w.districts[d].id;
    for (int m = 0; m < kDmasPerDistrict; ++m) {
      const int dma = static_cast<int>(d) * kDmasPerDistrict + m;
      const std::string tag = index_id("DMA-", district, m);
      const LonLat centre = w.random_point(d);
      GeneratedSensor inlet{index_id("urn:ngsi-ld:Pipe:inlet-", district, m), SensorKind::Inlet, d, dma,
                            std::round(w.rng.uniform(20, 60)), 1, 0};
      add({{"id", inlet.id}, {"type", "Pipe"}, {"tag", demo_property(json::string(tag))},
           {"name", demo_property(json::string("Inlet meter of " + tag))}, {"location", demo_point(centre)},
           {"diameter", demo_property(json::value(std::round(w.rng.uniform(300, 600))), kNoTimestamp, "MMT")},
           {"expectedNightFlow", demo_property(std::round(inlet.base * water_demand(3.5) * 100) / 100, kNoTimestamp, "L2")}},
          *w.water);
      w.sensors.push_back(std::move(inlet));
      ++summary.metering_areas;
      for (int j = 0; j < kJunctionsPerDma; ++j) {
        GeneratedSensor junction{index_id("urn:ngsi-ld:Junction:", district, m * 100 + j), SensorKind::Junction, d,
                                 dma, w.rng.uniform(30, 45), 1, w.rng.uniform(8, 12)};
        LonLat at = w.random_point(d);  // near the area's centre, inside the district
        for (int tries = 0; tries < 20; ++tries) {
          const LonLat p{centre[0] + w.rng.uniform(-0.02, 0.02), centre[1] + w.rng.uniform(-0.015, 0.015)};
          if (w.districts[d].contains(p)) {
            at = {std::round(p[0] * 1e6) / 1e6, std::round(p[1] * 1e6) / 1e6};
            break;
          }
        }
        add({{"id", junction.id}, {"type", "Junction"}, {"tag", demo_property(json::string(tag))},
             {"elevation", demo_property(std::round(w.rng.uniform(30, 60)), kNoTimestamp, "MTR")},
             {"location", demo_point(at)}},
            *w.water);
        w.sensors.push_back(std::move(junction));
        ++summary.junctions;
      }
    }
    for (int s = 0; s < kPrimaryPerDistrict + kTransformersPerDistrict; ++s) {
      const bool primary = s < kPrimaryPerDistrict;
      const double rated = primary ? 50'000.0 * (1 + static_cast<double>(w.rng.below(3)))
                                   : std::array<double, 4>{400, 630, 800, 1250}[w.rng.below(4)];
      GeneratedSensor sub{index_id(primary ? "urn:ngsi-ld:ThreePhaseAcMeasurement:substation-"
                                           : "urn:ngsi-ld:ThreePhaseAcMeasurement:transformer-",
                                   district, s),
                          SensorKind::Substation, d, -1, rated, w.rng.uniform(0.6, 0.9), 0};
      add({{"id", sub.id}, {"type", "ThreePhaseAcMeasurement"},
           {"name", demo_property(json::string((primary ? "110 kV substation " : "10 kV transformer ") + sub.id.substr(sub.id.rfind(':') + 1)))},
           {"ratedApparentPower", demo_property(rated, kNoTimestamp, "KVA")}, {"location", demo_point(w.random_point(d))}},
          *w.energy);
      w.sensors.push_back(std::move(sub));
      ++summary.substations;
    }
    for (int b = 0; b < kBridgesPerDistrict; ++b) {
      GeneratedSensor bridge{index_id("urn:ngsi-ld:Building:bridge-", district, b), SensorKind::Bridge, d, -1,
                             w.rng.uniform(150, 300), std::round(w.rng.uniform(-0.3, 0.3) * 1000) / 1000, 0};
      add({{"id", bridge.id}, {"type", "Building"}, {"category", demo_property(json::array{"bridge"})},
           {"name", demo_property(json::string("Bridge " + std::to_string(b + 1) + " of " + w.districts[d].name))},
           {"strainLimit", demo_property(600.0, kNoTimestamp, "59")}, {"tiltLimit", demo_property(0.5, kNoTimestamp, "DD")},
           {"vibrationLimit", demo_property(15.0, kNoTimestamp, "C16")}, {"location", demo_point(w.random_point(d))}},
          *w.building);
      w.sensors.push_back(std::move(bridge));
      ++summary.bridges;
    }
    for (int h = 0; h < kHospitalsPerDistrict; ++h) {
      GeneratedSensor hospital{index_id("urn:ngsi-ld:Building:hospital-", district, h), SensorKind::Hospital, d, -1,
                               std::round(w.rng.uniform(300, 1500)), w.rng.uniform(0.7, 0.88), 0};
      add({{"id", hospital.id}, {"type", "Building"}, {"category", demo_property(json::array{"hospital"})},
           {"name", demo_property(json::string("Hospital " + std::to_string(h + 1) + " of " + w.districts[d].name))},
           {"bedCapacity", demo_property(hospital.base)}, {"location", demo_point(w.random_point(d))}},
          *w.building);
      w.sensors.push_back(std::move(hospital));
      ++summary.hospitals;
    }
    for (const auto& [kind, count] : kUnitsPerDistrict)
      for (int u = 0; u < count; ++u) {
        GeneratedUnit unit;
        unit.id = index_id((std::string("urn:ngsi-ld:ResponseUnit:") + kind + "-").c_str(), district, u);
        unit.kind = kind;
        unit.base = unit.at = w.random_point(d);
        add({{"id", unit.id}, {"type", "ResponseUnit"}, {"kind", demo_property(json::string(kind))},
             {"available", demo_property(true)}, {"status", demo_property(json::string("available"))},
             {"name", demo_property(json::string(std::string(kind) + " " + std::to_string(u + 1) + " of " + w.districts[d].name))},
             {"location", demo_point(unit.base)}},
            *w.core);
        w.units.push_back(std::move(unit));
        ++summary.units;
      }
  }
  for (const auto& r : kReservoirs) {
    std::size_t d = 0;
    while (d < w.districts.size() && !w.districts[d].contains(r.at)) ++d;
    GeneratedSensor reservoir{std::string("urn:ngsi-ld:Reservoir:") + r.id, SensorKind::Reservoir,
                              d == w.districts.size() ? 0 : d, -1, r.flood_control_m, w.rng.uniform(1, 4), 0};
    add({{"id", reservoir.id}, {"type", "Reservoir"}, {"name", demo_property(json::string(r.name))},
         {"floodControlLevel", demo_property(r.flood_control_m, kNoTimestamp, "MTR")}, {"location", demo_point(r.at)}},
        *w.water);
    w.sensors.push_back(std::move(reservoir));
    ++summary.reservoirs;
  }
  if (!failed) return failed.problem();
  // Faults: which metering area bursts, which substation overloads, which bridge tilts.
  w.leak_dma = w.rng.below(w.districts.size() * kDmasPerDistrict);
  std::vector<std::size_t> primaries, bridges, hospitals;
  for (std::size_t i = 0; i < w.sensors.size(); ++i) {
    const auto& s = w.sensors[i];
    if (s.kind == SensorKind::Substation && s.base >= 50'000) primaries.push_back(i);
    if (s.kind == SensorKind::Bridge) bridges.push_back(i);
    if (s.kind == SensorKind::Hospital) hospitals.push_back(i);
  }
  w.overload_sensor = primaries[w.rng.below(primaries.size())];
  w.tilt_sensor = bridges[w.rng.below(bridges.size())];
  w.sensors[hospitals[w.rng.below(hospitals.size())]].scale = 0.965;  // the one that runs nearly full
  // Update, not Replace: a restart keeps what the applications wrote on them.
  auto outcome = twin_.batch_upsert("", std::move(entities), twin::UpsertMode::Update, {twin::Origin::System, {}});
  for (const auto& item : outcome.items)
    if (item.error) return Problem{ProblemKind::InternalError, "generated city: " + item.id + ": " + item.error->detail};
  summary.requests = create_request_backlog(twin_, w, now);
  return summary;
}

}  // namespace ct::app
