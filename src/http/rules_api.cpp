// /admin/v1/rules (rule definitions), /admin/v1/incidents (the operators' side of incidents) and
// /admin/v1/roadgraph (the road graph used to rank response units). The engine is in rules/.
#include <limits>

#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "rules/engine.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::string_view kRules = "/admin/v1/rules";
constexpr std::string_view kIncidents = "/admin/v1/incidents";
constexpr std::string_view kRoadGraph = "/admin/v1/roadgraph";
constexpr std::string_view kRoadGraphKey = "roadgraph";

Status rules_engine_wired(const Services& s) {
  if (!s.rules || !s.incidents || !s.roads) return Problem{ProblemKind::OperationNotSupported, "rules are not enabled"};
  return {};
}

Response json_reply(unsigned status, const json::value& body) {
  Response response = make_response(status);
  response.set(beast_http::field::content_type, "application/json");
  response.body() = to_text(body);
  response.prepare_payload();
  return response;
}

Outcome create_rule(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(sequence, s.rules->create(tenant, body.object, body.context.url));
  Response response = make_response(201);
  response.set(beast_http::field::location, std::string(kRules) + "/" + std::string(body.object.at("id").as_string()));
  return answer_when_durable(call, s.store, sequence, std::move(response));
}

Outcome list_rules(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(limit, page_param(call, "limit", s.limits.default_page, s.limits.max_page));
  CT_TRY(offset, page_param(call, "offset", 0, std::numeric_limits<std::int32_t>::max()));
  std::size_t total = 0;
  json::array list;
  for (const auto& view : s.rules->list(tenant, offset, limit, total)) list.push_back(rules::render_rule(view));
  Response response = json_reply(200, std::move(list));
  response.set("NGSILD-Results-Count", std::to_string(total));
  return response;
}

Outcome get_rule(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(view, s.rules->get(tenant, call.path_params[0]));
  return json_reply(200, rules::render_rule(view));
}

Outcome update_rule(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts, /*allow_merge_patch=*/true));
  CT_TRY(sequence, s.rules->update(tenant, call.path_params[0], body.object));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

Outcome enable_rule(Services& s, Call& call, bool enabled) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(sequence, s.rules->set_enabled(tenant, call.path_params[0], enabled));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

Outcome delete_rule(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(sequence, s.rules->remove(tenant, call.path_params[0]));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

Result<json::object> plain_body(const Call& call) {
  if (call.request.body().empty()) return json::object{};
  auto parsed = parse_json(call.request.body());
  if (!parsed) return parsed.problem();
  if (!parsed->is_object()) return bad_request("the body must be a JSON object");
  return parsed->get_object();
}

Outcome open_incident(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, plain_body(call));
  CT_TRY(spec, rules::Incidents::parse_spec(body));
  if (spec.by == "system") return bad_request("by: is required (the operator opening it)");
  CT_TRY(opened, s.incidents->open(tenant, spec));
  Response response = json_reply(201, json::object{{"id", opened.id}});
  response.set(beast_http::field::location, "/ngsi-ld/v1/entities/" + opened.id);
  return answer_when_durable(call, s.store, opened.sequence, std::move(response));
}

Outcome step_incident(Services& s, Call& call, rules::IncidentStep step) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, plain_body(call));
  CT_TRY(request, rules::Incidents::parse_step(step, body));
  CT_TRY(written, s.incidents->advance(tenant, call.path_params[0], request));
  json::object answer = written.detail;
  answer["id"] = written.id;
  return answer_when_durable(call, s.store, written.sequence, json_reply(200, std::move(answer)));
}

json::object render_candidate(const rules::Candidate& c) {
  json::object o{{"unit", c.unit}, {"distance", c.distance_m}};
  if (c.travel_time_s >= 0) o["travelTime"] = c.travel_time_s;
  return o;
}

Outcome proposals(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(limit, page_param(call, "limit", 5, 100));
  const auto rank_text = call.param("rankBy");
  if (!rank_text.empty() && rank_text != "distance" && rank_text != "travelTime")
    return bad_request("rankBy: must be distance or travelTime");
  const auto rank = rank_text == "travelTime" ? rules::RankBy::TravelTime : rules::RankBy::Distance;
  CT_TRY(ranked, s.incidents->proposals(tenant, call.path_params[0], call.param("kind"), rank, limit));
  json::array list;
  for (const auto& c : ranked) list.push_back(render_candidate(c));
  return json_reply(200, std::move(list));
}

