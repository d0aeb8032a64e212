#pragma once
// The evaluation service behind /admin/v1/frameworks, /admin/v1/evaluations and
// /admin/v1/indicators/{code}/values: the loaded frameworks, evaluation definitions
// {framework, scope, period}, manual values, and running an evaluation.
//
// Manual values are entities in the twin (type EvaluationManualValue, id
// urn:ngsi-ld:EvaluationManualValue:<framework>:<code>:<area>), so they persist, have history and can
// be queried like any entity. A run publishes its total and every first- and second-level score as
// KeyPerformanceIndicator entities through the KPI publisher (application "evaluation-<framework>",
// frequency "yearly" | "quarterly" | "monthly", indicator "<code>" or "total").
//
// Thread-safe: definitions are under a mutex; runs read the twin and write through it.
#include <mutex>
#include <vector>

#include "domains/core/kpi.hpp"
#include "evaluation/twin_sources.hpp"

namespace ct::evaluation {

// How a city evaluation also compares its districts: not at all (the standard's fixed weights only),
// or with entropy weights / entropy-TOPSIS over the leaf values every district has.
enum class Weighting { Standard, Entropy, EntropyTopsis };

struct EvaluationDefinition {
  std::string id;  // "<framework>:<scope>:<period>"
  std::string framework, scope;
  Period period;
  Weighting weighting = Weighting::Standard;  // other than Standard: scope must be "city"
};

struct ManualEntry {
  double value = 0;
  std::string evidence, source;
  Timestamp date = kNoTimestamp;  // when the value was established
  std::string scope = "city";
  std::string framework;  // empty: the only framework that has the code (BadRequestData if several do)
};

struct Run {
  const Framework* framework = nullptr;
  EvaluationDefinition definition;
  EvaluationResult result;
  // With entropy weighting: the districts compared on the leaves that every district has a value
  // for ({"method", "indicators", "weights", "scores", "excluded"}), or {"problem": why not}.
  std::optional<json::object> districts;
};

class Evaluations {
 public:
  Evaluations(std::vector<Framework> frameworks, twin::Twin& twin, jsonld::ContextStore& contexts,
              domains::KpiPublisher& kpis);

  const std::vector<Framework>& frameworks() const { return frameworks_; }
  const Framework* framework(std::string_view id) const;

  // Validates {framework, scope: "city" | district id, period, weighting?: "standard" | "entropy" |
  // "entropy-topsis"} (BadRequestData naming the fault) and keeps it.
  Result<EvaluationDefinition> define(const std::string& tenant, const json::value& body);
  std::vector<EvaluationDefinition> definitions(const std::string& tenant) const;
  Result<EvaluationDefinition> definition(const std::string& tenant, const std::string& id) const;
  Status remove(const std::string& tenant, const std::string& id);

  // Computes every indicator (twin + manual values), scores the framework and publishes the scores.
  Result<Run> run(const std::string& tenant, const EvaluationDefinition& definition);

  // Records a manual value for a leaf indicator whose source is manual: BadRequestData naming the
  // indicator when it is unknown, not manual, or the value lies outside its range.
  Result<storage::Sequence> set_manual(const std::string& tenant, const std::string& code, const ManualEntry& entry);
  // Parses {"value", "evidence", "source", "date", "scope"?, "framework"?}.
  static Result<ManualEntry> parse_manual(const json::value& body);
  // The manual values entered for `code` (every framework and scope), as stored.
  Result<json::array> manual_values(const std::string& tenant, const std::string& code) const;

 private:
  std::map<std::string, IndicatorInput> inputs_for(const std::string& tenant, const Framework& f, const std::string& scope,
                                                   const Period& period);
  json::object compare_districts(const std::string& tenant, const Framework& f, const EvaluationDefinition& d);
  Result<const Framework*> framework_with_manual(const std::string& code, const std::string& framework) const;
  Status check_scope(const std::string& tenant, const std::string& scope) const;

  std::vector<Framework> frameworks_;
  twin::Twin& twin_;
  jsonld::ContextStore& contexts_;
  domains::KpiPublisher& kpis_;
  TwinSources sources_;
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, EvaluationDefinition>> definitions_;  // tenant → id → definition
};

}  // namespace ct::evaluation
