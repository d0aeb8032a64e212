#include "evaluation/weighting.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ct::evaluation {
namespace {

Panel three_districts() {
  // x (benefit): 0, 1, 2; y (cost): 10, 20, 10.
  return Panel{{{"x", Direction::Benefit}, {"y", Direction::Cost}},
               {{"A", {{"x", 0}, {"y", 10}}}, {"B", {{"x", 1}, {"y", 20}}}, {"C", {{"x", 2}, {"y", 10}}}}};
}

TEST(EntropyWeights, HandComputedThreeAlternatives) {
  // Min–max: x' = 0, .5, 1 → p = 0, 1/3, 2/3; y' (cost) = 1, 0, 1 → p = .5, 0, .5.
  // With a = ln 2 / ln 3: e_x = 1 − (2/3)a, e_y = a (0 ln 0 = 0), so d_x = 2a/3, d_y = 1 − a.
  const double a = std::log(2.0) / std::log(3.0);
  const double dx = 2 * a / 3, dy = 1 - a;
  auto result = entropy(three_districts());
  ASSERT_TRUE(result.ok()) << result.problem().detail;
  EXPECT_NEAR(result->weights.at("x"), dx / (dx + dy), 1e-12);
  EXPECT_NEAR(result->weights.at("y"), dy / (dx + dy), 1e-12);
  // Entropy scores: Σ w·x'.
  EXPECT_NEAR(result->scores.at("A"), dy / (dx + dy), 1e-12);
  EXPECT_NEAR(result->scores.at("B"), 0.5 * dx / (dx + dy), 1e-12);
  EXPECT_NEAR(result->scores.at("C"), 1.0, 1e-12);
}

TEST(EntropyWeights, ConstantIndicatorGetsZeroWeight) {
  Panel p{{{"x", Direction::Benefit}, {"k", Direction::Benefit}}, {{"A", {{"x", 1}, {"k", 5}}}, {"B", {{"x", 3}, {"k", 5}}}}};
  auto result = entropy(p);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->weights.at("k"), 0.0);
  EXPECT_NEAR(result->weights.at("x"), 1.0, 1e-12);  // p = 0, 1: e = 0, d = 1
}

TEST(EntropyWeights, EveryIndicatorConstantGivesZeroWeights) {
  Panel p{{{"x", Direction::Cost}}, {{"A", {{"x", 2}}}, {"B", {{"x", 2}}}}};
  auto result = entropy(p);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->weights.at("x"), 0.0);
  EXPECT_EQ(result->scores.at("A"), 0.0);
}

TEST(EntropyTopsis, HandComputedTwoAlternatives) {
  // x (benefit) 1, 3; y constant → w = (1, 0). r_x = 1/√10, 3/√10: A is the anti-ideal, B the ideal.
  Panel p{{{"x", Direction::Benefit}, {"y", Direction::Cost}}, {{"A", {{"x", 1}, {"y", 2}}}, {"B", {{"x", 3}, {"y", 2}}}}};
  auto result = entropy_topsis(p);
  ASSERT_TRUE(result.ok());
  EXPECT_NEAR(result->scores.at("A"), 0.0, 1e-12);
  EXPECT_NEAR(result->scores.at("B"), 1.0, 1e-12);
}

TEST(EntropyTopsis, HandComputedCostIndicator) {
  // One cost indicator 1, 2, 3 → w = 1; r = i/√14; ideal r = 1/√14, anti 3/√14.
  // B: D+ = 1/√14, D− = 1/√14 → 0.5. A: D+ = 0 → 1. C: 0.
  Panel p{{{"c", Direction::Cost}}, {{"A", {{"c", 1}}}, {"B", {{"c", 2}}}, {"C", {{"c", 3}}}}};
  auto result = entropy_topsis(p);
  ASSERT_TRUE(result.ok());
  EXPECT_NEAR(result->scores.at("A"), 1.0, 1e-12);
  EXPECT_NEAR(result->scores.at("B"), 0.5, 1e-12);
  EXPECT_NEAR(result->scores.at("C"), 0.0, 1e-12);
}

