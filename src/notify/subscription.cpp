#include "notify/subscription.hpp"

#include <algorithm>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <functional>

#include "model/names.hpp"
#include "query/geo.hpp"
#include "query/id_pattern.hpp"
#include "query/q.hpp"
#include "query/scope.hpp"
#include "query/type_expression.hpp"

namespace ct::notify {
namespace {

using model::Term;

constexpr std::pair<Trigger, std::string_view> kTriggerNames[] = {
    {Trigger::EntityCreated, "entityCreated"},       {Trigger::EntityUpdated, "entityUpdated"},
    {Trigger::EntityDeleted, "entityDeleted"},       {Trigger::AttributeCreated, "attributeCreated"},
    {Trigger::AttributeUpdated, "attributeUpdated"}, {Trigger::AttributeDeleted, "attributeDeleted"},
};

// The name of the document member that records the @context a q was written in.
constexpr std::string_view kQContextMember = "qContext";
constexpr int kDocumentVersion = 1;

Problem member_error(std::string_view member, std::string_view why) {
  return bad_request(std::string(member) + ": " + std::string(why));
}

// Prefixes a Problem's detail with the member it came from, unless it names it already.
Problem in_member(std::string_view member, Problem p) {
  if (p.detail.rfind(std::string(member), 0) != 0) p.detail = std::string(member) + ": " + p.detail;
  return p;
}

std::string random_uuid() {
  thread_local boost::uuids::random_generator generate;
  return boost::uuids::to_string(generate());
}

// Calls `map` on every type name of a type expression, keeping operators, parentheses and spaces.
std::string map_type_names(std::string_view text, const std::function<std::string(std::string_view)>& map) {
  std::string out;
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    std::string_view token = text.substr(start, end - start);
    std::size_t lead = 0;
    while (lead < token.size() && (token[lead] == ' ' || token[lead] == '\t')) ++lead;
    std::size_t trail = token.size();
    while (trail > lead && (token[trail - 1] == ' ' || token[trail - 1] == '\t')) --trail;
    out += token.substr(0, lead);
    if (trail > lead) out += map(token.substr(lead, trail - lead));
    out += token.substr(trail);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ',' || c == '|' || c == ';' || c == '(' || c == ')') {
      flush(i);
      out.push_back(c);
      start = i + 1;
    }
  }
  flush(text.size());
  return out;
}

// Reads members into a Subscription. `names` expands attribute and type names (the request's
// @context, or for stored documents any context: their names are IRIs already).
class MemberReader {
 public:
  MemberReader(Subscription& s, const ContextRef& names, jsonld::ContextStore* contexts)
      : s_(s), names_(names), contexts_(contexts) {}

  Status read(std::string_view key, const json::value& v) {
    if (key == "id" || key == "type" || key == "@context") return {};  // handled by the caller
    if (key == "subscriptionName") return text_member(key, v, s_.name);
    if (key == "description") return text_member(key, v, s_.description);
    if (key == "entities") return entities(v);
    if (key == "watchedAttributes") return term_list("watchedAttributes", v, s_.watched_attributes, s_.watched_set);
    if (key == "notificationTrigger") return triggers(v);
    if (key == "q") return q(v, names_);
    if (key == "geoQ") return geo_q(v);
    if (key == "scopeQ") return scope_q(v);
    if (key == "lang") return text_member(key, v, s_.lang);
    if (key == "notification") return notification(v);
    if (key == "throttling") return seconds(key, v, s_.throttling, /*zero_allowed=*/true);
    if (key == "timeInterval") return seconds(key, v, s_.time_interval, /*zero_allowed=*/false);
    if (key == "expiresAt") return expires_at(v);
    if (key == "isActive") return flag(key, v, s_.is_active, true);
    if (key == "jsonldContext") return jsonld_context(v);
    return {};  // read-only (status, createdAt, ...) or unknown: ignored
  }

  Status q(const json::value& v, const ContextRef& ctx) {
    if (v.is_null()) {
      s_.q.clear();
      s_.q_context = {};
      s_.query.q.reset();
      return {};
    }
    if (!v.is_string()) return member_error("q", "must be a string");
    std::string text(v.get_string());
    auto parsed = query::parse_q(text, *ctx.resolved);
    if (!parsed) return in_member("q", parsed.problem());
    s_.q = std::move(text);
    s_.q_context = ctx;
    s_.query.q = std::move(parsed).value();
    return {};
  }

