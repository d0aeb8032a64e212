// NGSI-LD entity and attribute endpoints. Each handler: tenant and @context, decode, one twin
// operation, and an answer once the change is durable.
#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "model/names.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::string_view kEntities = "/ngsi-ld/v1/entities";


Status check_entity_id(const std::string& id) {
  if (!model::is_uri(id)) return bad_request("entity id \"" + id.substr(0, 120) + "\" is not a URI");
  return {};
}

Response update_report(const twin::UpdateReport& report, const jsonld::Context& ctx) {
  if (report.not_updated.empty()) return make_response(204);
  json::object body;
  json::array updated, not_updated;
  for (auto name : report.updated) updated.push_back(json::value(ctx.compact(name.str())));
  for (const auto& n : report.not_updated)
    not_updated.push_back(json::object{{"attributeName", ctx.compact(n.attribute.str())}, {"reason", n.reason}});
  body["updated"] = std::move(updated);
  body["notUpdated"] = std::move(not_updated);
  return make_response(207, to_text(body));
}

// A twin write's answer: its problem, or `success` once the write is durable.
Outcome finish_write(Services& s, Call& call, Result<twin::WriteOutcome>&& outcome, Response success) {
  if (!outcome) return std::move(outcome).problem();
  return answer_when_durable(call, s.store, outcome->sequence, std::move(success));
}

jsonld::DecodeOptions decode_options(const Call& call) {
  jsonld::DecodeOptions options;
  options.simplified = has_option(call, "keyValues") || call.param("format") == "keyValues" ||
                       call.param("format") == "simplified";
  return options;
}

Outcome create_entity(Services& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(decoded, jsonld::decode_entity(body.object, *body.context.context, decode_options(call)));
  if (decoded.header.id.empty()) return bad_request("an entity needs an \"id\"");
  if (decoded.header.types.empty()) return bad_request("an entity needs a \"type\"");
  Response created = make_response(201);
  created.set(beast_http::field::location, std::string(kEntities) + "/" + decoded.header.id);
  return finish_write(s, call, s.twin.create(tenant, std::move(decoded)), std::move(created));
}

Outcome get_entity(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call));
  CT_TRY(ctx, link_context(call, s.contexts));
  RenderSelection selection;
  CT_TRY(options, render_options(call, *ctx.context, selection));
  const model::Term geometry = model::Term::intern(ctx.context->expand(
      call.has_param("geometryProperty") ? call.param("geometryProperty") : std::string("location")));
  auto writer = entity_writer(type, ctx, options);
  std::string body;
  auto status = s.twin.read(tenant, id, [&](const model::Entity& entity) {
    if (type == MediaType::GeoJson)
      writer.feature(body, entity, geometry);
    else
      writer.entity(body, entity);
  });
  if (!status) return status.problem();
  return printed_json_response(200, std::move(body), type, ctx);
}

Outcome delete_entity(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  return finish_write(s, call, s.twin.remove(tenant, id), make_response(204));
}

Outcome replace_entity(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(decoded, jsonld::decode_entity(body.object, *body.context.context, decode_options(call)));
  return finish_write(s, call, s.twin.replace(tenant, id, std::move(decoded)), make_response(204));
}

Outcome merge_entity(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts, /*allow_merge_patch=*/true));
  auto options = decode_options(call);
  options.allow_null_values = true;
  CT_TRY(decoded, jsonld::decode_entity(body.object, *body.context.context, options));
  return finish_write(s, call, s.twin.merge(tenant, id, std::move(decoded)), make_response(204));
}

Outcome append_attributes(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(decoded, jsonld::decode_entity(body.object, *body.context.context, decode_options(call)));
  auto ctx = body.context.context;
  auto outcome = s.twin.append(tenant, id, std::move(decoded), has_option(call, "noOverwrite"));
  Response response = outcome ? update_report(outcome->report, *ctx) : Response();
  return finish_write(s, call, std::move(outcome), std::move(response));
}

Outcome update_attributes(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(decoded, jsonld::decode_entity(body.object, *body.context.context, decode_options(call)));
  auto ctx = body.context.context;
  auto outcome = s.twin.update(tenant, id, std::move(decoded));
  Response response = outcome ? update_report(outcome->report, *ctx) : Response();
  return finish_write(s, call, std::move(outcome), std::move(response));
}

Outcome patch_attribute(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts, /*allow_merge_patch=*/true));
  const std::string& short_name = call.path_params[1];
  if (!model::is_valid_term(short_name))
    return bad_request("\"" + short_name + "\" is not a valid attribute name");
  const auto name = model::Term::intern(body.context.context->expand(short_name));
  auto options = decode_options(call);
  options.partial = true;
  options.allow_null_values = true;
  CT_TRY(instances, jsonld::decode_attribute(name, json::value(std::move(body.object)), *body.context.context, options));
  if (instances.size() != 1) return bad_request("a partial update takes one attribute instance");
  return finish_write(s, call, s.twin.patch_attribute(tenant, id, std::move(instances.front())), make_response(204));
}

Outcome delete_attribute(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(ctx, link_context(call, s.contexts));
  const std::string& short_name = call.path_params[1];
  if (!model::is_valid_term(short_name))
    return bad_request("\"" + short_name + "\" is not a valid attribute name");
  const auto name = model::Term::intern(ctx.context->expand(short_name));
  const std::string dataset = call.param("datasetId");
  if (!dataset.empty() && !model::is_uri(dataset)) return bad_request("datasetId must be a URI");
  const bool all = call.param("deleteAll") == "true";
  return finish_write(s, call, s.twin.delete_attribute(tenant, id, name, model::Term::intern(dataset), all),
                      make_response(204));
}


}  // namespace

void add_entity_routes(Router& router, Services& s) {
  auto bind = [&s](Outcome (*fn)(Services&, Call&)) {
    return [&s, fn](Call& call) -> Outcome { return fn(s, call); };
  };
  const std::string entities(kEntities);
  router.add(verb::post, entities, bind(create_entity));
  router.add(verb::get, entities + "/{id}", bind(get_entity));
  router.add(verb::delete_, entities + "/{id}", bind(delete_entity));
  router.add(verb::put, entities + "/{id}", bind(replace_entity));
  router.add(verb::patch, entities + "/{id}", bind(merge_entity));
  router.add(verb::post, entities + "/{id}/attrs", bind(append_attributes));
  router.add(verb::patch, entities + "/{id}/attrs", bind(update_attributes));
  router.add(verb::patch, entities + "/{id}/attrs/{attr}", bind(patch_attribute));
  router.add(verb::delete_, entities + "/{id}/attrs/{attr}", bind(delete_attribute));
}

}  // namespace ct::http
