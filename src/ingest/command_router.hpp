#pragma once
// The command router: commands written to provisioned devices' entities (by clients, rules or
// applications: the change's Origin tells, never the ingestor's own writes), once durable, sent to
// the device the way it listens, on threads of their own (never on the write path):
//   - MQTT (the default): handed to the CommandSink (the MQTT adapter); <cmd>_status PENDING until
//     the device answers on /cmdexe; ERROR when no broker is connected;
//   - HTTP push (transport HTTP and an endpoint): POSTed to the endpoint on a thread of its own (a
//     slow device delays no MQTT one); the answer in the response body sets <cmd>_status OK and
//     <cmd>_info; ERROR (saying why in <cmd>_info) when it cannot be delivered;
//   - HTTP polled (transport HTTP, no endpoint): kept (PENDING, at most polled_per_device) until the
//     device asks for them (take_commands(): DELIVERED) and answers like a measure.
// Commands are encoded by the device's codec (codec.hpp).
//
// Contract: wants() and consume() are the ChangeConsumer calls of the Ingestor (the writer's thread
// under the twin's lock, and the ingest delivery thread). take_commands(), set_sink() (before
// start()) and the counters may be called from any thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ingest/codec.hpp"
#include "ingest/device_liveness.hpp"
#include "ingest/device_registry.hpp"
#include "twin/change_event.hpp"
#include "twin/twin.hpp"

namespace ct::ingest {

// A command on its way to a device.
struct OutgoingCommand {
  std::string tenant;
  std::string apikey;
  std::string device_id;
  std::string entity_id;
  std::string command;
  std::string payload;  // as the device's codec encodes it (UltraLight "<device>@<cmd>|<value>", JSON {"<cmd>": value})
  bool ultralight = false;  // the payload is UltraLight
  std::string endpoint;  // set: POSTed there (HTTP push) rather than handed to the CommandSink
  bool polled = false;   // kept until the device asks for it (an HTTP device without an endpoint)
  json::value value;     // the command's value (to encode polled commands together)
  const PayloadCodec* codec = nullptr;  // the device's codec when queued (never null once queued)
};

class CommandSink {
 public:
  virtual ~CommandSink() = default;
  // Sends the command (non-blocking); false when it cannot now (not connected).
  virtual bool send(const OutgoingCommand& command) = 0;
};

struct CommandOptions {
  std::size_t queue = 10000;
  std::chrono::milliseconds timeout{5000};  // an HTTP device's answer to a pushed command
  std::size_t max_payload_bytes = 64 * 1024;
  std::size_t polled_per_device = 100;
};

// The codec a device's commands and answers use: its own, else JSON.
const PayloadCodec& command_codec(const ProvisionedDevice& device);

// Adds <cmd>_status OK and <cmd>_info for each answer to `entity`; BadRequestData naming an unknown command.
Status add_command_results(const ProvisionedDevice& device, std::vector<CommandResult>& results,
                           jsonld::DecodedEntity& entity);

class CommandRouter {
 public:
  CommandRouter(twin::Twin& twin, DeviceRegistry& registry, DeviceLiveness& liveness, CommandOptions options);
  ~CommandRouter();  // stop()

  void set_sink(CommandSink* sink) { sink_ = sink; }
  bool wants(const twin::ChangeEvent& event) const;
  void consume(std::span<const twin::ChangeEvent> events);
  std::string take_commands(const ProvisionedDevice& device);
  void start();
  void stop();

  void count_results(std::size_t n) { results_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  std::uint64_t results() const { return results_.load(std::memory_order_relaxed); }

 private:
  void queue_commands(const twin::ChangeEvent& event);
  void run(std::deque<OutgoingCommand>& queue);
  void deliver(const OutgoingCommand& command);
  // <cmd>_status (and <cmd>_info when given) of the command's device.
  void set_status(const OutgoingCommand& command, std::string_view status, std::optional<std::string> info);

  twin::Twin& twin_;
  DeviceRegistry& registry_;
  DeviceLiveness& liveness_;
  CommandOptions options_;
  CommandSink* sink_ = nullptr;
  std::atomic<std::uint64_t> sent_{0}, failed_{0}, results_{0};

  std::mutex mutex_;  // guards commands_, http_commands_ and stopping_
  std::condition_variable wake_;
  std::deque<OutgoingCommand> commands_;       // to the CommandSink
  std::deque<OutgoingCommand> http_commands_;  // POSTed to devices' endpoints
  bool stopping_ = false;
  std::thread thread_, http_thread_;
  std::mutex polled_mutex_;
  std::unordered_map<std::string, std::vector<OutgoingCommand>> polled_;  // tenant_key(tenant, device_id)
};

}  // namespace ct::ingest
