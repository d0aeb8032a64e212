// The FIWARE IoT Agent APIs: provisioning (/iot/services, /iot/devices) and the HTTP southbound
// (POST /iot/json and /iot/d with ?k=<apikey>&i=<device_id>; &getCmd=1 for a device that polls its
// commands, which GET /iot/d and /iot/json also answer; the answers to polled commands in an
// UltraLight body "<device>@<cmd>|<result>" on /iot/d, or on POST /iot/d/commands and
// /iot/json/commands). The registry, decoding and the writes into the twin are in ingest/; this
// file only speaks HTTP.
#include <algorithm>
#include <limits>

#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "ingest/ingestor.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::size_t kMaxServicePath = 256;

Result<ingest::Ingestor*> ingestor_of(const Services& s) {
  if (!s.ingest) return Problem{ProblemKind::OperationNotSupported, "device ingestion is not enabled"};
  return s.ingest;
}

Result<std::string> service_path_of(const Call& call) {
  std::string_view path = call.header("fiware-servicepath");
  if (path.empty()) return std::string("/");
  if (path.front() != '/' || path.size() > kMaxServicePath ||
      std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return bad_request("fiware-servicepath must start with '/' and have at most 256 printable characters");
  return std::string(path);
}

// {"<member>": [ {...}, ... ]}
Result<json::array> provisioning_list(const Call& call, std::string_view member) {
  if (call.request.body().empty()) return bad_request("the request body is empty");
  auto body = parse_json(call.request.body());
  if (!body) return body.problem();
  if (!body->is_object()) return bad_request("the body must be a JSON object with a \"" + std::string(member) + "\" array");
  const auto* list = body->as_object().if_contains(member);
  if (!list || !list->is_array() || list->as_array().empty())
    return bad_request("the body must have a non-empty \"" + std::string(member) + "\" array");
  for (const auto& item : list->as_array())
    if (!item.is_object()) return bad_request("each of \"" + std::string(member) + "\" must be an object");
  return list->as_array();
}

Result<json::object> object_body(const Call& call) {
  if (call.request.body().empty()) return bad_request("the request body is empty");
  auto body = parse_json(call.request.body());
  if (!body) return body.problem();
  if (!body->is_object()) return bad_request("the body must be a JSON object");
  return body->as_object();
}

Response iot_json_reply(unsigned status, const json::value& body) { return make_response(status, to_text(body)); }

json::object render_group(const ingest::ServiceGroup& g) {
  json::object o = g.original;
  o["apikey"] = g.apikey;
  o["resource"] = g.resource;
  o["service"] = g.tenant;
  o["subservice"] = g.service_path;
  return o;
}

json::object render_device(const ingest::ProvisionedDevice& d) {
  json::object o = d.device.original;
  o["device_id"] = d.device.device_id;
  o["service"] = d.device.tenant;
  o["service_path"] = d.device.service_path;
  o["entity_name"] = d.entity_id;
  o["entity_type"] = d.device.mapping.entity_type;
  o["apikey"] = d.device.apikey;
  if (d.autoprovisioned) o["autoprovisioned"] = true;
  const Timestamp seen = d.liveness->last_seen.load();
  if (seen != kNoTimestamp) o["lastSeen"] = format_datetime(seen);
  switch (static_cast<ingest::DeviceState>(d.liveness->state.load())) {
    case ingest::DeviceState::Online: o["deviceState"] = "online"; break;
    case ingest::DeviceState::Offline: o["deviceState"] = "offline"; break;
    case ingest::DeviceState::Unknown: o["deviceState"] = "unknown"; break;
  }
  return o;
}

// ---- /iot/services ---------------------------------------------------------------------------

Outcome create_groups(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(path, service_path_of(call));
  CT_TRY(list, provisioning_list(call, "services"));
  std::vector<ingest::ServiceGroup> groups;
  for (const auto& item : list) {
    CT_TRY(group, ingest::parse_service_group(item.as_object(), tenant, path));
    groups.push_back(std::move(group));
  }
  storage::Sequence last = 0;
  for (auto& g : groups) {
    CT_TRY(change, ingestor->registry().put_group(std::move(g), /*create=*/true));
    CT_TRY(written, ingestor->materialize(change));  // devices already using the apikey
    last = std::max(last, written);
  }
  return answer_when_durable(call, s.store, last, make_response(201));
}

Outcome list_groups(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  json::array out;
  for (const auto& g : ingestor->registry().groups(tenant)) out.push_back(render_group(*g));
  json::object body;
  body["count"] = out.size();
  body["services"] = std::move(out);
  return iot_json_reply(200, body);
}

Outcome update_group(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(path, service_path_of(call));
  CT_TRY(changes, object_body(call));
  const std::string apikey = call.param("apikey");
  if (apikey.empty()) return bad_request("the apikey query parameter is required");
  auto existing = ingestor->registry().group(tenant, apikey);
  if (!existing) return not_found("no service group with apikey " + apikey + " in this service");
  CT_TRY(group, ingest::parse_service_group(ingest::merged(existing->original, changes), tenant, path));
  group.apikey = apikey;
  CT_TRY(change, ingestor->registry().put_group(std::move(group), /*create=*/false));
  // The group's devices take the new configuration now (their next message maps with it); their
  // entities get the group's new static attributes and commands.
  CT_TRY(written, ingestor->materialize(change));
  return answer_when_durable(call, s.store, written, make_response(204));
}

Outcome delete_group(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  const std::string apikey = call.param("apikey");
  if (apikey.empty()) return bad_request("the apikey query parameter is required");
  // As in the IoT Agents, the group's devices stay provisioned, with their own configuration only.
  CT_TRY(change, ingestor->registry().remove_group(tenant, apikey));
  CT_TRY(written, ingestor->materialize(change));
  return answer_when_durable(call, s.store, written, make_response(204));
}

// ---- /iot/devices ----------------------------------------------------------------------------

Outcome create_devices(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(path, service_path_of(call));
  CT_TRY(list, provisioning_list(call, "devices"));
  std::vector<ingest::Device> devices;
  for (const auto& item : list) {
    CT_TRY(device, ingest::parse_device(item.as_object(), tenant, path));
    devices.push_back(std::move(device));
  }
  storage::Sequence last = 0;
  for (auto& d : devices) {
    CT_TRY(registered, ingestor->registry().put_device(std::move(d), /*create=*/true));
    CT_TRY(written, ingestor->materialize(*registered.device));
    last = std::max({last, registered.sequence, written});
  }
  return answer_when_durable(call, s.store, last, make_response(201));
}

Outcome list_devices(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(limit, page_param(call, "limit", 1000, 100000));
  CT_TRY(offset, page_param(call, "offset", 0, std::numeric_limits<std::int32_t>::max()));
  const auto devices = ingestor->registry().devices(tenant);
  json::array out;
  for (std::size_t i = offset; i < devices.size() && out.size() < limit; ++i) out.push_back(render_device(*devices[i]));
  json::object body;
  body["count"] = devices.size();
  body["devices"] = std::move(out);
  return iot_json_reply(200, body);
}

Outcome get_device(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  auto d = ingestor->registry().device(tenant, call.path_params[0]);
  if (!d) return not_found("device " + call.path_params[0] + " is not provisioned in this service");
  return iot_json_reply(200, render_device(*d));
}

Outcome update_device(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(changes, object_body(call));
  auto existing = ingestor->registry().device(tenant, call.path_params[0]);
  if (!existing)
    return not_found("device " + call.path_params[0] + " is not provisioned in this service");
  json::object body = ingest::merged(existing->own.original, changes);
  body["device_id"] = existing->device.device_id;
  CT_TRY(device, ingest::parse_device(body, tenant, existing->device.service_path));
  CT_TRY(registered, ingestor->registry().put_device(std::move(device), /*create=*/false,
                                                      existing->autoprovisioned));
  CT_TRY(written, ingestor->materialize(*registered.device, existing.get()));
  return answer_when_durable(call, s.store, std::max(registered.sequence, written), make_response(204));
}

Outcome delete_device(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  CT_TRY(tenant, tenant_of(call));
  auto existing = ingestor->registry().device(tenant, call.path_params[0]);
  CT_TRY(sequence, ingestor->registry().remove_device(tenant, call.path_params[0]));
  storage::Sequence last = sequence;
  if (existing) {
    CT_TRY(removed, ingestor->forget(*existing));
    last = std::max(last, removed);
  }
  return answer_when_durable(call, s.store, last, make_response(204));
}

// ---- southbound ------------------------------------------------------------------------------

// An UltraLight body that is a command's answer ("<device>@<command>|<result>") rather than measures:
// how a device that polls its commands answers them over HTTP.
bool is_command_answer(std::string_view body) {
  const auto bar = body.find('|');
  return body.substr(0, bar).find('@') != std::string_view::npos;
}

std::string_view commands_content_type(const ingest::ProvisionedDevice& d) {
  return ingest::speaks_ultralight(d.device) ? "text/plain" : "application/json";
}

Outcome command_answer(Services& s, ingest::Ingestor& ingestor, Call& call, ingest::PayloadFormat format) {
  CT_TRY(outcome, ingestor.command_result(ingest::Transport::Http, call.param("k"), call.param("i"), format,
                                          call.request.body()));
  return answer_when_durable(call, s.store, outcome.sequence, make_response(200));
}

Outcome measures(Services& s, Call& call, ingest::PayloadFormat format) {
  CT_TRY(ingestor, ingestor_of(s));
  const std::string apikey = call.param("k"), device_id = call.param("i");
  if (apikey.empty() || device_id.empty()) {
    ingestor->drop(ingest::Transport::Http, ingest::DropReason::BadTopic, apikey + "/" + device_id,
                   "k (apikey) and i (device id) are required");
    return bad_request("the query parameters k (apikey) and i (device id) are required");
  }
  if (format == ingest::PayloadFormat::UltraLight && is_command_answer(call.request.body()))
    return command_answer(s, *ingestor, call, format);
  CT_TRY(prepared, ingestor->prepare(ingest::Transport::Http, apikey, device_id, format, call.request.body()));
  // A device that polls its commands gets them in the answer to its measures.
  std::string commands;
  std::string_view content_type = "application/json";
  if (call.has_param("getCmd") && call.param("getCmd") == "1") {
    commands = ingestor->take_commands(*prepared.device);
    content_type = commands_content_type(*prepared.device);
  }
  // Decoded here, on the connection's thread; written with what other connections posted meanwhile.
  ingestor->submit(std::move(prepared), [&store = s.store, later = call.later(), commands = std::move(commands),
                                         content_type](const ingest::PreparedMessage& m) mutable {
    if (m.write_error) return later.fail(*m.write_error);
    answer_when_durable(later, store, m.outcome.sequence, make_response(200, std::move(commands), content_type));
  });
  return Deferred{};
}

// GET /iot/d and /iot/json with getCmd=1: a device asks for its commands without sending measures.
Outcome poll_commands(Services& s, Call& call) {
  CT_TRY(ingestor, ingestor_of(s));
  const std::string apikey = call.param("k"), device_id = call.param("i");
  if (apikey.empty() || device_id.empty() || call.param("getCmd") != "1")
    return bad_request("the query parameters k (apikey), i (device id) and getCmd=1 are required");
  auto d = ingestor->registry().device_for_message(apikey, device_id);
  if (!d) return not_found("device " + device_id + " is not provisioned with this apikey");
  return make_response(200, ingestor->take_commands(*d), commands_content_type(*d));
}

// POST /iot/json/commands and /iot/d/commands: a device's answer to the commands it polled.
Outcome posted_command_answer(Services& s, Call& call, ingest::PayloadFormat format) {
  CT_TRY(ingestor, ingestor_of(s));
  if (call.param("k").empty() || call.param("i").empty())
    return bad_request("the query parameters k (apikey) and i (device id) are required");
  return command_answer(s, *ingestor, call, format);
}

}  // namespace

