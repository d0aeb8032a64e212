#pragma once
// The durable registry of service groups and devices (Collection::Devices), with the lookups the
// southbound path needs on every message: (apikey, device_id) → device, apikey → service group,
// and (tenant, entity id) → device for commands.
//
// A provisioned device is immutable once registered (a PUT registers a new one in its place), so a
// lookup hands out a shared pointer that stays valid however the registry changes meanwhile. Its
// liveness is the one mutable part, shared by the versions of one device.
//
// What a device does with a message is its own configuration over its service group's as the group
// is now (as the IoT Agents resolve it): a change to a group (PUT, DELETE, or a group created for an
// apikey that devices already use) registers a new version of each of its devices, resolved anew,
// so the per-message path only follows a pointer. A device's apikey, entity type and entity id are
// fixed when it is first provisioned (a group's entity_type applies to devices provisioned after).
// Deleting a group leaves its devices provisioned with their own configuration only: the IoT Agents
// never remove devices with their group.
//
// Each device's last-seen time is kept in the store too (persist_liveness(), every few seconds and
// at shutdown), so a device silent across a restart is judged by when it was last seen.
//
// Never call the twin while holding the registry's lock: the twin's observers read the registry
// under the twin's lock.
#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context.hpp"
#include "model/entity.hpp"
#include "storage/store.hpp"
#include "ingest/provisioning.hpp"

namespace ct::ingest {

class PayloadCodec;

enum class DeviceState : int { Unknown = 0, Online = 1, Offline = 2 };

struct Liveness {
  std::atomic<Timestamp> last_seen{kNoTimestamp};
  std::atomic<int> state{static_cast<int>(DeviceState::Unknown)};
  std::atomic<Timestamp> persisted_seen{kNoTimestamp};  // what the store has
  bool seen_from_store = true;  // false: load() found no stored time and took the restart's
};

// A device attribute with its names expanded once, at provisioning.
struct ResolvedAttribute {
  std::size_t mapping = 0;  // index into device.mapping.attributes
  model::Term name;
  model::Term unit_code;
};

struct ResolvedCommand {
  std::string name;
  model::Term attribute, status, info;  // <cmd>, <cmd>_status, <cmd>_info
};

struct ProvisionedDevice {
  Device own;                  // as provisioned, with its apikey, entity type and id fixed
  Device device;               // effective: `own` over what its service group has now
  std::string entity_id;       // the entity its measures update
  model::Term entity_type;
  std::vector<ResolvedAttribute> attributes;
  std::vector<ResolvedCommand> commands;
  bool autoprovisioned = false;
  // The codec its `protocol` names (codec.hpp), null when it names none: its messages then follow
  // the transport's format, and its commands are JSON.
  const PayloadCodec* codec = nullptr;
  std::shared_ptr<Liveness> liveness = std::make_shared<Liveness>();

  const ResolvedAttribute* attribute_for(std::string_view object_id) const;
  const ResolvedCommand* command(std::string_view name) const;
};
using DevicePtr = std::shared_ptr<const ProvisionedDevice>;
using GroupPtr = std::shared_ptr<const ServiceGroup>;

struct RegisteredDevice {
  DevicePtr device;
  storage::Sequence sequence = 0;
};

// A device resolved anew because its service group changed.
struct DeviceChange {
  DevicePtr before, after;
};

struct GroupChange {
  storage::Sequence sequence = 0;
  std::vector<DeviceChange> devices;  // the group's devices, now with its new configuration
};

// The default entity type of devices provisioned without one, as in the IoT Agents.
inline constexpr std::string_view kDefaultEntityType = "Thing";

class DeviceRegistry {
 public:
  // `names` expands attribute and type names (the NGSI-LD core context: as a client without a Link
  // header would name them).
  // `clock` stamps the last-seen time of devices provisioned or loaded (must outlive the registry).
  DeviceRegistry(storage::Store& store, std::shared_ptr<const jsonld::Context> names,
                 const Clock& clock = system_clock());

  // Reads every group and device back from the store. Call once, before serving.
  Status load();

  // create: AlreadyExists if the apikey is taken (api keys are unique across tenants: a message
  // names only the key). Otherwise the group (tenant, apikey) must exist: ResourceNotFound.
  // Either way the devices of this apikey in the tenant take the group's configuration at once.
  Result<GroupChange> put_group(ServiceGroup group, bool create);
  // The group's devices stay, with their own configuration only.
  Result<GroupChange> remove_group(const std::string& tenant, const std::string& apikey);
  GroupPtr group(const std::string& tenant, const std::string& apikey) const;
  GroupPtr group_for_apikey(std::string_view apikey) const;
  std::vector<GroupPtr> groups(const std::string& tenant) const;

  // Registers a device: inherits from the service group of its apikey (or, without one, from the
  // tenant's group of the same service path). BadRequestData when no api key can be found;
  // AlreadyExists (create) for a known device_id, or when another device already feeds its entity.
  Result<RegisteredDevice> put_device(Device device, bool create, bool autoprovisioned = false);
  Result<storage::Sequence> remove_device(const std::string& tenant, const std::string& device_id);
  DevicePtr device(const std::string& tenant, const std::string& device_id) const;
  DevicePtr device_for_message(std::string_view apikey, std::string_view device_id) const;
  DevicePtr device_for_entity(const std::string& tenant, const std::string& entity_id) const;
  std::vector<DevicePtr> devices(const std::string& tenant) const;
  std::vector<DevicePtr> all_devices() const;
  std::size_t device_count() const;
  std::size_t group_count() const;

  // Writes the last-seen time of every device seen since the previous call (one store batch).
  // Returns the batch's sequence, 0 when there was nothing to write.
  storage::Sequence persist_liveness();

 private:
  // The device's effective configuration over `group` (null: none). Takes no lock.
  Result<std::shared_ptr<ProvisionedDevice>> resolve(const Device& own, const ServiceGroup* group,
                                                     bool autoprovisioned) const;
  GroupPtr group_for_locked(const Device& own) const;
  // Fixes what a device keeps for good the first time it is provisioned (and keeps it on a PUT
  // that leaves it out): apikey, entity type, entity id. Also written into own.original, so the
  // stored body has it.
  static void settle(Device& own, const ServiceGroup* group, const ProvisionedDevice* existing);
  std::vector<DeviceChange> regroup_locked(const std::string& tenant, const std::string& apikey,
                                           const ServiceGroup* group);
  void index_locked(const DevicePtr& d);
  void unindex_locked(const DevicePtr& d);

  storage::Store& store_;
  std::shared_ptr<const jsonld::Context> names_;
  const Clock& clock_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, GroupPtr> groups_;             // apikey → group
  std::unordered_map<std::string, DevicePtr> devices_;           // tenant_key(tenant, device_id)
  std::unordered_map<std::string, DevicePtr> by_message_;        // apikey \x1f device_id
  std::unordered_map<std::string, DevicePtr> by_entity_;         // tenant_key(tenant, entity id)
};

}  // namespace ct::ingest
