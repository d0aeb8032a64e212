// The mqtt notification scheme (scheme.hpp): notifications published to a topic of an MQTT broker
// (ETSI GS CIM 009 clause 7.3 binding), one shared client per broker (mqtt.hpp).
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include "common/json.hpp"
#include "notify/mqtt.hpp"
#include "notify/scheme.hpp"
#include "notify/subscription.hpp"

namespace ct::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

// Publishes through the broker's shared client (which does its own connecting and queueing).
class MqttConnection final : public Connection {
 public:
  MqttConnection(asio::io_context& io, std::shared_ptr<MqttClient> client)
      : io_(io), client_(std::move(client)), wait_(io) {}

  void transmit(const Outgoing& n, Done done) override {
    if (!client_->connected() && client_->first_connecting()) {
      // A new client is still connecting: not an attempt yet, look again shortly.
      wait_.expires_after(std::chrono::milliseconds(20));
      wait_.async_wait([this, &n, done = std::move(done)](beast::error_code ec) mutable {
        if (!ec) transmit(n, std::move(done));
      });
      return;
    }
    const Registration& r = *n.registration;
    int qos = 0;
    json::object metadata;
    metadata["Content-Type"] = n.content_type;
    if (!n.link.empty()) metadata["Link"] = n.link;
    if (!r.tenant.empty()) metadata["NGSILD-Tenant"] = r.tenant;
    for (const auto& kv : r.subscription->endpoint.receiver_info) metadata[kv.key] = kv.value;
    for (const auto& kv : r.subscription->endpoint.notifier_info)
      if (kv.key == "MQTT-QoS") qos = kv.value.empty() ? 0 : kv.value[0] - '0';
    const bool published = client_->publish(r.subscription->address.target, mqtt_payload(to_text(metadata), n.body), qos);
    // Reported later, never from inside transmit: the dispatcher must not recurse.
    asio::post(io_, [done = std::move(done), published] {
      done(published ? Attempt::Delivered : Attempt::Failed, published ? "" : "the MQTT broker is not connected");
    });
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<MqttClient> client_;
  asio::steady_timer wait_;
};

class MqttChannel final : public Channel {
 public:
  MqttChannel(const EndpointAddress& address, const ChannelContext& context)
      : io_(context.io), client_(std::make_shared<MqttClient>(address)) {}
  std::unique_ptr<Connection> connect() override { return std::make_unique<MqttConnection>(io_, client_); }
  unsigned max_connections() const override { return 1; }  // the client queues and sends in order
  bool tells_reachability() const override { return true; }
  bool reachable() const override { return client_->connected(); }

 private:
  asio::io_context& io_;
  std::shared_ptr<MqttClient> client_;
};

class MqttScheme final : public NotificationScheme {
 public:
  Status complete(boost::urls::url_view uri, EndpointAddress& address) const override {
    if (address.port == 0) address.port = 1883;
    std::string topic = uri.path();  // percent-decoded
    if (!topic.empty() && topic.front() == '/') topic.erase(0, 1);
    if (topic.empty()) return refused_endpoint("an mqtt URI needs a topic: mqtt://host:port/topic");
    if (topic.find_first_of("+#") != std::string::npos) return refused_endpoint("an MQTT topic to publish to cannot hold + or #");
    address.target = std::move(topic);
    if (uri.has_userinfo()) {
      address.user = uri.user();
      address.password = uri.password();
    }
    return {};
  }
  std::unique_ptr<Channel> open(const EndpointAddress& address, const ChannelContext& context) const override {
    return std::make_unique<MqttChannel>(address, context);
  }
};

}  // namespace

std::unique_ptr<NotificationScheme> make_mqtt_scheme() { return std::make_unique<MqttScheme>(); }

}  // namespace ct::notify
