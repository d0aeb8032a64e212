#include "ingest/ingestor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "ingest/batch_writer.hpp"
#include "ingest/codec.hpp"
#include "ingest/fragments.hpp"
#include "model/names.hpp"

namespace ct::ingest {
namespace {

using model::AttributeKind;
using model::Term;

constexpr std::size_t kMaxLogKeys = 100000;

bool looks_like_json(std::string_view payload) {
  for (char c : payload) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

// The codec of a message (codec.hpp): a device of a protocol other than the IoT Agent's formats has
// its own, whatever the transport; the IoT Agent's formats follow the transport (over MQTT, the
// payload's first character).
const PayloadCodec& message_codec(const ProvisionedDevice& d, PayloadFormat format, std::string_view payload) {
  if (d.codec && d.codec != &ultralight_codec() && d.codec != &json_codec()) return *d.codec;
  const bool json = format == PayloadFormat::Json || (format == PayloadFormat::Detect && looks_like_json(payload));
  return json ? json_codec() : ultralight_codec();
}

LivenessOptions liveness_options(const IngestOptions& o) {
  return {o.liveness_tick, o.liveness_persist_interval};
}

CommandOptions command_options(const IngestOptions& o) {
  return {o.command_queue, o.command_timeout, o.max_payload_bytes, o.polled_commands_per_device};
}

}  // namespace

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::Http: return "http";
    case Transport::Mqtt: return "mqtt";
    case Transport::Coap: return "coap";
  }
  return "http";
}

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::MalformedPayload: return "malformed_payload";
    case DropReason::PayloadTooLarge: return "payload_too_large";
    case DropReason::UnknownApikey: return "unknown_apikey";
    case DropReason::UnknownDevice: return "unknown_device";
    case DropReason::BadValue: return "bad_value";
    case DropReason::BadTopic: return "bad_topic";
    case DropReason::UnknownCommand: return "unknown_command";
    case DropReason::WriteFailed: return "write_failed";
  }
  return "malformed_payload";
}

Ingestor::Ingestor(twin::Twin& twin, DeviceRegistry& registry, std::shared_ptr<const jsonld::Context> names,
                   IngestOptions options)
    : twin_(twin),
      registry_(registry),
      names_(std::move(names)),
      options_(options),
      clock_(options_.clock ? *options_.clock : system_clock()),
      liveness_(twin, registry, *names_, clock_, liveness_options(options_)),
      router_(twin, registry, liveness_, command_options(options_)),
      writer_(std::make_unique<BatchWriter>(*this)) {
  device_type_ = Term::intern(names_->expand("Device"));
  device_state_ = Term::intern(names_->expand("deviceState"));
  controlled_asset_ = Term::intern(names_->expand("controlledAsset"));
  device_name_ = Term::intern(names_->expand("name"));
  liveness_.restore();
}

Ingestor::~Ingestor() { stop(); }

DevicePtr Ingestor::autoprovision(std::string_view apikey, std::string_view device_id) {
  auto group = registry_.group_for_apikey(apikey);
  if (!group || !group->autoprovision) return nullptr;
  json::object body;
  body["device_id"] = device_id;
  body["apikey"] = apikey;
  auto device = parse_device(body, group->tenant, group->service_path);
  if (!device) return nullptr;
  auto registered = registry_.put_device(std::move(*device), /*create=*/true, /*autoprovisioned=*/true);
  if (!registered) return registry_.device_for_message(apikey, device_id);  // another message was first
  if (auto st = materialize(*registered->device); !st)
    spdlog::warn("ingest: auto-provisioned device {} has no entity yet: {}", describe_text(device_id), st.problem().detail);
  autoprovisioned_.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("ingest: auto-provisioned device {} (apikey {})", describe_text(device_id), describe_text(apikey));
  return registered->device;
}

// ---- measures ----------------------------------------------------------------------------------

