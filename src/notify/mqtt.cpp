#include "notify/mqtt.hpp"

#include <spdlog/spdlog.h>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace ct::notify {
namespace {

net::MqttClientOptions client_options(const EndpointAddress& address) {
  net::MqttClientOptions options;
  options.name = "mqtt notifications to " + address.key;
  options.broker.host = address.host;
  options.broker.port = address.port;
  options.broker.user = address.user;
  options.broker.password = address.password;
  options.client_id = "citytwin-" + boost::uuids::to_string(boost::uuids::random_generator()()).substr(0, 13);
  return options;
}

}  // namespace

MqttClient::MqttClient(const EndpointAddress& address) : client_(client_options(address), {}) {
  if (auto started = client_.start(); !started)
    spdlog::error("mqtt: cannot start a client for {}: {}", address.key, started.problem().detail);
  else
    started_ = true;
}

MqttClient::~MqttClient() { client_.stop(); }  // says goodbye to the broker

bool MqttClient::publish(const std::string& topic, const std::string& payload, int qos) {
  return client_.publish(topic, payload, qos);
}

bool MqttClient::first_connecting() const {
  return started_ && !client_.ever_connected() && std::chrono::steady_clock::now() - created_ < kFirstConnectGrace;
}

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
