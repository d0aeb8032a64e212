#include "evaluation/evaluation.hpp"

#include <gtest/gtest.h>

namespace ct::evaluation {
namespace {

Framework two_level() {
  Vocabulary v;
  v.kpi_indicators = {"goodAirDaysShare"};
  auto f = load_framework(*parse_json(R"({
    "id": "t", "name": {"en": "t"}, "total": 10,
    "indicators": [
      {"code": "G", "name": {"en": "g"}, "weight": 8, "childWeights": "percent"},
      {"code": "G-1", "parent": "G", "name": {"en": "e-licences"}, "weight": 30,
       "scoring": {"rule": "linear", "lower": 0, "upper": 1}, "source": {"kind": "manual"}},
      {"code": "G-2", "parent": "G", "name": {"en": "air"}, "weight": 70,
       "scoring": {"rule": "target", "target": 0.8}, "source": {"kind": "kpi", "indicator": "goodAirDaysShare"}},
      {"code": "H", "name": {"en": "h"}, "weight": 2, "direction": "cost",
       "scoring": {"rule": "yes-no"}, "source": {"kind": "manual"}}
    ]})"), v);
  EXPECT_TRUE(f.ok()) << f.problem().detail;
  return std::move(f).value();
}

TEST(Evaluate, ScoresAreWeightedFractionsSummedUpTheTree) {
  const auto f = two_level();
  std::map<std::string, IndicatorInput> inputs;
  inputs["G-1"] = {InputStatus::Manual, 0.5, {{"evidence", "report 2026"}}};
  inputs["G-2"] = {InputStatus::Computed, 0.6, {}};
  auto r = evaluate(f, inputs);
  // G-1: 8 × 30 % × 0.5 = 1.2; G-2: 8 × 70 % × 0.6/0.8 = 4.2; G = 5.4; H missing → 0.
  EXPECT_DOUBLE_EQ(r.indicators[f.by_code.at("G-1")].score, 1.2);
  EXPECT_DOUBLE_EQ(r.indicators[f.by_code.at("G-2")].score, 4.2);
  EXPECT_DOUBLE_EQ(r.indicators[f.by_code.at("G")].score, 5.4);
  EXPECT_EQ(r.indicators[f.by_code.at("G")].status, InputStatus::Manual);
  EXPECT_EQ(r.indicators[f.by_code.at("H")].status, InputStatus::Missing);
  EXPECT_DOUBLE_EQ(r.total, 5.4);
  EXPECT_EQ(r.computed, 1u);
  EXPECT_EQ(r.manual, 1u);
  EXPECT_EQ(r.missing, 1u);
  inputs["H"] = {InputStatus::Manual, 0, {}};  // a cost yes/no: "no" earns the points
  EXPECT_DOUBLE_EQ(evaluate(f, inputs).total, 7.4);
  const auto shown = evaluation_result_json(f, r);
  EXPECT_EQ(shown.at("indicators").as_array().size(), 4u);
  EXPECT_EQ(evaluation_csv(f, r),
            "code,parent,name_zh,name_en,weight,score,status,value\r\n"
            "G,,,g,8,5.4,manual,\r\n"
            "H,,,h,2,0,missing,\r\n"
            "G-1,G,,e-licences,2.4,1.2,manual,0.5\r\n"
            "G-2,G,,air,5.6,4.2,computed,0.6\r\n"
            "total,,,,10,5.4,,\r\n");
}

TEST(Period, ParsesYearQuarterMonth) {
  auto year = parse_period("2026");
  ASSERT_TRUE(year.ok());
  EXPECT_EQ(format_datetime(year->from), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(format_datetime(year->to), "2027-01-01T00:00:00.000Z");
  auto q4 = parse_period("2026-Q4");
  ASSERT_TRUE(q4.ok());
  EXPECT_EQ(format_datetime(q4->from), "2026-10-01T00:00:00.000Z");
  EXPECT_EQ(format_datetime(q4->to), "2027-01-01T00:00:00.000Z");
  auto feb = parse_period("2024-02");
  ASSERT_TRUE(feb.ok());
  EXPECT_EQ(format_datetime(feb->to), "2024-03-01T00:00:00.000Z");
  for (const char* bad : {"26", "2026-Q5", "2026-13", "2026-1", "2026/12", "2026-Q"}) {
    auto p = parse_period(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.problem().detail.find("period"), std::string::npos);
  }
}

}  // namespace
}  // namespace ct::evaluation
