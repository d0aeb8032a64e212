#pragma once
// A rule as defined at /admin/v1/rules: what it watches, when it fires and what it does then.
//
//   {"id": "pm25-sustained",                       [A-Za-z0-9._:-], at most 128 characters
//    "description": "…",
//    "watch": {"type": "AirQualityObserved",       required: one entity type
//              "idPattern": "^urn:…",              optional
//              "geoQ": {"geometry": …, "coordinates": …, "georel": …}},   optional area
//    "when": "avg(pm25,PT1H) > 75",                condition.hpp
//    "for": "PT10M",                               optional: must hold this long before firing
//    "clearWhen": "avg(pm25,PT1H) < 60",           optional hysteresis: clears when this holds
//                                                  (default: when `when` no longer holds)
//    "clearFor": "PT5M",                           optional hysteresis: ... for this long
//    "severity": "high",                           informational, low, medium, high, critical
//    "enabled": true,
//    "actions": [ {"alert": {"category": "environment", "subCategory": "airPollution", "description": "…"}},
//                 {"incident": {"category": "…", "description": "…"}},
//                 {"update": {"entity": "urn:…" (default: the entity that fired), "attributes": {…}}},
//                 {"command": {"device": "urn:…", "command": "switchOn", "value": …}},
//                 {"notify": {"uri": "http://… | https://… | mqtt://…"}} ]}
//
// Names are expanded with the @context of the request that defined the rule (Link header), kept
// with it. The `update` attributes are an NGSI-LD fragment (normalized or concise). Each action
// is a type of its own (rules/action.hpp, rules/actions/).
//
// Parsing is pure: any thread.
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context.hpp"
#include "jsonld/entity_codec.hpp"
#include "rules/action.hpp"
#include "rules/condition.hpp"
#include "twin/twin.hpp"

namespace ct::rules {

struct Rule {
  std::string id;
  json::object definition;  // as given (what GET returns), with "enabled" always present
  std::string context_url;  // the Link @context of the defining request; empty: the core context
  model::Term type;         // watch.type, expanded
  twin::EntityQuery watch;
  Condition when;
  std::optional<Condition> clear_when;
  std::int64_t for_ms = 0;
  std::int64_t clear_for_ms = 0;
  std::string severity = "medium";
  bool enabled = true;
  std::vector<Action> actions;
  Timestamp created_at = kNoTimestamp;
  Timestamp modified_at = kNoTimestamp;
};

inline constexpr std::size_t kMaxActions = 16;

// Checks and parses a definition (BadRequestData naming the member at fault).
Result<Rule> parse_rule(const json::object& definition, const jsonld::Context& ctx, std::string context_url);
// The definition with a PATCH fragment merged in (members replaced; null removes one; id fixed).
Result<json::object> merge_definition(const json::object& current, const json::object& fragment);

// The store document of a rule, and back (the caller resolves the @context URL).
std::string encode_rule(const Rule& rule);
struct StoredRule {
  json::object definition;
  std::string context_url;
  Timestamp created_at = kNoTimestamp, modified_at = kNoTimestamp;
};
Result<StoredRule> decode_rule(std::string_view document);

}  // namespace ct::rules
