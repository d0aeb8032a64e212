#pragma once
// {"alert": {"category": "environment", "subCategory": "airPollution", "description": "…"}}
//
// Fire: creates a Smart Data Model Alert entity (status "active", alertSource the entity, the
// rule's severity, the entity's location) once per episode. Clear: sets its validTo and status
// "cleared" (nothing to do if someone deleted it). Runs before the other actions of a firing, so
// that they can name the alert.
#include <string>
#include <string_view>

#include "rules/action_context.hpp"

namespace ct::rules {

struct AlertAction {
  static constexpr std::string_view kName = "alert";
  static constexpr bool kRunsOnClear = true;
  static constexpr bool kRunsFirst = true;

  std::string category, sub_category, description;

  static Result<AlertAction> parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx);
  std::string_view target() const { return {}; }
  Status run(ActionContext& ctx) const;
};

}  // namespace ct::rules
