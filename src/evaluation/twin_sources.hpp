#pragma once
// Computing indicators from the twin's current state: every query and KPI source of a framework is
// answered from one pass over the tenant's entities, for the whole city or one district.
//  - query sources match entities whose type has the source's short name (in any vocabulary: the
//    demo holds types both in the NGSI-LD default vocabulary and in Smart Data Models'), with q
//    expanded against that same vocabulary (the core @context's terms keep their meaning); for a
//    district, only entities whose `location` point lies in the district count;
//  - KPI sources read the kpiValue of urn:ngsi-ld:KeyPerformanceIndicator:<app>:<indicator>:<frequency>:<area>
//    (any application), <area> being "city" or the district's id.
// A query over no entity of the type, or an absent KPI, gives a missing input saying so.
// Limitation: values come from current state, not aggregated over the period's history; the
// provenance carries the KPI's observedAt so a reader sees when the value was measured.
//
// Thread-safe (reads through the twin's read lock); the ContextStore must outlive the object.
#include <map>
#include <string>

#include "domains/core/districts.hpp"
#include "evaluation/evaluation.hpp"
#include "jsonld/context_store.hpp"
#include "twin/twin.hpp"

namespace ct::evaluation {

inline constexpr std::string_view kDistrictType = "District";

class TwinSources {
 public:
  TwinSources(twin::Twin& twin, jsonld::ContextStore& contexts);

  // Inputs for every leaf of `framework` whose source is a query or a KPI. `scope`: "city" or a
  // district's entity id.
  std::map<std::string, IndicatorInput> compute(const std::string& tenant, const Framework& framework,
                                                const std::string& scope);
  // The ids of the tenant's District entities, in id order.
  std::vector<std::string> districts(const std::string& tenant) { return districts_.districts(tenant, std::string(kDistrictType)); }

 private:
  twin::Twin& twin_;
  jsonld::ContextStore& contexts_;
  domains::DistrictLocator districts_;
};

}  // namespace ct::evaluation
