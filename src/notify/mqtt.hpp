#pragma once
// Publishing to an MQTT broker (NGSI-LD MQTT notifications, ETSI GS CIM 009 clause 7.3 binding):
// one net::MqttClient per broker (libmosquitto on a network thread of its own), reconnecting after
// 100 ms, doubling, at most 1 s: within a second of the broker's return.
#include <chrono>
#include <string>

#include "net/mqtt_client.hpp"
#include "notify/endpoint.hpp"

namespace ct::notify {

inline constexpr std::chrono::seconds kFirstConnectGrace{3};

class MqttClient {
 public:
  // Starts connecting at once (asynchronously) to address.host:address.port, with the user and
  // password of the address if any.
  explicit MqttClient(const EndpointAddress& address);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Hands the message to the client library (non-blocking). False when the broker is not connected
  // or the library refuses it; the caller retries later.
  bool publish(const std::string& topic, const std::string& payload, int qos);
  bool connected() const { return client_.connected(); }
  // Still making its first connection (for at most kFirstConnectGrace): a publish failing now is not
  // the broker's fault and should just wait a little.
  bool first_connecting() const;

 private:
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  bool started_ = false;
  net::MqttClient client_;
};

// The MQTT message of a notification: {"metadata": {headers and receiverInfo}, "body": notification}.
std::string mqtt_payload(const std::string& metadata_json, const std::string& body);

}  // namespace ct::notify
