#include "ingest/ingestor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "ingest/batch_writer.hpp"
#include "ingest/http_command_client.hpp"
#include "ingest/json_payload.hpp"
#include "ingest/ultralight.hpp"
#include "model/names.hpp"

namespace ct::ingest {
namespace {

using model::Attribute;
using model::AttributeKind;
using model::Term;

// What this module's writes say they are: a device's messages, or its own bookkeeping (provisioning,
// liveness, command status). Neither is taken for a command sent through NGSI-LD (see wants()).
const twin::WriteOrigin kDevice{twin::Origin::Device, {}};
const twin::WriteOrigin kSystem{twin::Origin::System, {}};

constexpr std::size_t kMaxLogKeys = 100000;

std::string_view state_name(DeviceState s) {
  switch (s) {
    case DeviceState::Online: return "online";
    case DeviceState::Offline: return "offline";
    case DeviceState::Unknown: break;
  }
  return "unknown";
}

Attribute property(Term name, json::value value, AttributeKind kind = AttributeKind::Property) {
  Attribute a;
  a.name = name;
  a.kind = kind;
  a.value = std::move(value);
  return a;
}

AttributeKind kind_for(ValueType type) {
  return type == ValueType::GeoPoint || type == ValueType::GeoJson ? AttributeKind::GeoProperty : AttributeKind::Property;
}

bool looks_like_json(std::string_view payload) {
  for (char c : payload) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

jsonld::DecodedEntity fragment_of(const std::string& id, Term type) {
  jsonld::DecodedEntity e;
  e.header.id = id;
  e.header.types.push_back(type);
  return e;
}

std::string command_payload(const ProvisionedDevice& d, const std::string& command, const json::value& value) {
  if (speaks_ultralight(d.device)) {
    std::string text = value.is_string() ? std::string(value.as_string()) : to_text(value);
    return d.device.device_id + "@" + command + "|" + text;
  }
  json::object o;
  o[command] = value;
  return to_text(o);
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
    : twin_(twin), registry_(registry), names_(std::move(names)), options_(options),
      writer_(std::make_unique<BatchWriter>(*this)) {
  device_type_ = Term::intern(names_->expand("Device"));
  device_state_ = Term::intern(names_->expand("deviceState"));
  controlled_asset_ = Term::intern(names_->expand("controlledAsset"));
  last_reported_ = Term::intern(names_->expand("dateLastValueReported"));
  device_name_ = Term::intern(names_->expand("name"));
  restore_liveness();
}

Ingestor::~Ingestor() { stop(); }

// ---- provisioning ------------------------------------------------------------------------------

Result<storage::Sequence> Ingestor::materialize(const ProvisionedDevice& d, const ProvisionedDevice* before) {
  auto entity = fragment_of(d.entity_id, d.entity_type);
  for (const auto& s : d.device.mapping.static_attributes) {
    const Term name = Term::intern(names_->expand(s.name));
    if (s.type == "Relationship") {
      if (!s.value.is_string() || !model::is_uri(s.value.as_string()))
        return bad_request("static attribute " + s.name + ": a Relationship needs a URI value");
      entity.attributes.push_back(property(name, s.value, AttributeKind::Relationship));
      continue;
    }
    // As the IoT Agents do, a static value is written as given; only geometries are checked and
    // normalized (a "lat,lon" text becomes a GeoJSON Point).
    const ValueType type = value_type_from_name(s.type);
    if (type != ValueType::GeoPoint && type != ValueType::GeoJson) {
      entity.attributes.push_back(property(name, s.value));
      continue;
    }
    MeasureValue raw = s.value;
    if (s.value.is_string()) raw = std::string_view(s.value.as_string());
    auto value = convert(raw, type, s.name);
    if (!value) return value.problem();
    if (value->is_null()) continue;
    entity.attributes.push_back(property(name, std::move(*value), kind_for(type)));
  }
  for (const auto& c : d.commands) {
    if (before && before->command(c.name)) continue;  // keeps its last value and status
    entity.attributes.push_back(property(c.attribute, ""));
    entity.attributes.push_back(property(c.status, "UNKNOWN"));
    entity.attributes.push_back(property(c.info, ""));
  }
  auto device = fragment_of(device_entity_id(d.device.device_id), device_type_);
  device.attributes.push_back(property(controlled_asset_, json::value(d.entity_id), AttributeKind::Relationship));
  device.attributes.push_back(property(device_name_, json::value(d.device.device_id)));
  device.attributes.push_back(
      property(device_state_, json::value(state_name(static_cast<DeviceState>(d.liveness->state.load())))));
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  if (device_entity_id(d.device.device_id) != d.entity_id) batch.push_back(std::move(device));
  auto outcome = twin_.batch_upsert(d.device.tenant, std::move(batch), twin::UpsertMode::Update, kSystem);
  for (const auto& item : outcome.items)
    if (item.error) return *item.error;
  return outcome.sequence;
}

Result<storage::Sequence> Ingestor::materialize(const GroupChange& change) {
  // Only what an entity shows: a change of mapping alone writes nothing (and wakes no rule).
  auto same_on_entity = [](const ProvisionedDevice& a, const ProvisionedDevice& b) {
    const auto& x = a.device.mapping.static_attributes;
    const auto& y = b.device.mapping.static_attributes;
    return a.device.mapping.commands.size() == b.device.mapping.commands.size() &&
           std::all_of(a.commands.begin(), a.commands.end(), [&](const ResolvedCommand& c) { return b.command(c.name); }) &&
           std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const StaticAttribute& l, const StaticAttribute& r) {
             return l.name == r.name && l.type == r.type && l.value == r.value;
           });
  };
  storage::Sequence last = change.sequence;
  for (const auto& [before, after] : change.devices) {
    if (same_on_entity(*before, *after)) continue;
    auto written = materialize(*after, before.get());
    if (!written) return written.problem();
    last = std::max(last, *written);
  }
  return last;
}

Result<storage::Sequence> Ingestor::forget(const ProvisionedDevice& d) {
  auto removed = twin_.remove(d.device.tenant, device_entity_id(d.device.device_id), kSystem);
  if (!removed) return storage::Sequence{0};  // already gone
  return removed->sequence;
}

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
  const auto now = std::chrono::steady_clock::now();
  std::string key(who);
  key.push_back('\x1f');
  key.append(drop_reason_name(reason));
  {
    std::lock_guard lock(log_mutex_);
    if (last_logged_.size() >= kMaxLogKeys)
      std::erase_if(last_logged_, [&](const auto& entry) { return now - entry.second >= options_.log_interval; });
    auto it = last_logged_.find(key);
    if ((it != last_logged_.end() && now - it->second < options_.log_interval) ||
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

void Ingestor::mark_state(const ProvisionedDevice& d, DeviceState state, std::vector<jsonld::DecodedEntity>& batch,
                          Timestamp at) {
  auto device = fragment_of(device_entity_id(d.device.device_id), device_type_);
  auto a = property(device_state_, json::value(state_name(state)));
  a.observed_at = at;
  device.attributes.push_back(std::move(a));
  batch.push_back(std::move(device));
}

void Ingestor::note_alive(const ProvisionedDevice& d, std::vector<jsonld::DecodedEntity>& batch, Timestamp now) {
  d.liveness->last_seen.store(now, std::memory_order_relaxed);
  int previous = d.liveness->state.load();
  if (previous != static_cast<int>(DeviceState::Online) &&
      d.liveness->state.compare_exchange_strong(previous, static_cast<int>(DeviceState::Online))) {
    mark_state(d, DeviceState::Online, batch, now);
    if (previous == static_cast<int>(DeviceState::Offline)) came_online_.fetch_add(1, std::memory_order_relaxed);
  }
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
    const bool json = format == PayloadFormat::Json || (format == PayloadFormat::Detect && looks_like_json(payload));
    auto result = json ? decode_json(payload, options_.max_payload_bytes)
                       : decode_ultralight(payload, options_.max_payload_bytes);
    if (!result)
      return failed(transport,
                  result.problem().kind == ProblemKind::PayloadTooLarge ? DropReason::PayloadTooLarge : DropReason::MalformedPayload,
                  who, std::move(result).problem());
    decoded = std::move(*result);
  }

  const Timestamp now = now_ms();
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
        kind = kind_for(mapping.value_type);
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

  note_alive(*d, batch, now);
  return PreparedMessage{std::move(d), std::move(batch), outcome, transport, std::move(who), std::nullopt};
}

Result<IngestOutcome> Ingestor::ingest(Transport transport, std::string_view apikey, std::string_view device_id,
                                       PayloadFormat format, std::string_view payload, std::string_view object_id) {
  auto prepared = prepare(transport, apikey, device_id, format, payload, object_id);
  if (!prepared) return std::move(prepared).problem();
  PreparedMessage& m = *prepared;
  if (!m.entities.empty()) {
    auto written = twin_.batch_upsert(m.device->device.tenant, std::move(m.entities), twin::UpsertMode::Update, kDevice);
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
    auto written = twin_.batch_upsert(std::string(tenant), std::move(batch), twin::UpsertMode::Update, kDevice);
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

// ---- commands ----------------------------------------------------------------------------------

bool Ingestor::wants(const twin::ChangeEvent& event) const {
  // Commands are what clients, rules and applications write; a device's or CityTwin's own writes
  // (a command's status, a provisioned device) are not commands.
  const auto o = event.origin;
  if (o != twin::Origin::ClientRequest && o != twin::Origin::RuleAction && o != twin::Origin::Application) return false;
  if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return false;
  DevicePtr d = registry_.device_for_entity(event.tenant, event.entity->id);
  return d && !d->commands.empty();
}

void Ingestor::consume(std::span<const twin::ChangeEvent> events) {
  for (const auto& event : events) queue_commands(event);
}

void Ingestor::queue_commands(const twin::ChangeEvent& event) {
  DevicePtr d = registry_.device_for_entity(event.tenant, event.entity->id);
  if (!d || d->commands.empty()) return;
  for (const auto& [name, dataset_id] : event.written) {
    if (!dataset_id.empty()) continue;
    const ResolvedCommand* command = nullptr;
    for (const auto& c : d->commands)
      if (c.attribute == name) command = &c;
    if (!command) continue;
    const Attribute* attribute = event.entity->find(name);
    if (!attribute) continue;
    const bool http = speaks_http(d->device);
    OutgoingCommand out{d->device.tenant, d->device.apikey, d->device.device_id, d->entity_id, command->name,
                        command_payload(*d, command->name, attribute->value), speaks_ultralight(d->device),
                        http ? d->device.endpoint : std::string(), http && d->device.endpoint.empty(), attribute->value};
    std::lock_guard lock(mutex_);
    auto& queue = out.endpoint.empty() ? commands_ : http_commands_;
    if (queue.size() >= options_.command_queue) {
      commands_failed_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    queue.push_back(std::move(out));
    wake_.notify_all();
  }
}

void Ingestor::run_commands(std::deque<OutgoingCommand>& queue) {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue.empty(); });
    if (stopping_) return;
    OutgoingCommand command = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    deliver(command);
    lock.lock();
  }
}

void Ingestor::deliver(const OutgoingCommand& command) {
  if (command.polled) {
    bool kept = false;
    {
      std::lock_guard lock(polled_mutex_);
      auto& waiting = polled_[storage::tenant_key(command.tenant, command.device_id)];
      if (waiting.size() < options_.polled_commands_per_device) {
        waiting.push_back(command);
        kept = true;
      }
    }
    if (kept) return set_command_status(command, "PENDING", std::nullopt);
    commands_failed_.fetch_add(1, std::memory_order_relaxed);
    return set_command_status(command, "ERROR", "too many commands wait for the device to poll them");
  }
  if (command.endpoint.empty()) {
    const bool sent = sink_ && sink_->send(command);
    (sent ? commands_sent_ : commands_failed_).fetch_add(1, std::memory_order_relaxed);
    if (sent) set_command_status(command, "PENDING", std::nullopt);
    else set_command_status(command, "ERROR", "the device cannot be reached: no MQTT broker connected");
    return;
  }
  set_command_status(command, "PENDING", std::nullopt);  // while the device works on it (up to the timeout)
  auto answer = post_command(command.endpoint, command.ultralight ? "text/plain" : "application/json",
                             command.payload, options_.command_timeout, options_.max_payload_bytes);
  if (!answer) {
    commands_failed_.fetch_add(1, std::memory_order_relaxed);
    return set_command_status(command, "ERROR", "the device cannot be reached: " + answer.problem().detail);
  }
  commands_sent_.fetch_add(1, std::memory_order_relaxed);
  DevicePtr d = registry_.device_for_entity(command.tenant, command.entity_id);
  if (!d) return;
  std::vector<CommandResult> results;
  if (command.ultralight) {
    auto decoded = decode_ultralight_command_result(*answer, options_.max_payload_bytes);
    if (decoded && decoded->device == command.device_id) results.push_back(std::move(*decoded));
  } else if (auto decoded = decode_json_command_results(*answer, options_.max_payload_bytes)) {
    results = std::move(*decoded);
  }
  auto entity = fragment_of(d->entity_id, d->entity_type);
  if (results.empty() || !add_command_results(*d, results, entity))
    return set_command_status(command, "ERROR",
                              "the device's answer is not a result of " + command.command + ": " + describe_text(*answer, 200));
  command_results_.fetch_add(results.size(), std::memory_order_relaxed);
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  note_alive(*d, batch, now_ms());
  (void)twin_.batch_upsert(d->device.tenant, std::move(batch), twin::UpsertMode::Update, kDevice);
}

std::string Ingestor::take_commands(const ProvisionedDevice& d) {
  std::vector<jsonld::DecodedEntity> alive;  // asking for commands is speaking
  note_alive(d, alive, now_ms());
  if (!alive.empty()) {
    (void)twin_.batch_upsert(d.device.tenant, std::move(alive), twin::UpsertMode::Update, kDevice);
  }
  std::vector<OutgoingCommand> waiting;
  {
    std::lock_guard lock(polled_mutex_);
    auto it = polled_.find(storage::tenant_key(d.device.tenant, d.device.device_id));
    if (it == polled_.end()) return {};
    waiting = std::move(it->second);
    polled_.erase(it);
  }
  std::string out;
  json::object merged;
  for (const auto& c : waiting) {
    if (c.ultralight) {
      if (!out.empty()) out.push_back('#');
      out += c.payload;
    } else {
      merged[c.command] = c.value;
    }
    set_command_status(c, "DELIVERED", std::nullopt);
    commands_sent_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!merged.empty()) out = to_text(merged);
  return out;
}

void Ingestor::set_command_status(const OutgoingCommand& command, std::string_view status,
                                  std::optional<std::string> info) {
  DevicePtr d = registry_.device_for_entity(command.tenant, command.entity_id);
  if (!d) return;
  const ResolvedCommand* c = d->command(command.command);
  if (!c) return;
  auto entity = fragment_of(d->entity_id, d->entity_type);
  entity.attributes.push_back(property(c->status, json::value(status)));
  if (info) entity.attributes.push_back(property(c->info, json::value(*info)));
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  (void)twin_.batch_update(d->device.tenant, std::move(batch), false, kSystem);
}

Status Ingestor::add_command_results(const ProvisionedDevice& d, std::vector<CommandResult>& results,
                                     jsonld::DecodedEntity& entity) {
  for (auto& r : results) {
    const ResolvedCommand* c = d.command(r.command);
    if (!c) return bad_request("the device has no command " + describe_text(r.command));
    entity.attributes.push_back(property(c->status, "OK"));
    entity.attributes.push_back(property(c->info, std::move(r.result)));
  }
  return {};
}

Result<IngestOutcome> Ingestor::command_result(Transport transport, std::string_view apikey,
                                               std::string_view device_id, PayloadFormat format,
                                               std::string_view payload) {
  std::string who = std::string(apikey) + "/" + std::string(device_id);
  DevicePtr d = registry_.device_for_message(apikey, device_id);
  if (!d) {
    if (!registry_.group_for_apikey(apikey)) return fail(transport, DropReason::UnknownApikey, who, not_found("unknown apikey"));
    return fail(transport, DropReason::UnknownDevice, who, not_found("device is not provisioned with this apikey"));
  }
  std::vector<CommandResult> results;
  const bool json = format == PayloadFormat::Json || (format == PayloadFormat::Detect && looks_like_json(payload));
  if (json) {
    auto decoded = decode_json_command_results(payload, options_.max_payload_bytes);
    if (!decoded) return fail(transport, DropReason::MalformedPayload, who, std::move(decoded).problem());
    results = std::move(*decoded);
  } else {
    auto decoded = decode_ultralight_command_result(payload, options_.max_payload_bytes);
    if (!decoded) return fail(transport, DropReason::MalformedPayload, who, std::move(decoded).problem());
    if (decoded->device != device_id)
      return fail(transport, DropReason::BadValue, who, bad_request("the answer names another device"));
    results.push_back(std::move(*decoded));
  }
  auto entity = fragment_of(d->entity_id, d->entity_type);
  if (auto st = add_command_results(*d, results, entity); !st)
    return fail(transport, DropReason::UnknownCommand, who, std::move(st).problem());
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  note_alive(*d, batch, now_ms());
  auto written = twin_.batch_upsert(d->device.tenant, std::move(batch), twin::UpsertMode::Update, kDevice);
  for (auto& item : written.items)
    if (item.error) return fail(transport, DropReason::WriteFailed, who, std::move(*item.error));
  command_results_.fetch_add(results.size(), std::memory_order_relaxed);
  return IngestOutcome{written.sequence, 1, results.size()};
}

// ---- liveness ----------------------------------------------------------------------------------

void Ingestor::check_liveness(Timestamp now) {
  for (const DevicePtr& d : registry_.all_devices()) {
    const auto timeout = d->device.mapping.timeout_seconds;
    if (timeout <= 0) continue;
    const Timestamp last = d->liveness->last_seen.load(std::memory_order_relaxed);
    if (last == kNoTimestamp || now - last <= timeout * 1000) continue;
    int previous = d->liveness->state.load();
    if (previous == static_cast<int>(DeviceState::Offline) ||
        !d->liveness->state.compare_exchange_strong(previous, static_cast<int>(DeviceState::Offline)))
      continue;
    std::vector<jsonld::DecodedEntity> batch;
    mark_state(*d, DeviceState::Offline, batch, now);
    (void)twin_.batch_upsert(d->device.tenant, std::move(batch), twin::UpsertMode::Update, kSystem);
    went_offline_.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("ingest: device {} is offline (silent for more than {} s)", d->device.device_id, timeout);
  }
}

void Ingestor::restore_liveness() {
  for (const DevicePtr& d : registry_.all_devices()) {
    // Last-seen times reach the store every few seconds: after a kill -9, the last write to the
    // device's entity (durable, as every acknowledged measure) may be later than the stored time.
    (void)twin_.read(d->device.tenant, d->entity_id, [&](const model::Entity& e) {
      if (e.modified_at != kNoTimestamp &&
          (!d->liveness->seen_from_store || e.modified_at > d->liveness->last_seen.load()))
        d->liveness->last_seen.store(e.modified_at);
    });
    (void)twin_.read(d->device.tenant, device_entity_id(d->device.device_id), [&](const model::Entity& e) {
      const Attribute* a = e.find(device_state_);
      if (!a || !a->value.is_string()) return;
      const auto& state = a->value.as_string();
      if (state == state_name(DeviceState::Online)) d->liveness->state.store(static_cast<int>(DeviceState::Online));
      else if (state == state_name(DeviceState::Offline)) d->liveness->state.store(static_cast<int>(DeviceState::Offline));
    });
  }
}

void Ingestor::run_liveness() {
  std::unique_lock lock(mutex_);
  auto persisted = std::chrono::steady_clock::now();
  while (!stopping_) {
    wake_.wait_for(lock, options_.liveness_tick, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    check_liveness(now_ms());
    if (std::chrono::steady_clock::now() - persisted >= options_.liveness_persist_interval) {
      registry_.persist_liveness();
      persisted = std::chrono::steady_clock::now();
    }
    lock.lock();
  }
}

void Ingestor::start() {
  std::lock_guard lock(mutex_);
  if (liveness_thread_.joinable()) return;
  stopping_ = false;
  liveness_thread_ = std::thread([this] { run_liveness(); });
  command_thread_ = std::thread([this] { run_commands(commands_); });
  http_command_thread_ = std::thread([this] { run_commands(http_commands_); });
}

void Ingestor::stop() {
  twin_.changes().detach(*this);
  writer_->stop();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (liveness_thread_.joinable()) {
    liveness_thread_.join();
    registry_.persist_liveness();  // stopped cleanly: every device's last-seen time
  }
  if (command_thread_.joinable()) command_thread_.join();
  if (http_command_thread_.joinable()) http_command_thread_.join();
}

IngestStats Ingestor::stats() const {
  IngestStats s;
  for (std::size_t i = 0; i < kTransportCount; ++i) s.accepted[i] = accepted_[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kDropReasonCount; ++i) s.dropped[i] = dropped_[i].load(std::memory_order_relaxed);
  s.readings = readings_.load(std::memory_order_relaxed);
  s.measures = measures_.load(std::memory_order_relaxed);
  s.logs_suppressed = logs_suppressed_.load(std::memory_order_relaxed);
  s.autoprovisioned = autoprovisioned_.load(std::memory_order_relaxed);
  s.commands_sent = commands_sent_.load(std::memory_order_relaxed);
  s.commands_failed = commands_failed_.load(std::memory_order_relaxed);
  s.command_results = command_results_.load(std::memory_order_relaxed);
  s.went_offline = went_offline_.load(std::memory_order_relaxed);
  s.came_online = came_online_.load(std::memory_order_relaxed);
  const auto devices = registry_.all_devices();
  s.devices = devices.size();
  s.groups = registry_.group_count();
  for (const auto& d : devices)
    if (d->liveness->state.load() == static_cast<int>(DeviceState::Offline)) ++s.devices_offline;
  return s;
}

}  // namespace ct::ingest
