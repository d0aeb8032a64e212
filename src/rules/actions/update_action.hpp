#pragma once
// {"update": {"entity": "urn:…" (default: the entity that fired), "attributes": {…}}}
//
// Fire: merges the attributes (an NGSI-LD fragment, normalized or concise, expanded with the
// rule's @context) into the entity. Nothing on clearing. A named entity must exist when the rule
// is defined.
#include <string>
#include <string_view>

#include "jsonld/entity_codec.hpp"
#include "rules/action_context.hpp"

namespace ct::rules {

struct UpdateAction {
  static constexpr std::string_view kName = "update";
  static constexpr bool kRunsOnClear = false;
  static constexpr bool kRunsFirst = false;

  std::string entity;  // empty: the one that fired
  jsonld::DecodedEntity fragment;

  static Result<UpdateAction> parse(const json::object& spec, const std::string& at, const jsonld::Context& ctx);
  std::string_view target() const { return entity; }
  Status run(ActionContext& ctx) const;
};

}  // namespace ct::rules
