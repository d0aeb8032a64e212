#pragma once
// How the dispatcher (delivery.hpp) reaches a receiver: one connection carries one notification at
// a time. Connections come from the Channel of their endpoint's scheme (scheme.hpp). transmit()
// calls `done` exactly once, later (never from inside transmit), on the delivery thread (the thread
// that runs the io_context of the ChannelContext).
//
// An attempt is Delivered, Failed (retried after a backoff: the receiver may come back) or Refused
// (dropped: retrying would not change the receiver's mind). The built-in schemes:
// - http, https (http_scheme.cpp): a kept-alive HTTP/1.1 connection, opened on the first transmit
//   and again after the receiver closed it (a kept-alive connection closed while idle is retried
//   once on a new one). Each step (resolve and connect, TLS handshake with the certificate checked
//   against the host, write, read) has the request timeout. 2xx delivers, 408/429/5xx and transport
//   errors fail, the rest refuses.
// - mqtt (mqtt_scheme.cpp): publishes through the broker's shared MqttClient; delivered once the
//   client library took the message, failed at once while the broker is not connected (a new
//   client's first connection is waited for).
#include <functional>
#include <memory>
#include <string>

#include "notify/delivery.hpp"

namespace ct::notify {

enum class Attempt { Delivered, Failed, Refused };
using Done = std::function<void(Attempt, std::string why)>;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void transmit(const Outgoing& notification, Done done) = 0;  // `notification` lives until done
};

}  // namespace ct::notify