  // A notification object: each member given replaces the current one (a PATCH merges them).
  Status notification(const json::value& v) {
    if (!v.is_object()) return member_error("notification", "must be an object");
    for (const auto& [key, member] : v.get_object()) {
      if (key == "attributes") {
        if (auto st = term_list("notification.attributes", member, s_.attributes, s_.attribute_set); !st) return st;
      } else if (key == "format") {
        if (auto st = format(member); !st) return st;
      } else if (key == "sysAttrs") {
        if (auto st = flag("notification.sysAttrs", member, s_.sys_attrs, false); !st) return st;
      } else if (key == "showChanges") {
        if (auto st = flag("notification.showChanges", member, s_.show_changes, false); !st) return st;
      } else if (key == "endpoint") {
        if (auto st = endpoint(member); !st) return st;
      }
    }
    return {};
  }

 private:
  Status text_member(std::string_view key, const json::value& v, std::string& into) {
    if (v.is_null()) {
      into.clear();
      return {};
    }
    if (!v.is_string()) return member_error(key, "must be a string");
    into = std::string(v.get_string());
    return {};
  }

  Status flag(std::string_view key, const json::value& v, bool& into, bool fallback) {
    if (v.is_null()) {
      into = fallback;
      return {};
    }
    if (!v.is_bool()) return member_error(key, "must be true or false");
    into = v.get_bool();
    return {};
  }

  Status seconds(std::string_view key, const json::value& v, double& into, bool zero_allowed) {
    if (v.is_null()) {
      into = 0;
      return {};
    }
    if (!v.is_number()) return member_error(key, "must be a number of seconds");
    const double value = v.to_number<double>();
    if (!(value > 0) && !(zero_allowed && value == 0))
      return member_error(key, zero_allowed ? "must not be negative" : "must be a positive number of seconds");
    if (value > 1e9) return member_error(key, "must be at most 1e9 seconds");
    into = value;
    return {};
  }

  Status term_list(std::string_view key, const json::value& v, std::vector<Term>& into,
                   std::unordered_set<Term>& set) {
    into.clear();
    set.clear();
    if (v.is_null()) return {};
    if (!v.is_array()) return member_error(key, "must be an array of attribute names");
    if (v.get_array().empty()) return member_error(key, "must not be empty");
    for (const auto& item : v.get_array()) {
      if (!item.is_string() || !model::is_valid_term(item.get_string()))
        return member_error(key, "must be an array of attribute names");
      const Term name = Term::intern(names_.resolved->expand(item.get_string()));
      if (set.insert(name).second) into.push_back(name);
    }
    return {};
  }

  Status entities(const json::value& v) {
    s_.entities.clear();
    s_.query.selectors.clear();
    if (v.is_null()) return {};
    if (!v.is_array()) return member_error("entities", "must be an array of entity selectors");
    if (v.get_array().empty()) return member_error("entities", "must not be empty");
    std::size_t i = 0;
    for (const auto& item : v.get_array()) {
      const std::string at = "entities[" + std::to_string(i++) + "]";
      if (!item.is_object()) return member_error(at, "must be an object with type, and optionally id or idPattern");
      const auto& o = item.get_object();
      EntitySelectorSpec spec;
      twin::EntitySelector selector;
      const auto* type = o.if_contains("type");
      if (!type) return member_error(at + ".type", "is required");
      if (!type->is_string() || type->get_string().empty()) return member_error(at + ".type", "must be a type name or type expression");
      bool names_ok = true;
      spec.type = map_type_names(type->get_string(), [&](std::string_view name) {
        if (!model::is_valid_term(name)) names_ok = false;
        return names_.resolved->expand(name);
      });
      if (!names_ok) return member_error(at + ".type", "\"" + std::string(type->get_string()) + "\" is not a valid type expression");
      auto types = query::parse_type_expression(spec.type, *names_.resolved);
      if (!types) return in_member(at + ".type", types.problem());
      selector.types = std::move(types).value();
      if (const auto* id = o.if_contains("id")) {
        if (!id->is_string() || !model::is_uri(id->get_string())) return member_error(at + ".id", "must be a URI");
        spec.id = std::string(id->get_string());
        selector.ids.push_back(spec.id);
      }
      if (const auto* pattern = o.if_contains("idPattern")) {
        if (!pattern->is_string()) return member_error(at + ".idPattern", "must be a string");
        auto parsed = query::IdPattern::parse(pattern->get_string());
        if (!parsed) return in_member(at + ".idPattern", parsed.problem());
        spec.id_pattern = std::string(pattern->get_string());
        selector.id_pattern = std::move(parsed).value();
      }
      s_.entities.push_back(std::move(spec));
      s_.query.selectors.push_back(std::move(selector));
    }
    return {};
  }

