#pragma once
// {"notify": {"uri": "http://… | https://… | mqtt://…"}}
//
// Fire and clear: sends a RuleNotification (rule, entity, state firing / cleared, severity, when,
// alert, notifiedAt, and the entity in simplified form) through notify's Dispatcher, which retries
// by itself; its delivery status shows in the rule's status. Each notify action of a rule runtime
// has a registration of its own (registration()).
#include <memory>
#include <string>
#include <string_view>

#include "notify/endpoint.hpp"
#include "notify/matching.hpp"
#include "rules/action_context.hpp"

namespace ct::rules {

struct NotifyAction {
  static constexpr std::string_view kName = "notify";
  static constexpr bool kRunsOnClear = true;
  static constexpr bool kRunsFirst = false;

  std::string uri;  // as written
  notify::EndpointAddress endpoint;

  static Result<NotifyAction> parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx);
  std::string_view target() const { return {}; }
  // The registration the dispatcher delivers this action's notifications for (one per rule runtime).
  std::shared_ptr<notify::Registration> registration(const std::string& tenant, const std::string& rule_id) const;
  Status run(ActionContext& ctx) const;
};

}  // namespace ct::rules
