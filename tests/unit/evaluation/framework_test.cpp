#include "evaluation/framework.hpp"

#include <gtest/gtest.h>

namespace ct::evaluation {
namespace {

Vocabulary test_vocabulary() {
  Vocabulary v;
  v.attributes["AirQualityObserved"] = {"airQualityIndex", "pm25"};
  v.kpi_indicators = {"goodAirDaysShare"};
  return v;
}

// A valid two-level framework; `edit` changes it before loading.
json::value small_framework() {
  return *parse_json(R"({
    "id": "small", "name": {"en": "small"}, "total": 10,
    "indicators": [
      {"code": "E", "name": {"en": "environment"}, "weight": 6, "childWeights": "percent"},
      {"code": "E-1", "parent": "E", "name": {"en": "good air"}, "weight": 50, "direction": "benefit",
       "scoring": {"rule": "target", "target": 0.8}, "source": {"kind": "kpi", "indicator": "goodAirDaysShare"}},
      {"code": "E-2", "parent": "E", "name": {"en": "stations"}, "weight": 50,
       "scoring": {"rule": "linear", "lower": 0, "upper": 1},
       "source": {"kind": "query", "type": "AirQualityObserved", "q": "airQualityIndex>=0;pm25<500", "aggregate": "share"}},
      {"code": "S", "name": {"zh": "服务"}, "weight": 4,
       "scoring": {"rule": "yes-no"}, "source": {"kind": "manual", "min": 0, "max": 1}}
    ]})");
}

json::object& indicator(json::value& framework, std::size_t i) {
  return framework.as_object()["indicators"].as_array()[i].as_object();
}

TEST(Framework, LoadsATreeWithPoints) {
  auto f = load_framework(small_framework(), test_vocabulary());
  ASSERT_TRUE(f.ok()) << f.problem().detail;
  ASSERT_EQ(f->roots.size(), 2u);
  const auto* e1 = f->find("E-1");
  ASSERT_NE(e1, nullptr);
  EXPECT_DOUBLE_EQ(e1->points, 3.0);  // 50 % of 6 points
  EXPECT_EQ(f->find("E")->children.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<KpiSource>(*e1->source));
  const auto& q = std::get<TwinQuerySource>(*f->find("E-2")->source);
  EXPECT_EQ(q.aggregate, Aggregate::Share);
  // The API's rendering lists every indicator with its points.
  auto shown = framework_json(*f);
  EXPECT_EQ(shown.at("indicators").as_array().size(), 4u);
}

void expect_fault(json::value framework, const std::string& fault) {
  auto f = load_framework(framework, test_vocabulary());
  ASSERT_FALSE(f.ok()) << "expected: " << fault;
  EXPECT_EQ(f.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(f.problem().detail.find(fault), std::string::npos) << f.problem().detail;
}

TEST(Framework, WeightsThatDoNotSumNameTheIndicator) {
  auto f = small_framework();
  indicator(f, 1)["weight"] = 60;
  expect_fault(f, "framework small, indicator E: the weights of its sub-indicators sum to 110, not 100 (percent)");
  f = small_framework();
  indicator(f, 3)["weight"] = 5;
  expect_fault(f, "framework small: the first-level weights sum to 11, not the total 10");
}

TEST(Framework, FormulasMustParseAndNameRealAttributes) {
  auto f = small_framework();
  indicator(f, 2)["source"].as_object()["q"] = "airQualityIndex>=";
  expect_fault(f, "indicator E-2: query source: q:");
  f = small_framework();
  indicator(f, 2)["source"].as_object()["q"] = "temperature>3";
  expect_fault(f, "indicator E-2: query source: q names \"temperature\", not an attribute of AirQualityObserved");
  f = small_framework();
  indicator(f, 2)["source"].as_object()["aggregate"] = "median";
  expect_fault(f, "indicator E-2: query source: unknown aggregate \"median\"");
  f = small_framework();
  indicator(f, 2)["source"].as_object()["aggregate"] = "avg";
  expect_fault(f, "indicator E-2: query source: avg needs an \"attribute\"");
  indicator(f, 2)["source"].as_object()["attribute"] = "humidity";
  expect_fault(f, "indicator E-2: query source: \"humidity\" is not an attribute of AirQualityObserved");
  f = small_framework();
  indicator(f, 2)["source"].as_object()["type"] = "Spaceship";
  expect_fault(f, "indicator E-2: query source: unknown entity type \"Spaceship\"");
  f = small_framework();
  indicator(f, 1)["source"].as_object()["indicator"] = "happiness";
  expect_fault(f, "indicator E-1: kpi source: no application publishes a KPI named \"happiness\"");
  f = small_framework();
  indicator(f, 1)["source"].as_object()["kind"] = "oracle";
  expect_fault(f, "indicator E-1: source: unknown kind \"oracle\"");
}

TEST(Framework, StructureFaults) {
  auto f = small_framework();
  indicator(f, 1)["parent"] = "X";
  expect_fault(f, "indicator E-1: parent \"X\" does not exist");
  f = small_framework();
  indicator(f, 0)["parent"] = "E-1";  // E → E-1 → E
  expect_fault(f, "its parent chain forms a cycle");
  f = small_framework();
  indicator(f, 2)["code"] = "E-1";
  expect_fault(f, "indicator E-1: the code is used twice");
  f = small_framework();
  indicator(f, 3).erase("source");
  expect_fault(f, "indicator S: a leaf indicator needs a \"source\"");
  f = small_framework();
  indicator(f, 3)["scoring"] = json::object{{"rule", "curve"}};
  expect_fault(f, "indicator S: scoring rule: unknown rule \"curve\"");
  f = small_framework();
  indicator(f, 3)["direction"] = "up";
  expect_fault(f, "indicator S: direction must be");
  f = small_framework();
  indicator(f, 3)["source"].as_object()["max"] = -1;
  expect_fault(f, "indicator S: manual source: min must be below max");
}

TEST(Framework, ShippedFrameworksLoad) {
  auto all = load_framework_directory(std::filesystem::path(CITYTWIN_SOURCE_DIR) / "data/frameworks");
  ASSERT_TRUE(all.ok()) << all.problem().detail;
  std::map<std::string, const Framework*> by_id;
  for (const auto& f : *all) by_id[f.id] = &f;
  ASSERT_EQ(by_id.size(), 4u);
  auto levels = [](const Framework& f) {
    std::vector<std::size_t> count(3, 0);
    for (const auto& ind : f.indicators) {
      std::size_t depth = 0;
      for (const Indicator* at = &ind; !at->parent.empty(); at = f.find(at->parent)) ++depth;
      if (depth < 3) ++count[depth];
    }
    return count;
  };
  const auto& gbt = *by_id.at("gbt33356-2016");
  EXPECT_EQ(levels(gbt)[0], 8u);
  EXPECT_EQ(levels(gbt)[1], 21u);
  EXPECT_DOUBLE_EQ(gbt.find("L1")->weight, 37);
  EXPECT_TRUE(gbt.find("L1")->verified);
  EXPECT_FALSE(gbt.find("L2")->verified);
  const double confirmed[] = {8, 3, 3, 3, 3, 3, 7, 5};
  for (int i = 0; i < 8; ++i) {
    const auto* second = gbt.find("L1P" + std::to_string(i + 1));
    ASSERT_NE(second, nullptr);
    EXPECT_DOUBLE_EQ(second->weight, confirmed[i]);
    EXPECT_TRUE(second->verified);
  }
  EXPECT_DOUBLE_EQ(gbt.find("L1P1-A1")->points, 8 * 0.30);  // 30 % of L1P1
  EXPECT_EQ(levels(*by_id.at("gbt33356-2022"))[0], 9u);
  EXPECT_EQ(levels(*by_id.at("gbt33356-2022"))[1], 29u);
  const auto mohurd = levels(*by_id.at("mohurd-2012"));
  EXPECT_EQ(mohurd, (std::vector<std::size_t>{4, 11, 57}));
  EXPECT_EQ(levels(*by_id.at("six-directions"))[0], 6u);
}

}  // namespace
}  // namespace ct::evaluation
