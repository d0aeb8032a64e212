#pragma once
// Where a subscription's notifications go: notification.endpoint.uri, parsed once.
//
//   <scheme>://[user[:password]@]host[:port]...   an endpoint of a registered notification
//                                    scheme (scheme.hpp), which completes the address:
//     http://host[:port]/path?query    a webhook (POST; http_scheme.cpp)
//     https://host[:port]/path?query   the same over TLS, the server certificate verified against
//                                      the system's trusted roots (OpenSSL's default paths, so
//                                      SSL_CERT_FILE / SSL_CERT_DIR apply)
//     mqtt://[user:password@]host[:port]/topic   published to an MQTT broker (default port 1883;
//                                      mqtt_scheme.cpp)
//   urn:citytwin:websocket           nowhere but the subscription's WebSocket stream
//                                    (GET /ngsi-ld/v1/subscriptions/{id}/ws)
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ct::notify {

inline constexpr std::string_view kWebSocketOnlyUri = "urn:citytwin:websocket";

class NotificationScheme;

struct EndpointAddress {
  std::string scheme;                            // lower case; empty for the WebSocket-only endpoint
  const NotificationScheme* handler = nullptr;   // the scheme's implementation; null: WebSocket only
  std::string host;           // without brackets for IPv6
  std::uint16_t port = 0;     // the URI's, else the scheme's default
  std::string target;         // what the scheme sends to: HTTP the request target, MQTT the topic
  std::string user, password; // from the URI's userinfo, for the schemes that use them
  // Notifications to endpoints with the same key share connections (and their queue).
  std::string key;

  bool websocket_only() const { return handler == nullptr; }
};

// BadRequestData naming "notification.endpoint.uri" when the URI is not absolute, has no host, a bad
// port, a scheme that is not registered, or one its scheme refuses.
Result<EndpointAddress> parse_endpoint_uri(std::string_view uri);

}  // namespace ct::notify
