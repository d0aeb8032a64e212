#pragma once
// Scoring rules: how an indicator's measured value becomes the fraction of its weight it earns
// (0 … 1). Every rule reads the indicator's direction: a benefit indicator earns more as its value
// grows, a cost indicator as it falls.
//  - linear:  0 at `lower` and full at `upper` for a benefit ((x − lower)/(upper − lower));
//             full at `lower` and 0 at `upper` for a cost; clamped to [0, 1].
//  - target:  attainment of `target`: benefit min(x/target, 1) (0 for x ≤ 0); cost 1 when
//             x ≤ target, else target/x.
//  - banded:  a list of {threshold, fraction}: a benefit earns the largest fraction whose threshold
//             x reaches (x ≥ threshold), a cost the largest whose threshold x stays within
//             (x ≤ threshold); 0 when none.
//  - yes/no:  a benefit earns 1 for a non-zero value (yes), a cost for zero (no).
// Pure; callable from any thread.
#include <string>
#include <variant>
#include <vector>

#include "common/json.hpp"
#include "evaluation/weighting.hpp"

namespace ct::evaluation {

struct LinearRule {
  double lower = 0, upper = 1;
};
struct TargetRule {
  double target = 1;
};
struct Band {
  double threshold = 0, fraction = 0;
};
struct BandedRule {
  std::vector<Band> bands;
};
struct YesNoRule {};

using ScoringRule = std::variant<LinearRule, TargetRule, BandedRule, YesNoRule>;

// The fraction of the weight earned, in [0, 1]. `value` must be finite.
double score_fraction(const ScoringRule& rule, Direction direction, double value);

// Parses {"rule": "linear", "lower", "upper"} | {"rule": "target", "target"} |
// {"rule": "banded", "bands": [{"threshold", "fraction"}]} | {"rule": "yes-no"}. The problem's
// detail says what is wrong (the caller prefixes the indicator's code).
Result<ScoringRule> parse_scoring_rule(const json::value& spec);
json::object scoring_rule_json(const ScoringRule& rule);

Result<Direction> parse_direction(std::string_view text);
std::string_view direction_name(Direction direction);

}  // namespace ct::evaluation
