#include "ingest/device_registry.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>

#include <spdlog/spdlog.h>

#include "ingest/codec.hpp"

namespace ct::ingest {
namespace {

constexpr std::string_view kGroupPrefix = "group/";
constexpr std::string_view kDevicePrefix = "device/";
constexpr std::string_view kSeenPrefix = "seen/";  // a device's last-seen time, in ms since the epoch

std::string message_key(std::string_view apikey, std::string_view device_id) {
  std::string key;
  key.reserve(apikey.size() + 1 + device_id.size());
  key.append(apikey).push_back('\x1f');
  key.append(device_id);
  return key;
}

std::string record(const std::string& service_path, bool autoprovisioned, const json::object& body) {
  json::object r;
  r["service_path"] = service_path;
  if (autoprovisioned) r["autoprovisioned"] = true;
  r["body"] = body;
  return to_text(r);
}

}  // namespace

const ResolvedAttribute* ProvisionedDevice::attribute_for(std::string_view object_id) const {
  for (const auto& a : attributes)
    if (device.mapping.attributes[a.mapping].object_id == object_id) return &a;
  return nullptr;
}

const ResolvedCommand* ProvisionedDevice::command(std::string_view name) const {
  for (const auto& c : commands)
    if (c.name == name) return &c;
  return nullptr;
}

DeviceRegistry::DeviceRegistry(storage::Store& store, std::shared_ptr<const jsonld::Context> names, const Clock& clock)
    : store_(store), names_(std::move(names)), clock_(clock) {}

Status DeviceRegistry::load() {
  std::vector<std::tuple<std::string, std::string, json::object, bool>> devices;  // tenant, path, body, auto
  std::unordered_map<std::string, Timestamp> seen;                                // tenant_key → last seen
  std::size_t groups = 0;
  auto st = store_.scan(storage::Collection::Devices, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, rest;
    if (!storage::split_tenant_key(key, tenant, rest)) return true;
    if (rest.starts_with(kSeenPrefix)) {
      Timestamp at = 0;
      const auto text = value;
      if (std::from_chars(text.data(), text.data() + text.size(), at).ec == std::errc())
        seen[storage::tenant_key(tenant, rest.substr(kSeenPrefix.size()))] = at;
      return true;
    }
    auto doc = parse_json(value);
    if (!doc || !doc->is_object() || !doc->as_object().contains("body") || !doc->as_object().at("body").is_object()) {
      spdlog::warn("ingest: skipping an unreadable registry record");
      return true;
    }
    const auto& r = doc->as_object();
    const std::string path = r.contains("service_path") && r.at("service_path").is_string()
                                 ? std::string(r.at("service_path").as_string())
                                 : std::string("/");
    const bool autoprovisioned = r.contains("autoprovisioned") && r.at("autoprovisioned").is_bool() &&
                                 r.at("autoprovisioned").as_bool();
    if (rest.starts_with(kGroupPrefix)) {
      auto g = parse_service_group(r.at("body").as_object(), std::string(tenant), path);
      if (!g) {
        spdlog::warn("ingest: skipping a stored service group: {}", g.problem().detail);
        return true;
      }
      const std::string apikey = g->apikey;
      std::unique_lock lock(mutex_);
      groups_[apikey] = std::make_shared<const ServiceGroup>(std::move(*g));
      ++groups;
    } else if (rest.starts_with(kDevicePrefix)) {
      devices.emplace_back(std::string(tenant), path, r.at("body").as_object(), autoprovisioned);
    }
    return true;
  });
  if (!st) return st;
  const Timestamp now = clock_.now();
  std::unique_lock lock(mutex_);
  for (auto& [tenant, path, body, autoprovisioned] : devices) {
    auto d = parse_device(body, tenant, path);
    if (!d) {
      spdlog::warn("ingest: skipping a stored device: {}", d.problem().detail);
      continue;
    }
    GroupPtr group = group_for_locked(*d);
    if (d->apikey.empty() && !group) {
      spdlog::warn("ingest: skipping stored device {}: no apikey and no service group", d->device_id);
      continue;
    }
    settle(*d, group.get(), nullptr);
    auto resolved = resolve(*d, group.get(), autoprovisioned);
    if (!resolved) {
      spdlog::warn("ingest: skipping a stored device: {}", resolved.problem().detail);
      continue;
    }
    // Silence is counted from when the device was last seen, as stored (the Ingestor may find a
    // later time in the twin); from the restart if that is unknown.
    auto it = seen.find(storage::tenant_key(tenant, (*resolved)->device.device_id));
    if (it != seen.end()) {
      (*resolved)->liveness->last_seen.store(it->second);
      (*resolved)->liveness->persisted_seen.store(it->second);
    } else {
      (*resolved)->liveness->last_seen.store(now);
      (*resolved)->liveness->persisted_seen.store(kNoTimestamp);
      (*resolved)->liveness->seen_from_store = false;
    }
    index_locked(*resolved);
  }
  spdlog::info("ingest: {} service groups and {} devices provisioned", groups, devices_.size());
  return {};
}

