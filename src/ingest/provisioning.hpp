#pragma once
// Service groups and devices as the FIWARE IoT Agent provisioning API describes them
// (/iot/services and /iot/devices), read from and written back to that JSON, so the scripts and
// tools written for the IoT Agents work unchanged.
//
//   service group: apikey, resource, entity_type, attributes, lazy, commands, static_attributes,
//                  autoprovision (create unknown devices of this apikey on first message), timeout
//   device:        device_id, entity_name, entity_type, apikey, protocol, transport, endpoint,
//                  attributes, lazy, commands, static_attributes, timeout
//   attribute:     {"object_id": "t", "name": "temperature", "type": "Number",
//                   "expression": "${@value * 0.1}", "unitCode": "CEL"}
//
// `timeout` (seconds, an extension) is the liveness interval: a device silent for longer is marked
// offline. Members the IoT Agents know but CityTwin does not need (cbroker, timezone, ...) are kept
// as given and returned on reads.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "ingest/conversion.hpp"
#include "ingest/expression.hpp"

namespace ct::ingest {

struct AttributeMapping {
  std::string object_id;  // the key in the payload
  std::string name;       // the NGSI-LD attribute it becomes
  std::string type = "Text";
  ValueType value_type = ValueType::Text;
  std::optional<Expression> expression;
  std::string unit_code;
};

struct StaticAttribute {
  std::string name;
  std::string type;
  json::value value;
};

struct CommandSpec {
  std::string name;
  std::string type = "command";
};

// What service groups and devices share: how measures become attributes.
struct Mapping {
  std::string entity_type;
  std::vector<AttributeMapping> attributes;
  std::vector<AttributeMapping> lazy;
  std::vector<CommandSpec> commands;
  std::vector<StaticAttribute> static_attributes;
  std::int64_t timeout_seconds = 0;  // 0: liveness not watched
};

struct ServiceGroup {
  std::string tenant;
  std::string service_path = "/";
  std::string apikey;
  std::string resource;
  bool autoprovision = false;
  Mapping mapping;
  json::object original;  // the members as provisioned
};

struct Device {
  std::string tenant;
  std::string service_path = "/";
  std::string device_id;
  std::string entity_name;  // the NGSI-LD entity id its measures update
  std::string apikey;
  std::string protocol;
  std::string transport;
  std::string endpoint;  // http:// URL commands are POSTed to (transport HTTP); empty: the device polls
  Mapping mapping;
  json::object original;
};

// Reads one service group / device of a provisioning body. Refuses (BadRequestData naming the
// member) missing or ill-typed members, attribute names that are not valid NGSI-LD names,
// expressions that do not compile, and entity ids that are not URIs.
Result<ServiceGroup> parse_service_group(const json::object& body, std::string tenant, std::string service_path);
Result<Device> parse_device(const json::object& body, std::string tenant, std::string service_path);

// Applies a PUT body's members on top of what was provisioned (the identifying members stay).
json::object merged(const json::object& original, const json::object& changes);

// The entity id a device's measures update when it was provisioned without entity_name.
std::string default_entity_name(const std::string& entity_type, const std::string& device_id);
// The id of the Smart Data Model Device entity that represents a device.
std::string device_entity_id(const std::string& device_id);

// Whether the device asked for UltraLight answers (its protocol names UltraLight); JSON otherwise.
bool speaks_ultralight(const Device& device);

// Whether the device takes its commands over HTTP (transport "HTTP"): pushed to its endpoint, or
// polled with its next measure when it has none.
bool speaks_http(const Device& device);

// Fills what the device left out from its service group (entity type, attributes and commands the
// device does not redefine, timeout), as the IoT Agents do.
void inherit(Device& device, const ServiceGroup& group);

// A device's effective configuration: its own (`own`, as provisioned) over what its group has now
// (none: the device's own only), as the IoT Agents resolve it when a message arrives.
Device effective(const Device& own, const ServiceGroup* group);

}  // namespace ct::ingest
