#include "rules/actions/notify_action.hpp"

#include "notify/delivery_status.hpp"
#include "rules/action.hpp"
#include "rules/rule.hpp"

namespace ct::rules {

Result<NotifyAction> NotifyAction::parse(const json::object& spec, const std::string& at, const jsonld::Context&) {
  auto uri_member = string_member(spec, "uri", at, true);
  if (!uri_member) return uri_member.problem();
  auto address = notify::parse_endpoint_uri(*uri_member);
  if (!address) return member_error(at + ".uri", address.problem().detail);
  if (*uri_member == notify::kWebSocketOnlyUri)  // an address for a subscription's stream, not for a rule
    return member_error(at + ".uri", "must be an http, https or mqtt URI");
  NotifyAction action;
  action.uri = *uri_member;
  action.endpoint = std::move(address).value();
  return action;
}

std::shared_ptr<notify::Registration> NotifyAction::registration(const std::string& tenant, const std::string& rule_id) const {
  auto out = std::make_shared<notify::Registration>();
  out->tenant = tenant;
  auto subscription = std::make_shared<notify::Subscription>();
  subscription->id = "urn:citytwin:rule:" + rule_id;
  subscription->endpoint.uri = uri;
  subscription->address = endpoint;
  out->subscription = std::move(subscription);
  out->status = std::make_shared<notify::DeliveryStatus>();
  return out;
}

Status NotifyAction::run(ActionContext& ctx) const {
  const Rule& rule = ctx.rule;
  json::object body{{"type", "RuleNotification"},
                    {"rule", rule.id},
                    {"entity", ctx.entity_id},
                    {"state", ctx.phase == Phase::Fire ? "firing" : "cleared"},
                    {"severity", rule.severity},
                    {"when", rule.definition.contains("when") ? rule.definition.at("when") : json::value()},
                    {"alert", ctx.alert_id},
                    {"notifiedAt", format_datetime(ctx.now)}};
  if (ctx.entity) {
    jsonld::EncodeOptions simplified;
    simplified.form = jsonld::Form::Simplified;
    body["data"] = jsonld::encode_entity(*ctx.entity, *ctx.services.contexts.core(), simplified);
  }
  if (!ctx.registration || !*ctx.registration) return Problem{ProblemKind::InternalError, "notify: no registration"};
  ctx.services.dispatcher.send(notify::Outgoing{*ctx.registration, "application/json", "", to_text(body)});
  return {};  // the dispatcher retries; its delivery status shows in the rule's status
}

}  // namespace ct::rules
