#pragma once
// Delivery of notifications off the write path: a bounded queue per endpoint, kept-alive
// connections, retries with exponential backoff, and the delivery status of each subscription.
//
// - One thread runs every HTTP(S) connection and timer (Boost.Beast, asynchronous). MQTT endpoints
//   publish through libmosquitto, whose network loop runs in its own thread per broker.
// - Notifications to one endpoint (scheme, host, port) share up to `lanes_per_endpoint`
//   connections ("lanes"). All notifications of one subscription take the same lane, which sends
//   one at a time, so they arrive in the order they were produced.
// - An attempt is delivered on a 2xx answer (MQTT: once the client library accepted the message).
//   A connection failure, a timeout, 408, 429 or 5xx fails it: it is retried after a backoff
//   (first_retry, doubling up to max_retry) and the rest of the lane waits behind it, so a receiver
//   that comes back gets every queued notification, in order. Any other status refuses it: counted
//   as failed and dropped (retrying would not change the receiver's mind).
// - Every attempt is recorded in the subscription's DeliveryStatus.
// - Each lane holds up to endpoint_queue_capacity / lanes_per_endpoint notifications; when it is
//   full the oldest one waiting (not the one being sent) is dropped (stats().dropped).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "notify/matching.hpp"

namespace ct::notify {

struct DeliveryOptions {
  std::size_t endpoint_queue_capacity = 10'000;
  unsigned lanes_per_endpoint = 4;
  std::chrono::milliseconds first_retry{250};
  std::chrono::milliseconds max_retry{5'000};
  std::chrono::milliseconds request_timeout{10'000};  // connect, TLS handshake, write, read: each
};

// One notification on its way to the endpoint of its subscription.
struct Outgoing {
  std::shared_ptr<const Registration> registration;  // endpoint, receiverInfo, tenant, status
  std::string content_type;                          // application/json or application/ld+json
  std::string link;                                  // the Link header (application/json), else empty
  std::string body;                                  // the Notification object
};

struct DeliveryStats {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t refused = 0;
  std::uint64_t dropped = 0;
};

class Dispatcher {
 public:
  explicit Dispatcher(DeliveryOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // Stops the thread; what is still queued is abandoned.
  void stop();
  // From any thread; never blocks.
  void send(Outgoing notification);
  DeliveryStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ct::notify
