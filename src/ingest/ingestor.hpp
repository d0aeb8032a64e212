#pragma once
// The southbound path shared by every transport (HTTP, MQTT, CoAP): a message names an api key and
// a device; its payload is decoded, mapped through the device's provisioning, converted, and
// written to the device's entity in its tenant, one twin write per reading, as one batch.
//
// Bad input (a payload that does not parse, an unknown api key or device, a value that does not
// convert, a topic outside the scheme) is dropped, counted by reason, and logged at most once per
// device and minute. Nothing a message does reaches another device's entity: the device is found
// by (apikey, device_id) and writes only the entity it was provisioned with.
//
// Its parts, each a file: the message path (ingestor.cpp: decode with the device's codec, map,
// convert, write), the provisioning writes (materialize.cpp), device liveness (device_liveness.hpp:
// online / offline, last-seen times), the command router (command_router.hpp: commands written
// through the twin to the device over MQTT, HTTP push or polling, and their answers), and the payload
// codecs (codec.hpp: one file per format, chosen by the device's provisioning `protocol`).
//
// Threads: ingest(), prepare(), write(), submit(), command_result(), take_commands() and drop() may
// be called from any thread, concurrently (HTTP workers, the MQTT and CoAP threads). The liveness
// thread and the command threads are the Ingestor's own (start()/stop()); wants() and consume() are
// its ChangeConsumer calls. Time (last-seen times, liveness, the log rate limit) comes from
// IngestOptions::clock.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "common/result.hpp"
#include "common/clock.hpp"
#include "ingest/command_router.hpp"
#include "ingest/device_liveness.hpp"
#include "ingest/device_registry.hpp"
#include "ingest/measure.hpp"
#include "twin/twin.hpp"

namespace ct::ingest {

enum class Transport : std::uint8_t { Http, Mqtt, Coap };
inline constexpr std::size_t kTransportCount = 3;
std::string_view transport_name(Transport t);

// The format a transport names for the IoT Agent's payloads (codec.hpp says which codec decodes a
// message): Detect (MQTT) tells them apart by the first character ('{' or '[': JSON).
enum class PayloadFormat : std::uint8_t { Json, UltraLight, Detect };

enum class DropReason : std::uint8_t {
  MalformedPayload,  // does not parse
  PayloadTooLarge,
  UnknownApikey,
  UnknownDevice,
  BadValue,          // a measure that does not convert to its attribute's type, or a bad attribute name
  BadTopic,          // outside /<apikey>/<device_id>/attrs[/<object_id>] and /cmdexe
  UnknownCommand,    // a command answer for a command the device does not have
  WriteFailed,       // the twin refused the write
};
inline constexpr std::size_t kDropReasonCount = 8;
std::string_view drop_reason_name(DropReason r);

struct IngestStats {
  std::array<std::uint64_t, kTransportCount> accepted{};  // messages written, per transport
  std::uint64_t readings = 0;
  std::uint64_t measures = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped{};
  std::uint64_t logs_suppressed = 0;  // drops not logged (already logged for that device this minute)
  std::uint64_t autoprovisioned = 0;
  std::uint64_t commands_sent = 0;
  std::uint64_t commands_failed = 0;  // the sink could not take it, or the queue was full
  std::uint64_t command_results = 0;
  std::uint64_t went_offline = 0;
  std::uint64_t came_online = 0;
  std::size_t devices = 0;
  std::size_t groups = 0;
  std::size_t devices_offline = 0;
  std::uint64_t liveness_rounds = 0;  // checks the liveness thread completed (tests wait for the next)
};

struct IngestOptions {
  std::size_t max_payload_bytes = 64 * 1024;
  std::chrono::milliseconds liveness_tick{1000};
  std::chrono::seconds log_interval{60};  // one log line per device and reason at most this often
  std::size_t command_queue = 10000;
  std::chrono::milliseconds command_timeout{5000};          // an HTTP device's answer to a pushed command
  std::chrono::milliseconds liveness_persist_interval{5000};  // how often last-seen times reach the store
  std::size_t polled_commands_per_device = 100;  // waiting for an HTTP device that polls; more are refused
  // Where time comes from (last-seen times, liveness, the log rate limit); null: the system clock.
  // Must outlive the Ingestor.
  const Clock* clock = nullptr;
};

struct IngestOutcome {
  storage::Sequence sequence = 0;  // wait for it before acknowledging
  std::size_t readings = 0;
  std::size_t measures = 0;
};

// A message decoded, mapped and converted, ready to be written (see Ingestor::prepare).
struct PreparedMessage {
  DevicePtr device;
  std::vector<jsonld::DecodedEntity> entities;  // moved out by write()
  IngestOutcome outcome;
  Transport transport = Transport::Mqtt;
  std::string who;  // apikey/device_id, for the log
  std::optional<Problem> write_error;  // set by write() when the twin refused it (counted as a drop)
};

class BatchWriter;

class Ingestor final : public twin::ChangeConsumer {
 public:
  // Reads each provisioned device's state (online / offline) back from its Device entity: construct
  // it once the twin and the registry are loaded, before messages flow.
  Ingestor(twin::Twin& twin, DeviceRegistry& registry, std::shared_ptr<const jsonld::Context> names,
           IngestOptions options = {});
  ~Ingestor() override;
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  DeviceRegistry& registry() { return registry_; }

