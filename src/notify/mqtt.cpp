#include "notify/mqtt.hpp"

#include <mosquitto.h>
#include <mutex>
#include <spdlog/spdlog.h>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace ct::notify {
namespace {

constexpr int kKeepAliveSeconds = 30;

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

MqttClient::MqttClient(const EndpointAddress& address) {
  init_library();
  const std::string client_id = "citytwin-" + boost::uuids::to_string(boost::uuids::random_generator()()).substr(0, 13);
  client_ = mosquitto_new(client_id.c_str(), /*clean_session=*/true, this);
  if (!client_) {
    spdlog::error("mqtt: cannot create a client for {}", address.key);
    return;
  }
  // Published from the delivery thread, written by the loop's thread.
  mosquitto_threaded_set(client_, true);
  mosquitto_connect_callback_set(client_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set(client_, &MqttClient::on_disconnect);
  if (!address.user.empty())
    mosquitto_username_pw_set(client_, address.user.c_str(), address.password.empty() ? nullptr : address.password.c_str());
  // A broker that is down now is retried by the loop thread.
  if (const int rc = mosquitto_connect_async(client_, address.host.c_str(), address.port, kKeepAliveSeconds);
      rc != MOSQ_ERR_SUCCESS)
    spdlog::warn("mqtt: {} not reachable yet ({}); retrying", address.key, mosquitto_strerror(rc));
  if (auto st = loop_.start(client_); !st)
    spdlog::error("mqtt: cannot start the network loop for {}: {}", address.key, st.problem().detail);
}

MqttClient::~MqttClient() {
  if (!client_) return;
  loop_.stop();  // says goodbye to the broker
  mosquitto_destroy(client_);
}

bool MqttClient::publish(const std::string& topic, const std::string& payload, int qos) {
  if (!client_ || !connected_.load()) return false;
  const int rc = mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                                   /*retain=*/false);
  if (rc != MOSQ_ERR_SUCCESS) return false;
  loop_.wake();  // the loop's thread writes it
  return true;
}

bool MqttClient::first_connecting() const {
  return client_ && !ever_connected_.load() && std::chrono::steady_clock::now() - created_ < kFirstConnectGrace;
}

void MqttClient::on_connect(struct mosquitto*, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  client->connected_.store(rc == 0);
  if (rc == 0) {
    client->ever_connected_.store(true);
    client->loop_.connected();
  }
}

void MqttClient::on_disconnect(struct mosquitto*, void* self, int) { static_cast<MqttClient*>(self)->connected_.store(false); }

std::string mqtt_payload(const std::string& metadata_json, const std::string& body) {
  std::string out;
  out.reserve(metadata_json.size() + body.size() + 24);
  out += R"({"metadata":)";
  out += metadata_json;
  out += R"(,"body":)";
  out += body;
  out += '}';
  return out;
}

}  // namespace ct::notify
