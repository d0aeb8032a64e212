#include "ingest/mqtt_adapter.hpp"

#include <mosquitto.h>

#include <array>
#include <mutex>

#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

namespace ct::ingest {
namespace {

using net::MqttLoopHooks;

constexpr int kKeepAliveSeconds = 30;
// Messages read in one go at most, before they are handed to the writer.
constexpr std::size_t kMaxDrain = 1024;
// How long the network thread sleeps after reading messages before it looks for more. Under load
// the socket fills meanwhile, so that one wake-up serves many messages; a lone message is not
// delayed by it (it is read at once, the sleep comes after).
constexpr std::chrono::microseconds kLinger{1000};
constexpr std::array<std::string_view, 3> kTopics = {"/+/+/attrs", "/+/+/attrs/+", "/+/+/cmdexe"};

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

struct BrokerAddress {
  std::string host, user, password;
  int port = 1883;
};

Result<BrokerAddress> parse_broker(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "mqtt" || parsed->host().empty())
    return invalid_request("--mqtt must be mqtt://host[:port], got " + url);
  BrokerAddress a;
  a.host = parsed->host_address();
  if (parsed->has_port()) {
    a.port = parsed->port_number();
    if (a.port == 0) return invalid_request("--mqtt: bad port in " + url);
  }
  if (parsed->has_userinfo()) {
    a.user = parsed->user();
    a.password = parsed->password();
  }
  return a;
}

}  // namespace

