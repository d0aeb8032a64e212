// Indicators computed from a real twin: query aggregates for the city and for one district (placed by
// the district polygons), KPI entities by name and area, and missing inputs that say why.
#include "evaluation/twin_sources.hpp"
#include "evaluation/evaluations.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "domains/core/kpi.hpp"
#include "jsonld/entity_codec.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::evaluation {
namespace {

class TwinSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-evaluation-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    ASSERT_TRUE(contexts_.load_directory(std::filesystem::path(CITYTWIN_SOURCE_DIR) / "data/contexts").ok());
    // Two districts side by side: west [0,1]×[0,1], east [1,2]×[0,1].
    district("urn:ngsi-ld:District:west", 0);
    district("urn:ngsi-ld:District:east", 1);
    station("a", 0.5, 40);
    station("b", 0.6, 150);
    station("c", 1.5, std::nullopt);
  }
  void TearDown() override {
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void create(const json::object& body) {
    auto decoded = jsonld::decode_entity(body, *contexts_.core(), {});
    ASSERT_TRUE(decoded.ok()) << decoded.problem().detail;
    ASSERT_TRUE(twin_->create("", std::move(decoded).value()).ok());
  }
  void district(const std::string& id, double west) {
    json::array ring{json::array{west, 0}, json::array{west + 1, 0}, json::array{west + 1, 1}, json::array{west, 1},
                     json::array{west, 0}};
    create({{"id", id},
            {"type", "District"},
            {"location", json::object{{"type", "GeoProperty"},
                                      {"value", json::object{{"type", "Polygon"}, {"coordinates", json::array{ring}}}}}}});
  }
  void station(const std::string& name, double lon, std::optional<double> aqi) {
    json::object body{{"id", "urn:ngsi-ld:AirQualityObserved:" + name},
                      {"type", "AirQualityObserved"},
                      {"location", json::object{{"type", "GeoProperty"},
                                                {"value", json::object{{"type", "Point"}, {"coordinates", json::array{lon, 0.5}}}}}}};
    if (aqi) body["airQualityIndex"] = json::object{{"type", "Property"}, {"value", *aqi}};
    create(body);
  }
  Framework framework() {
    Vocabulary v;
    v.attributes["AirQualityObserved"] = {"airQualityIndex"};
    v.kpi_indicators = {"goodAirDaysShare"};
    auto f = load_framework(*parse_json(R"({"id": "t", "name": {"en": "t"}, "total": 5, "indicators": [
      {"code": "good", "name": {"en": "good"}, "weight": 1, "scoring": {"rule": "linear", "lower": 0, "upper": 1},
       "source": {"kind": "query", "type": "AirQualityObserved", "q": "airQualityIndex<=100", "aggregate": "share"}},
      {"code": "mean", "name": {"en": "mean"}, "weight": 1, "direction": "cost", "scoring": {"rule": "linear", "lower": 0, "upper": 190},
       "source": {"kind": "query", "type": "AirQualityObserved", "aggregate": "avg", "attribute": "airQualityIndex"}},
      {"code": "count", "name": {"en": "count"}, "weight": 1, "scoring": {"rule": "target", "target": 4},
       "source": {"kind": "query", "type": "AirQualityObserved", "aggregate": "count"}},
      {"code": "days", "name": {"en": "days"}, "weight": 1, "scoring": {"rule": "target", "target": 0.8},
       "source": {"kind": "kpi", "indicator": "goodAirDaysShare"}},
      {"code": "survey", "name": {"en": "survey"}, "weight": 1, "scoring": {"rule": "yes-no"}, "source": {"kind": "manual"}}
    ]})"), v);
    EXPECT_TRUE(f.ok()) << f.problem().detail;
    return std::move(f).value();
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  jsonld::ContextStore contexts_;
};

