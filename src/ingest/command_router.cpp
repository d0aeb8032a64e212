#include "ingest/command_router.hpp"

#include "ingest/fragments.hpp"
#include "ingest/http_command_client.hpp"

namespace ct::ingest {

const PayloadCodec& command_codec(const ProvisionedDevice& d) { return d.codec ? *d.codec : json_codec(); }

Status add_command_results(const ProvisionedDevice& d, std::vector<CommandResult>& results,
                           jsonld::DecodedEntity& entity) {
  for (auto& r : results) {
    const ResolvedCommand* c = d.command(r.command);
    if (!c) return bad_request("the device has no command " + describe_text(r.command));
    entity.attributes.push_back(property(c->status, "OK"));
    entity.attributes.push_back(property(c->info, std::move(r.result)));
  }
  return {};
}

CommandRouter::CommandRouter(twin::Twin& twin, DeviceRegistry& registry, DeviceLiveness& liveness,
                             CommandOptions options)
    : twin_(twin), registry_(registry), liveness_(liveness), options_(options) {}

CommandRouter::~CommandRouter() { stop(); }

bool CommandRouter::wants(const twin::ChangeEvent& event) const {
  // Commands are what clients, rules and applications write; a device's or CityTwin's own writes
  // (a command's status, a provisioned device) are not commands.
  const auto o = event.origin;
  if (o != twin::Origin::ClientRequest && o != twin::Origin::RuleAction && o != twin::Origin::Application) return false;
  if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity) return false;
  DevicePtr d = registry_.device_for_entity(event.tenant, event.entity->id);
  return d && !d->commands.empty();
}

void CommandRouter::consume(std::span<const twin::ChangeEvent> events) {
  for (const auto& event : events) queue_commands(event);
}

void CommandRouter::queue_commands(const twin::ChangeEvent& event) {
  DevicePtr d = registry_.device_for_entity(event.tenant, event.entity->id);
  if (!d || d->commands.empty()) return;
  const PayloadCodec& codec = command_codec(*d);
  for (const auto& [name, dataset_id] : event.written) {
    if (!dataset_id.empty()) continue;
    const ResolvedCommand* command = nullptr;
    for (const auto& c : d->commands)
      if (c.attribute == name) command = &c;
    if (!command) continue;
    const model::Attribute* attribute = event.entity->find(name);
    if (!attribute) continue;
    const bool http = speaks_http(d->device);
    const std::pair<std::string, json::value> one[] = {{command->name, attribute->value}};
    OutgoingCommand out{d->device.tenant,
                        d->device.apikey,
                        d->device.device_id,
                        d->entity_id,
                        command->name,
                        codec.encode_commands(d->device.device_id, one),
                        &codec == &ultralight_codec(),
                        http ? d->device.endpoint : std::string(),
                        http && d->device.endpoint.empty(),
                        attribute->value,
                        &codec};
    std::lock_guard lock(mutex_);
    auto& queue = out.endpoint.empty() ? commands_ : http_commands_;
    if (queue.size() >= options_.queue) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    queue.push_back(std::move(out));
    wake_.notify_all();
  }
}

void CommandRouter::run(std::deque<OutgoingCommand>& queue) {
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

void CommandRouter::deliver(const OutgoingCommand& command) {
  if (command.polled) {
    bool kept = false;
    {
      std::lock_guard lock(polled_mutex_);
      auto& waiting = polled_[storage::tenant_key(command.tenant, command.device_id)];
      if (waiting.size() < options_.polled_per_device) {
        waiting.push_back(command);
        kept = true;
      }
    }
    if (kept) return set_status(command, "PENDING", std::nullopt);
    failed_.fetch_add(1, std::memory_order_relaxed);
    return set_status(command, "ERROR", "too many commands wait for the device to poll them");
  }
  if (command.endpoint.empty()) {
    const bool sent = sink_ && sink_->send(command);
    (sent ? sent_ : failed_).fetch_add(1, std::memory_order_relaxed);
    if (sent) set_status(command, "PENDING", std::nullopt);
    else set_status(command, "ERROR", "the device cannot be reached: no MQTT broker connected");
    return;
  }
  set_status(command, "PENDING", std::nullopt);  // while the device works on it (up to the timeout)
  auto answer = post_command(command.endpoint, command.codec->content_type(), command.payload, options_.timeout,
                             options_.max_payload_bytes);
  if (!answer) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    return set_status(command, "ERROR", "the device cannot be reached: " + answer.problem().detail);
  }
  sent_.fetch_add(1, std::memory_order_relaxed);
  DevicePtr d = registry_.device_for_entity(command.tenant, command.entity_id);
  if (!d) return;
  std::vector<CommandResult> results;
  if (auto decoded = command.codec->decode_command_results(*answer, options_.max_payload_bytes)) {
    results = std::move(*decoded);
    std::erase_if(results, [&](const CommandResult& r) { return !r.device.empty() && r.device != command.device_id; });
  }
  auto entity = fragment_of(d->entity_id, d->entity_type);
  if (results.empty() || !add_command_results(*d, results, entity))
    return set_status(command, "ERROR",
                      "the device's answer is not a result of " + command.command + ": " + describe_text(*answer, 200));
  results_.fetch_add(results.size(), std::memory_order_relaxed);
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  liveness_.note_alive(*d, batch, liveness_.clock().now());
  (void)twin_.batch_upsert(d->device.tenant, std::move(batch), twin::UpsertMode::Update, kDeviceOrigin);
}

std::string CommandRouter::take_commands(const ProvisionedDevice& d) {
  std::vector<jsonld::DecodedEntity> alive;  // asking for commands is speaking
  liveness_.note_alive(d, alive, liveness_.clock().now());
  if (!alive.empty()) (void)twin_.batch_upsert(d.device.tenant, std::move(alive), twin::UpsertMode::Update, kDeviceOrigin);
  std::vector<OutgoingCommand> waiting;
  {
    std::lock_guard lock(polled_mutex_);
    auto it = polled_.find(storage::tenant_key(d.device.tenant, d.device.device_id));
    if (it == polled_.end()) return {};
    waiting = std::move(it->second);
    polled_.erase(it);
  }
  std::vector<std::pair<std::string, json::value>> commands;
  for (const auto& c : waiting) {
    commands.emplace_back(c.command, c.value);
    set_status(c, "DELIVERED", std::nullopt);
    sent_.fetch_add(1, std::memory_order_relaxed);
  }
  return command_codec(d).encode_commands(d.device.device_id, commands);
}

void CommandRouter::set_status(const OutgoingCommand& command, std::string_view status, std::optional<std::string> info) {
  DevicePtr d = registry_.device_for_entity(command.tenant, command.entity_id);
  if (!d) return;
  const ResolvedCommand* c = d->command(command.command);
  if (!c) return;
  auto entity = fragment_of(d->entity_id, d->entity_type);
  entity.attributes.push_back(property(c->status, json::value(status)));
  if (info) entity.attributes.push_back(property(c->info, json::value(*info)));
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  (void)twin_.batch_update(d->device.tenant, std::move(batch), false, kSystemOrigin);
}

void CommandRouter::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(commands_); });
  http_thread_ = std::thread([this] { run(http_commands_); });
}

void CommandRouter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (http_thread_.joinable()) http_thread_.join();
}

}  // namespace ct::ingest
