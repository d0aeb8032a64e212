#pragma once
// Rule actions: what a rule does when it fires (and, for some, when it clears). The extension
// point for new actions: an action is one type in rules/actions/, registered by naming it in the
// Action variant below (and including its header). Nothing else changes: parsing, the order of
// running, which actions take part in clearing and the names in errors come from the type.
//
// An action type T provides:
//   static constexpr std::string_view kName;   the member of {"<name>": {...}} in "actions"
//   static constexpr bool kRunsOnClear;        also runs when the alert clears (phase Clear)
//   static constexpr bool kRunsFirst;          runs before the others of a firing (alerts)
//   static Result<T> parse(const json::object& spec, const std::string& at, const jsonld::Context&);
//                                              BadRequestData naming `at` + the member at fault
//   std::string_view target() const;           an entity that must exist when the rule is defined
//   Status run(ActionContext&) const;          on the rules thread (action_context.hpp)
//
// Parsing runs on HTTP threads (rule definitions); run() only on the rules thread.
#include <string>
#include <string_view>
#include <variant>

#include "rules/actions/alert_action.hpp"
#include "rules/actions/command_action.hpp"
#include "rules/actions/incident_action.hpp"
#include "rules/actions/notify_action.hpp"
#include "rules/actions/update_action.hpp"

namespace ct::rules {

// The registered actions.
using Action = std::variant<AlertAction, IncidentAction, UpdateAction, CommandAction, NotifyAction>;

// Parses one item of "actions" ({"<name>": {...}}, `index` for the error messages).
Result<Action> parse_action(const json::value& item, std::size_t index, const jsonld::Context& ctx);

std::string_view action_name(const Action& action);
bool runs_on_clear(const Action& action);
bool runs_first(const Action& action);
std::string_view action_target(const Action& action);
Status run_action(const Action& action, ActionContext& ctx);

// Members of a definition, shared by the parsers of rules and actions.
Problem member_error(const std::string& member, const std::string& what);
// A string member of at most 4096 bytes; empty when absent and not required.
Result<std::string> string_member(const json::object& o, std::string_view name, const std::string& where, bool required);

}  // namespace ct::rules
