#include "net/mqtt_client.hpp"

#include <mosquitto.h>

#include <mutex>
#include <utility>

#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

namespace ct::net {
namespace {

void init_mosquitto() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

Result<MqttBroker> parse_mqtt_url(std::string_view url, std::string_view what) {
  auto parsed = boost::urls::parse_uri(url);
  const std::string shown(url);
  if (!parsed || parsed->scheme() != "mqtt" || parsed->host().empty())
    return invalid_request(std::string(what) + " must be mqtt://host[:port], got " + shown);
  MqttBroker broker;
  broker.host = parsed->host_address();
  if (parsed->has_port()) {
    broker.port = parsed->port_number();
    if (broker.port == 0) return invalid_request(std::string(what) + ": bad port in " + shown);
  }
  if (parsed->has_userinfo()) {
    broker.user = parsed->user();
    broker.password = parsed->password();
  }
  return broker;
}

MqttClient::MqttClient(MqttClientOptions options, MqttCallbacks callbacks, MqttLoopHooks hooks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)), hooks_(std::move(hooks)), loop_(options_.name) {}

Status MqttClient::start() {
  if (client_) return {};
  init_mosquitto();
  client_ = mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(), /*clean_session=*/true, this);
  if (!client_) return Problem{ProblemKind::InternalError, options_.name + ": cannot create an MQTT client"};
  if (options_.mqtt5) mosquitto_int_option(client_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  if (options_.max_inflight > 0) mosquitto_max_inflight_messages_set(client_, static_cast<unsigned>(options_.max_inflight));
  // Our own network thread, not libmosquitto's: what other threads publish is queued for that thread
  // to write instead of writing the socket concurrently.
  mosquitto_threaded_set(client_, true);
  mosquitto_connect_callback_set(client_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set(client_, &MqttClient::on_disconnect);
  mosquitto_message_callback_set(client_, &MqttClient::on_message);
  mosquitto_publish_callback_set(client_, &MqttClient::on_publish);
  const MqttBroker& broker = options_.broker;
  if (!broker.user.empty())
    mosquitto_username_pw_set(client_, broker.user.c_str(), broker.password.empty() ? nullptr : broker.password.c_str());
  // A broker that is down now is retried by the loop's thread.
  if (const int rc = mosquitto_connect_async(client_, broker.host.c_str(), broker.port,
                                             static_cast<int>(options_.keep_alive.count()));
      rc != MOSQ_ERR_SUCCESS)
    spdlog::warn("{}: {}:{} not reachable yet ({}); retrying", options_.name, broker.host, broker.port, mosquitto_strerror(rc));
  if (auto started = loop_.start(client_, hooks_); !started) {
    mosquitto_destroy(client_);
    client_ = nullptr;
    return started;
  }
  return {};
}

void MqttClient::stop() {
  loop_.stop();  // says goodbye to the broker; no callback runs after this
  if (client_) {
    mosquitto_destroy(client_);
    client_ = nullptr;
  }
  connected_.store(false);
}

bool MqttClient::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  if (!client_ || !connected_.load()) return false;
  const std::string topic_text(topic);
  if (mosquitto_publish(client_, nullptr, topic_text.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain) !=
      MOSQ_ERR_SUCCESS)
    return false;
  loop_.wake();  // the loop's thread writes it
  return true;
}

bool MqttClient::subscribe(const std::string& filter, int qos) {
  if (!client_) return false;
  if (const int rc = mosquitto_subscribe(client_, nullptr, filter.c_str(), qos); rc != MOSQ_ERR_SUCCESS) {
    spdlog::error("{}: cannot subscribe to {}: {}", options_.name, filter, mosquitto_strerror(rc));
    return false;
  }
  loop_.wake();
  return true;
}

void MqttClient::on_connect(struct mosquitto*, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  if (rc != 0) {
    // Once per outage, not at every retry.
    if (!std::exchange(client->refused_, true))
      spdlog::warn("{}: the broker refused the connection: {}; retrying", client->options_.name, mosquitto_connack_string(rc));
    return;
  }
  client->refused_ = false;
  client->connected_.store(true);
  client->ever_connected_.store(true);
  client->loop_.connected();
  if (client->callbacks_.on_connect) client->callbacks_.on_connect();
}

void MqttClient::on_disconnect(struct mosquitto*, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  client->connected_.store(false);
  // rc 0: we said goodbye (stop()).
  if (rc != 0) spdlog::warn("{}: lost the broker ({}); reconnecting", client->options_.name, mosquitto_strerror(rc));
}

void MqttClient::on_message(struct mosquitto*, void* self, const struct mosquitto_message* message) {
  auto* client = static_cast<MqttClient*>(self);
  if (!message || !message->topic || !client->callbacks_.on_message) return;
  std::string_view payload;
  if (message->payload && message->payloadlen > 0)
    payload = std::string_view(static_cast<const char*>(message->payload), static_cast<std::size_t>(message->payloadlen));
  client->callbacks_.on_message(message->topic, payload);
}

void MqttClient::on_publish(struct mosquitto*, void* self, int) {
  auto* client = static_cast<MqttClient*>(self);
  if (client->callbacks_.on_published) client->callbacks_.on_published();
}

}  // namespace ct::net
