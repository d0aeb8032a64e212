#pragma once
// An NGSI-LD subscription (ETSI GS CIM 009 v1.8, clause 5.2.12) as the broker keeps it: names
// expanded and queries parsed once, so that matching a change never looks at an @context again.
//
// - parse_subscription() reads a POST body, patch_subscription() applies a PATCH fragment; both
//   check every member and answer BadRequestData naming the member at fault
//   ("notification.endpoint.uri: ..."). Read-only members (status, timesSent, createdAt, ...) and
//   members this broker does not know are ignored. In a PATCH, a member set to null goes back to
//   its default, and the members of "notification" are merged one by one.
// - render_subscription() is the GET form, names compacted with the reader's @context.
// - encode_document()/decode_document() are the stored form: an internal document with expanded
//   names, the queries as written and the @context each was written in (decoding re-parses them).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context_store.hpp"
#include "jsonld/entity_codec.hpp"
#include "model/term.hpp"
#include "notify/endpoint.hpp"
#include "twin/twin.hpp"

namespace ct::notify {

// What kind of change a subscription is notified of (notificationTrigger).
enum class Trigger : std::uint8_t {
  EntityCreated,
  EntityUpdated,
  EntityDeleted,
  AttributeCreated,
  AttributeUpdated,
  AttributeDeleted,
};
using TriggerSet = std::uint8_t;  // one bit per Trigger
inline constexpr TriggerSet bit(Trigger t) { return static_cast<TriggerSet>(1u << static_cast<unsigned>(t)); }
// The default of the specification: attributeCreated and attributeUpdated.
inline constexpr TriggerSet kDefaultTriggers = bit(Trigger::AttributeCreated) | bit(Trigger::AttributeUpdated);
std::string_view trigger_name(Trigger t);

// A JSON-LD @context as a request gave it (a URL, an inline object or array; null for the core
// context alone) with its resolution.
struct ContextRef {
  json::value value;
  jsonld::ContextPtr resolved;
};

struct KeyValue {
  std::string key, value;
};

// notification.endpoint.
struct EndpointSpec {
  std::string uri;
  std::string accept = "application/json";  // or application/ld+json
  std::vector<KeyValue> receiver_info;       // sent as headers (HTTP) or metadata (MQTT)
  std::vector<KeyValue> notifier_info;       // settings for the notifier, e.g. MQTT-QoS
};

// One item of "entities": a type expression (names expanded) and optionally an id or an idPattern.
struct EntitySelectorSpec {
  std::string type;
  std::string id;
  std::string id_pattern;
};

struct Subscription {
  std::string id;
  std::string name;         // subscriptionName
  std::string description;
  std::vector<EntitySelectorSpec> entities;
  std::vector<model::Term> watched_attributes;
  TriggerSet triggers = kDefaultTriggers;
  std::string q;            // as written, in q_context
  ContextRef q_context;
  std::optional<json::object> geo_q;  // geoproperty expanded
  std::string scope_q;
  std::string lang;
  // notification
  std::vector<model::Term> attributes;  // empty: all
  jsonld::Form format = jsonld::Form::Normalized;
  bool sys_attrs = false;
  bool show_changes = false;
  EndpointSpec endpoint;
  // seconds; 0 when absent
  double throttling = 0;
  double time_interval = 0;
  Timestamp expires_at = kNoTimestamp;
  bool is_active = true;
  // How notifications are compacted: jsonldContext when given, else the creating request's @context.
  ContextRef context;
  bool context_given = false;  // jsonldContext was given
  Timestamp created_at = kNoTimestamp;
  Timestamp modified_at = kNoTimestamp;

  // Derived from the members above by parsing (kept in step by parse/patch/decode).
  twin::EntityQuery query;                         // entities, q, scopeQ, geoQ
  std::unordered_set<model::Term> attribute_set;   // notification.attributes
  std::unordered_set<model::Term> watched_set;     // watchedAttributes
  EndpointAddress address;                         // notification.endpoint.uri, parsed

  bool periodic() const { return time_interval > 0; }
  bool expired(Timestamp now) const { return expires_at != kNoTimestamp && now >= expires_at; }
  // "active", "paused" or "expired" (the subscription's status member).
  std::string_view status(Timestamp now) const;
};

// The prefix of generated subscription ids; the rest is a random UUID.
inline constexpr std::string_view kSubscriptionIdPrefix = "urn:ngsi-ld:Subscription:";

// A POST body. `ctx` is the request's @context; `contexts` resolves jsonldContext. Without an id one
// is generated.
Result<Subscription> parse_subscription(const json::object& body, const ContextRef& ctx,
                                        jsonld::ContextStore& contexts, Timestamp now);
// A PATCH fragment applied to `current` (the id cannot change).
Result<Subscription> patch_subscription(const Subscription& current, const json::object& fragment,
                                        const ContextRef& ctx, jsonld::ContextStore& contexts, Timestamp now);

// How notifications went so far (rendered in "notification").
struct DeliveryReport {
  std::uint64_t times_sent = 0;    // attempts, retries included
  std::uint64_t times_failed = 0;  // attempts that failed
  Timestamp last_notification = kNoTimestamp;
  Timestamp last_success = kNoTimestamp;
  Timestamp last_failure = kNoTimestamp;
  bool failing = false;  // the last attempt failed
};

// The GET form. `sys_attrs` adds createdAt and modifiedAt.
json::object render_subscription(const Subscription& s, const DeliveryReport& report, const jsonld::Context& ctx,
                                 Timestamp now, bool sys_attrs);

std::string encode_document(const Subscription& s);
// Reads a document made by encode_document, resolving its @contexts with `contexts`.
Result<Subscription> decode_document(std::string_view document, jsonld::ContextStore& contexts);

}  // namespace ct::notify
