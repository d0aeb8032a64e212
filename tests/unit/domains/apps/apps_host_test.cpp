// The utilities, services and structures applications on a real twin and store, through the host:
// bad input gets a problem detail naming it on the entity (and is counted), valid readings and
// requests get their results written back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "domains/catalog.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/host.hpp"
#include "domains/core/kpi.hpp"
#include "domains/services/services_app.hpp"
#include "rules/incidents.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::domains {
namespace {

constexpr std::string_view kWater =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WaterDistributionManagementEPANET/master/context.jsonld";
constexpr std::string_view kEnergy = "https://raw.githubusercontent.com/smart-data-models/dataModel.Energy/master/context.jsonld";
constexpr std::string_view kBuilding = "https://raw.githubusercontent.com/smart-data-models/dataModel.Building/master/context.jsonld";

class AppsHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-apps-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    settings_ = std::make_unique<CitySettingsStore>(*store_);
    kpis_ = std::make_unique<KpiPublisher>(*twin_, contexts_);
    // One square district around (116.4, 39.9).
    write(R"({"id": "urn:ngsi-ld:District:1", "type": "District",
              "location": {"type": "GeoProperty", "value": {"type": "Polygon",
                "coordinates": [[[116.3, 39.8], [116.5, 39.8], [116.5, 40.0], [116.3, 40.0], [116.3, 39.8]]]}}})");
    incidents_ = std::make_unique<rules::Incidents>(*twin_, contexts_.core(), roads_);
    host_ = std::make_unique<Host>(AppServices{*twin_, *store_, contexts_, *settings_, *kpis_, nullptr, incidents_.get()});
    ASSERT_TRUE(add_applications(*host_, {"utilities", "services", "structures", "emergency", "health"}).ok());
    ASSERT_TRUE(host_->start().ok());
    twin_->changes().attach(*host_);
  }
  void TearDown() override {
    host_.reset();
    incidents_.reset();
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void write(const std::string& text, std::string_view context_url = {}) {
    auto ctx = context_url.empty() ? contexts_.core() : contexts_.resolve_url(std::string(context_url)).value();
    auto decoded = jsonld::decode_entity(json::parse(text).as_object(), *ctx, {});
    ASSERT_TRUE(decoded.ok()) << decoded.problem().detail;
    const auto id = decoded->header.id;
    if (!twin_->create("", decoded.value())) {
      decoded->header = {};
      ASSERT_TRUE(twin_->merge("", id, std::move(decoded).value()).ok());
    }
  }
  // Attribute `iri` of entity `id` once `ready` holds, polling with a deadline.
  json::value wait_for(const std::string& id, const std::string& iri, const std::function<bool(const json::value&)>& ready) {
    const auto term = model::Term::intern(iri);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    json::value seen;
    while (std::chrono::steady_clock::now() < deadline) {
      (void)twin_->read("", id, [&](const model::Entity& e) {
        const auto* a = e.find(term);
        seen = a ? a->value : json::value();
      });
      if (ready(seen)) return seen;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << id << " " << iri << " never became ready; last " << to_text(seen);
    return seen;
  }
  static std::string term(std::string_view name) { return "https://uri.etsi.org/ngsi-ld/default-context/" + std::string(name); }
  // The `detail` of the problem written on the entity.
  std::string problem_of(const std::string& id) {
    auto p = wait_for(id, term("problemDetail"), [](const json::value& v) { return v.is_object(); });
    return p.is_object() && p.as_object().contains("detail") ? std::string(p.at("detail").as_string()) : "";
  }
  std::uint64_t counter(std::string_view name, std::string_view labels = {}) {
    std::vector<AppCounter> all;
    host_->counters(all);
    for (const auto& c : all)
      if (c.name == name && c.labels == labels) return c.value;
    return 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<CitySettingsStore> settings_;
  std::unique_ptr<KpiPublisher> kpis_;
  rules::RoadGraphs roads_;
  std::unique_ptr<rules::Incidents> incidents_;
  std::unique_ptr<Host> host_;
};

TEST_F(AppsHostTest, ServiceRequestsWithAnUnknownCategoryOrOutsideEveryDistrictGetAProblem) {
  const auto url = services::kIssueTrackingContextUrl;
  write(R"({"id": "urn:ngsi-ld:service_requests:x1", "type": "service_requests", "service_code": {"type": "Property", "value": "ufo"},
            "status": {"type": "Property", "value": "open"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}}})", url);
  const auto unknown = problem_of("urn:ngsi-ld:service_requests:x1");
  EXPECT_NE(unknown.find("service_code 'ufo'"), std::string::npos) << unknown;
  write(R"({"id": "urn:ngsi-ld:service_requests:x2", "type": "service_requests", "service_code": {"type": "Property", "value": "roads"},
            "status": {"type": "Property", "value": "open"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.5, 31.2]}}})", url);
  const auto outside = problem_of("urn:ngsi-ld:service_requests:x2");
  EXPECT_NE(outside.find("outside every district"), std::string::npos) << outside;
  EXPECT_NE(outside.find("121.5"), std::string::npos) << outside;
  EXPECT_EQ(counter("services_requests_rejected", "cause=\"unknown_category\""), 1u);
  EXPECT_EQ(counter("services_requests_rejected", "cause=\"outside_districts\""), 1u);
  EXPECT_EQ(counter("services_requests"), 0u);
}

