#pragma once
// Which subscriptions a change concerns: an index that finds the few that can match a change
// event, and the full check of one subscription against it.
//
// Semantics of the check (fired_triggers):
// - Attributes a change touched: every instance of a creation (created), the instances an update
//   wrote (created if the entity did not have them before, else updated) or removed (deleted),
//   every instance of a deletion. With watchedAttributes, only the watched ones count, and a change
//   that touches none of them fires nothing, entity triggers included.
// - entityCreated / entityDeleted fire on creation / deletion; entityUpdated on any update that
//   touched a counted attribute; attributeCreated / Updated / Deleted when a counted attribute was.
// - The entity must then satisfy the subscription's entities, q, geoQ and scopeQ: in its new state,
//   or for a deletion as it was.
// - Periodic subscriptions (timeInterval) are not notified of changes.
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/term.hpp"
#include "notify/delivery_status.hpp"
#include "notify/subscription.hpp"
#include "twin/change_event.hpp"

namespace ct::notify {

// A subscription as registered: its definition (replaced as a whole by a PATCH) and its delivery
// status (kept across PATCHes). Always made with std::make_shared.
struct Registration : std::enable_shared_from_this<Registration> {
  std::string tenant;
  std::shared_ptr<const Subscription> subscription;
  std::shared_ptr<DeliveryStatus> status;
  // The matcher sees a change after it was queued, when the subscription may have been created,
  // paused or resumed since. What counts is the subscription as it was when the change was queued,
  // told by store sequences: changes queued before `since` (its creation; 0 when restored at start)
  // or in [paused_from, paused_until) (its last pause; paused_until is kNotResumed while paused) are
  // not notified to it.
  static constexpr storage::Sequence kNotResumed = std::numeric_limits<storage::Sequence>::max();
  storage::Sequence since = 0;
  storage::Sequence paused_from = 0;  // 0: never paused
  storage::Sequence paused_until = 0;

  bool notifies_change_at(storage::Sequence change) const {
    if (change < since) return false;
    return paused_from == 0 || change < paused_from || change >= paused_until;
  }
};

// The triggers of `s` that `event` fires and that hold for the entity; 0 when it is not notified.
// Does not look at isActive, expiresAt or timeInterval (the caller does).
TriggerSet fired_triggers(const Subscription& s, const twin::ChangeEvent& event);

// The subscriptions of one tenant, filed for lookup by change. Each is filed under one kind of key,
// the most selective it has:
//   1. the ids of its entities, when every entities item names an id;
//   2. the candidate box of its geoQ, in an R-tree per geoproperty;
//   3. its entity types, when every entities item's type is a plain list of types (A,B);
//   4. its watched attributes;
//   5. else it is a candidate for every change.
// A change looks up its entity's id, the boxes of its geoproperties, its types and the attributes
// it touched, so its cost grows with the subscriptions that could match it, not with all of them.
// Not thread-safe: the owner locks.
class SubscriptionIndex {
 public:
  SubscriptionIndex();
  ~SubscriptionIndex();
  SubscriptionIndex(SubscriptionIndex&&) noexcept;
  SubscriptionIndex& operator=(SubscriptionIndex&&) noexcept;

  // Replaces the registration with the same subscription id, if any.
  void put(std::shared_ptr<const Registration> registration);
  void remove(const std::string& subscription_id);
  const Registration* find(const std::string& subscription_id) const;
  std::size_t size() const;
  // Every registration, in subscription id order.
  std::vector<std::shared_ptr<const Registration>> all() const;

  // Appends, each once, the registrations that may match `event`.
  void candidates(const twin::ChangeEvent& event, std::vector<const Registration*>& out) const;

 private:
  struct Buckets;
  std::unique_ptr<Buckets> buckets_;
};

}  // namespace ct::notify
