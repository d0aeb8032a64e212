#include "rules/actions/command_action.hpp"

#include "model/names.hpp"
#include "rules/action.hpp"

namespace ct::rules {

Result<CommandAction> CommandAction::parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx) {
  auto device_member = string_member(spec, "device", at, true);
  if (!device_member) return device_member.problem();
  if (!model::is_uri(*device_member)) return member_error(at + ".device", "must be a URI");
  auto command_member = string_member(spec, "command", at, true);
  if (!command_member) return command_member.problem();
  if (!model::is_valid_term(*command_member)) return member_error(at + ".command", "must be an attribute name");
  json::object body;
  body[*command_member] = json::object{{"type", "Property"}, {"value", spec.contains("value") ? spec.at("value") : json::value("")}};
  auto decoded = jsonld::decode_entity(body, ctx, {});
  if (!decoded) return member_error(at + ".value", decoded.problem().detail);
  CommandAction action;
  action.device = *device_member;
  action.command = *command_member;
  action.fragment = std::move(decoded).value();
  return action;
}

Status CommandAction::run(ActionContext& ctx) const {
  if (ctx.phase != Phase::Fire) return {};
  auto copy = fragment;
  auto done = ctx.services.twin.merge(ctx.tenant, device, std::move(copy), kRuleAction);
  if (!done) return done.problem();
  return {};
}

}  // namespace ct::rules
