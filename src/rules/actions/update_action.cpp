#include "rules/actions/update_action.hpp"

#include "model/names.hpp"
#include "rules/action.hpp"

namespace ct::rules {

Result<UpdateAction> UpdateAction::parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx) {
  auto entity_member = string_member(spec, "entity", at, false);
  if (!entity_member) return entity_member.problem();
  if (!entity_member->empty() && !model::is_uri(*entity_member)) return member_error(at + ".entity", "must be a URI");
  const auto* attributes = spec.if_contains("attributes");
  if (!attributes || !attributes->is_object() || attributes->get_object().empty())
    return member_error(at + ".attributes", "must be a non-empty object of NGSI-LD attributes");
  auto decoded = jsonld::decode_entity(attributes->get_object(), ctx, {});
  if (!decoded) return member_error(at + ".attributes", decoded.problem().detail);
  if (!decoded->header.id.empty() || !decoded->header.types.empty())
    return member_error(at + ".attributes", "must hold attributes only (no id or type)");
  UpdateAction action;
  action.entity = *entity_member;
  action.fragment = std::move(decoded).value();
  return action;
}

Status UpdateAction::run(ActionContext& ctx) const {
  if (ctx.phase != Phase::Fire) return {};
  auto copy = fragment;
  auto done = ctx.services.twin.merge(ctx.tenant, entity.empty() ? ctx.entity_id : entity, std::move(copy), kRuleAction);
  if (!done) return done.problem();
  return {};
}

}  // namespace ct::rules
