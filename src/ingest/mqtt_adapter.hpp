#pragma once
// The MQTT transport: one libmosquitto client (MQTT v5) subscribed to the IoT Agent topics
//   /<apikey>/<device_id>/attrs              a measure payload (JSON or UltraLight, told apart by its
//                                            first character)
//   /<apikey>/<device_id>/attrs/<object_id>  the payload is the value of that one measure
//   /<apikey>/<device_id>/cmdexe             a device's answer to a command
// and publishing commands on /<apikey>/<device_id>/cmd.
//
// The client runs on a network thread of its own (net::MqttLoop): it waits in poll(), then reads
// every message already in the socket (up to kMaxDrain) and sleeps kLinger before it looks again:
// under load a wake-up, a poll and a hand-over to the writer serve tens of messages instead of one,
// at the price of up to kLinger of latency. A broker that goes away is reconnected to after 100 ms,
// doubling, at most 1 s (net::ReconnectBackoff): within a second of its return.
//
// Messages are decoded and converted on the network thread as they are read, then handed as one
// batch per drain to a BatchWriter of the adapter's own, which writes them into the twin: decoding
// and writing run in parallel, and a burst costs one tenant lock and one store group per batch
// rather than per message. The writer's queue is bounded; when it is full the network thread
// waits, and the broker holds the rest.
//
// With a shared group, the subscriptions are MQTT v5 shared ones ($share/<group>/...): several
// CityTwin nodes then split the devices' messages between them.
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "ingest/batch_writer.hpp"
#include "ingest/ingestor.hpp"
#include "net/mqtt_client.hpp"

namespace ct::ingest {

struct MqttOptions {
  std::string url;           // mqtt://[user[:password]@]host[:port] (port 1883 by default)
  std::string shared_group;  // empty: plain subscriptions
  int qos = 0;               // of the subscriptions
  int command_qos = 1;
};

class MqttAdapter final : public CommandSink {
 public:
  MqttAdapter(Ingestor& ingestor, MqttOptions options);
  ~MqttAdapter() override;
  MqttAdapter(const MqttAdapter&) = delete;
  MqttAdapter& operator=(const MqttAdapter&) = delete;

  // Checks the URL and starts connecting (asynchronously: a broker down now is retried).
  Status start();
  void stop();
  bool connected() const { return client_ && client_->connected(); }

  bool send(const OutgoingCommand& command) override;

 private:
  void subscribe();  // on every connection (the session is clean)
  void handle(std::string_view topic, std::string_view payload);
  void flush();  // hands pending_ to the writer (on the network thread)

  Ingestor& ingestor_;
  MqttOptions options_;
  std::vector<PreparedMessage> pending_;  // read in this drain, not yet handed to the writer
  BatchWriter writer_;
  std::unique_ptr<net::MqttClient> client_;  // from start(): the broker's address comes from the URL
};

// Splits an ingest topic; false for a topic outside the scheme.
struct IngestTopic {
  std::string_view apikey, device_id, object_id;
  bool command_result = false;
};
bool parse_ingest_topic(std::string_view topic, IngestTopic& out);

}  // namespace ct::ingest
