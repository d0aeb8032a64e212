#pragma once
// KPI publishing: every application publishes its headline figures as Smart Data Model
// `KeyPerformanceIndicator` entities (dataModel.KeyPerformanceIndicator), one entity per
// (application, indicator, area, frequency), updated in place at each calculation, so its history is
// the KPI's time series and it can be queried, subscribed to and charted like any entity.
//
// Entity id: urn:ngsi-ld:KeyPerformanceIndicator:<application>:<indicator>:<frequency>:<area>, where
// <area> is "city" or the district's entity id; a figure about one thing in the area (a substation, a
// metering area, a request category) has its `subject` appended (":<subject>") and written as the
// Property `subject` (not in the Smart Data Model: docs/data-models.md).
// Attributes (SDM names, expanded with the model's @context): kpiValue, calculationPeriod {from, to},
// calculationFrequency (hourly|daily), calculationMethod "automatic", category ["quantitative"], name,
// description, process (the application), area (the district's id or "city"), dateNextCalculation,
// and refDistrict (Relationship, for districts) — `kpiValue` is observed at the period's end.
//
// publish() may be called from any thread (it writes through the twin).
#include <optional>
#include <string>

#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context_store.hpp"
#include "twin/twin.hpp"

namespace ct::domains {

inline constexpr std::string_view kKpiContextUrl =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld";

struct KpiFigure {
  std::string application;  // "air"
  std::string indicator;    // camelCase: "goodAirDaysShare", "meanAqi"
  std::string name;         // human-readable: "Share of days with good air"
  std::string description;
  std::string frequency;                // "hourly" or "daily"
  std::optional<std::string> district;  // the District entity's id; none: the whole city
  Timestamp from = kNoTimestamp, to = kNoTimestamp;  // the calculation period [from, to)
  double value = 0;
  std::optional<std::string> standing;  // currentStanding: "very good", "good", "bad", ...
  std::optional<std::string> subject;   // the entity id or code the figure is about, if narrower than the area
};

// The KPI entity's id for `figure`.
std::string kpi_entity_id(const KpiFigure& figure);

class KpiPublisher {
 public:
  KpiPublisher(twin::Twin& twin, jsonld::ContextStore& contexts);
  // Creates or updates the figure's entity in `tenant`.
  Result<storage::Sequence> publish(const std::string& tenant, const KpiFigure& figure);

 private:
  twin::Twin& twin_;
  jsonld::ContextStore& contexts_;
};

}  // namespace ct::domains