  Status triggers(const json::value& v) {
    if (v.is_null()) {
      s_.triggers = kDefaultTriggers;
      return {};
    }
    if (!v.is_array() || v.get_array().empty()) return member_error("notificationTrigger", "must be a non-empty array");
    TriggerSet set = 0;
    for (const auto& item : v.get_array()) {
      const auto* known = item.is_string() ? std::find_if(std::begin(kTriggerNames), std::end(kTriggerNames),
                                                          [&](const auto& t) { return t.second == item.get_string(); })
                                           : std::end(kTriggerNames);
      if (known == std::end(kTriggerNames))
        return member_error("notificationTrigger",
                            "unknown trigger " + to_text(item) +
                                " (entityCreated, entityUpdated, entityDeleted, attributeCreated, attributeUpdated, "
                                "attributeDeleted)");
      set |= bit(known->first);
    }
    s_.triggers = set;
    return {};
  }

  Status geo_q(const json::value& v) {
    if (v.is_null()) {
      s_.geo_q.reset();
      s_.query.geo.reset();
      return {};
    }
    if (!v.is_object()) return member_error("geoQ", "must be an object with geometry, coordinates and georel");
    auto parsed = query::parse_geo_query(v.get_object(), *names_.resolved);
    if (!parsed) return in_member("geoQ", parsed.problem());
    json::object stored = v.get_object();
    stored["geoproperty"] = parsed->geoproperty().str();  // expanded
    s_.geo_q = std::move(stored);
    s_.query.geo = std::move(parsed).value();
    return {};
  }

  Status scope_q(const json::value& v) {
    if (v.is_null()) {
      s_.scope_q.clear();
      s_.query.scope.reset();
      return {};
    }
    if (!v.is_string()) return member_error("scopeQ", "must be a string");
    auto parsed = query::parse_scope_q(v.get_string());
    if (!parsed) return in_member("scopeQ", parsed.problem());
    s_.scope_q = std::string(v.get_string());
    s_.query.scope = std::move(parsed).value();
    return {};
  }

  Status expires_at(const json::value& v) {
    if (v.is_null()) {
      s_.expires_at = kNoTimestamp;
      return {};
    }
    std::optional<Timestamp> at;
    if (v.is_string()) at = parse_datetime(v.get_string());
    if (!at) return member_error("expiresAt", "must be a date-time such as 2030-01-01T00:00:00Z");
    s_.expires_at = *at;
    return {};
  }

  Status format(const json::value& v) {
    if (v.is_null()) {
      s_.format = jsonld::Form::Normalized;
      return {};
    }
    const std::string_view f = v.is_string() ? std::string_view(v.get_string()) : std::string_view();
    if (f == "normalized") s_.format = jsonld::Form::Normalized;
    else if (f == "keyValues" || f == "simplified") s_.format = jsonld::Form::Simplified;
    else if (f == "concise") s_.format = jsonld::Form::Concise;
    else return member_error("notification.format", "must be normalized, keyValues or concise");
    return {};
  }

