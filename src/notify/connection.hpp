#pragma once
// How the dispatcher (delivery.hpp) reaches a receiver: one connection carries one notification at
// a time. transmit() calls `done` exactly once, later (never from inside transmit), on the thread
// that runs the io_context.
//
// - HTTP(S): a kept-alive HTTP/1.1 connection, opened on the first transmit and again after the
//   receiver closed it (a kept-alive connection closed while idle is retried once on a new one).
//   Each step (resolve and connect, TLS handshake with the certificate checked against the host,
//   write, read) has `timeout`. 2xx delivers, 408/429/5xx and transport errors fail, the rest refuses.
// - MQTT: publishes through the broker's shared MqttClient; delivered once the client library took
//   the message, failed at once while the broker is not connected (a new client's first connection
//   is waited for).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "notify/delivery.hpp"

namespace ct::notify {

class MqttClient;

enum class Attempt { Delivered, Failed, Refused };
using Done = std::function<void(Attempt, std::string why)>;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void transmit(const Outgoing& notification, Done done) = 0;  // `notification` lives until done
};

std::unique_ptr<Connection> make_http_connection(boost::asio::io_context& io, boost::asio::ssl::context& tls,
                                                 const EndpointAddress& address, std::chrono::milliseconds timeout);
std::unique_ptr<Connection> make_mqtt_connection(boost::asio::io_context& io, std::shared_ptr<MqttClient> client);

}  // namespace ct::notify
