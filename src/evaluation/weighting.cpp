#include "evaluation/weighting.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace ct::evaluation {
namespace {

// matrix[i][j]: alternative i, indicator j (validated panel).
std::vector<std::vector<double>> panel_matrix(const Panel& panel) {
  std::vector<std::vector<double>> m(panel.alternatives.size());
  for (std::size_t i = 0; i < panel.alternatives.size(); ++i)
    for (const auto& ind : panel.indicators) m[i].push_back(panel.alternatives[i].values.at(ind.code));
  return m;
}

// Min–max normalised matrix; `constant[j]` tells an indicator without spread.
std::vector<std::vector<double>> min_max(const Panel& panel, const std::vector<std::vector<double>>& m,
                                         std::vector<bool>& constant) {
  const std::size_t n = m.size(), k = panel.indicators.size();
  std::vector<std::vector<double>> out(n, std::vector<double>(k, 0.0));
  constant.assign(k, false);
  for (std::size_t j = 0; j < k; ++j) {
    double lo = m[0][j], hi = m[0][j];
    for (std::size_t i = 1; i < n; ++i) lo = std::min(lo, m[i][j]), hi = std::max(hi, m[i][j]);
    if (hi == lo) {
      constant[j] = true;
      continue;
    }
    const bool benefit = panel.indicators[j].direction == Direction::Benefit;
    for (std::size_t i = 0; i < n; ++i) out[i][j] = benefit ? (m[i][j] - lo) / (hi - lo) : (hi - m[i][j]) / (hi - lo);
  }
  return out;
}

std::vector<double> entropy_weight_vector(const Panel& panel, const std::vector<std::vector<double>>& m,
                                          std::vector<std::vector<double>>* normalised) {
  const std::size_t n = m.size(), k = panel.indicators.size();
  std::vector<bool> constant;
  auto x = min_max(panel, m, constant);
  std::vector<double> d(k, 0.0);
  double d_sum = 0;
  for (std::size_t j = 0; j < k; ++j) {
    if (constant[j]) continue;
    double column = 0;
    for (std::size_t i = 0; i < n; ++i) column += x[i][j];
    double sum_plnp = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double p = x[i][j] / column;  // column > 0: a non-constant column has a 1 in it
      if (p > 0) sum_plnp += p * std::log(p);
    }
    const double e = -sum_plnp / std::log(static_cast<double>(n));
    d[j] = 1.0 - e;
    d_sum += d[j];
  }
  std::vector<double> w(k, 0.0);
  if (d_sum > 0)
    for (std::size_t j = 0; j < k; ++j) w[j] = d[j] / d_sum;
  if (normalised) *normalised = std::move(x);
  return w;
}

}  // namespace

Status validate_panel(const Panel& panel) {
  if (panel.indicators.empty()) return bad_request("the panel has no indicators");
  if (panel.alternatives.size() < 2) return bad_request("the panel needs at least two alternatives");
  std::set<std::string> codes, names;
  for (const auto& ind : panel.indicators) {
    if (ind.code.empty()) return bad_request("an indicator has an empty code");
    if (!codes.insert(ind.code).second) return bad_request("indicator " + ind.code + ": listed twice");
  }
  for (const auto& alt : panel.alternatives) {
    if (!names.insert(alt.name).second) return bad_request("alternative \"" + alt.name + "\": listed twice");
    for (const auto& ind : panel.indicators) {
      auto it = alt.values.find(ind.code);
      if (it == alt.values.end())
        return bad_request("indicator " + ind.code + ": no value for alternative \"" + alt.name + "\"");
      if (!std::isfinite(it->second))
        return bad_request("indicator " + ind.code + ": value for alternative \"" + alt.name + "\" is not finite");
    }
    for (const auto& [code, value] : alt.values)
      if (!codes.count(code))
        return bad_request("indicator " + code + ": alternative \"" + alt.name + "\" has a value for an indicator not in the panel");
  }
  return {};
}

Result<Comparison> entropy(const Panel& panel) {
  if (auto s = validate_panel(panel); !s) return s.problem();
  const auto m = panel_matrix(panel);
  std::vector<std::vector<double>> x;
  const auto w = entropy_weight_vector(panel, m, &x);
  Comparison out;
  for (std::size_t j = 0; j < w.size(); ++j) out.weights[panel.indicators[j].code] = w[j];
  for (std::size_t i = 0; i < m.size(); ++i) {
    double score = 0;
    for (std::size_t j = 0; j < w.size(); ++j) score += w[j] * x[i][j];
    out.scores[panel.alternatives[i].name] = score;
  }
  return out;
}

Result<Comparison> entropy_topsis(const Panel& panel) {
  if (auto s = validate_panel(panel); !s) return s.problem();
  const auto m = panel_matrix(panel);
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t j = 0; j < m[i].size(); ++j)
      if (m[i][j] < 0)
        return bad_request("indicator " + panel.indicators[j].code + ": TOPSIS needs values ≥ 0, alternative \"" +
                           panel.alternatives[i].name + "\" has " + std::to_string(m[i][j]));
  const auto w = entropy_weight_vector(panel, m, nullptr);
  const std::size_t n = m.size(), k = w.size();
  std::vector<std::vector<double>> v(n, std::vector<double>(k, 0.0));
  std::vector<double> ideal(k), anti(k);
  for (std::size_t j = 0; j < k; ++j) {
    double squares = 0;
    for (std::size_t i = 0; i < n; ++i) squares += m[i][j] * m[i][j];
    const double norm = std::sqrt(squares);
    for (std::size_t i = 0; i < n; ++i) v[i][j] = norm > 0 ? w[j] * m[i][j] / norm : 0.0;
    double lo = v[0][j], hi = v[0][j];
    for (std::size_t i = 1; i < n; ++i) lo = std::min(lo, v[i][j]), hi = std::max(hi, v[i][j]);
    const bool benefit = panel.indicators[j].direction == Direction::Benefit;
    ideal[j] = benefit ? hi : lo;
    anti[j] = benefit ? lo : hi;
  }
  Comparison out;
  for (std::size_t j = 0; j < k; ++j) out.weights[panel.indicators[j].code] = w[j];
  for (std::size_t i = 0; i < n; ++i) {
    double plus = 0, minus = 0;
    for (std::size_t j = 0; j < k; ++j) {
      plus += (v[i][j] - ideal[j]) * (v[i][j] - ideal[j]);
      minus += (v[i][j] - anti[j]) * (v[i][j] - anti[j]);
    }
    plus = std::sqrt(plus), minus = std::sqrt(minus);
    out.scores[panel.alternatives[i].name] = plus + minus > 0 ? minus / (plus + minus) : 0.5;
  }
  return out;
}

}  // namespace ct::evaluation