  Status key_values(std::string_view key, const json::value& v, std::vector<KeyValue>& into) {
    into.clear();
    if (v.is_null()) return {};
    if (!v.is_array()) return member_error(key, "must be an array of {\"key\": …, \"value\": …}");
    for (const auto& item : v.get_array()) {
      const auto* o = item.if_object();
      const auto* k = o ? o->if_contains("key") : nullptr;
      const auto* val = o ? o->if_contains("value") : nullptr;
      if (!k || !val || !k->is_string() || !val->is_string())
        return member_error(key, "must be an array of {\"key\": …, \"value\": …} with string members");
      const std::string_view name = k->get_string();
      // An HTTP header name (RFC 9110 token) and a value without line breaks or other controls.
      const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      });
      const std::string_view value = val->get_string();
      const bool clean = std::none_of(value.begin(), value.end(), [](char c) {
        return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
      });
      if (!token) return member_error(key, "\"" + std::string(name.substr(0, 60)) + "\" is not a valid header name");
      if (!clean) return member_error(key, "the value of \"" + std::string(name.substr(0, 60)) + "\" holds control characters");
      into.push_back({std::string(name), std::string(value)});
    }
    return {};
  }

  Status endpoint(const json::value& v) {
    if (!v.is_object()) return member_error("notification.endpoint", "must be an object with a uri");
    const auto& o = v.get_object();
    EndpointSpec spec;
    const auto* uri = o.if_contains("uri");
    if (!uri) return member_error("notification.endpoint.uri", "is required");
    if (!uri->is_string()) return member_error("notification.endpoint.uri", "must be a string");
    auto address = parse_endpoint_uri(uri->get_string());
    if (!address) return address.problem();
    spec.uri = std::string(uri->get_string());
    if (const auto* accept = o.if_contains("accept"); accept && !accept->is_null()) {
      if (!accept->is_string() ||
          (accept->get_string() != "application/json" && accept->get_string() != "application/ld+json"))
        return member_error("notification.endpoint.accept", "must be application/json or application/ld+json");
      spec.accept = std::string(accept->get_string());
    }
    if (const auto* info = o.if_contains("receiverInfo"))
      if (auto st = key_values("notification.endpoint.receiverInfo", *info, spec.receiver_info); !st) return st;
    if (const auto* info = o.if_contains("notifierInfo"))
      if (auto st = key_values("notification.endpoint.notifierInfo", *info, spec.notifier_info); !st) return st;
    for (const auto& kv : spec.notifier_info)
      if (kv.key == "MQTT-QoS" && kv.value != "0" && kv.value != "1" && kv.value != "2")
        return member_error("notification.endpoint.notifierInfo", "MQTT-QoS must be 0, 1 or 2");
    s_.endpoint = std::move(spec);
    s_.address = std::move(address).value();
    return {};
  }

  Status jsonld_context(const json::value& v) {
    if (v.is_null()) {
      s_.context_given = false;
      return {};
    }
    if (!v.is_string() || !model::is_uri(v.get_string())) return member_error("jsonldContext", "must be the URL of an @context");
    if (!contexts_) return {};  // a stored document: its resolved context is read separately
    auto resolved = contexts_->resolve_url(std::string(v.get_string()));
    if (!resolved) return in_member("jsonldContext", resolved.problem());
    s_.context = {v, *resolved};
    s_.context_given = true;
    return {};
  }

  Subscription& s_;
  const ContextRef& names_;
  jsonld::ContextStore* contexts_;
};

// What must hold of the whole subscription, whichever way it was made.
Status check_whole(const Subscription& s) {
  if (s.endpoint.uri.empty()) return member_error("notification.endpoint.uri", "is required");
  if (s.entities.empty() && s.watched_attributes.empty())
    return bad_request("a subscription needs entities or watchedAttributes (or both)");
  if (s.periodic() && !s.watched_attributes.empty())
    return member_error("timeInterval", "cannot be combined with watchedAttributes");
  if (s.periodic() && s.throttling > 0) return member_error("timeInterval", "cannot be combined with throttling");
  return {};
}

Status read_members(MemberReader& reader, const json::object& body) {
  for (const auto& [key, value] : body)
    if (auto st = reader.read(key, value); !st) return st;
  return {};
}

Status check_expiry_in_future(const json::object& body, const Subscription& s, Timestamp now) {
  if (body.contains("expiresAt") && s.expires_at != kNoTimestamp && s.expires_at <= now)
    return member_error("expiresAt", "is in the past");
  return {};
}

std::string_view format_name(jsonld::Form f) {
  switch (f) {
    case jsonld::Form::Simplified: return "keyValues";
    case jsonld::Form::Concise: return "concise";
    default: return "normalized";
  }
}

json::array key_values_json(const std::vector<KeyValue>& items) {
  json::array out;
  for (const auto& kv : items) out.push_back(json::object{{"key", kv.key}, {"value", kv.value}});
  return out;
}

json::array triggers_json(TriggerSet set) {
  json::array out;
  for (const auto& [t, name] : kTriggerNames)
    if (set & bit(t)) out.push_back(json::value(name));
  return out;
}

json::value number_json(double seconds) {
  if (seconds == static_cast<double>(static_cast<std::int64_t>(seconds))) return static_cast<std::int64_t>(seconds);
  return seconds;
}