Outcome dispatch_many(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, plain_body(call));
  const auto* ids = body.if_contains("incidents");
  if (!ids || !ids->is_array()) return bad_request("incidents: must be an array of incident ids");
  std::vector<std::string> list;
  for (const auto& id : ids->get_array()) {
    if (!id.is_string()) return bad_request("incidents: must be an array of incident ids");
    list.emplace_back(id.get_string());
  }
  CT_TRY(request, rules::Incidents::parse_step(rules::IncidentStep::Dispatch, body));
  CT_TRY(written, s.incidents->dispatch_many(tenant, list, request.kind, request.rank, request.by));
  json::array out;
  storage::Sequence last = 0;
  for (auto& w : written) {
    json::object o = w.detail;
    o["incident"] = w.id;
    out.push_back(std::move(o));
    last = std::max(last, w.sequence);
  }
  return answer_when_durable(call, s.store, last, json_reply(200, std::move(out)));
}

Outcome put_road_graph(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(document, parse_json(call.request.body()));
  CT_TRY(graph, rules::RoadGraph::parse(document));
  const auto sequence = s.store.enqueue(
      {storage::Write{storage::Collection::Rules, storage::tenant_key(tenant, kRoadGraphKey), to_text(document)}});
  json::object answer{{"junctions", graph->junctions()}, {"segments", graph->segments()}};
  s.roads->put(tenant, std::move(graph));
  return answer_when_durable(call, s.store, sequence, json_reply(200, std::move(answer)));
}

Outcome delete_road_graph(Services& s, Call& call) {
  if (auto st = rules_engine_wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  const auto sequence =
      s.store.enqueue({storage::Write{storage::Collection::Rules, storage::tenant_key(tenant, kRoadGraphKey), std::nullopt}});
  s.roads->remove(tenant);
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

}  // namespace

Status restore_road_graphs(storage::Store& store, rules::RoadGraphs& roads) {
  return store.scan(storage::Collection::Rules, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, own;
    if (!storage::split_tenant_key(key, tenant, own) || own != kRoadGraphKey) return true;
    auto document = parse_json(value);
    if (!document) return true;
    if (auto graph = rules::RoadGraph::parse(*document)) roads.put(std::string(tenant), std::move(graph).value());
    return true;
  });
}

void add_rules_routes(Router& router, Services& s) {
  const std::string rules(kRules), incidents(kIncidents), roads(kRoadGraph);
  router.add(verb::post, rules, [&s](Call& call) -> Outcome { return create_rule(s, call); });
  router.add(verb::get, rules, [&s](Call& call) -> Outcome { return list_rules(s, call); });
  router.add(verb::get, rules + "/{id}", [&s](Call& call) -> Outcome { return get_rule(s, call); });
  router.add(verb::patch, rules + "/{id}", [&s](Call& call) -> Outcome { return update_rule(s, call); });
  router.add(verb::delete_, rules + "/{id}", [&s](Call& call) -> Outcome { return delete_rule(s, call); });
  router.add(verb::post, rules + "/{id}/enable", [&s](Call& call) -> Outcome { return enable_rule(s, call, true); });
  router.add(verb::post, rules + "/{id}/disable", [&s](Call& call) -> Outcome { return enable_rule(s, call, false); });

  router.add(verb::post, incidents, [&s](Call& call) -> Outcome { return open_incident(s, call); });
  router.add(verb::post, incidents + "/dispatch", [&s](Call& call) -> Outcome { return dispatch_many(s, call); });
  router.add(verb::get, incidents + "/{id}/proposals", [&s](Call& call) -> Outcome { return proposals(s, call); });
  const std::pair<const char*, rules::IncidentStep> steps[] = {{"acknowledge", rules::IncidentStep::Acknowledge},
                                                               {"dispatch", rules::IncidentStep::Dispatch},
                                                               {"resolve", rules::IncidentStep::Resolve},
                                                               {"close", rules::IncidentStep::Close}};
  for (const auto& [name, step] : steps) {
    const auto which = step;
    router.add(verb::post, incidents + "/{id}/" + name,
               [&s, which](Call& call) -> Outcome { return step_incident(s, call, which); });
  }
  router.add(verb::put, roads, [&s](Call& call) -> Outcome { return put_road_graph(s, call); });
  router.add(verb::delete_, roads, [&s](Call& call) -> Outcome { return delete_road_graph(s, call); });
}

}  // namespace ct::http
