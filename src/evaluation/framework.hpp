#pragma once
// Evaluation frameworks as data (data/frameworks/*.json): a tree of indicators, each with a code,
// Chinese and English names, a weight, and — for the leaves — a unit, a direction, a scoring rule
// (evaluation/scoring.hpp) and a source: a formula over the twin (an NGSI-LD type, a q filter and an
// aggregate over current state), a KPI entity's value by indicator name, or a manual value.
//
// Weights: the roots' weights sum to the framework's `total` (100 points for GB/T 33356). Below a
// node, its children's weights sum to the node's weight ("points", the default) or to 100 when the
// node says "childWeights": "percent" (GB/T 33356's items: a share of their second-level
// indicator). Every number is kept as the file has it, with `verified` telling whether it was
// checked against the standard's text.
//
// load_framework() validates everything and answers BadRequestData whose detail names the
// framework, the indicator and the fault. A Framework is immutable once loaded: share it freely.
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/json.hpp"
#include "evaluation/scoring.hpp"
#include "evaluation/weighting.hpp"

namespace ct::evaluation {

enum class Aggregate { Count, Sum, Avg, Min, Max, Share };
Result<Aggregate> parse_aggregate(std::string_view text);
std::string_view aggregate_name(Aggregate aggregate);

// Over the entities of `type` in the current state: count — how many match q; share — how many
// match q among all of the type (0 … 1); sum/avg/min/max — of `attribute` (a number) over those
// that match q.
struct TwinQuerySource {
  std::string type;
  std::string q;  // NGSI-LD q (may be empty: every entity of the type)
  Aggregate aggregate = Aggregate::Count;
  std::string attribute;  // for sum/avg/min/max
};
// The kpiValue of the KeyPerformanceIndicator entity of this indicator name (and frequency) for the
// evaluated area (the city or a district).
struct KpiSource {
  std::string indicator;
  std::string frequency = "daily";
};
// Entered by a person with evidence, source and date; `min`/`max` bound what may be entered.
struct ManualSource {
  double min = 0, max = 1;
};
using IndicatorSource = std::variant<TwinQuerySource, KpiSource, ManualSource>;

// What formulas may name: the attributes of each entity type the twin holds, and the KPI
// indicators the applications publish (data/frameworks/vocabulary.json).
struct Vocabulary {
  std::map<std::string, std::set<std::string>> attributes;  // type → attribute names
  std::set<std::string> kpi_indicators;
};
Result<Vocabulary> parse_vocabulary(const json::value& document);

struct Indicator {
  std::string code;
  std::string parent;  // empty for a first-level indicator
  std::string name_zh, name_en;
  double weight = 0;       // as in the file: points, or percent of the parent (see above)
  double points = 0;       // the weight in points of the framework's total
  bool verified = false;   // checked against the standard's text
  bool children_in_percent = false;
  std::string note;
  std::vector<std::size_t> children;  // indexes into Framework::indicators
  // Leaves only:
  std::string unit;
  Direction direction = Direction::Benefit;
  std::optional<ScoringRule> rule;
  std::optional<IndicatorSource> source;

  bool leaf() const { return children.empty(); }
};

struct Framework {
  std::string id, name_zh, name_en, edition, note;
  double total = 100;
  bool verified = false;
  std::vector<Indicator> indicators;  // parents before their children, in file order otherwise
  std::vector<std::size_t> roots;
  std::map<std::string, std::size_t> by_code;

  const Indicator* find(std::string_view code) const;
};

// Parses and validates one framework document (checks every q against the NGSI-LD grammar and
// every named attribute / KPI against `vocabulary`).
Result<Framework> load_framework(const json::value& document, const Vocabulary& vocabulary);
// Loads every *.json in `folder` except vocabulary.json, with vocabulary.json as the vocabulary.
Result<std::vector<Framework>> load_framework_directory(const std::filesystem::path& folder);

// The framework as the API shows it: its header and the indicator tree.
json::object framework_json(const Framework& framework);
json::object indicator_source_json(const IndicatorSource& source);

}  // namespace ct::evaluation
