#pragma once
// Objective weighting and ranking across alternatives (districts, or cities of a loaded panel),
// exactly as issue #20 defines them:
//  - entropy weights: min–max normalise each indicator by its direction ((x − min)/(max − min) for a
//    benefit, (max − x)/(max − min) for a cost; an indicator constant across the alternatives gets
//    weight 0), p = x′/Σx′, e = −(1/ln n) Σ p ln p with 0 ln 0 = 0, d = 1 − e, w = d/Σd;
//  - entropy-TOPSIS: the entropy weights, then on the raw values r = x/√Σx², v = w·r, the ideal is
//    each indicator's best v by its direction and the anti-ideal its worst, D⁺/D⁻ the Euclidean
//    distances to them, score = D⁻/(D⁺ + D⁻).
// Pure functions of their input; callable from any thread.
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace ct::evaluation {

enum class Direction { Benefit, Cost };  // more is better / less is better

struct PanelIndicator {
  std::string code;
  Direction direction = Direction::Benefit;
};

struct Alternative {
  std::string name;
  std::map<std::string, double> values;  // indicator code → value
};

struct Panel {
  std::vector<PanelIndicator> indicators;
  std::vector<Alternative> alternatives;
};

struct Comparison {
  std::map<std::string, double> weights;  // indicator code → w (sums to 1 unless every indicator is constant)
  std::map<std::string, double> scores;   // alternative name → score in [0, 1] (entropy: Σ w·x′)
};

// Checks the panel: at least one indicator and two alternatives, unique codes and names, every
// alternative has a finite value for every indicator. BadRequestData naming the indicator otherwise.
Status validate_panel(const Panel& panel);

// The entropy weights; scores are the weighted sums of the min–max normalised values.
// When every indicator is constant, every weight is 0 and every score 0.
Result<Comparison> entropy(const Panel& panel);

// Entropy weights with TOPSIS scores. An alternative equidistant from both (all distances 0) scores 0.5.
// Values must be ≥ 0 (vector normalisation needs it); an indicator whose values are all 0 gets r = 0.
Result<Comparison> entropy_topsis(const Panel& panel);

}  // namespace ct::evaluation