TEST_F(TwinSourcesTest, AggregatesOverTheCity) {
  const auto f = framework();
  TwinSources sources(*twin_, contexts_);
  auto inputs = sources.compute("", f, "city");
  EXPECT_EQ(inputs.count("survey"), 0u);  // manual: not the twin's to answer
  ASSERT_EQ(inputs.at("good").status, InputStatus::Computed);
  EXPECT_DOUBLE_EQ(inputs.at("good").value, 1.0 / 3.0);  // a (40) of a, b, c
  EXPECT_EQ(inputs.at("good").provenance.at("entitiesOfType").to_number<double>(), 3);
  EXPECT_DOUBLE_EQ(inputs.at("mean").value, 95.0);  // (40 + 150) / 2: c has no AQI
  EXPECT_DOUBLE_EQ(inputs.at("count").value, 3.0);
  EXPECT_EQ(inputs.at("days").status, InputStatus::Missing);
  EXPECT_NE(to_text(inputs.at("days").provenance).find("no KeyPerformanceIndicator"), std::string::npos);

  domains::KpiPublisher kpis(*twin_, contexts_);
  domains::KpiFigure figure{"air", "goodAirDaysShare", "good air days", "", "daily", std::nullopt, 0, 86400000, 0.6, std::nullopt, std::nullopt};
  ASSERT_TRUE(kpis.publish("", figure).ok());
  inputs = sources.compute("", f, "city");
  ASSERT_EQ(inputs.at("days").status, InputStatus::Computed);
  EXPECT_DOUBLE_EQ(inputs.at("days").value, 0.6);
  EXPECT_EQ(inputs.at("days").provenance.at("entity").as_string(), domains::kpi_entity_id(figure));
}

TEST_F(TwinSourcesTest, AggregatesOverOneDistrict) {
  const auto f = framework();
  TwinSources sources(*twin_, contexts_);
  auto west = sources.compute("", f, "urn:ngsi-ld:District:west");
  EXPECT_DOUBLE_EQ(west.at("good").value, 0.5);  // a of a, b
  EXPECT_DOUBLE_EQ(west.at("count").value, 2.0);
  auto east = sources.compute("", f, "urn:ngsi-ld:District:east");
  EXPECT_DOUBLE_EQ(east.at("good").value, 0.0);
  EXPECT_EQ(east.at("mean").status, InputStatus::Missing);  // c reports no AQI

  domains::KpiPublisher kpis(*twin_, contexts_);
  domains::KpiFigure figure{"air", "goodAirDaysShare", "good air days", "", "daily", std::string("urn:ngsi-ld:District:west"),
                            0, 86400000, 0.9, std::nullopt, std::nullopt};
  ASSERT_TRUE(kpis.publish("", figure).ok());
  EXPECT_DOUBLE_EQ(sources.compute("", f, "urn:ngsi-ld:District:west").at("days").value, 0.9);
  EXPECT_EQ(sources.compute("", f, "city").at("days").status, InputStatus::Missing);

  // The evaluation of the west district: good 0.5 → 0.5; mean 95 (cost, 0…190) → 0.5; count 2/4 → 0.5;
  // days 0.9/0.8 → 1; survey missing.
  auto result = evaluate(f, sources.compute("", f, "urn:ngsi-ld:District:west"));
  EXPECT_DOUBLE_EQ(result.total, 2.5);  // 0.5 + 0.5 + 0.5 + 1
  EXPECT_EQ(result.missing, 1u);
}