bool parse_ingest_topic(std::string_view topic, IngestTopic& out) {
  if (topic.empty() || topic.front() != '/') return false;
  std::array<std::string_view, 5> levels;
  std::size_t count = 0;
  std::size_t start = 1;
  while (true) {
    const auto slash = topic.find('/', start);
    if (count == levels.size()) return false;
    levels[count++] = topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (count < 3 || levels[0].empty() || levels[1].empty()) return false;
  out = {levels[0], levels[1], {}, false};
  if (count == 3 && levels[2] == "attrs") return true;
  if (count == 3 && levels[2] == "cmdexe") {
    out.command_result = true;
    return true;
  }
  if (count == 4 && levels[2] == "attrs" && !levels[3].empty()) {
    out.object_id = levels[3];
    return true;
  }
  return false;
}

MqttAdapter::MqttAdapter(Ingestor& ingestor, MqttOptions options)
    : ingestor_(ingestor), options_(std::move(options)), writer_(ingestor) {}

MqttAdapter::~MqttAdapter() { stop(); }

Status MqttAdapter::start() {
  auto address = parse_broker(options_.url);
  if (!address) return address.problem();
  if (options_.shared_group.find_first_of("/+#") != std::string::npos)
    return invalid_request("the MQTT shared group must not contain '/', '+' or '#'");
  init_library();
  // A persistent identity per process is not needed: QoS 0 ingest, and a clean session.
  client_ = mosquitto_new(nullptr, /*clean_session=*/true, this);
  if (!client_) return Problem{ProblemKind::InternalError, "cannot create an MQTT client"};
  mosquitto_int_option(client_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  // Our own network thread, not libmosquitto's: publishing from other threads (commands) then
  // queues the packet for that thread to write instead of writing the socket concurrently.
  mosquitto_threaded_set(client_, true);
  mosquitto_connect_callback_set(client_, &MqttAdapter::on_connect);
  mosquitto_disconnect_callback_set(client_, &MqttAdapter::on_disconnect);
  mosquitto_message_callback_set(client_, &MqttAdapter::on_message);
  if (!address->user.empty())
    mosquitto_username_pw_set(client_, address->user.c_str(), address->password.empty() ? nullptr : address->password.c_str());
  if (const int rc = mosquitto_connect_async(client_, address->host.c_str(), address->port, kKeepAliveSeconds);
      rc != MOSQ_ERR_SUCCESS)
    spdlog::warn("mqtt ingest: {} not reachable yet ({}); retrying", options_.url, mosquitto_strerror(rc));
  writer_.start();
  MqttLoopHooks hooks;
  hooks.after_read = [this] {
    const bool read_some = !pending_.empty();
    flush();
    return read_some;
  };
  hooks.linger = kLinger;
  hooks.max_drain = kMaxDrain;
  if (auto st = loop_.start(client_, std::move(hooks)); !st) return st;
  spdlog::info("mqtt ingest: subscribing at {}{}", options_.url,
               options_.shared_group.empty() ? "" : " (shared group " + options_.shared_group + ")");
  return {};
}

void MqttAdapter::stop() {
  loop_.stop();  // the last messages read are handed to the writer
  if (client_) {
    mosquitto_destroy(client_);
    client_ = nullptr;
    connected_.store(false);
  }
  writer_.stop();  // it writes what was queued first
}

void MqttAdapter::flush() {
  if (!pending_.empty()) writer_.submit(pending_);
}

bool MqttAdapter::send(const OutgoingCommand& command) {
  if (!client_ || !connected_.load()) return false;
  const std::string topic = "/" + command.apikey + "/" + command.device_id + "/cmd";
  const bool queued = mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(command.payload.size()),
                                        command.payload.data(), options_.command_qos, /*retain=*/false) == MOSQ_ERR_SUCCESS;
  if (queued) loop_.wake();  // the network thread writes it
  return queued;
}

void MqttAdapter::on_connect(struct mosquitto* client, void* self, int rc) {
  auto* adapter = static_cast<MqttAdapter*>(self);
  if (rc != 0) {
    spdlog::warn("mqtt ingest: the broker refused the connection: {}", mosquitto_connack_string(rc));
    return;
  }
  for (std::string_view topic : kTopics) {
    std::string filter = adapter->options_.shared_group.empty()
                             ? std::string(topic)
                             : "$share/" + adapter->options_.shared_group + "/" + std::string(topic);
    if (const int src = mosquitto_subscribe(client, nullptr, filter.c_str(), adapter->options_.qos); src != MOSQ_ERR_SUCCESS)
      spdlog::error("mqtt ingest: cannot subscribe to {}: {}", filter, mosquitto_strerror(src));
  }
  adapter->connected_.store(true);
  adapter->loop_.connected();
  spdlog::info("mqtt ingest: connected to {}", adapter->options_.url);
}

void MqttAdapter::on_disconnect(struct mosquitto*, void* self, int rc) {
  auto* adapter = static_cast<MqttAdapter*>(self);
  adapter->connected_.store(false);
  if (rc != 0) spdlog::warn("mqtt ingest: lost the broker ({}); reconnecting", mosquitto_strerror(rc));
}

void MqttAdapter::on_message(struct mosquitto*, void* self, const struct mosquitto_message* message) {
  if (!message || !message->topic) return;
  std::string_view payload;
  if (message->payload && message->payloadlen > 0)
    payload = std::string_view(static_cast<const char*>(message->payload), static_cast<std::size_t>(message->payloadlen));
  static_cast<MqttAdapter*>(self)->handle(message->topic, payload);
}

void MqttAdapter::handle(std::string_view topic, std::string_view payload) {
  IngestTopic parsed;
  if (!parse_ingest_topic(topic, parsed)) {
    ingestor_.drop(Transport::Mqtt, DropReason::BadTopic, topic, "the topic is not /<apikey>/<device_id>/attrs[/<object_id>] or /cmdexe");
    return;
  }
  // Failures are counted and logged by the ingestor; MQTT has no one to answer.
  if (parsed.command_result) {
    (void)ingestor_.command_result(Transport::Mqtt, parsed.apikey, parsed.device_id, PayloadFormat::Detect, payload);
    return;
  }
  auto prepared = ingestor_.prepare(Transport::Mqtt, parsed.apikey, parsed.device_id, PayloadFormat::Detect, payload,
                                    parsed.object_id);
  if (!prepared) return;
  // Handed to the writer at the end of this drain. MQTT has no one to acknowledge to: the store
  // commits it shortly.
  pending_.push_back(std::move(*prepared));
}

}  // namespace ct::ingest