void add_iot_routes(Router& router, Services& s) {
  router.add(verb::post, "/iot/services", [&s](Call& c) -> Outcome { return create_groups(s, c); });
  router.add(verb::get, "/iot/services", [&s](Call& c) -> Outcome { return list_groups(s, c); });
  router.add(verb::put, "/iot/services", [&s](Call& c) -> Outcome { return update_group(s, c); });
  router.add(verb::delete_, "/iot/services", [&s](Call& c) -> Outcome { return delete_group(s, c); });
  router.add(verb::post, "/iot/devices", [&s](Call& c) -> Outcome { return create_devices(s, c); });
  router.add(verb::get, "/iot/devices", [&s](Call& c) -> Outcome { return list_devices(s, c); });
  router.add(verb::get, "/iot/devices/{id}", [&s](Call& c) -> Outcome { return get_device(s, c); });
  router.add(verb::put, "/iot/devices/{id}", [&s](Call& c) -> Outcome { return update_device(s, c); });
  router.add(verb::delete_, "/iot/devices/{id}", [&s](Call& c) -> Outcome { return delete_device(s, c); });
  router.add(verb::post, "/iot/json", [&s](Call& c) -> Outcome { return measures(s, c, ingest::PayloadFormat::Json); });
  router.add(verb::post, "/iot/d", [&s](Call& c) -> Outcome { return measures(s, c, ingest::PayloadFormat::UltraLight); });
  router.add(verb::get, "/iot/json", [&s](Call& c) -> Outcome { return poll_commands(s, c); });
  router.add(verb::get, "/iot/d", [&s](Call& c) -> Outcome { return poll_commands(s, c); });
  router.add(verb::post, "/iot/json/commands",
             [&s](Call& c) -> Outcome { return posted_command_answer(s, c, ingest::PayloadFormat::Json); });
  router.add(verb::post, "/iot/d/commands",
             [&s](Call& c) -> Outcome { return posted_command_answer(s, c, ingest::PayloadFormat::UltraLight); });
}

}  // namespace ct::http
