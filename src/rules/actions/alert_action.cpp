#include "rules/actions/alert_action.hpp"

#include "rules/action.hpp"
#include "rules/rule.hpp"

namespace ct::rules {

Result<AlertAction> AlertAction::parse(const json::object& spec, const std::string& at, const jsonld::Context&) {
  auto category_member = string_member(spec, "category", at, true);
  if (!category_member) return category_member.problem();
  auto sub = string_member(spec, "subCategory", at, false);
  if (!sub) return sub.problem();
  auto description_member = string_member(spec, "description", at, false);
  if (!description_member) return description_member.problem();
  return AlertAction{*category_member, *sub, *description_member};
}

Status AlertAction::run(ActionContext& ctx) const {
  auto& services = ctx.services;
  const Rule& rule = ctx.rule;
  if (ctx.phase == Phase::Clear) {
    if (ctx.alert_id.empty()) return {};
    json::object body{{"validTo", property(date_time(ctx.now))}, {"status", property("cleared")}};
    auto decoded = jsonld::decode_entity(body, *services.alert_context, {});
    if (!decoded) return decoded.problem();
    auto done = services.twin.merge(ctx.tenant, ctx.alert_id, std::move(decoded).value(), kRuleAction);
    if (!done && done.problem().kind != ProblemKind::ResourceNotFound) return done.problem();  // deleted by someone: nothing to clear
    return {};
  }
  if (!ctx.alert_id.empty()) return {};
  const std::string id = "urn:ngsi-ld:Alert:" + rule.id + ":" + std::to_string(ctx.now) + ":" + ctx.entity_id;
  json::object body{{"id", id},
                    {"type", "Alert"},
                    {"category", property(category)},
                    {"severity", property(rule.severity)},
                    {"alertSource", property(ctx.entity_id)},
                    {"dateIssued", property(date_time(ctx.now))},
                    {"validFrom", property(date_time(ctx.now))},
                    {"status", property("active")},
                    {"rule", property(rule.id)},
                    {"description", property(description.empty()
                                                 ? "rule " + rule.id + ": " + std::string(rule.definition.at("when").as_string())
                                                 : description)}};
  if (!sub_category.empty()) body["subCategory"] = property(sub_category);
  if (const auto* where = location_of(ctx.entity)) body["location"] = json::object{{"type", "GeoProperty"}, {"value", *where}};
  auto decoded = jsonld::decode_entity(body, *services.alert_context, {});
  if (!decoded) return decoded.problem();
  auto created = services.twin.create(ctx.tenant, std::move(decoded).value(), kRuleAction);
  if (!created) return created.problem();
  ctx.alert_id = id;
  return {};
}

}  // namespace ct::rules
