#include "rules/rule.hpp"

#include <algorithm>
#include <array>

#include "history/duration.hpp"
#include "model/names.hpp"
#include "query/geo.hpp"
#include "query/id_pattern.hpp"
#include "query/type_expression.hpp"

namespace ct::rules {
namespace {

Problem member_error(const std::string& member, const std::string& what) { return bad_request(member + ": " + what); }

bool valid_rule_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

Result<std::int64_t> duration_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return std::int64_t{0};
  if (!v->is_string()) return member_error(std::string(name), "must be an ISO 8601 duration such as \"PT10M\"");
  auto ms = history::parse_duration_ms(v->get_string());
  if (!ms) return member_error(std::string(name), ms.problem().detail);
  if (*ms > kMaxWindowMs) return member_error(std::string(name), "must be at most P31D");
  return *ms;
}

Result<std::string> string_member(const json::object& o, std::string_view name, const std::string& where, bool required) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) {
    if (required) return member_error(where + "." + std::string(name), "is required");
    return std::string();
  }
  if (!v->is_string()) return member_error(where + "." + std::string(name), "must be a string");
  if (v->get_string().size() > 4096) return member_error(where + "." + std::string(name), "is longer than 4096 characters");
  return std::string(v->get_string());
}

Result<Action> parse_action(const json::value& item, std::size_t index, const jsonld::Context& ctx) {
  const std::string where = "actions[" + std::to_string(index) + "]";
  if (!item.is_object() || item.get_object().size() != 1)
    return member_error(where, "must be an object with one member: alert, incident, update, command or notify");
  const auto& [key, spec_value] = *item.get_object().begin();
  static constexpr std::array<std::pair<std::string_view, ActionKind>, 5> kKinds{{
      {"alert", ActionKind::Alert},
      {"incident", ActionKind::Incident},
      {"update", ActionKind::Update},
      {"command", ActionKind::Command},
      {"notify", ActionKind::Notify},
  }};
  const auto* kind = std::find_if(kKinds.begin(), kKinds.end(), [&](const auto& k) { return k.first == key; });
  if (kind == kKinds.end())
    return member_error(where, "unknown action \"" + std::string(key) + "\" (alert, incident, update, command, notify)");
  if (!spec_value.is_object()) return member_error(where + "." + std::string(key), "must be an object");
  const auto& spec = spec_value.get_object();
  const std::string at = where + "." + std::string(key);
  Action action;
  action.kind = kind->second;
  switch (action.kind) {
    case ActionKind::Alert:
    case ActionKind::Incident: {
      auto category = string_member(spec, "category", at, action.kind == ActionKind::Alert);
      if (!category) return category.problem();
      auto sub = string_member(spec, "subCategory", at, false);
      if (!sub) return sub.problem();
      auto description = string_member(spec, "description", at, false);
      if (!description) return description.problem();
      action.category = *category;
      action.sub_category = *sub;
      action.description = *description;
      break;
    }
    case ActionKind::Update: {
      auto target = string_member(spec, "entity", at, false);
      if (!target) return target.problem();
      if (!target->empty() && !model::is_uri(*target)) return member_error(at + ".entity", "must be a URI");
      action.target = *target;
      const auto* attributes = spec.if_contains("attributes");
      if (!attributes || !attributes->is_object() || attributes->get_object().empty())
        return member_error(at + ".attributes", "must be a non-empty object of NGSI-LD attributes");
      auto fragment = jsonld::decode_entity(attributes->get_object(), ctx, {});
      if (!fragment) return member_error(at + ".attributes", fragment.problem().detail);
      if (!fragment->header.id.empty() || !fragment->header.types.empty())
        return member_error(at + ".attributes", "must hold attributes only (no id or type)");
      action.fragment = std::move(fragment).value();
      break;
    }
    case ActionKind::Command: {
      auto device = string_member(spec, "device", at, true);
      if (!device) return device.problem();
      if (!model::is_uri(*device)) return member_error(at + ".device", "must be a URI");
      auto command = string_member(spec, "command", at, true);
      if (!command) return command.problem();
      if (!model::is_valid_term(*command)) return member_error(at + ".command", "must be an attribute name");
      action.target = *device;
      action.command = *command;
      json::object fragment;
      fragment[*command] = json::object{{"type", "Property"},
                                        {"value", spec.contains("value") ? spec.at("value") : json::value("")}};
      auto decoded = jsonld::decode_entity(fragment, ctx, {});
      if (!decoded) return member_error(at + ".value", decoded.problem().detail);
      action.fragment = std::move(decoded).value();
      break;
    }
    case ActionKind::Notify: {
      auto uri = string_member(spec, "uri", at, true);
      if (!uri) return uri.problem();
      auto address = notify::parse_endpoint_uri(*uri);
      if (!address) return member_error(at + ".uri", address.problem().detail);
      if (address->websocket_only())
        return member_error(at + ".uri", "must be an http, https or mqtt URI");
      action.uri = *uri;
      action.endpoint = std::move(address).value();
      break;
    }
  }
  return action;
}

}  // namespace