// The members of `s` in the API's shape, names compacted with `ctx` (or kept expanded when null).
json::object members_json(const Subscription& s, const jsonld::Context* ctx) {
  auto name = [&](Term t) { return ctx ? ctx->compact(t.str()) : std::string(t.str()); };
  json::object o;
  o["id"] = s.id;
  o["type"] = "Subscription";
  if (!s.name.empty()) o["subscriptionName"] = s.name;
  if (!s.description.empty()) o["description"] = s.description;
  if (!s.entities.empty()) {
    json::array entities;
    for (const auto& e : s.entities) {
      json::object item;
      item["type"] = ctx ? map_type_names(e.type, [&](std::string_view n) { return ctx->compact(n); }) : e.type;
      if (!e.id.empty()) item["id"] = e.id;
      if (!e.id_pattern.empty()) item["idPattern"] = e.id_pattern;
      entities.push_back(std::move(item));
    }
    o["entities"] = std::move(entities);
  }
  if (!s.watched_attributes.empty()) {
    json::array watched;
    for (Term t : s.watched_attributes) watched.push_back(json::value(name(t)));
    o["watchedAttributes"] = std::move(watched);
  }
  o["notificationTrigger"] = triggers_json(s.triggers);
  if (!s.q.empty()) o["q"] = s.q;
  if (s.geo_q) {
    json::object geo = *s.geo_q;
    if (ctx)
      if (auto* gp = geo.if_contains("geoproperty"); gp && gp->is_string()) *gp = ctx->compact(gp->get_string());
    o["geoQ"] = std::move(geo);
  }
  if (!s.scope_q.empty()) o["scopeQ"] = s.scope_q;
  if (!s.lang.empty()) o["lang"] = s.lang;
  json::object notification;
  if (!s.attributes.empty()) {
    json::array attributes;
    for (Term t : s.attributes) attributes.push_back(json::value(name(t)));
    notification["attributes"] = std::move(attributes);
  }
  notification["format"] = format_name(s.format);
  if (s.sys_attrs) notification["sysAttrs"] = true;
  notification["showChanges"] = s.show_changes;
  json::object endpoint;
  endpoint["uri"] = s.endpoint.uri;
  endpoint["accept"] = s.endpoint.accept;
  if (!s.endpoint.receiver_info.empty()) endpoint["receiverInfo"] = key_values_json(s.endpoint.receiver_info);
  if (!s.endpoint.notifier_info.empty()) endpoint["notifierInfo"] = key_values_json(s.endpoint.notifier_info);
  notification["endpoint"] = std::move(endpoint);
  o["notification"] = std::move(notification);
  if (s.throttling > 0) o["throttling"] = number_json(s.throttling);
  if (s.time_interval > 0) o["timeInterval"] = number_json(s.time_interval);
  if (s.expires_at != kNoTimestamp) o["expiresAt"] = format_datetime(s.expires_at);
  o["isActive"] = s.is_active;
  return o;
}

}  // namespace

std::string_view trigger_name(Trigger t) {
  for (const auto& [trigger, name] : kTriggerNames)
    if (trigger == t) return name;
  return {};
}

std::string_view Subscription::status(Timestamp now) const {
  if (expired(now)) return "expired";
  return is_active ? "active" : "paused";
}

Result<Subscription> parse_subscription(const json::object& body, const ContextRef& ctx,
                                        jsonld::ContextStore& contexts, Timestamp now) {
  Subscription s;
  if (const auto* type = body.if_contains("type"); !type || !type->is_string() || type->get_string() != "Subscription")
    return member_error("type", "must be \"Subscription\"");
  if (const auto* id = body.if_contains("id")) {
    if (!id->is_string() || !model::is_uri(id->get_string())) return member_error("id", "must be a URI");
    s.id = std::string(id->get_string());
  } else {
    s.id = std::string(kSubscriptionIdPrefix) + random_uuid();
  }
  s.context = ctx;
  s.q_context = ctx;
  MemberReader reader(s, ctx, &contexts);
  if (!body.contains("notification")) return member_error("notification", "is required");
  if (auto st = read_members(reader, body); !st) return st.problem();
  if (auto st = check_whole(s); !st) return st.problem();
  if (auto st = check_expiry_in_future(body, s, now); !st) return st.problem();
  s.created_at = s.modified_at = now;
  return s;
}