// An independent, literal re-implementation of the formulas, column by column.
struct Oracle {
  std::vector<double> weights;
  std::vector<double> topsis;
};
Oracle oracle(const std::vector<std::vector<double>>& cols, const std::vector<bool>& benefit) {
  const std::size_t k = cols.size(), n = cols[0].size();
  std::vector<double> d(k, 0);
  for (std::size_t j = 0; j < k; ++j) {
    const double mn = *std::min_element(cols[j].begin(), cols[j].end());
    const double mx = *std::max_element(cols[j].begin(), cols[j].end());
    if (mx == mn) continue;
    std::vector<double> xn;
    double s = 0;
    for (double x : cols[j]) xn.push_back(benefit[j] ? (x - mn) / (mx - mn) : (mx - x) / (mx - mn)), s += xn.back();
    double e = 0;
    for (double x : xn) e += x == 0 ? 0 : (x / s) * std::log(x / s);
    d[j] = 1 + e / std::log(double(n));
  }
  double ds = 0;
  for (double v : d) ds += v;
  Oracle o;
  for (double v : d) o.weights.push_back(v / ds);
  std::vector<double> plus(n, 0), minus(n, 0);
  for (std::size_t j = 0; j < k; ++j) {
    double sq = 0;
    for (double x : cols[j]) sq += x * x;
    std::vector<double> v;
    for (double x : cols[j]) v.push_back(o.weights[j] * x / std::sqrt(sq));
    const double best = benefit[j] ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end());
    const double worst = benefit[j] ? *std::min_element(v.begin(), v.end()) : *std::max_element(v.begin(), v.end());
    for (std::size_t i = 0; i < n; ++i) plus[i] += std::pow(v[i] - best, 2), minus[i] += std::pow(v[i] - worst, 2);
  }
  for (std::size_t i = 0; i < n; ++i) o.topsis.push_back(std::sqrt(minus[i]) / (std::sqrt(plus[i]) + std::sqrt(minus[i])));
  return o;
}

TEST(EntropyTopsis, MatchesAnIndependentWorkedExample) {
  // Four districts, three indicators: good-air share (benefit), congestion index (cost), e-licence use (benefit).
  const std::vector<std::string> names{"Dongcheng", "Xicheng", "Chaoyang", "Haidian"};
  const std::vector<std::vector<double>> cols{{0.62, 0.71, 0.55, 0.80}, {1.8, 1.5, 2.3, 1.6}, {0.40, 0.35, 0.52, 0.61}};
  const std::vector<bool> benefit{true, false, true};
  const std::vector<std::string> codes{"air", "congestion", "elicence"};
  Panel p;
  for (std::size_t j = 0; j < codes.size(); ++j) p.indicators.push_back({codes[j], benefit[j] ? Direction::Benefit : Direction::Cost});
  for (std::size_t i = 0; i < names.size(); ++i) {
    Alternative a{names[i], {}};
    for (std::size_t j = 0; j < codes.size(); ++j) a.values[codes[j]] = cols[j][i];
    p.alternatives.push_back(a);
  }
  const auto expected = oracle(cols, benefit);
  auto result = entropy_topsis(p);
  ASSERT_TRUE(result.ok()) << result.problem().detail;
  double sum = 0;
  for (std::size_t j = 0; j < codes.size(); ++j) {
    EXPECT_NEAR(result->weights.at(codes[j]), expected.weights[j], 1e-9) << codes[j];
    sum += result->weights.at(codes[j]);
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_NEAR(result->scores.at(names[i]), expected.topsis[i], 1e-9) << names[i];
}

TEST(Panel, BadInputNamesTheIndicatorAndTheFault) {
  Panel p{{{"x", Direction::Benefit}}, {{"A", {{"x", 1}}}, {"B", {}}}};
  auto r = entropy(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(r.problem().detail.find("indicator x: no value for alternative \"B\""), std::string::npos) << r.problem().detail;

  Panel one{{{"x", Direction::Benefit}}, {{"A", {{"x", 1}}}}};
  EXPECT_FALSE(entropy(one).ok());
  Panel negative{{{"x", Direction::Benefit}}, {{"A", {{"x", -1}}}, {"B", {{"x", 1}}}}};
  auto t = entropy_topsis(negative);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.problem().detail.find("indicator x"), std::string::npos);
  Panel twice{{{"x", Direction::Benefit}, {"x", Direction::Cost}}, {{"A", {{"x", 1}}}, {"B", {{"x", 2}}}}};
  EXPECT_FALSE(entropy(twice).ok());
  Panel stray{{{"x", Direction::Benefit}}, {{"A", {{"x", 1}, {"z", 2}}}, {"B", {{"x", 2}}}}};
  EXPECT_FALSE(entropy(stray).ok());
}

}  // namespace
}  // namespace ct::evaluation
