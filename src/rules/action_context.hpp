#pragma once
// What a rule action is given when it runs (rules/action.hpp): the rule, the entity it fired for,
// and the services it may act through. Built by the evaluator on the rules thread; an action runs
// there, once per firing (and per clearing if it takes part in clearing), and must not block for
// long: a failure is returned, and the evaluator retries it with a doubling backoff.
#include <memory>
#include <string>

#include "common/json.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context_store.hpp"
#include "model/entity.hpp"
#include "notify/delivery.hpp"
#include "rules/ngsi_values.hpp"
#include "twin/twin.hpp"

namespace ct::rules {

struct Rule;
class Incidents;

enum class Phase : std::uint8_t { Fire, Clear };

// Shared by every action of every rule; owned by the engine.
struct ActionServices {
  twin::Twin& twin;
  Incidents& incidents;
  jsonld::ContextStore& contexts;
  const jsonld::ContextPtr& alert_context;  // the Smart Data Model Alert @context
  notify::Dispatcher& dispatcher;
};

// What the twin writes of rule actions say they are (origin RuleAction).
inline const twin::WriteOrigin kRuleAction{twin::Origin::RuleAction, {}};

struct ActionContext {
  ActionServices& services;
  const std::string& tenant;
  const Rule& rule;
  const std::string& entity_id;
  const model::Entity* entity;  // its latest snapshot; null once deleted
  std::string& alert_id;        // the Alert entity of this episode: set by the alert action when raised
  Phase phase;
  Timestamp now;
  // The notification registration of this action (a notify action only; see NotifyAction).
  const std::shared_ptr<notify::Registration>* registration = nullptr;
};

// The entity's GeoProperty `location`, if it has one.
const json::value* location_of(const model::Entity* entity);

}  // namespace ct::rules