std::string_view action_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::Alert: return "alert";
    case ActionKind::Incident: return "incident";
    case ActionKind::Update: return "update";
    case ActionKind::Command: return "command";
    case ActionKind::Notify: return "notify";
  }
  return "?";
}

Result<Rule> parse_rule(const json::object& definition, const jsonld::Context& ctx, std::string context_url) {
  static constexpr std::array<std::string_view, 11> kMembers{"id", "description", "watch", "when", "for", "clearWhen",
                                                             "clearFor", "severity", "enabled", "actions", "@context"};
  for (const auto& member : definition)
    if (std::find(kMembers.begin(), kMembers.end(), member.key()) == kMembers.end())
      return member_error(std::string(member.key()), "unknown member of a rule");
  Rule rule;
  rule.context_url = std::move(context_url);
  auto id = string_member(definition, "id", "rule", true);
  if (!id) return id.problem();
  if (!valid_rule_id(*id)) return member_error("id", "must be 1 to 128 letters, digits, '-', '_', '.' or ':'");
  rule.id = *id;
  auto description = string_member(definition, "description", "rule", false);
  if (!description) return description.problem();

  const auto* watch = definition.if_contains("watch");
  if (!watch || !watch->is_object()) return member_error("watch", "is required: an object with at least a type");
  for (const auto& member : watch->get_object())
    if (member.key() != "type" && member.key() != "idPattern" && member.key() != "geoQ")
      return member_error("watch." + std::string(member.key()), "unknown member (type, idPattern, geoQ)");
  auto type = string_member(watch->get_object(), "type", "watch", true);
  if (!type) return type.problem();
  if (!model::is_valid_term(*type)) return member_error("watch.type", "must be one entity type name");
  rule.type = model::Term::intern(ctx.expand(*type));
  twin::EntitySelector selector;
  auto types = query::parse_type_expression(rule.type.str(), ctx);
  if (!types) return member_error("watch.type", types.problem().detail);
  selector.types = std::move(types).value();
  if (const auto* pattern = watch->get_object().if_contains("idPattern")) {
    if (!pattern->is_string()) return member_error("watch.idPattern", "must be a string");
    auto parsed = query::IdPattern::parse(pattern->get_string());
    if (!parsed) return member_error("watch.idPattern", parsed.problem().detail);
    selector.id_pattern = std::move(parsed).value();
  }
  rule.watch.selectors.push_back(std::move(selector));
  if (const auto* geo = watch->get_object().if_contains("geoQ")) {
    if (!geo->is_object()) return member_error("watch.geoQ", "must be an object with geometry, coordinates and georel");
    auto parsed = query::parse_geo_query(geo->get_object(), ctx);
    if (!parsed) return member_error("watch.geoQ", parsed.problem().detail);
    rule.watch.geo = std::move(parsed).value();
  }

  const auto* when = definition.if_contains("when");
  if (!when || !when->is_string()) return member_error("when", "is required: a condition such as \"avg(pm25,PT1H) > 75\"");
  auto condition = parse_condition(when->get_string(), ctx);
  if (!condition) return condition.problem();
  rule.when = std::move(condition).value();
  if (const auto* clear = definition.if_contains("clearWhen"); clear && !clear->is_null()) {
    if (!clear->is_string()) return member_error("clearWhen", "must be a condition");
    auto parsed = parse_condition(clear->get_string(), ctx);
    if (!parsed) return member_error("clearWhen", parsed.problem().detail);
    rule.clear_when = std::move(parsed).value();
  }
  auto for_ms = duration_member(definition, "for");
  if (!for_ms) return for_ms.problem();
  rule.for_ms = *for_ms;
  auto clear_for = duration_member(definition, "clearFor");
  if (!clear_for) return clear_for.problem();
  rule.clear_for_ms = *clear_for;

  if (const auto* severity = definition.if_contains("severity"); severity && !severity->is_null()) {
    static constexpr std::array<std::string_view, 5> kSeverities{"informational", "low", "medium", "high", "critical"};
    if (!severity->is_string() ||
        std::find(kSeverities.begin(), kSeverities.end(), severity->get_string()) == kSeverities.end())
      return member_error("severity", "must be one of informational, low, medium, high, critical");
    rule.severity = std::string(severity->get_string());
  }
  if (const auto* enabled = definition.if_contains("enabled"); enabled && !enabled->is_null()) {
    if (!enabled->is_bool()) return member_error("enabled", "must be true or false");
    rule.enabled = enabled->get_bool();
  }

  const auto* actions = definition.if_contains("actions");
  if (!actions || !actions->is_array() || actions->get_array().empty())
    return member_error("actions", "is required: a non-empty array");
  if (actions->get_array().size() > kMaxActions) return member_error("actions", "at most 16 actions");
  std::size_t index = 0;
  for (const auto& item : actions->get_array()) {
    auto action = parse_action(item, index++, ctx);
    if (!action) return action.problem();
    rule.actions.push_back(std::move(action).value());
  }
  rule.definition = definition;
  rule.definition.erase("@context");
  rule.definition["enabled"] = rule.enabled;
  return rule;
}

