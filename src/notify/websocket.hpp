#pragma once
// Notifications streamed to browsers over WebSocket (RFC 6455, Boost.Beast).
//
// GET /ngsi-ld/v1/subscriptions/{id}/ws upgrades to a WebSocket on which every notification of that
// subscription is sent as one text message: the Notification object with its "@context" inline
// (a WebSocket message has no headers to carry a Link). Messages from the client are read and
// ignored; the server pings an idle connection and drops one that does not answer. A listener
// that reads too slowly loses its oldest unsent messages beyond kMaxWebSocketBacklog.
//
// The connections run on the HTTP server's threads (the socket's executor); the hub only posts to
// them, so broadcasting never blocks on a slow browser.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ct::notify {

inline constexpr std::size_t kMaxWebSocketBacklog = 1000;

class Listener {
 public:
  virtual ~Listener() = default;
  // Queues one message; never blocks.
  virtual void deliver(std::shared_ptr<const std::string> message) = 0;
  // Closes the connection (a normal closure) once what is queued has been sent.
  virtual void close() = 0;
};

// The listeners of each subscription (by key: storage::tenant_key(tenant, id)).
class ListenerHub {
 public:
  void add(const std::string& key, std::weak_ptr<Listener> listener);
  bool has_listeners(const std::string& key) const;
  // Hands `message` to every live listener of `key`; returns how many.
  std::size_t broadcast(const std::string& key, const std::shared_ptr<const std::string>& message);
  // Closes and forgets the listeners of a deleted subscription.
  void close_all(const std::string& key);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::weak_ptr<Listener>>> listeners_;
};

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;
using UpgradeRefusal = boost::beast::http::response<boost::beast::http::string_body>;

// What a connection tells its owner, on the connection's strand, one call at a time: that it is open
// (the listener to deliver to), each text message the client sends, and that it is gone (once,
// after opened; not called when the handshake fails). Any of them may be empty.
struct ConnectionHandlers {
  std::function<void(const std::shared_ptr<Listener>&)> opened;
  std::function<void(std::string message)> received;
  std::function<void()> closed;
};

// Completes the WebSocket handshake of `request` on `socket`; the connection lives until either
// side closes it. Messages from the client longer than 64 KiB close the connection.
void accept_websocket(boost::asio::ip::tcp::socket socket, UpgradeRequest request, ConnectionHandlers handlers);
// The same, registering the connection in `hub` under `key` (messages from the client are ignored).
// The hub must outlive the socket's executor.
void accept_websocket(boost::asio::ip::tcp::socket socket, UpgradeRequest request, ListenerHub& hub, std::string key);
// Answers an upgrade request with `refusal` (an error response), then closes the connection.
void refuse_upgrade(boost::asio::ip::tcp::socket socket, UpgradeRefusal refusal);

}  // namespace ct::notify