std::vector<DeviceChange> DeviceRegistry::regroup_locked(const std::string& tenant, const std::string& apikey,
                                                         const ServiceGroup* group) {
  std::vector<DeviceChange> changes;
  for (const auto& [key, d] : devices_)
    if (d->own.tenant == tenant && d->own.apikey == apikey) changes.push_back({d, nullptr});
  for (auto& change : changes) {
    auto resolved = resolve(change.before->own, group, change.before->autoprovisioned);
    if (!resolved) {  // cannot happen: the apikey is settled; keep the device as it was
      change.after = change.before;
      continue;
    }
    (*resolved)->liveness = change.before->liveness;
    unindex_locked(change.before);
    index_locked(*resolved);
    change.after = *resolved;
  }
  return changes;
}

Result<GroupChange> DeviceRegistry::put_group(ServiceGroup group, bool create) {
  std::unique_lock lock(mutex_);
  auto it = groups_.find(group.apikey);
  if (create && it != groups_.end())
    return Problem{ProblemKind::AlreadyExists, "a service group with apikey " + group.apikey + " already exists"};
  if (!create && (it == groups_.end() || it->second->tenant != group.tenant))
    return not_found("no service group with apikey " + group.apikey + " in this service");
  const std::string value = record(group.service_path, false, group.original);
  const std::string key = storage::tenant_key(group.tenant, std::string(kGroupPrefix) + group.apikey);
  auto stored = std::make_shared<const ServiceGroup>(std::move(group));
  groups_[stored->apikey] = stored;
  GroupChange change;
  change.devices = regroup_locked(stored->tenant, stored->apikey, stored.get());
  change.sequence = store_.enqueue({{storage::Collection::Devices, key, value}});
  return change;
}

Result<GroupChange> DeviceRegistry::remove_group(const std::string& tenant, const std::string& apikey) {
  std::unique_lock lock(mutex_);
  auto it = groups_.find(apikey);
  if (it == groups_.end() || it->second->tenant != tenant)
    return not_found("no service group with apikey " + apikey + " in this service");
  groups_.erase(it);
  GroupChange change;
  change.devices = regroup_locked(tenant, apikey, nullptr);
  change.sequence = store_.enqueue(
      {{storage::Collection::Devices, storage::tenant_key(tenant, std::string(kGroupPrefix) + apikey), std::nullopt}});
  return change;
}

GroupPtr DeviceRegistry::group(const std::string& tenant, const std::string& apikey) const {
  auto g = group_for_apikey(apikey);
  return g && g->tenant == tenant ? g : nullptr;
}

GroupPtr DeviceRegistry::group_for_apikey(std::string_view apikey) const {
  std::shared_lock lock(mutex_);
  auto it = groups_.find(std::string(apikey));
  return it == groups_.end() ? nullptr : it->second;
}

std::vector<GroupPtr> DeviceRegistry::groups(const std::string& tenant) const {
  std::vector<GroupPtr> out;
  std::shared_lock lock(mutex_);
  for (const auto& [key, g] : groups_)
    if (g->tenant == tenant) out.push_back(g);
  std::sort(out.begin(), out.end(), [](const GroupPtr& a, const GroupPtr& b) { return a->apikey < b->apikey; });
  return out;
}

GroupPtr DeviceRegistry::group_for_locked(const Device& own) const {
  if (!own.apikey.empty()) {
    auto it = groups_.find(own.apikey);
    return it != groups_.end() && it->second->tenant == own.tenant ? it->second : nullptr;
  }
  GroupPtr group;
  for (const auto& [key, g] : groups_)
    if (g->tenant == own.tenant && (!group || g->service_path == own.service_path)) group = g;
  return group;
}