Result<json::object> merge_definition(const json::object& current, const json::object& fragment) {
  json::object merged = current;
  for (const auto& member : fragment) {
    if (member.key() == "id") {
      if (!member.value().is_string() || member.value().get_string() != current.at("id").get_string())
        return member_error("id", "cannot be changed");
      continue;
    }
    if (member.key() == "@context") continue;
    if (member.value().is_null()) merged.erase(member.key());
    else merged[member.key()] = member.value();
  }
  return merged;
}

std::string encode_rule(const Rule& rule) {
  json::object doc;
  doc["definition"] = rule.definition;
  doc["context"] = rule.context_url;
  doc["createdAt"] = rule.created_at;
  doc["modifiedAt"] = rule.modified_at;
  return to_text(doc);
}

Result<StoredRule> decode_rule(std::string_view document) {
  auto parsed = parse_json(document);
  if (!parsed) return parsed.problem();
  if (!parsed->is_object()) return Problem{ProblemKind::InternalError, "a stored rule is not an object"};
  const auto& o = parsed->get_object();
  const auto* definition = o.if_contains("definition");
  const auto* context = o.if_contains("context");
  if (!definition || !definition->is_object() || !context || !context->is_string())
    return Problem{ProblemKind::InternalError, "a stored rule lacks its definition"};
  StoredRule stored;
  stored.definition = definition->get_object();
  stored.context_url = std::string(context->get_string());
  if (const auto* c = o.if_contains("createdAt"); c && c->is_int64()) stored.created_at = c->get_int64();
  if (const auto* m = o.if_contains("modifiedAt"); m && m->is_int64()) stored.modified_at = m->get_int64();
  return stored;
}

}  // namespace ct::rules
