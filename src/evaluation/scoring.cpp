#include "evaluation/scoring.hpp"

#include <algorithm>
#include <cmath>

namespace ct::evaluation {
namespace {

double clamp_fraction(double f) { return std::clamp(f, 0.0, 1.0); }

Result<double> finite_member(const json::object& spec, std::string_view key) {
  const auto* v = spec.if_contains(key);
  if (!v || !(v->is_number())) return bad_request("scoring rule: \"" + std::string(key) + "\" must be a number");
  const double d = v->to_number<double>();
  if (!std::isfinite(d)) return bad_request("scoring rule: \"" + std::string(key) + "\" must be finite");
  return d;
}

}  // namespace

double score_fraction(const ScoringRule& rule, Direction direction, double x) {
  const bool benefit = direction == Direction::Benefit;
  if (const auto* r = std::get_if<LinearRule>(&rule)) {
    const double f = (x - r->lower) / (r->upper - r->lower);
    return clamp_fraction(benefit ? f : 1.0 - f);
  }
  if (const auto* r = std::get_if<TargetRule>(&rule)) {
    if (benefit) return x <= 0 ? 0.0 : clamp_fraction(x / r->target);
    return x <= r->target ? 1.0 : clamp_fraction(r->target / x);
  }
  if (const auto* r = std::get_if<BandedRule>(&rule)) {
    double best = 0;
    for (const auto& band : r->bands)
      if (benefit ? x >= band.threshold : x <= band.threshold) best = std::max(best, band.fraction);
    return best;
  }
  return benefit == (x != 0) ? 1.0 : 0.0;  // yes/no
}

// g++ 12 at -O1 (the asan preset) reports the BandedRule vector inside a ScoringRule made from another
// alternative as "may be used uninitialized" (a known false positive of GCC with std::variant of a type
// holding a vector); the release build at -O3 does not. Silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
Result<ScoringRule> parse_scoring_rule(const json::value& spec_value) {
  const auto* spec = spec_value.if_object();
  if (!spec) return bad_request("scoring rule: must be an object");
  const auto* name = spec->if_contains("rule");
  if (!name || !name->is_string()) return bad_request("scoring rule: \"rule\" must be a string");
  const std::string_view rule = name->get_string();
  if (rule == "linear") {
    auto lower = finite_member(*spec, "lower");
    if (!lower) return lower.problem();
    auto upper = finite_member(*spec, "upper");
    if (!upper) return upper.problem();
    if (*upper <= *lower) return bad_request("scoring rule: linear needs lower < upper");
    return ScoringRule{LinearRule{*lower, *upper}};
  }
  if (rule == "target") {
    auto target = finite_member(*spec, "target");
    if (!target) return target.problem();
    if (*target <= 0) return bad_request("scoring rule: target must be > 0");
    return ScoringRule{TargetRule{*target}};
  }
  if (rule == "banded") {
    const auto* bands = spec->if_contains("bands");
    if (!bands || !bands->is_array() || bands->get_array().empty())
      return bad_request("scoring rule: banded needs a non-empty \"bands\" array");
    BandedRule out;
    for (const auto& b : bands->get_array()) {
      if (!b.is_object()) return bad_request("scoring rule: each band must be an object");
      auto threshold = finite_member(b.get_object(), "threshold");
      if (!threshold) return threshold.problem();
      auto fraction = finite_member(b.get_object(), "fraction");
      if (!fraction) return fraction.problem();
      if (*fraction < 0 || *fraction > 1) return bad_request("scoring rule: a band's fraction must be within [0, 1]");
      out.bands.push_back({*threshold, *fraction});
    }
    return ScoringRule{std::move(out)};
  }
  if (rule == "yes-no") return ScoringRule{YesNoRule{}};
  return bad_request("scoring rule: unknown rule \"" + std::string(rule) + "\" (linear, target, banded, yes-no)");
}
#pragma GCC diagnostic pop

json::object scoring_rule_json(const ScoringRule& rule) {
  if (const auto* r = std::get_if<LinearRule>(&rule)) return {{"rule", "linear"}, {"lower", r->lower}, {"upper", r->upper}};
  if (const auto* r = std::get_if<TargetRule>(&rule)) return {{"rule", "target"}, {"target", r->target}};
  if (const auto* r = std::get_if<BandedRule>(&rule)) {
    json::array bands;
    for (const auto& b : r->bands) bands.push_back(json::object{{"threshold", b.threshold}, {"fraction", b.fraction}});
    return {{"rule", "banded"}, {"bands", std::move(bands)}};
  }
  return {{"rule", "yes-no"}};
}

Result<Direction> parse_direction(std::string_view text) {
  if (text == "benefit") return Direction::Benefit;
  if (text == "cost") return Direction::Cost;
  return bad_request("direction must be \"benefit\" or \"cost\", not \"" + std::string(text) + "\"");
}

std::string_view direction_name(Direction direction) { return direction == Direction::Benefit ? "benefit" : "cost"; }

}  // namespace ct::evaluation