  // Writes what a newly (re)provisioned device shows in the twin: its entity (static attributes,
  // commands with their status) and its Smart Data Model Device entity. The commands `before` (the
  // device's previous version) already had keep their value and status.
  Result<storage::Sequence> materialize(const ProvisionedDevice& device, const ProvisionedDevice* before = nullptr);
  // materialize() for each device a service group change resolved anew; the last sequence.
  Result<storage::Sequence> materialize(const GroupChange& change);
  // Removes the Device entity of a device no longer provisioned (its data entity stays).
  Result<storage::Sequence> forget(const ProvisionedDevice& device);

  // A measure message. `object_id` (from /attrs/<object_id>) makes the payload the value of that one
  // measure. Failures are counted and logged here; the caller only answers them.
  Result<IngestOutcome> ingest(Transport transport, std::string_view apikey, std::string_view device_id,
                               PayloadFormat format, std::string_view payload, std::string_view object_id = {});
  // ingest() in two steps, for transports that write many messages at once: prepare() finds the
  // device, decodes, maps and converts (failures counted and logged); write() writes prepared
  // messages with one twin batch per tenant, sets each one's outcome.sequence (or write_error) and
  // returns the last sequence.
  Result<PreparedMessage> prepare(Transport transport, std::string_view apikey, std::string_view device_id,
                                  PayloadFormat format, std::string_view payload, std::string_view object_id = {});
  storage::Sequence write(std::vector<PreparedMessage>& messages);
  // Writes a prepared message with those other threads submit meanwhile (a BatchWriter without a
  // thread, see batch_writer.hpp) and calls `written` once it is in the twin, on the writing thread.
  void submit(PreparedMessage message, std::function<void(const PreparedMessage&)> written);
  // The commands waiting for a device that polls (transport HTTP, no endpoint), as the answer to its
  // request with getCmd=1: UltraLight "<device>@<cmd>|<value>" joined by '#', or one JSON object
  // {"<cmd>": value, ...}; empty when none waits. Their <cmd>_status becomes DELIVERED.
  std::string take_commands(const ProvisionedDevice& device);
  // A device's answer to commands (/cmdexe).
  Result<IngestOutcome> command_result(Transport transport, std::string_view apikey, std::string_view device_id,
                                       PayloadFormat format, std::string_view payload);
  // Counts and logs a message dropped before it reached ingest() (a topic outside the scheme).
  void drop(Transport transport, DropReason reason, std::string_view who, std::string_view detail);

  // Commands are handed to `sink` (set before start(); may stay null: commands then fail).
  void set_command_sink(CommandSink* sink) { router_.set_sink(sink); }
  // Starts the liveness and command threads.
  void start();
  void stop();
  // Marks devices silent beyond their timeout offline (the liveness thread calls it every tick).
  void check_liveness(Timestamp now);

  IngestStats stats() const;

  // twin::ChangeConsumer (called by the change stream): commands written to provisioned devices.
  // Attach it to the twin's change stream to send commands; stop() detaches it.
  std::string_view name() const override { return "ingest"; }
  bool wants(const twin::ChangeEvent& event) const override;
  void consume(std::span<const twin::ChangeEvent> events) override;

 private:
  Result<IngestOutcome> fail(Transport transport, DropReason reason, std::string_view who, Problem problem);
  Result<PreparedMessage> failed(Transport transport, DropReason reason, std::string_view who, Problem problem);
  void count_accepted(const PreparedMessage& message);
  DevicePtr autoprovision(std::string_view apikey, std::string_view device_id);

  twin::Twin& twin_;
  DeviceRegistry& registry_;
  std::shared_ptr<const jsonld::Context> names_;
  IngestOptions options_;
  const Clock& clock_;
  model::Term device_type_, device_state_, controlled_asset_, device_name_;

  std::array<std::atomic<std::uint64_t>, kTransportCount> accepted_{};
  std::atomic<std::uint64_t> readings_{0}, measures_{0};
  std::array<std::atomic<std::uint64_t>, kDropReasonCount> dropped_{};
  std::atomic<std::uint64_t> logs_suppressed_{0}, autoprovisioned_{0};

  std::mutex log_mutex_;
  std::unordered_map<std::string, Timestamp> last_logged_;

  DeviceLiveness liveness_;
  CommandRouter router_;
  std::unique_ptr<BatchWriter> writer_;  // for submit()
};

}  // namespace ct::ingest
