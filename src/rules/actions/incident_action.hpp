#pragma once
// {"incident": {"category": "…", "subCategory": "…", "description": "…"}}
//
// Fire: opens an incident (rules/incidents.hpp) for the entity, at its location, naming the alert of
// the same firing if there is one, with the rule's severity. Nothing on clearing.
#include <string>
#include <string_view>

#include "rules/action_context.hpp"

namespace ct::rules {

struct IncidentAction {
  static constexpr std::string_view kName = "incident";
  static constexpr bool kRunsOnClear = false;
  static constexpr bool kRunsFirst = false;

  std::string category, sub_category, description;

  static Result<IncidentAction> parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx);
  std::string_view target() const { return {}; }
  Status run(ActionContext& ctx) const;
};

}  // namespace ct::rules
