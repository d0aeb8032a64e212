#pragma once
// Where a subscription's notifications go: notification.endpoint.uri, parsed once.
//
//   http://host[:port]/path?query    a webhook (POST)
//   https://host[:port]/path?query   the same over TLS, the server certificate verified against
//                                    the system's trusted roots (OpenSSL's default paths, so
//                                    SSL_CERT_FILE / SSL_CERT_DIR apply)
//   mqtt://[user:password@]host[:port]/topic   published to an MQTT broker (default port 1883)
//   urn:citytwin:websocket           nowhere but the subscription's WebSocket stream
//                                    (GET /ngsi-ld/v1/subscriptions/{id}/ws)
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ct::notify {

inline constexpr std::string_view kWebSocketOnlyUri = "urn:citytwin:websocket";

enum class Transport : std::uint8_t { Http, Https, Mqtt, WebSocketOnly };

struct EndpointAddress {
  Transport transport = Transport::WebSocketOnly;
  std::string host;           // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;         // HTTP: the request target (path and query); MQTT: the topic
  std::string user, password; // MQTT only
  // Notifications to endpoints with the same key share connections (and their queue).
  std::string key;
};

// BadRequestData naming "notification.endpoint.uri" when the URI is not absolute, has a scheme
// other than those above, no host, or (MQTT) no topic.
Result<EndpointAddress> parse_endpoint_uri(std::string_view uri);

}  // namespace ct::notify
