#pragma once
// Delivery of notifications off the write path: kept-alive connections shared fairly by the paths
// of an endpoint, retries with exponential backoff, back-pressure instead of drops, and the delivery
// status of each subscription.
//
// - One thread runs every HTTP(S) connection and timer (Boost.Beast, asynchronous). MQTT endpoints
//   publish through libmosquitto (mqtt.hpp), whose network loop runs in its own thread per broker.
// - send() may be called from any thread except the delivery thread; Dispatcher::stop() first when
//   the thread that calls send() is to be joined (send() no longer waits after stop()).
// - An endpoint (scheme, host, port) has a pool of up to `connections_per_endpoint` kept-alive
//   connections, opened as needed (MQTT: one client). Each connection carries one request at a time.
// - Order: the notifications of one subscription are sent one at a time, so they arrive in the order
//   they were produced. Different subscriptions are sent in parallel.
// - Fairness: the notifications wait in one queue per path (request target; MQTT: topic) and, inside
//   it, one per subscription; free connections go round-robin over the paths, and inside a path
//   round-robin over its subscriptions. A path may take a second connection only if another stays
//   free, so one path that does not answer cannot hold every connection: the other paths of the same
//   host:port keep theirs. Each request has a deadline (request_timeout: connect, TLS handshake,
//   write, read, each).
// - An attempt is delivered on a 2xx answer (MQTT: once the client library accepted the message;
//   it fails at once while the broker is not connected, and a failed MQTT path retries as soon as
//   the client is connected again rather than after the backoff). A connection failure, a timeout,
//   408, 429 or 5xx fails it: it is retried after a backoff (first_retry, doubling up to max_retry),
//   the subscription's later notifications waiting behind it, so a receiver that comes back gets
//   every queued notification, in order. While a path is failing it gets one connection at a time.
//   Any other status refuses the notification: counted as failed and dropped (retrying would not
//   change the receiver's mind). Every attempt is recorded in the subscription's DeliveryStatus.
// - Back-pressure, not drops, while receivers are healthy: send() blocks the caller (the matcher,
//   the rules engine) while the notifications queued for healthy paths hold more than
//   `pressure_bytes`. A path is unhealthy while it is failing, or stalled (a request unanswered for
//   `stall_after`); its queue then stops holding the callers back and is bounded by
//   `unhealthy_path_bytes`: beyond it the oldest waiting notification is abandoned, counted in
//   stats().dropped and recorded in its subscription's status as a failure (timesFailed,
//   lastFailure, status "failed").
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "notify/matching.hpp"

namespace ct::notify {

struct DeliveryOptions {
  unsigned connections_per_endpoint = 8;
  std::size_t pressure_bytes = 32u << 20;        // queued for healthy paths before send() waits
  std::size_t unhealthy_path_bytes = 16u << 20;  // queued for one failing or stalled path at most
  std::chrono::milliseconds stall_after{1'000};
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
  std::uint64_t dropped = 0;        // abandoned: queued too long for a failing or stalled path
  std::uint64_t sender_waits = 0;   // send() calls that waited for healthy receivers to catch up
  std::uint64_t queued_bytes = 0;   // now, every path
};

class Dispatcher {
 public:
  explicit Dispatcher(DeliveryOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // Stops the thread; what is still queued is abandoned, and send() no longer waits.
  void stop();
  // From any thread. Waits while healthy paths hold more than pressure_bytes (see above).
  void send(Outgoing notification);
  DeliveryStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ct::notify