TEST_F(TwinSourcesTest, ManualValuesCountForTheirScopeAndPeriod) {
  std::vector<Framework> frameworks;
  frameworks.push_back(framework());
  domains::KpiPublisher kpis(*twin_, contexts_);
  Evaluations evaluations(std::move(frameworks), *twin_, contexts_, kpis);
  auto definition = evaluations.define("", *parse_json(R"({"framework": "t", "scope": "city", "period": "2026-Q2"})"));
  ASSERT_TRUE(definition.ok()) << definition.problem().detail;
  auto before = evaluations.run("", *definition);
  ASSERT_TRUE(before.ok()) << before.problem().detail;
  const std::size_t survey = before->framework->by_code.at("survey");
  EXPECT_EQ(before->result.indicators[survey].status, InputStatus::Missing);

  auto entry = Evaluations::parse_manual(*parse_json(R"({"value": 1, "evidence": "minutes of 2026-05-02",
      "source": "city office", "date": "2026-05-02T00:00:00Z"})"));
  ASSERT_TRUE(entry.ok()) << entry.problem().detail;
  ASSERT_TRUE(evaluations.set_manual("", "survey", *entry).ok());
  auto after = evaluations.run("", *definition);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->result.indicators[survey].status, InputStatus::Manual);
  EXPECT_DOUBLE_EQ(after->result.total - before->result.total, 1.0);  // yes/no, 1 point
  EXPECT_EQ(after->result.indicators[survey].provenance.at("evidence").as_string(), "minutes of 2026-05-02");

  // A value established after the period does not count for it.
  auto q1 = evaluations.define("", *parse_json(R"({"framework": "t", "scope": "city", "period": "2026-Q1"})"));
  ASSERT_TRUE(q1.ok());
  EXPECT_EQ(evaluations.run("", *q1)->result.indicators[survey].status, InputStatus::Missing);
  // Nor for another scope.
  auto west = evaluations.define("", *parse_json(R"({"framework": "t", "scope": "urn:ngsi-ld:District:west", "period": "2026"})"));
  ASSERT_TRUE(west.ok()) << west.problem().detail;
  EXPECT_EQ(evaluations.run("", *west)->result.indicators[survey].status, InputStatus::Missing);

  // The run published its total as a KPI.
  bool published = false;
  ASSERT_TRUE(twin_->read("", "urn:ngsi-ld:KeyPerformanceIndicator:evaluation-t:total:quarterly:city",
                          [&](const model::Entity&) { published = true; }).ok());
  EXPECT_TRUE(published);

  // Faults name the indicator.
  entry->value = 2;
  auto out_of_range = evaluations.set_manual("", "survey", *entry);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.problem().detail.find("indicator survey: value outside its range [0, 1]"), std::string::npos)
      << out_of_range.problem().detail;
  entry->value = 0.5;
  auto computed = evaluations.set_manual("", "good", *entry);
  ASSERT_FALSE(computed.ok());
  EXPECT_NE(computed.problem().detail.find("indicator good: takes no manual value"), std::string::npos);
  EXPECT_EQ(evaluations.set_manual("", "nope", *entry).problem().kind, ProblemKind::ResourceNotFound);
  EXPECT_FALSE(evaluations.define("", *parse_json(R"({"framework": "t", "scope": "urn:x", "period": "2026"})")).ok());
  EXPECT_FALSE(evaluations.define("", *parse_json(R"({"framework": "u", "period": "2026"})")).ok());
  EXPECT_FALSE(Evaluations::parse_manual(*parse_json(R"({"value": 1, "evidence": "e", "source": "s"})")).ok());
}

TEST_F(TwinSourcesTest, EntropyWeightingComparesTheDistricts) {
  std::vector<Framework> frameworks;
  frameworks.push_back(framework());
  domains::KpiPublisher kpis(*twin_, contexts_);
  Evaluations evaluations(std::move(frameworks), *twin_, contexts_, kpis);
  EXPECT_FALSE(evaluations.define("", *parse_json(R"({"framework": "t", "scope": "urn:ngsi-ld:District:west",
      "period": "2026", "weighting": "entropy"})")).ok());  // compares districts: the city only
  EXPECT_FALSE(evaluations.define("", *parse_json(R"({"framework": "t", "period": "2026", "weighting": "ahp"})")).ok());
  auto definition = evaluations.define("", *parse_json(R"({"framework": "t", "period": "2026", "weighting": "entropy-topsis"})"));
  ASSERT_TRUE(definition.ok()) << definition.problem().detail;
  auto run = evaluations.run("", *definition);
  ASSERT_TRUE(run.ok()) << run.problem().detail;
  ASSERT_TRUE(run->districts.has_value());
  const auto& d = *run->districts;
  // Every district has "good" (west 0.5, east 0) and "count" (2, 1); east has no mean AQI, nobody the
  // KPI or the survey. Both indicators separate the two districts fully: e = 0, equal weights; west is
  // the ideal on both, east the anti-ideal.
  EXPECT_EQ(to_text(d.at("excluded")), R"(["days","mean","survey"])");
  EXPECT_DOUBLE_EQ(d.at("weights").at("good").as_double(), 0.5);
  EXPECT_DOUBLE_EQ(d.at("weights").at("count").as_double(), 0.5);
  EXPECT_DOUBLE_EQ(d.at("scores").at("urn:ngsi-ld:District:west").as_double(), 1.0);
  EXPECT_DOUBLE_EQ(d.at("scores").at("urn:ngsi-ld:District:east").as_double(), 0.0);
}

}  // namespace
}  // namespace ct::evaluation
