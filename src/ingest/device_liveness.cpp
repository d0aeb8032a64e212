#include "ingest/device_liveness.hpp"

#include <spdlog/spdlog.h>

#include "ingest/fragments.hpp"

namespace ct::ingest {

std::string_view state_name(DeviceState s) {
  switch (s) {
    case DeviceState::Online: return "online";
    case DeviceState::Offline: return "offline";
    case DeviceState::Unknown: break;
  }
  return "unknown";
}

DeviceLiveness::DeviceLiveness(twin::Twin& twin, DeviceRegistry& registry, const jsonld::Context& names,
                               const Clock& clock, LivenessOptions options)
    : twin_(twin), registry_(registry), clock_(clock), options_(options) {
  device_type_ = model::Term::intern(names.expand("Device"));
  device_state_ = model::Term::intern(names.expand("deviceState"));
}

DeviceLiveness::~DeviceLiveness() { stop(); }

void DeviceLiveness::mark_state(const ProvisionedDevice& d, DeviceState state, std::vector<jsonld::DecodedEntity>& batch,
                                Timestamp at) {
  auto device = fragment_of(device_entity_id(d.device.device_id), device_type_);
  auto a = property(device_state_, json::value(state_name(state)));
  a.observed_at = at;
  device.attributes.push_back(std::move(a));
  batch.push_back(std::move(device));
}

void DeviceLiveness::note_alive(const ProvisionedDevice& d, std::vector<jsonld::DecodedEntity>& batch, Timestamp now) {
  d.liveness->last_seen.store(now, std::memory_order_relaxed);
  int previous = d.liveness->state.load();
  if (previous != static_cast<int>(DeviceState::Online) &&
      d.liveness->state.compare_exchange_strong(previous, static_cast<int>(DeviceState::Online))) {
    mark_state(d, DeviceState::Online, batch, now);
    if (previous == static_cast<int>(DeviceState::Offline)) came_online_.fetch_add(1, std::memory_order_relaxed);
  }
}

void DeviceLiveness::check(Timestamp now) {
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
    (void)twin_.batch_upsert(d->device.tenant, std::move(batch), twin::UpsertMode::Update, kSystemOrigin);
    went_offline_.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("ingest: device {} is offline (silent for more than {} s)", d->device.device_id, timeout);
  }
}

void DeviceLiveness::restore() {
  for (const DevicePtr& d : registry_.all_devices()) {
    // Last-seen times reach the store every few seconds: after a kill -9, the last write to the
    // device's entity (durable, as every acknowledged measure) may be later than the stored time.
    (void)twin_.read(d->device.tenant, d->entity_id, [&](const model::Entity& e) {
      if (e.modified_at != kNoTimestamp && (!d->liveness->seen_from_store || e.modified_at > d->liveness->last_seen.load()))
        d->liveness->last_seen.store(e.modified_at);
    });
    (void)twin_.read(d->device.tenant, device_entity_id(d->device.device_id), [&](const model::Entity& e) {
      const model::Attribute* a = e.find(device_state_);
      if (!a || !a->value.is_string()) return;
      const auto& state = a->value.as_string();
      if (state == state_name(DeviceState::Online)) d->liveness->state.store(static_cast<int>(DeviceState::Online));
      else if (state == state_name(DeviceState::Offline)) d->liveness->state.store(static_cast<int>(DeviceState::Offline));
    });
  }
}

void DeviceLiveness::run() {
  std::unique_lock lock(mutex_);
  Timestamp persisted = clock_.now();
  while (!stopping_) {
    wake_.wait_for(lock, options_.tick, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    const Timestamp now = clock_.now();
    check(now);
    if (now - persisted >= options_.persist_interval.count()) {
      registry_.persist_liveness();
      persisted = now;
    }
    rounds_.fetch_add(1, std::memory_order_acq_rel);
    lock.lock();
  }
}

void DeviceLiveness::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void DeviceLiveness::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    registry_.persist_liveness();  // stopped cleanly: every device's last-seen time
  }
}

}  // namespace ct::ingest
