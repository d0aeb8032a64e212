#include "rules/actions/command_action.hpp"

#include "model/names.hpp"
#include "rules/action.hpp"

namespace ct::rules {

Result<CommandAction> CommandAction::parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx) {
  auto device = string_member(spec, "device", at, true);
  if (!device) return device.problem();
  if (!model::is_uri(*device)) return member_error(at + ".device", "must be a URI");
  auto command = string_member(spec, "command", at, true);
  if (!command) return command.problem();
  if (!model::is_valid_term(*command)) return member_error(at + ".command", "must be an attribute name");
  json::object fragment;
  fragment[*command] = json::object{{"type", "Property"}, {"value", spec.contains("value") ? spec.at("value") : json::value("")}};
  auto decoded = jsonld::decode_entity(fragment, ctx, {});
  if (!decoded) return member_error(at + ".value", decoded.problem().detail);
  CommandAction action;
  action.device = *device;
  action.command = *command;
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
