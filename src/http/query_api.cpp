// Query Entities: GET /ngsi-ld/v1/entities with query parameters, and POST /entityOperations/query
// with the same criteria as a JSON Query body. Both build one twin::EntityQuery.
#include <limits>

#include "http/entity_query.hpp"
#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "model/names.hpp"

namespace ct::http {

Criteria criteria_from_parameters(const Call& call) {
  Criteria c;
  if (call.has_param("type") || call.has_param("id") || call.has_param("idPattern"))
    c.selectors.push_back({call.param("type"), call.param("id"), call.param("idPattern")});
  c.q = call.param("q");
  c.scope_q = call.param("scopeQ");
  c.attrs = call.param("attrs");
  c.georel = call.param("georel");
  c.geometry = call.param("geometry");
  c.coordinates = call.param("coordinates");
  c.geoproperty = call.param("geoproperty");
  return c;
}

Result<twin::EntityQuery> build_query(const Criteria& c, const jsonld::Context& ctx, const std::string& tenant,
                                      const std::string& context_url) {
  twin::EntityQuery query;
  for (const auto& text : c.selectors) {
    twin::EntitySelector selector;
    if (!text.type.empty()) {
      auto types = query::parse_type_expression(text.type, ctx);
      if (!types) return types.problem();
      selector.types = std::move(types).value();
    }
    for (std::string_view rest = text.id; !rest.empty();) {
      auto comma = rest.find(',');
      std::string id(rest.substr(0, comma));
      if (!id.empty()) {
        if (!model::is_uri(id)) return bad_request("id: \"" + id.substr(0, 80) + "\" is not a URI");
        selector.ids.push_back(std::move(id));
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!text.id_pattern.empty()) {
      auto pattern = query::IdPattern::parse(text.id_pattern);
      if (!pattern) return pattern.problem();
      selector.id_pattern = std::move(pattern).value();
    }
    query.selectors.push_back(std::move(selector));
  }
  if (!c.q.empty()) {
    auto q = query::parse_q(c.q, ctx);
    if (!q) return q.problem();
    query.q = std::move(q).value();
  }
  if (!c.scope_q.empty()) {
    auto scope = query::parse_scope_q(c.scope_q);
    if (!scope) return scope.problem();
    query.scope = std::move(scope).value();
  }
  if (c.geo_object) {
    auto geo = query::parse_geo_query(*c.geo_object, ctx);
    if (!geo) return geo.problem();
    query.geo = std::move(geo).value();
  } else if (!c.georel.empty() || !c.geometry.empty() || !c.coordinates.empty()) {
    if (c.georel.empty() || c.geometry.empty() || c.coordinates.empty())
      return bad_request("a geo-query needs georel, geometry and coordinates together");
    auto geo = query::parse_geo_query(c.georel, c.geometry, c.coordinates, c.geoproperty, ctx);
    if (!geo) return geo.problem();
    query.geo = std::move(geo).value();
  }
  for (std::string_view rest = c.attrs; !rest.empty();) {
    auto comma = rest.find(',');
    std::string name(rest.substr(0, comma));
    if (!name.empty()) {
      if (!model::is_valid_term(name)) return bad_request("attrs: \"" + name.substr(0, 80) + "\" is not a valid name");
      query.any_attribute.push_back(model::Term::intern(ctx.expand(name)));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  // Everything that selects entities, so that the pages of one query share one ordered result.
  query.paging_key = tenant + '\n' + context_url;
  for (const auto& text : c.selectors) query.paging_key += '\n' + text.type + '\t' + text.id + '\t' + text.id_pattern;
  query.paging_key += '\n' + c.q + '\n' + c.scope_q + '\n' + c.attrs + '\n' + c.georel + '\n' + c.geometry + '\n' + c.coordinates +
                     '\n' + c.geoproperty + '\n' + (c.geo_object ? to_text(*c.geo_object) : std::string());
  return query;
}

namespace {

using beast_http::verb;

// Runs the query and renders the page in the negotiated media type.
Outcome answer_query(Services& s, Call& call, const Criteria& criteria, const RequestContext& ctx) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call));
  CT_TRY(limit, page_param(call, "limit", s.limits.default_page, s.limits.max_page));
  CT_TRY(offset, page_param(call, "offset", 0, std::numeric_limits<std::int32_t>::max()));
  const bool want_count = call.param("count") == "true";
  if (limit == 0 && !want_count) return bad_request("limit=0 is only allowed with count=true");
  RenderSelection selection;
  CT_TRY(options, render_options(call, *ctx.context, selection));
  CT_TRY(query, build_query(criteria, *ctx.context, tenant, ctx.url));
  if (criteria.project_attrs && !query.any_attribute.empty()) {
    selection.pick.insert(query.any_attribute.begin(), query.any_attribute.end());
    options.pick = &selection.pick;
  }
  const model::Term geometry = model::Term::intern(ctx.context->expand(
      call.has_param("geometryProperty") ? call.param("geometryProperty") : std::string("location")));
  auto writer = entity_writer(type, ctx, options);
  std::string body = type == MediaType::GeoJson ? R"({"type":"FeatureCollection","features":[)" : "[";
  bool first = true;
  CT_TRY(total, s.twin.query(tenant, query, offset, limit, [&](const model::Entity& entity) {
    if (!first) body.push_back(',');
    first = false;
    if (type == MediaType::GeoJson)
      writer.feature(body, entity, geometry);
    else
      writer.entity(body, entity);
  }));
  body += type == MediaType::GeoJson ? "]}" : "]";
  Response response = printed_json_response(200, std::move(body), type, ctx);
  if (want_count) response.set("NGSILD-Results-Count", std::to_string(total));
  response.prepare_payload();
  return response;
}

Outcome query_by_parameters(Services& s, Call& call) {
  CT_TRY(ctx, link_context(call, s.contexts));
  return answer_query(s, call, criteria_from_parameters(call), ctx);
}

// The Query data type (clause 5.2.23): {"type":"Query","entities":[{"type","id","idPattern"}],
// "attrs":[…],"q":…,"geoQ":{…},"scopeQ":…}.
Outcome query_by_body(Services& s, Call& call) {
  CT_TRY(body, read_json_body(call, s.contexts));
  const json::object& o = body.object;
  Criteria c;
  auto string_member = [&](const char* key, std::string& into) -> Status {
    if (const auto* v = o.if_contains(key)) {
      if (!v->is_string()) return bad_request(std::string(key) + " must be a string");
      into = std::string(v->get_string());
    }
    return {};
  };
  for (const char* key : {"q", "scopeQ"})
    if (auto st = string_member(key, std::string(key) == "q" ? c.q : c.scope_q); !st) return st.problem();
  if (const auto* entities = o.if_contains("entities")) {
    if (!entities->is_array()) return bad_request("entities must be an array");
    for (const auto& selector : entities->get_array()) {
      if (!selector.is_object()) return bad_request("each entities item must be an object");
      const auto& sel = selector.get_object();
      SelectorText text;
      for (auto [key, into] : {std::pair<const char*, std::string*>{"type", &text.type}, {"id", &text.id},
                               {"idPattern", &text.id_pattern}}) {
        const auto* v = sel.if_contains(key);
        if (!v) continue;
        if (!v->is_string())
          return bad_request(std::string("entities[].") + key + " must be a string");
        *into = std::string(v->get_string());
      }
      c.selectors.push_back(std::move(text));
    }
  }
  if (const auto* attrs = o.if_contains("attrs")) {
    if (!attrs->is_array()) return bad_request("attrs must be an array of names");
    c.project_attrs = true;
    for (const auto& a : attrs->get_array()) {
      if (!a.is_string()) return bad_request("attrs must be an array of names");
      if (!c.attrs.empty()) c.attrs += ',';
      c.attrs += a.get_string();
    }
  }
  if (const auto* geo = o.if_contains("geoQ")) {
    if (!geo->is_object()) return bad_request("geoQ must be an object");
    c.geo_object = geo->get_object();
  }
  return answer_query(s, call, c, body.context);
}

}  // namespace

void add_query_routes(Router& router, Services& s) {
  router.add(verb::get, "/ngsi-ld/v1/entities", [&s](Call& call) -> Outcome { return query_by_parameters(s, call); });
  router.add(verb::post, "/ngsi-ld/v1/entityOperations/query",
             [&s](Call& call) -> Outcome { return query_by_body(s, call); });
}

}  // namespace ct::http