Result<Subscription> patch_subscription(const Subscription& current, const json::object& fragment,
                                        const ContextRef& ctx, jsonld::ContextStore& contexts, Timestamp now) {
  Subscription s = current;
  if (const auto* id = fragment.if_contains("id"); id && (!id->is_string() || id->get_string() != current.id))
    return member_error("id", "cannot be changed");
  if (const auto* type = fragment.if_contains("type"); type && (!type->is_string() || type->get_string() != "Subscription"))
    return member_error("type", "must be \"Subscription\"");
  if (const auto* n = fragment.if_contains("notification"); n && n->is_null())
    return member_error("notification", "cannot be removed");
  MemberReader reader(s, ctx, &contexts);
  if (auto st = read_members(reader, fragment); !st) return st.problem();
  if (auto st = check_whole(s); !st) return st.problem();
  if (auto st = check_expiry_in_future(fragment, s, now); !st) return st.problem();
  s.modified_at = now;
  return s;
}

json::object render_subscription(const Subscription& s, const DeliveryReport& report, const jsonld::Context& ctx,
                                 Timestamp now, bool sys_attrs) {
  json::object o = members_json(s, &ctx);
  o["status"] = s.status(now);
  if (s.context.value.is_string()) o["jsonldContext"] = s.context.value;
  auto& notification = o["notification"].as_object();
  notification["timesSent"] = report.times_sent;
  notification["timesFailed"] = report.times_failed;
  if (report.times_sent > 0 || report.failing) notification["status"] = report.failing ? "failed" : "ok";
  if (report.last_notification != kNoTimestamp) notification["lastNotification"] = format_datetime(report.last_notification);
  if (report.last_success != kNoTimestamp) notification["lastSuccess"] = format_datetime(report.last_success);
  if (report.last_failure != kNoTimestamp) notification["lastFailure"] = format_datetime(report.last_failure);
  if (sys_attrs) {
    o["createdAt"] = format_datetime(s.created_at);
    o["modifiedAt"] = format_datetime(s.modified_at);
  }
  return o;
}

std::string encode_document(const Subscription& s) {
  json::object o = members_json(s, nullptr);
  o["version"] = kDocumentVersion;
  if (!s.q.empty()) o[kQContextMember] = s.q_context.value;
  o["@context"] = s.context.value;
  o["contextGiven"] = s.context_given;
  o["createdAt"] = s.created_at;
  o["modifiedAt"] = s.modified_at;
  return to_text(o);
}

Result<Subscription> decode_document(std::string_view document, jsonld::ContextStore& contexts) {
  auto parsed = parse_json(document);
  if (!parsed) return parsed.problem();
  if (!parsed->is_object()) return bad_request("a stored subscription is not a JSON object");
  const json::object& o = parsed->as_object();
  Subscription s;
  const auto* id = o.if_contains("id");
  if (!id || !id->is_string()) return bad_request("a stored subscription has no id");
  s.id = std::string(id->get_string());
  // Names are stored expanded: any context reads them back unchanged.
  const ContextRef identity{nullptr, contexts.core()};
  auto resolve = [&](const json::value& value) -> Result<ContextRef> {
    if (value.is_null()) return ContextRef{nullptr, contexts.core()};
    auto ctx = value.is_string() ? contexts.resolve_url(std::string(value.get_string())) : contexts.resolve(value);
    if (!ctx) return ctx.problem();
    return ContextRef{value, *ctx};
  };
  const json::value no_context;
  auto context = resolve(o.contains("@context") ? o.at("@context") : no_context);
  if (!context) return context.problem();
  s.context = std::move(context).value();
  s.context_given = o.contains("contextGiven") && o.at("contextGiven").is_bool() && o.at("contextGiven").get_bool();
  MemberReader reader(s, identity, nullptr);
  for (const auto& [key, value] : o) {
    if (key == "q") continue;
    if (auto st = reader.read(key, value); !st) return st.problem();
  }
  if (const auto* q = o.if_contains("q")) {
    auto q_context = resolve(o.contains(kQContextMember) ? o.at(kQContextMember) : no_context);
    if (!q_context) return q_context.problem();
    if (auto st = reader.q(*q, *q_context); !st) return st.problem();
  }
  auto timestamp = [&](const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_int64() ? v->get_int64() : kNoTimestamp;
  };
  s.created_at = timestamp("createdAt");
  s.modified_at = timestamp("modifiedAt");
  return s;
}

}  // namespace ct::notify