TEST_F(AppsHostTest, AServiceRequestPastItsSlaIsBreached) {
  const auto requested = format_datetime(now_ms() - 25 * 3'600'000);  // water: 24 h
  write(R"({"id": "urn:ngsi-ld:service_requests:w1", "type": "service_requests", "service_code": {"type": "Property", "value": "water"},
            "status": {"type": "Property", "value": "assigned"},
            "requested_datetime": {"type": "Property", "value": ")" + requested + R"("},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}}})",
        services::kIssueTrackingContextUrl);
  const std::string id = "urn:ngsi-ld:service_requests:w1";
  EXPECT_EQ(wait_for(id, term("refDistrict"), [](const json::value& v) { return v.is_string(); }), "urn:ngsi-ld:District:1");
  EXPECT_EQ(wait_for(id, term("slaBreached"), [](const json::value& v) { return v == json::value(true); }), json::value(true));
  const auto deadline = wait_for(id, "https://smartdatamodels.org/dataModel.IssueTracking/expected_datetime",
                                 [](const json::value& v) { return v.is_string(); });
  EXPECT_EQ(parse_datetime(std::string_view(deadline.as_string())), parse_datetime(requested).value() + 24 * 3'600'000);
  // A step back is refused with a problem; the request keeps its place in the workflow.
  write(R"({"id": "urn:ngsi-ld:service_requests:w1", "status": {"type": "Property", "value": "open"}})",
        services::kIssueTrackingContextUrl);
  EXPECT_NE(problem_of(id).find("from assigned to open"), std::string::npos);
  EXPECT_EQ(counter("services_sla_breaches"), 1u);
}

TEST_F(AppsHostTest, ReadingsWithoutUnitsAreNamedAndAnOverloadIsWritten) {
  write(R"({"id": "urn:ngsi-ld:Junction:j1", "type": "Junction", "tag": {"type": "Property", "value": "DMA-1"},
            "pressure": {"type": "Property", "value": 38}})", kWater);
  EXPECT_NE(problem_of("urn:ngsi-ld:Junction:j1").find("pressure has no unitCode"), std::string::npos);
  EXPECT_EQ(counter("utilities_readings_skipped", "cause=\"no_unit\""), 1u);

  const std::string sub = "urn:ngsi-ld:ThreePhaseAcMeasurement:s1";
  write(R"({"id": "urn:ngsi-ld:ThreePhaseAcMeasurement:s1", "type": "ThreePhaseAcMeasurement",
            "ratedApparentPower": {"type": "Property", "value": 50, "unitCode": "MVA"},
            "totalApparentPower": {"type": "Property", "value": 30000, "unitCode": "KVA"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}}})", kEnergy);
  EXPECT_EQ(wait_for(sub, term("loadStatus"), [](const json::value& v) { return v.is_string(); }), "normal");
  EXPECT_EQ(wait_for(sub, term("loadRatio"), [](const json::value& v) { return v.is_number(); }).to_number<double>(), 0.6);
  for (int i = 0; i < 2; ++i)
    write(R"({"id": "urn:ngsi-ld:ThreePhaseAcMeasurement:s1", "totalApparentPower": {"type": "Property", "value": 56, "unitCode": "MVA"}})",
          kEnergy);
  EXPECT_EQ(wait_for(sub, term("loadStatus"), [](const json::value& v) { return v == "overloaded"; }), "overloaded");
  EXPECT_EQ(counter("utilities_overloads"), 1u);
  // A wrong unit for the quantity is named too.
  write(R"({"id": "urn:ngsi-ld:ThreePhaseAcMeasurement:s1", "totalApparentPower": {"type": "Property", "value": 5, "unitCode": "MTR"}})",
        kEnergy);
  EXPECT_NE(problem_of(sub).find("unitCode MTR"), std::string::npos);
}

