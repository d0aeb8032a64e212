#include "ingest/device_registry.hpp"

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>

namespace ct::ingest {
namespace {

constexpr std::string_view kGroupPrefix = "group/";
constexpr std::string_view kDevicePrefix = "device/";

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

DeviceRegistry::DeviceRegistry(storage::Store& store, std::shared_ptr<const jsonld::Context> names)
    : store_(store), names_(std::move(names)) {}

Status DeviceRegistry::load() {
  std::vector<std::tuple<std::string, std::string, json::object, bool>> devices;  // tenant, path, body, auto
  std::size_t groups = 0;
  auto st = store_.scan(storage::Collection::Devices, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, rest;
    if (!storage::split_tenant_key(key, tenant, rest)) return true;
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
  const Timestamp now = now_ms();
  for (auto& [tenant, path, body, autoprovisioned] : devices) {
    auto d = parse_device(body, tenant, path);
    if (!d) {
      spdlog::warn("ingest: skipping a stored device: {}", d.problem().detail);
      continue;
    }
    auto resolved = resolve(std::move(*d), autoprovisioned);
    if (!resolved) {
      spdlog::warn("ingest: skipping a stored device: {}", resolved.problem().detail);
      continue;
    }
    (*resolved)->liveness->last_seen.store(now);  // silence is counted from the restart
    std::unique_lock lock(mutex_);
    index_locked(*resolved);
  }
  spdlog::info("ingest: {} service groups and {} devices provisioned", groups, device_count());
  return {};
}

Result<storage::Sequence> DeviceRegistry::put_group(ServiceGroup group, bool create) {
  std::unique_lock lock(mutex_);
  auto it = groups_.find(group.apikey);
  if (create && it != groups_.end())
    return Problem{ProblemKind::AlreadyExists, "a service group with apikey " + group.apikey + " already exists"};
  if (!create && (it == groups_.end() || it->second->tenant != group.tenant))
    return not_found("no service group with apikey " + group.apikey + " in this service");
  const std::string value = record(group.service_path, false, group.original);
  const std::string key = storage::tenant_key(group.tenant, std::string(kGroupPrefix) + group.apikey);
  const std::string apikey = group.apikey;  // the right side of = is evaluated first: keep the key
  groups_[apikey] = std::make_shared<const ServiceGroup>(std::move(group));
  return store_.enqueue({{storage::Collection::Devices, key, value}});
}

Result<storage::Sequence> DeviceRegistry::remove_group(const std::string& tenant, const std::string& apikey) {
  std::unique_lock lock(mutex_);
  auto it = groups_.find(apikey);
  if (it == groups_.end() || it->second->tenant != tenant)
    return not_found("no service group with apikey " + apikey + " in this service");
  groups_.erase(it);
  return store_.enqueue(
      {{storage::Collection::Devices, storage::tenant_key(tenant, std::string(kGroupPrefix) + apikey), std::nullopt}});
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

Result<std::shared_ptr<ProvisionedDevice>> DeviceRegistry::resolve(Device device, bool autoprovisioned) const {
  GroupPtr group;
  {
    std::shared_lock lock(mutex_);
    if (!device.apikey.empty()) {
      auto it = groups_.find(device.apikey);
      if (it != groups_.end() && it->second->tenant == device.tenant) group = it->second;
    } else {
      for (const auto& [key, g] : groups_)
        if (g->tenant == device.tenant && (!group || g->service_path == device.service_path)) group = g;
    }
  }
  if (group) inherit(device, *group);
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
  const json::object body = device.original;
  auto resolved = resolve(std::move(device), autoprovisioned);
  if (!resolved) return resolved.problem();
  std::shared_ptr<ProvisionedDevice> d = *resolved;
  std::unique_lock lock(mutex_);
  const std::string key = storage::tenant_key(tenant, id);
  auto existing = devices_.find(key);
  if (create && existing != devices_.end())
    return Problem{ProblemKind::AlreadyExists, "device " + id + " is already provisioned in this service"};
  if (!create && existing == devices_.end()) return not_found("device " + id + " is not provisioned in this service");
  if (auto owner = by_entity_.find(storage::tenant_key(tenant, d->entity_id));
      owner != by_entity_.end() && owner->second->device.device_id != id)
    return Problem{ProblemKind::AlreadyExists,
                   "entity " + d->entity_id + " is already fed by device " + owner->second->device.device_id};
  if (auto other = by_message_.find(message_key(d->device.apikey, id));
      other != by_message_.end() && other->second->device.tenant != tenant)
    return Problem{ProblemKind::AlreadyExists, "device " + id + " with this apikey is provisioned in another service"};
  if (existing != devices_.end()) {
    d->liveness = existing->second->liveness;  // the same device, provisioned anew
    unindex_locked(existing->second);
  } else {
    d->liveness->last_seen.store(now_ms());
  }
  index_locked(d);
  const auto sequence = store_.enqueue({{storage::Collection::Devices,
                                         storage::tenant_key(tenant, std::string(kDevicePrefix) + id),
                                         record(path, autoprovisioned, body)}});
  return RegisteredDevice{d, sequence};
}

Result<storage::Sequence> DeviceRegistry::remove_device(const std::string& tenant, const std::string& device_id) {
  std::unique_lock lock(mutex_);
  auto it = devices_.find(storage::tenant_key(tenant, device_id));
  if (it == devices_.end()) return not_found("device " + device_id + " is not provisioned in this service");
  unindex_locked(DevicePtr(it->second));
  return store_.enqueue({{storage::Collection::Devices,
                          storage::tenant_key(tenant, std::string(kDevicePrefix) + device_id), std::nullopt}});
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
