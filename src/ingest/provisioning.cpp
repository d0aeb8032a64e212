#include "ingest/provisioning.hpp"

#include <algorithm>

#include <boost/url/parse.hpp>

#include "model/names.hpp"

namespace ct::ingest {
namespace {

constexpr std::size_t kMaxIdentifierBytes = 256;
constexpr std::size_t kMaxAttributes = 256;

Result<std::string> text_member(const json::object& body, std::string_view key, bool required,
                                std::string_view where) {
  const json::value* v = body.if_contains(key);
  if (!v || v->is_null()) {
    if (required) return bad_request(std::string(where) + ": " + std::string(key) + " is required");
    return std::string();
  }
  if (!v->is_string()) return bad_request(std::string(where) + ": " + std::string(key) + " must be a string");
  const auto& s = v->as_string();
  if (s.size() > kMaxIdentifierBytes)
    return bad_request(std::string(where) + ": " + std::string(key) + " is longer than 256 bytes");
  if (required && s.empty()) return bad_request(std::string(where) + ": " + std::string(key) + " must not be empty");
  return std::string(s);
}

// Identifiers that end up in MQTT topics and store keys: no topic wildcards or separators.
bool valid_identifier(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdentifierBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f && c != '/' && c != '+' && c != '#' && c != '|' && c != '@' && c != '&' &&
           c != '?' && c != '\x1f';
  });
}

Result<std::vector<AttributeMapping>> attribute_list(const json::object& body, std::string_view key,
                                                     std::string_view where) {
  std::vector<AttributeMapping> out;
  const json::value* v = body.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return bad_request(std::string(where) + ": " + std::string(key) + " must be an array");
  if (v->as_array().size() > kMaxAttributes)
    return bad_request(std::string(where) + ": more than 256 " + std::string(key));
  for (const auto& item : v->as_array()) {
    if (!item.is_object()) return bad_request(std::string(where) + ": each of " + std::string(key) + " must be an object");
    const auto& a = item.as_object();
    const std::string here = std::string(where) + " " + std::string(key);
    AttributeMapping m;
    auto name = text_member(a, "name", true, here);
    if (!name) return name.problem();
    m.name = *name;
    if (!model::is_valid_term(m.name)) return bad_request(here + ": " + m.name + " is not a valid attribute name");
    auto object_id = text_member(a, "object_id", false, here);
    if (!object_id) return object_id.problem();
    m.object_id = object_id->empty() ? m.name : *object_id;
    auto type = text_member(a, "type", false, here);
    if (!type) return type.problem();
    if (!type->empty()) m.type = *type;
    m.value_type = value_type_from_name(m.type);
    auto expression = text_member(a, "expression", false, here);
    if (!expression) return expression.problem();
    if (!expression->empty()) {
      auto compiled = compile_expression(*expression);
      if (!compiled) return bad_request(here + " " + m.name + ": " + compiled.problem().detail);
      m.expression = std::move(*compiled);
    }
    auto unit = text_member(a, "unitCode", false, here);
    if (!unit) return unit.problem();
    m.unit_code = *unit;
    out.push_back(std::move(m));
  }
  return out;
}

Status read_mapping(const json::object& body, std::string_view where, Mapping& m) {
  auto type = text_member(body, "entity_type", false, where);
  if (!type) return type.problem();
  m.entity_type = *type;
  if (!m.entity_type.empty() && !model::is_valid_term(m.entity_type) && !model::is_uri(m.entity_type))
    return bad_request(std::string(where) + ": entity_type " + m.entity_type + " is not a valid type name");
  auto attributes = attribute_list(body, "attributes", where);
  if (!attributes) return attributes.problem();
  m.attributes = std::move(*attributes);
  auto lazy = attribute_list(body, "lazy", where);
  if (!lazy) return lazy.problem();
  m.lazy = std::move(*lazy);
  auto commands = attribute_list(body, "commands", where);
  if (!commands) return commands.problem();
  for (auto& c : *commands) m.commands.push_back({c.name, c.type == "Text" ? "command" : c.type});
  if (const auto* statics = body.if_contains("static_attributes"); statics && !statics->is_null()) {
    if (!statics->is_array()) return bad_request(std::string(where) + ": static_attributes must be an array");
    for (const auto& item : statics->as_array()) {
      if (!item.is_object() || !item.as_object().contains("value"))
        return bad_request(std::string(where) + ": each static attribute needs a name and a value");
      auto name = text_member(item.as_object(), "name", true, where);
      if (!name) return name.problem();
      if (!model::is_valid_term(*name)) return bad_request(std::string(where) + ": " + *name + " is not a valid attribute name");
      auto t = text_member(item.as_object(), "type", false, where);
      if (!t) return t.problem();
      m.static_attributes.push_back({*name, *t, item.as_object().at("value")});
    }
  }
  if (const auto* timeout = body.if_contains("timeout"); timeout && !timeout->is_null()) {
    if (!timeout->is_number()) return bad_request(std::string(where) + ": timeout must be a number of seconds");
    const double seconds = timeout->to_number<double>();
    if (!(seconds >= 0 && seconds <= 365.0 * 24 * 3600))
      return bad_request(std::string(where) + ": timeout must be between 0 and one year, in seconds");
    m.timeout_seconds = static_cast<std::int64_t>(seconds);
  }
  return {};
}

}  // namespace

