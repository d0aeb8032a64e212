#pragma once
// Evaluating a framework: each leaf indicator's input (computed from the twin, entered by hand, or
// missing) becomes a score — points = the indicator's points × its scoring rule's fraction — and a
// parent's score is the sum of its children's, as GB/T 33356 defines. A missing input scores 0 and
// is listed, so a partial evaluation says what it lacks.
//
// Pure functions; callable from any thread.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "evaluation/framework.hpp"

namespace ct::evaluation {

// The period an evaluation covers: "2026", "2026-Q4" or "2026-12", as [from, to) in UTC.
struct Period {
  std::string text;
  Timestamp from = kNoTimestamp, to = kNoTimestamp;
};
// BadRequestData "period: …" when the text is none of the three forms.
Result<Period> parse_period(std::string_view text);

enum class InputStatus { Computed, Manual, Missing };
std::string_view status_name(InputStatus status);

struct IndicatorInput {
  InputStatus status = InputStatus::Missing;
  double value = 0;
  // How the value was obtained: the query and its counts, the KPI entity, or the manual entry's
  // evidence, source and date; for a missing one, why.
  json::object provenance;
};

struct IndicatorScore {
  std::string code;
  double points = 0;  // the indicator's weight in points
  double score = 0;   // points earned, rounded to two decimals as the standard keeps them
  InputStatus status = InputStatus::Missing;  // parents: missing if any leaf below is, else manual if any is
  std::optional<double> value;  // leaves with an input
  double fraction = 0;          // leaves: what the scoring rule gave
  json::object provenance;      // leaves
};

struct EvaluationResult {
  double total = 0;  // the sum of the first-level scores
  std::vector<IndicatorScore> indicators;  // in the framework's order
  std::size_t computed = 0, manual = 0, missing = 0;  // leaves
};

// `inputs` by leaf code; a leaf without an entry is missing.
EvaluationResult evaluate(const Framework& framework, const std::map<std::string, IndicatorInput>& inputs);

json::object evaluation_result_json(const Framework& framework, const EvaluationResult& result);

// The report as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line
// break): code,parent,name_zh,name_en,weight,score,status,value — one row per indicator in the
// framework's order, then a "total" row.
std::string evaluation_csv(const Framework& framework, const EvaluationResult& result);

}  // namespace ct::evaluation
