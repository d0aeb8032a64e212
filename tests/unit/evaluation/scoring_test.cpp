#include "evaluation/scoring.hpp"

#include <gtest/gtest.h>

namespace ct::evaluation {
namespace {

constexpr auto kBenefit = Direction::Benefit;
constexpr auto kCost = Direction::Cost;

TEST(ScoringRule, LinearBetweenThresholdsBothDirections) {
  const ScoringRule r = LinearRule{20, 60};
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 30), 0.25);  // (30 − 20) / 40
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 10), 0.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 90), 1.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 30), 0.75);  // (60 − 30) / 40
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 10), 1.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 60), 0.0);
}

TEST(ScoringRule, TargetAttainmentBothDirections) {
  const ScoringRule r = TargetRule{80};
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 60), 0.75);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 100), 1.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, -5), 0.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 50), 1.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 100), 0.8);  // 80 / 100
}

TEST(ScoringRule, BandedBothDirections) {
  const ScoringRule r = BandedRule{{{50, 0.5}, {80, 1.0}, {20, 0.2}}};
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 10), 0.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 20), 0.2);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 79), 0.5);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 80), 1.0);
  // Cost: x ≤ threshold earns the band (e.g. ≤ 20 accidents: 0.2, ≤ 50: 0.5 ...).
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 90), 0.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 80), 1.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 10), 1.0);
}

TEST(ScoringRule, YesNoBothDirections) {
  const ScoringRule r = YesNoRule{};
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 1), 1.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kBenefit, 0), 0.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 1), 0.0);
  EXPECT_DOUBLE_EQ(score_fraction(r, kCost, 0), 1.0);
}

TEST(ScoringRule, ParsesAndPrintsEachRule) {
  for (const char* text : {R"({"rule":"linear","lower":0,"upper":1})", R"({"rule":"target","target":0.9})",
                           R"({"rule":"banded","bands":[{"threshold":1,"fraction":0.5}]})", R"({"rule":"yes-no"})"}) {
    auto spec = parse_json(text);
    ASSERT_TRUE(spec.ok());
    auto rule = parse_scoring_rule(*spec);
    ASSERT_TRUE(rule.ok()) << text << ": " << rule.problem().detail;
    EXPECT_EQ(to_text(scoring_rule_json(*rule)), to_text(*spec)) << text;
  }
}

TEST(ScoringRule, RefusesBadSpecsWithTheFault) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"rule":"curve"})", "unknown rule \"curve\""},
      {R"({"rule":"linear","lower":1,"upper":1})", "lower < upper"},
      {R"({"rule":"linear","lower":0})", "\"upper\" must be a number"},
      {R"({"rule":"target","target":0})", "target must be > 0"},
      {R"({"rule":"banded","bands":[]})", "non-empty \"bands\""},
      {R"({"rule":"banded","bands":[{"threshold":1,"fraction":2}]})", "within [0, 1]"},
      {R"([1])", "must be an object"},
  };
  for (const auto& [text, fault] : cases) {
    auto rule = parse_scoring_rule(*parse_json(text));
    ASSERT_FALSE(rule.ok()) << text;
    EXPECT_NE(rule.problem().detail.find(fault), std::string::npos) << text << ": " << rule.problem().detail;
  }
}

}  // namespace
}  // namespace ct::evaluation
