#pragma once
// One libmosquitto client and its network loop (MqttLoop): the one place outside mqtt_loop.cpp that
// calls libmosquitto. Its users: MQTT ingest, MQTT notifications and `citytwin replay`.
//
// What it promises:
// - start() creates the client and starts connecting asynchronously; a broker that is down, refuses
//   or goes away later is retried (MqttLoop's backoff: 100 ms doubling to 1 s), never given up on.
// - The callbacks run on the loop's thread, one at a time, never after stop() has returned.
//   on_connect runs after every (re)connection the broker accepted: subscribe there, since a clean
//   session forgets the subscriptions.
// - publish() may be called from any thread, also before the connection is made (it is then
//   refused: false); the loop's thread writes the packet.
// - start() and stop() (and the destructor) are for the owner's thread, not concurrent with
//   publish() or subscribe(): stop() says goodbye to the broker, best effort, and joins the thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "net/mqtt_loop.hpp"

struct mosquitto;
struct mosquitto_message;

namespace ct::net {

struct MqttBroker {
  std::string host;
  std::uint16_t port = 1883;
  std::string user, password;  // no credentials when user is empty
};

// mqtt://[user[:password]@]host[:port]; `what` names the setting in the problem ("--mqtt").
Result<MqttBroker> parse_mqtt_url(std::string_view url, std::string_view what);

struct MqttClientOptions {
  std::string name;       // in the log: "mqtt ingest"
  MqttBroker broker;
  std::string client_id;  // empty: the broker names the client
  bool mqtt5 = false;     // MQTT v5 (shared subscriptions) instead of 3.1.1
  std::chrono::seconds keep_alive{30};
  int max_inflight = 0;   // QoS 1 and 2 messages in flight at most; 0: libmosquitto's default (20)
};

struct MqttCallbacks {  // each may be empty; all run on the loop's thread
  // After a connection the broker accepted.
  std::function<void()> on_connect;
  // A message of a subscription; the views are valid during the call only.
  std::function<void(std::string_view topic, std::string_view payload)> on_message;
  // A message this client published reached the broker: acknowledged (QoS 1, 2) or written (QoS 0).
  std::function<void()> on_published;
};

class MqttClient {
 public:
  MqttClient(MqttClientOptions options, MqttCallbacks callbacks, MqttLoopHooks hooks = {});
  ~MqttClient() { stop(); }
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Fails only when the client or its thread cannot be created.
  Status start();
  void stop();

  bool connected() const { return connected_.load(); }
  // Has been connected at least once since start().
  bool ever_connected() const { return ever_connected_.load(); }
  // From any thread: queues the message for the loop's thread. False when libmosquitto refuses it
  // (not connected, too many in flight...).
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain = false);
  // From on_connect (or any thread once connected). False when libmosquitto refuses it.
  bool subscribe(const std::string& filter, int qos);

 private:
  static void on_connect(struct mosquitto*, void* self, int rc);
  static void on_disconnect(struct mosquitto*, void* self, int rc);
  static void on_message(struct mosquitto*, void* self, const struct mosquitto_message* message);
  static void on_publish(struct mosquitto*, void* self, int mid);

  MqttClientOptions options_;
  MqttCallbacks callbacks_;
  MqttLoopHooks hooks_;
  struct mosquitto* client_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<bool> ever_connected_{false};
  bool refused_ = false;  // the last connection attempt was refused (logged once); the loop's thread only
  MqttLoop loop_;
};

}  // namespace ct::net