TEST_F(AppsHostTest, ATiltingBridgeReachesAlarm) {
  const std::string id = "urn:ngsi-ld:Building:bridge-1";
  write(R"({"id": "urn:ngsi-ld:Building:bridge-1", "type": "Building", "category": {"type": "Property", "value": ["bridge"]},
            "tilt": {"type": "Property", "value": 0.1, "unitCode": "DD"}})", kBuilding);
  for (int i = 0; i < 6; ++i)
    write(R"({"id": "urn:ngsi-ld:Building:bridge-1", "tilt": {"type": "Property", "value": 0.1, "unitCode": "DD"}})", kBuilding);
  for (int i = 0; i < 2; ++i)
    write(R"({"id": "urn:ngsi-ld:Building:bridge-1", "tilt": {"type": "Property", "value": 0.9, "unitCode": "DD"}})", kBuilding);
  EXPECT_EQ(wait_for(id, term("structuralState"), [](const json::value& v) { return v == "alarm"; }), "alarm");
  EXPECT_EQ(wait_for(id, term("structuralCause"), [](const json::value& v) { return v.is_string(); }), "tilt");
  // A tilt in metres is no angle.
  write(R"({"id": "urn:ngsi-ld:Building:bridge-1", "tilt": {"type": "Property", "value": 1, "unitCode": "MTR"}})", kBuilding);
  EXPECT_NE(problem_of(id).find("tilt has unitCode MTR"), std::string::npos);
}

TEST_F(AppsHostTest, AnEmergencyCallIsDispatchedAndItsResponseTimeMeasured) {
  write(R"({"id": "urn:ngsi-ld:ResponseUnit:amb-1", "type": "ResponseUnit", "kind": {"type": "Property", "value": "ambulance"},
            "available": {"type": "Property", "value": true}, "status": {"type": "Property", "value": "available"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.41, 39.91]}}})");
  write(R"({"id": "urn:ngsi-ld:ResponseUnit:police-1", "type": "ResponseUnit", "kind": {"type": "Property", "value": "police"},
            "available": {"type": "Property", "value": true},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.40, 39.90]}}})");
  write(R"({"id": "urn:ngsi-ld:EmergencyCall:c1", "type": "EmergencyCall", "category": {"type": "Property", "value": "medical"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.45, 39.93]}}})");
  const auto incident = wait_for("urn:ngsi-ld:EmergencyCall:c1", term("refIncident"), [](const json::value& v) { return v.is_string(); });
  ASSERT_TRUE(incident.is_string());
  const std::string id(incident.as_string());
  // The ambulance, not the nearer police car, was sent.
  EXPECT_EQ(wait_for(id, term("assignedUnit"), [](const json::value& v) { return v.is_string(); }), "urn:ngsi-ld:ResponseUnit:amb-1");
  EXPECT_EQ(wait_for("urn:ngsi-ld:ResponseUnit:amb-1", term("available"), [](const json::value& v) { return v == json::value(false); }),
            json::value(false));
  // On scene 800 s after the incident was opened (as the unit reports it).
  const auto opened = wait_for(id, term("openedAt"), [](const json::value& v) { return v.is_object(); });  // a DateTime
  const auto arrived = format_datetime(parse_datetime(std::string_view(opened.at("@value").as_string())).value() + 800'000);
  write(R"({"id": "urn:ngsi-ld:ResponseUnit:amb-1", "status": {"type": "Property", "value": "onScene", "observedAt": ")" +
        arrived + R"("}})");
  EXPECT_EQ(wait_for(id, term("responseTime"), [](const json::value& v) { return v.is_number(); }).to_number<double>(), 800);
  // Back in service: the incident is resolved.
  write(R"({"id": "urn:ngsi-ld:ResponseUnit:amb-1", "status": {"type": "Property", "value": "available"},
            "available": {"type": "Property", "value": true}})");
  EXPECT_EQ(wait_for(id, "https://uri.etsi.org/ngsi-ld/status", [](const json::value& v) { return v == "resolved"; }), "resolved");
  EXPECT_EQ(counter("emergency_arrivals"), 1u);
}

}  // namespace
}  // namespace ct::domains
