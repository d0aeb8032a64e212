#include "rules/actions/incident_action.hpp"

#include "rules/action.hpp"
#include "rules/incidents.hpp"
#include "rules/rule.hpp"

namespace ct::rules {

Result<IncidentAction> IncidentAction::parse(const json::object& spec, const std::string& at, const jsonld::Context&) {
  auto category_member = string_member(spec, "category", at, false);
  if (!category_member) return category_member.problem();
  auto sub = string_member(spec, "subCategory", at, false);
  if (!sub) return sub.problem();
  auto description_member = string_member(spec, "description", at, false);
  if (!description_member) return description_member.problem();
  return IncidentAction{*category_member, *sub, *description_member};
}

Status IncidentAction::run(ActionContext& ctx) const {
  if (ctx.phase != Phase::Fire) return {};
  const Rule& rule = ctx.rule;
  IncidentSpec spec;
  spec.category = category.empty() ? "rule" : category;
  spec.sub_category = sub_category;
  spec.description = description.empty() ? "rule " + rule.id + " fired for " + ctx.entity_id : description;
  spec.severity = rule.severity;
  if (const auto* where = location_of(ctx.entity)) spec.location = *where;
  spec.alert = ctx.alert_id;
  spec.source = ctx.entity_id;
  spec.by = "rule:" + rule.id;
  auto opened = ctx.services.incidents.open(ctx.tenant, spec, kRuleAction);
  if (!opened) return opened.problem();
  return {};
}

}  // namespace ct::rules
