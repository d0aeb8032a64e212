#pragma once
// The subscriptions of every tenant and the machinery that notifies them (ETSI GS CIM 009 v1.8,
// clauses 5.8 and 6.10–6.11): the registry the HTTP handlers call, and the twin's change observer.
//
// - A consumer of the twin's change stream (twin/change_stream.hpp): it receives every durable
//   change in order (a change that a crash loses is never notified), through a queue of
//   event_queue_capacity events that holds writers back (queue_full_wait at most per write call)
//   rather than dropping a change. With no subscription at all nothing is queued (wants()).
// - Its delivery thread (the matcher) finds the candidate subscriptions in the index
//   (matching.hpp), checks them, renders the notifications and hands them to the dispatcher
//   (delivery.hpp) and to the subscription's WebSocket listeners (websocket.hpp). The same thread
//   sends periodic notifications (timeInterval) and those that throttling held back.
// - Throttling: a subscription is notified at most once per `throttling` seconds; what changes in
//   between is merged into the next notification, which carries the latest state of each entity
//   that changed (intermediate states are skipped, changes are not lost).
// - Periodic subscriptions are notified at creation (or when changed) and then every timeInterval
//   seconds of every matching entity, at most max_entities_per_notification per notification;
//   nothing is sent when no entity matches.
// - Notification content: see notification.hpp. Sent as application/json with the subscription's
//   @context in a Link header, or as application/ld+json with "@context" in the body when
//   endpoint.accept asks for it or the @context is not a single URL. The NGSILD-Tenant header
//   names a non-default tenant; receiverInfo pairs become headers.
// - Definitions are durable: written to the store (Collection::Subscriptions, key
//   tenant_key(tenant, id)) before a create, update or delete is acknowledged, and restored at
//   start. Delivery counters live in memory and start again from 0 after a restart.
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "notify/delivery.hpp"
#include "notify/subscription.hpp"
#include "notify/websocket.hpp"
#include "storage/store.hpp"
#include "twin/change_stream.hpp"
#include "twin/twin.hpp"

namespace ct::notify {

struct NotifierOptions {
  std::size_t event_queue_capacity = 100'000;           // events queued before writers wait
  std::chrono::milliseconds queue_full_wait{1000};      // the longest one write call waits
  std::size_t max_entities_per_notification = 1000;
  DeliveryOptions delivery;
};

struct NotifierStats {
  std::size_t subscriptions = 0;
  std::uint64_t events_queued = 0;
  std::uint64_t writer_waits = 0;  // write calls that waited because the queue was full
  std::uint64_t notifications = 0;  // produced (each may take several delivery attempts)
  DeliveryStats delivery;
};

class Subscriptions final : public twin::ChangeConsumer {
 public:
  Subscriptions(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts, NotifierOptions options = {});
  ~Subscriptions() override;
  Subscriptions(const Subscriptions&) = delete;
  Subscriptions& operator=(const Subscriptions&) = delete;

  // Loads every stored subscription. Call before start(). A stored subscription that cannot be read
  // back (its @context unavailable, say) is logged and left in the store.
  Status restore();
  // Starts the delivery (dispatcher) threads, and releases the changes held for it if it was
  // attached with Delivery::Held. Attach it to the twin's change stream to receive changes.
  void start();
  // Detaches it from the change stream and stops the dispatcher; queued events and notifications
  // are abandoned. Call before closing the store.
  void stop();

  // The operations of /ngsi-ld/v1/subscriptions. Each returns the store sequence to wait for
  // before acknowledging.
  struct Created {
    std::string id;
    storage::Sequence sequence = 0;
  };
  Result<Created> create(const std::string& tenant, const json::object& body, const ContextRef& ctx);  // 409 if taken
  Result<storage::Sequence> update(const std::string& tenant, const std::string& id, const json::object& fragment,
                                   const ContextRef& ctx);
  Result<storage::Sequence> remove(const std::string& tenant, const std::string& id);

  struct View {
    std::shared_ptr<const Subscription> subscription;
    DeliveryReport report;
  };
  Result<View> get(const std::string& tenant, const std::string& id) const;  // ResourceNotFound
  // The page [offset, offset + limit) in id order; `total` is the tenant's count.
  std::vector<View> list(const std::string& tenant, std::size_t offset, std::size_t limit, std::size_t& total) const;

  // Hands an upgrade request for the subscription's WebSocket stream to a new listener
  // (websocket.hpp). The caller checked that the subscription exists.
  void stream(boost::asio::ip::tcp::socket socket, UpgradeRequest request, const std::string& tenant,
              const std::string& id);

  // twin::ChangeConsumer, called by the change stream.
  std::string_view name() const override { return "notify"; }
  twin::QueueLimits queue_limits() const override;
  bool wants(const twin::ChangeEvent& event) const override;
  void consume(std::span<const twin::ChangeEvent> events) override;
  Timestamp tick(Timestamp now) override;

  NotifierStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ct::notify
