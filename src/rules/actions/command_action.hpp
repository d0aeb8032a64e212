#pragma once
// {"command": {"device": "urn:…", "command": "switchOn", "value": …}}
//
// Fire: writes the command attribute of the device's entity (origin RuleAction), which ingest's
// command router sends to the device. Nothing on clearing. The device's entity must exist when the
// rule is defined.
#include <string>
#include <string_view>

#include "jsonld/entity_codec.hpp"
#include "rules/action_context.hpp"

namespace ct::rules {

struct CommandAction {
  static constexpr std::string_view kName = "command";
  static constexpr bool kRunsOnClear = false;
  static constexpr bool kRunsFirst = false;

  std::string device;
  std::string command;
  jsonld::DecodedEntity fragment;  // the command attribute with its value

  static Result<CommandAction> parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx);
  std::string_view target() const { return device; }
  Status run(ActionContext& ctx) const;
};

}  // namespace ct::rules