void DeviceRegistry::settle(Device& own, const ServiceGroup* group, const ProvisionedDevice* existing) {
  if (own.apikey.empty() && group) own.apikey = group->apikey;
  if (own.mapping.entity_type.empty()) {
    if (existing) own.mapping.entity_type = existing->own.mapping.entity_type;
    else if (group) own.mapping.entity_type = group->mapping.entity_type;
    if (own.mapping.entity_type.empty()) own.mapping.entity_type = kDefaultEntityType;
  }
  if (own.entity_name.empty())
    own.entity_name = existing ? existing->entity_id : default_entity_name(own.mapping.entity_type, own.device_id);
  if (!own.apikey.empty()) own.original["apikey"] = own.apikey;
  own.original["entity_type"] = own.mapping.entity_type;
  own.original["entity_name"] = own.entity_name;
}

Result<std::shared_ptr<ProvisionedDevice>> DeviceRegistry::resolve(const Device& own, const ServiceGroup* group,
                                                                   bool autoprovisioned) const {
  Device device = effective(own, group);
  if (device.apikey.empty())
    return bad_request("device " + device.device_id +
                       ": no apikey, and no service group in this service to take one from (provision /iot/services first)");
  auto d = std::make_shared<ProvisionedDevice>();
  if (device.mapping.entity_type.empty()) device.mapping.entity_type = kDefaultEntityType;
  d->entity_id = device.entity_name.empty() ? default_entity_name(device.mapping.entity_type, device.device_id)
                                            : device.entity_name;
  d->entity_type = model::Term::intern(names_->expand(device.mapping.entity_type));
  for (std::size_t i = 0; i < device.mapping.attributes.size(); ++i) {
    const auto& m = device.mapping.attributes[i];
    d->attributes.push_back({i, model::Term::intern(names_->expand(m.name)), model::Term::intern(m.unit_code)});
  }
  for (const auto& c : device.mapping.commands)
    d->commands.push_back({c.name, model::Term::intern(names_->expand(c.name)),
                           model::Term::intern(names_->expand(c.name + "_status")),
                           model::Term::intern(names_->expand(c.name + "_info"))});
  d->autoprovisioned = autoprovisioned;
  d->codec = codec_for_protocol(device.protocol);
  d->own = own;
  d->device = std::move(device);
  return d;
}

void DeviceRegistry::index_locked(const DevicePtr& d) {
  devices_[storage::tenant_key(d->device.tenant, d->device.device_id)] = d;
  by_message_[message_key(d->device.apikey, d->device.device_id)] = d;
  by_entity_[storage::tenant_key(d->device.tenant, d->entity_id)] = d;
}

void DeviceRegistry::unindex_locked(const DevicePtr& d) {
  devices_.erase(storage::tenant_key(d->device.tenant, d->device.device_id));
  if (auto it = by_message_.find(message_key(d->device.apikey, d->device.device_id));
      it != by_message_.end() && it->second == d)
    by_message_.erase(it);
  if (auto it = by_entity_.find(storage::tenant_key(d->device.tenant, d->entity_id)); it != by_entity_.end() && it->second == d)
    by_entity_.erase(it);
}

