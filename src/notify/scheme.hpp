#pragma once
// Notification schemes: how notifications reach the endpoints of one URI scheme (http, https,
// mqtt, ...). An extension point: a scheme is one file, notify/<name>_scheme.cpp, that implements
// NotificationScheme and defines its factory, plus one line in the table of notify/scheme_registry.cpp
// (CT_BUILT_IN_SCHEMES). The rest of notify/ knows schemes only through this interface.
//
// Who calls what, and from which thread:
// - complete() runs when a subscription's endpoint is parsed (an HTTP worker, or load at start):
//   it must not block.
// - open() runs on the delivery thread the first time a notification goes to an endpoint (scheme,
//   host, port); the Channel it returns lives as long as the dispatcher and is used on that thread
//   only, except that the connections' completion handlers run there too (Connection, connection.hpp).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "notify/connection.hpp"
#include "notify/endpoint.hpp"

namespace ct::notify {

// What a channel may use to make connections: the delivery thread's io_context, the client TLS
// context (the system's trusted roots) and the deadline of each step of a request.
struct ChannelContext {
  boost::asio::io_context& io;
  boost::asio::ssl::context& tls;
  std::chrono::milliseconds request_timeout;
};

// One endpoint as the dispatcher sees it: where its connections come from, how many it may have.
class Channel {
 public:
  virtual ~Channel() = default;
  // A new connection to the endpoint; the dispatcher opens up to max_connections() and reuses them.
  virtual std::unique_ptr<Connection> connect() = 0;
  // At most this many connections at once; 0: DeliveryOptions::connections_per_endpoint.
  virtual unsigned max_connections() const { return 0; }
  // True if the scheme can tell when a failing endpoint is reachable again (MQTT: its client
  // reconnected). A failing path then retries as soon as reachable() says so, not after its backoff.
  virtual bool tells_reachability() const { return false; }
  virtual bool reachable() const { return true; }
};

class NotificationScheme {
 public:
  virtual ~NotificationScheme() = default;
  // Completes an endpoint's address from its URI, whose host and explicit port (if any) are in
  // `address` already: the default port, the target (an HTTP request target, an MQTT topic, ...),
  // credentials. A refusal is a BadRequestData problem naming notification.endpoint.uri.
  virtual Status complete(boost::urls::url_view uri, EndpointAddress& address) const = 0;
  // The endpoint's channel (see above).
  virtual std::unique_ptr<Channel> open(const EndpointAddress& address, const ChannelContext& context) const = 0;
};

using SchemeFactory = std::function<std::unique_ptr<NotificationScheme>()>;

// Adds (or replaces) the scheme for URIs `name`:... (lower case). From any thread; a scheme is
// never removed, so the pointers find_notification_scheme() hands out stay valid.
void register_notification_scheme(std::string name, const SchemeFactory& factory);
// The scheme of `name` (compared case-insensitively), or null. Any thread.
const NotificationScheme* find_notification_scheme(std::string_view name);
// The registered scheme names, built-in ones first, for messages.
std::vector<std::string> notification_scheme_names();

// Shared by schemes: the problem refusing an endpoint URI.
Problem refused_endpoint(std::string why);

}  // namespace ct::notify