void Ingestor::drop(Transport transport, DropReason reason, std::string_view who, std::string_view detail) {
  dropped_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  const Timestamp now = clock_.now();
  const Timestamp interval = std::chrono::duration_cast<std::chrono::milliseconds>(options_.log_interval).count();
  std::string key(who);
  key.push_back('\x1f');
  key.append(drop_reason_name(reason));
  {
    std::lock_guard lock(log_mutex_);
    if (last_logged_.size() >= kMaxLogKeys)
      std::erase_if(last_logged_, [&](const auto& entry) { return now - entry.second >= interval; });
    auto it = last_logged_.find(key);
    if ((it != last_logged_.end() && now - it->second < interval) ||
        (it == last_logged_.end() && last_logged_.size() >= kMaxLogKeys)) {
      logs_suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    last_logged_[key] = now;
  }
  spdlog::warn("ingest: dropped a {} message from {} ({}): {} (further ones are counted, not logged, for {} s)",
               transport_name(transport), describe_text(who, 80), drop_reason_name(reason), describe_text(detail, 200),
               options_.log_interval.count());
}

Result<IngestOutcome> Ingestor::fail(Transport transport, DropReason reason, std::string_view who, Problem problem) {
  drop(transport, reason, who, problem.detail);
  return problem;
}

Result<PreparedMessage> Ingestor::failed(Transport transport, DropReason reason, std::string_view who, Problem problem) {
  drop(transport, reason, who, problem.detail);
  return problem;
}

Result<PreparedMessage> Ingestor::prepare(Transport transport, std::string_view apikey, std::string_view device_id,
                                          PayloadFormat format, std::string_view payload, std::string_view object_id) {
  std::string who;
  who.reserve(apikey.size() + device_id.size() + 1);
  who.append(apikey).push_back('/');
  who.append(device_id);
  if (payload.size() > options_.max_payload_bytes)
    return failed(transport, DropReason::PayloadTooLarge, who,
                {ProblemKind::PayloadTooLarge, "the payload is larger than " + std::to_string(options_.max_payload_bytes) + " bytes"});
  DevicePtr d = registry_.device_for_message(apikey, device_id);
  if (!d) {
    auto group = registry_.group_for_apikey(apikey);
    if (!group) return failed(transport, DropReason::UnknownApikey, who, not_found("unknown apikey"));
    if (group->autoprovision) d = autoprovision(apikey, device_id);
    if (!d) return failed(transport, DropReason::UnknownDevice, who, not_found("device " + std::string(device_id) + " is not provisioned with this apikey"));
  }

  DecodedPayload decoded;
  if (!object_id.empty()) {
    decoded.text = PayloadText(payload.size() + object_id.size());
    Reading reading;
    reading.measures.push_back({decoded.text.keep(object_id), decoded.text.keep(payload)});
    decoded.readings.push_back(std::move(reading));
  } else {
    auto result = message_codec(*d, format, payload).decode(payload, options_.max_payload_bytes);
    if (!result)
      return failed(transport,
                  result.problem().kind == ProblemKind::PayloadTooLarge ? DropReason::PayloadTooLarge : DropReason::MalformedPayload,
                  who, std::move(result).problem());
    decoded = std::move(*result);
  }

  const Timestamp now = clock_.now();
  IngestOutcome outcome;
  std::vector<jsonld::DecodedEntity> batch;
  batch.reserve(decoded.readings.size() + 1);
  for (const auto& reading : decoded.readings) {
    auto entity = fragment_of(d->entity_id, d->entity_type);
    entity.attributes.reserve(reading.measures.size());
    const Timestamp observed = reading.observed_at.value_or(now);
    for (const auto& m : reading.measures) {
      Result<json::value> value = json::value();
      Term name;
      Term unit;
      AttributeKind kind = AttributeKind::Property;
      if (const ResolvedAttribute* r = d->attribute_for(m.key)) {
        const AttributeMapping& mapping = d->device.mapping.attributes[r->mapping];
        value = mapping.expression ? convert(m.value, mapping.value_type, *mapping.expression, m.key)
                                   : convert(m.value, mapping.value_type, m.key);
        name = r->name;
        unit = r->unit_code;
        kind = attribute_kind_for(mapping.value_type);
      } else {
        if (!model::is_valid_term(m.key) || d->command(m.key))
          return failed(transport, DropReason::BadValue, who,
                      bad_request("measure " + describe_text(m.key) + " is not a valid attribute name"));
        value = convert(m.value, ValueType::AsIs, m.key);
        name = Term::intern(names_->expand(m.key));
      }
      if (!value) return failed(transport, DropReason::BadValue, who, std::move(value).problem());
      if (value->is_null()) continue;  // the device had no reading for it
      auto a = property(name, std::move(*value), kind);
      a.observed_at = observed;
      a.unit_code = unit;
      entity.attributes.push_back(std::move(a));
      ++outcome.measures;
    }
    if (entity.attributes.empty()) continue;
    batch.push_back(std::move(entity));
    ++outcome.readings;
  }

  liveness_.note_alive(*d, batch, now);
  return PreparedMessage{std::move(d), std::move(batch), outcome, transport, std::move(who), std::nullopt};
}

Result<IngestOutcome> Ingestor::ingest(Transport transport, std::string_view apikey, std::string_view device_id,
                                       PayloadFormat format, std::string_view payload, std::string_view object_id) {
  auto prepared = prepare(transport, apikey, device_id, format, payload, object_id);
  if (!prepared) return std::move(prepared).problem();
  PreparedMessage& m = *prepared;
  if (!m.entities.empty()) {
    auto written = twin_.batch_upsert(m.device->device.tenant, std::move(m.entities), twin::UpsertMode::Update, kDeviceOrigin);
    for (auto& item : written.items)
      if (item.error) return fail(transport, DropReason::WriteFailed, m.who, std::move(*item.error));
    m.outcome.sequence = written.sequence;
  }
  count_accepted(m);
  return m.outcome;
}

void Ingestor::count_accepted(const PreparedMessage& m) {
  accepted_[static_cast<std::size_t>(m.transport)].fetch_add(1, std::memory_order_relaxed);
  readings_.fetch_add(m.outcome.readings, std::memory_order_relaxed);
  measures_.fetch_add(m.outcome.measures, std::memory_order_relaxed);
}

storage::Sequence Ingestor::write(std::vector<PreparedMessage>& messages) {
  // One twin batch per tenant, in message order within it (a device's messages stay in order).
  std::unordered_map<std::string_view, std::vector<PreparedMessage*>> by_tenant;
  for (auto& m : messages) by_tenant[m.device->device.tenant].push_back(&m);
  storage::Sequence last = 0;
  for (auto& [tenant, group] : by_tenant) {
    std::vector<jsonld::DecodedEntity> batch;
    for (PreparedMessage* m : group)
      for (auto& e : m->entities) batch.push_back(std::move(e));
    if (batch.empty()) {
      for (PreparedMessage* m : group) count_accepted(*m);
      continue;
    }
    auto written = twin_.batch_upsert(std::string(tenant), std::move(batch), twin::UpsertMode::Update, kDeviceOrigin);
    last = std::max(last, written.sequence);
    std::size_t item = 0;
    for (PreparedMessage* m : group) {
      const Problem* error = nullptr;
      for (std::size_t i = 0; i < m->entities.size(); ++i, ++item)
        if (written.items[item].error && !error) error = &*written.items[item].error;
      if (error) {
        drop(m->transport, DropReason::WriteFailed, m->who, error->detail);
        m->write_error = *error;
      } else {
        m->outcome.sequence = written.sequence;
        count_accepted(*m);
      }
    }
  }
  return last;
}

void Ingestor::submit(PreparedMessage message, std::function<void(const PreparedMessage&)> written) {
  writer_->submit(std::move(message), std::move(written));
}

// ---- command answers ---------------------------------------------------------------------------

Result<IngestOutcome> Ingestor::command_result(Transport transport, std::string_view apikey,
                                               std::string_view device_id, PayloadFormat format,
                                               std::string_view payload) {
  std::string who = std::string(apikey) + "/" + std::string(device_id);
  DevicePtr d = registry_.device_for_message(apikey, device_id);
  if (!d) {
    if (!registry_.group_for_apikey(apikey)) return fail(transport, DropReason::UnknownApikey, who, not_found("unknown apikey"));
    return fail(transport, DropReason::UnknownDevice, who, not_found("device is not provisioned with this apikey"));
  }
  auto decoded = message_codec(*d, format, payload).decode_command_results(payload, options_.max_payload_bytes);
  if (!decoded) return fail(transport, DropReason::MalformedPayload, who, std::move(decoded).problem());
  std::vector<CommandResult> results = std::move(decoded).value();
  for (const auto& r : results)
    if (!r.device.empty() && r.device != device_id)
      return fail(transport, DropReason::BadValue, who, bad_request("the answer names another device"));
  auto entity = fragment_of(d->entity_id, d->entity_type);
  if (auto st = add_command_results(*d, results, entity); !st)
    return fail(transport, DropReason::UnknownCommand, who, std::move(st).problem());
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  liveness_.note_alive(*d, batch, clock_.now());
  auto written = twin_.batch_upsert(d->device.tenant, std::move(batch), twin::UpsertMode::Update, kDeviceOrigin);
  for (auto& item : written.items)
    if (item.error) return fail(transport, DropReason::WriteFailed, who, std::move(*item.error));
  router_.count_results(results.size());
  return IngestOutcome{written.sequence, 1, results.size()};
}

// ---- the parts ---------------------------------------------------------------------------------

bool Ingestor::wants(const twin::ChangeEvent& event) const { return router_.wants(event); }

void Ingestor::consume(std::span<const twin::ChangeEvent> events) { router_.consume(events); }

std::string Ingestor::take_commands(const ProvisionedDevice& device) { return router_.take_commands(device); }

void Ingestor::check_liveness(Timestamp now) { liveness_.check(now); }

void Ingestor::start() {
  liveness_.start();
  router_.start();
}

void Ingestor::stop() {
  twin_.changes().detach(*this);
  writer_->stop();
  liveness_.stop();
  router_.stop();
}

IngestStats Ingestor::stats() const {
  IngestStats s;
  for (std::size_t i = 0; i < kTransportCount; ++i) s.accepted[i] = accepted_[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kDropReasonCount; ++i) s.dropped[i] = dropped_[i].load(std::memory_order_relaxed);
  s.readings = readings_.load(std::memory_order_relaxed);
  s.measures = measures_.load(std::memory_order_relaxed);
  s.logs_suppressed = logs_suppressed_.load(std::memory_order_relaxed);
  s.autoprovisioned = autoprovisioned_.load(std::memory_order_relaxed);
  s.commands_sent = router_.sent();
  s.commands_failed = router_.failed();
  s.command_results = router_.results();
  s.went_offline = liveness_.went_offline();
  s.came_online = liveness_.came_online();
  s.liveness_rounds = liveness_.rounds();
  const auto devices = registry_.all_devices();
  s.devices = devices.size();
  s.groups = registry_.group_count();
  for (const auto& d : devices)
    if (d->liveness->state.load() == static_cast<int>(DeviceState::Offline)) ++s.devices_offline;
  return s;
}

}  // namespace ct::ingest
