#pragma once
// The content of notifications (ETSI GS CIM 009 v1.8, clause 5.3.1): which entity data a change
// produces for a subscription, and the Notification object that carries it.
#include <string>

#include "common/json.hpp"
#include "common/time.hpp"
#include "notify/subscription.hpp"
#include "twin/change_event.hpp"

namespace ct::notify {

inline constexpr std::string_view kNotificationIdPrefix = "urn:ngsi-ld:Notification:";

// `entity` as `s` notifies it: in its format and @context, with only notification.attributes when
// given, and sysAttrs and lang applied. Then, for an update:
// - each removed attribute instance (when selected) appears with the value "urn:ngsi-ld:null";
// - with showChanges (normalized and concise formats), each instance the change wrote or removed
//   that existed before carries its former value as previousValue (previousObject for a
//   Relationship, previousLanguageMap, previousVocab, previousJson, previousValueList,
//   previousObjectList for the other kinds).
// A deletion notifies only id and type (and deletedAt with sysAttrs).
json::object notified_entity(const Subscription& s, const twin::ChangeEvent& event);

// The same for an entity read from the twin (periodic notifications).
json::object notified_entity(const Subscription& s, const model::Entity& entity);

// {"id": "urn:ngsi-ld:Notification:<uuid>", "type": "Notification", "subscriptionId": …,
//  "notifiedAt": …, "data": […]}
json::object make_notification(const std::string& subscription_id, json::array data, Timestamp notified_at);

}  // namespace ct::notify
