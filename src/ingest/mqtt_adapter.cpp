#include "ingest/mqtt_adapter.hpp"

#include <array>

#include <spdlog/spdlog.h>

namespace ct::ingest {
namespace {

// Messages read in one go at most, before they are handed to the writer.
constexpr std::size_t kMaxDrain = 1024;
// How long the network thread sleeps after reading messages before it looks for more. Under load
// the socket fills meanwhile, so that one wake-up serves many messages; a lone message is not
// delayed by it (it is read at once, the sleep comes after).
constexpr std::chrono::microseconds kLinger{1000};
constexpr std::array<std::string_view, 3> kTopics = {"/+/+/attrs", "/+/+/attrs/+", "/+/+/cmdexe"};

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
  if (client_) return {};
  auto broker = net::parse_mqtt_url(options_.url, "--mqtt");
  if (!broker) return broker.problem();
  if (options_.shared_group.find_first_of("/+#") != std::string::npos)
    return invalid_request("the MQTT shared group must not contain '/', '+' or '#'");
  net::MqttClientOptions client_options;
  client_options.name = "mqtt ingest";
  client_options.broker = std::move(*broker);
  // A persistent identity per process is not needed: QoS 0 ingest, and a clean session.
  client_options.mqtt5 = true;  // shared subscriptions
  net::MqttCallbacks callbacks;
  callbacks.on_connect = [this] { subscribe(); };
  callbacks.on_message = [this](std::string_view topic, std::string_view payload) { handle(topic, payload); };
  net::MqttLoopHooks hooks;
  hooks.after_read = [this] {
    const bool read_some = !pending_.empty();
    flush();
    return read_some;
  };
  hooks.linger = kLinger;
  hooks.max_drain = kMaxDrain;
  client_ = std::make_unique<net::MqttClient>(std::move(client_options), std::move(callbacks), std::move(hooks));
  writer_.start();
  if (auto started = client_->start(); !started) {
    client_.reset();
    writer_.stop();
    return started;
  }
  spdlog::info("mqtt ingest: subscribing at {}{}", options_.url,
               options_.shared_group.empty() ? "" : " (shared group " + options_.shared_group + ")");
  return {};
}

void MqttAdapter::stop() {
  if (client_) {
    client_->stop();  // the last messages read are handed to the writer
    client_.reset();
  }
  writer_.stop();  // it writes what was queued first
}

void MqttAdapter::flush() {
  if (!pending_.empty()) writer_.submit(pending_);
}

bool MqttAdapter::send(const OutgoingCommand& command) {
  if (!client_ || !client_->connected()) return false;
  return client_->publish("/" + command.apikey + "/" + command.device_id + "/cmd", command.payload, options_.command_qos);
}

void MqttAdapter::subscribe() {
  for (std::string_view topic : kTopics) {
    const std::string filter =
        options_.shared_group.empty() ? std::string(topic) : "$share/" + options_.shared_group + "/" + std::string(topic);
    (void)client_->subscribe(filter, options_.qos);  // a refusal is logged
  }
  spdlog::info("mqtt ingest: connected to {}", options_.url);
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