Result<ServiceGroup> parse_service_group(const json::object& body, std::string tenant, std::string service_path) {
  ServiceGroup g;
  g.tenant = std::move(tenant);
  g.service_path = service_path.empty() ? "/" : std::move(service_path);
  auto apikey = text_member(body, "apikey", true, "service group");
  if (!apikey) return apikey.problem();
  if (!valid_identifier(*apikey))
    return bad_request("service group: apikey must be printable, without spaces, '/', '+', '#', '|', '@', '&' or '?'");
  g.apikey = *apikey;
  auto resource = text_member(body, "resource", false, "service group");
  if (!resource) return resource.problem();
  g.resource = resource->empty() ? "/iot/d" : *resource;
  if (const auto* a = body.if_contains("autoprovision"); a && !a->is_null()) {
    if (!a->is_bool()) return bad_request("service group: autoprovision must be true or false");
    g.autoprovision = a->as_bool();
  }
  if (auto st = read_mapping(body, "service group", g.mapping); !st) return st.problem();
  g.original = body;
  return g;
}

Result<Device> parse_device(const json::object& body, std::string tenant, std::string service_path) {
  Device d;
  d.tenant = std::move(tenant);
  d.service_path = service_path.empty() ? "/" : std::move(service_path);
  auto id = text_member(body, "device_id", true, "device");
  if (!id) return id.problem();
  if (!valid_identifier(*id))
    return bad_request("device: device_id must be printable, without spaces, '/', '+', '#', '|', '@', '&' or '?'");
  d.device_id = *id;
  auto name = text_member(body, "entity_name", false, "device");
  if (!name) return name.problem();
  d.entity_name = *name;
  if (!d.entity_name.empty() && !model::is_uri(d.entity_name))
    return bad_request("device: entity_name must be a URI (urn:ngsi-ld:Type:id), got " + d.entity_name);
  auto apikey = text_member(body, "apikey", false, "device");
  if (!apikey) return apikey.problem();
  if (!apikey->empty() && !valid_identifier(*apikey)) return bad_request("device: apikey is not a valid api key");
  d.apikey = *apikey;
  auto protocol = text_member(body, "protocol", false, "device");
  if (!protocol) return protocol.problem();
  d.protocol = *protocol;
  auto transport = text_member(body, "transport", false, "device");
  if (!transport) return transport.problem();
  d.transport = *transport;
  auto endpoint = text_member(body, "endpoint", false, "device");
  if (!endpoint) return endpoint.problem();
  if (!endpoint->empty()) {
    auto url = boost::urls::parse_absolute_uri(*endpoint);
    if (!url || url->scheme_id() != boost::urls::scheme::http || url->host().empty())
      return bad_request("device: endpoint must be an http:// URL (https is not supported for device commands), got " +
                         *endpoint);
    d.endpoint = *endpoint;
  }
  if (auto st = read_mapping(body, "device", d.mapping); !st) return st.problem();
  d.original = body;
  return d;
}

json::object merged(const json::object& original, const json::object& changes) {
  json::object out = original;
  for (const auto& [key, value] : changes) {
    if (key == "device_id" || key == "apikey" || key == "resource") continue;
    out[key] = value;
  }
  return out;
}

std::string default_entity_name(const std::string& entity_type, const std::string& device_id) {
  return "urn:ngsi-ld:" + entity_type + ":" + device_id;
}

std::string device_entity_id(const std::string& device_id) { return "urn:ngsi-ld:Device:" + device_id; }

bool speaks_ultralight(const Device& device) {
  std::string p = device.protocol;
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return p.find("ul") != std::string::npos || p.find("ultralight") != std::string::npos;
}

bool speaks_http(const Device& device) {
  std::string t = device.transport;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t == "http";
}

Device effective(const Device& own, const ServiceGroup* group) {
  Device device = own;
  if (group) inherit(device, *group);
  return device;
}

void inherit(Device& device, const ServiceGroup& group) {
  Mapping& m = device.mapping;
  if (m.entity_type.empty()) m.entity_type = group.mapping.entity_type;
  auto add_missing = [](std::vector<AttributeMapping>& mine, const std::vector<AttributeMapping>& theirs) {
    for (const auto& a : theirs)
      if (std::none_of(mine.begin(), mine.end(), [&](const AttributeMapping& b) { return b.object_id == a.object_id; }))
        mine.push_back(a);
  };
  add_missing(m.attributes, group.mapping.attributes);
  add_missing(m.lazy, group.mapping.lazy);
  for (const auto& c : group.mapping.commands)
    if (std::none_of(m.commands.begin(), m.commands.end(), [&](const CommandSpec& d) { return d.name == c.name; }))
      m.commands.push_back(c);
  for (const auto& s : group.mapping.static_attributes)
    if (std::none_of(m.static_attributes.begin(), m.static_attributes.end(),
                     [&](const StaticAttribute& d) { return d.name == s.name; }))
      m.static_attributes.push_back(s);
  if (m.timeout_seconds == 0) m.timeout_seconds = group.mapping.timeout_seconds;
  if (device.apikey.empty()) device.apikey = group.apikey;
}

}  // namespace ct::ingest