Result<RegisteredDevice> DeviceRegistry::put_device(Device device, bool create, bool autoprovisioned) {
  const std::string tenant = device.tenant, id = device.device_id, path = device.service_path;
  std::unique_lock lock(mutex_);
  const std::string key = storage::tenant_key(tenant, id);
  auto existing = devices_.find(key);
  if (create && existing != devices_.end())
    return Problem{ProblemKind::AlreadyExists, "device " + id + " is already provisioned in this service"};
  if (!create && existing == devices_.end()) return not_found("device " + id + " is not provisioned in this service");
  GroupPtr group = group_for_locked(device);
  if (device.apikey.empty() && !group)
    return bad_request("device " + id +
                       ": no apikey, and no service group in this service to take one from (provision /iot/services first)");
  settle(device, group.get(), existing == devices_.end() ? nullptr : existing->second.get());
  auto resolved = resolve(device, group.get(), autoprovisioned);
  if (!resolved) return resolved.problem();
  std::shared_ptr<ProvisionedDevice> d = *resolved;
  if (auto owner = by_entity_.find(storage::tenant_key(tenant, d->entity_id));
      owner != by_entity_.end() && owner->second->device.device_id != id)
    return Problem{ProblemKind::AlreadyExists,
                   "entity " + d->entity_id + " is already fed by device " + owner->second->device.device_id};
  if (auto other = by_message_.find(message_key(d->device.apikey, id));
      other != by_message_.end() && other->second->device.tenant != tenant)
    return Problem{ProblemKind::AlreadyExists, "device " + id + " with this apikey is provisioned in another service"};
  if (existing != devices_.end()) {
    d->liveness = existing->second->liveness;  // the same device, provisioned anew
    unindex_locked(DevicePtr(existing->second));
  } else {
    d->liveness->last_seen.store(clock_.now());
  }
  index_locked(d);
  const auto sequence = store_.enqueue({{storage::Collection::Devices,
                                         storage::tenant_key(tenant, std::string(kDevicePrefix) + id),
                                         record(path, autoprovisioned, d->own.original)}});
  return RegisteredDevice{d, sequence};
}

Result<storage::Sequence> DeviceRegistry::remove_device(const std::string& tenant, const std::string& device_id) {
  std::unique_lock lock(mutex_);
  auto it = devices_.find(storage::tenant_key(tenant, device_id));
  if (it == devices_.end()) return not_found("device " + device_id + " is not provisioned in this service");
  unindex_locked(DevicePtr(it->second));
  return store_.enqueue(
      {{storage::Collection::Devices, storage::tenant_key(tenant, std::string(kDevicePrefix) + device_id), std::nullopt},
       {storage::Collection::Devices, storage::tenant_key(tenant, std::string(kSeenPrefix) + device_id), std::nullopt}});
}

storage::Sequence DeviceRegistry::persist_liveness() {
  std::vector<storage::Write> writes;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [key, d] : devices_) {
      const Timestamp seen = d->liveness->last_seen.load(std::memory_order_relaxed);
      if (seen == kNoTimestamp || seen == d->liveness->persisted_seen.load(std::memory_order_relaxed)) continue;
      d->liveness->persisted_seen.store(seen, std::memory_order_relaxed);
      writes.push_back({storage::Collection::Devices,
                        storage::tenant_key(d->device.tenant, std::string(kSeenPrefix) + d->device.device_id),
                        std::to_string(seen)});
    }
  }
  return writes.empty() ? 0 : store_.enqueue(std::move(writes));
}

DevicePtr DeviceRegistry::device(const std::string& tenant, const std::string& device_id) const {
  std::shared_lock lock(mutex_);
  auto it = devices_.find(storage::tenant_key(tenant, device_id));
  return it == devices_.end() ? nullptr : it->second;
}

DevicePtr DeviceRegistry::device_for_message(std::string_view apikey, std::string_view device_id) const {
  const std::string key = message_key(apikey, device_id);
  std::shared_lock lock(mutex_);
  auto it = by_message_.find(key);
  return it == by_message_.end() ? nullptr : it->second;
}

DevicePtr DeviceRegistry::device_for_entity(const std::string& tenant, const std::string& entity_id) const {
  const std::string key = storage::tenant_key(tenant, entity_id);
  std::shared_lock lock(mutex_);
  auto it = by_entity_.find(key);
  return it == by_entity_.end() ? nullptr : it->second;
}

std::vector<DevicePtr> DeviceRegistry::devices(const std::string& tenant) const {
  std::vector<DevicePtr> out;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [key, d] : devices_)
      if (d->device.tenant == tenant) out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const DevicePtr& a, const DevicePtr& b) { return a->device.device_id < b->device.device_id; });
  return out;
}

std::vector<DevicePtr> DeviceRegistry::all_devices() const {
  std::vector<DevicePtr> out;
  std::shared_lock lock(mutex_);
  out.reserve(devices_.size());
  for (const auto& [key, d] : devices_) out.push_back(d);
  return out;
}

std::size_t DeviceRegistry::device_count() const {
  std::shared_lock lock(mutex_);
  return devices_.size();
}

std::size_t DeviceRegistry::group_count() const {
  std::shared_lock lock(mutex_);
  return groups_.size();
}

}  // namespace ct::ingest
