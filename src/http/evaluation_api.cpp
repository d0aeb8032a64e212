#include "http/evaluation_api.hpp"

#include "evaluation/evaluations.hpp"
#include "http/ngsi_ld_request.hpp"
#include "http/router.hpp"
#include "http/services.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
using evaluation::Evaluations;
constexpr std::string_view kEvaluations = "/admin/v1/evaluations";

Response evaluation_json_reply(unsigned status, const json::value& body) {
  return make_response(status, to_text(body), "application/json");
}

// {"method", "indicators": [{"code", "direction"}], "alternatives": [{"name", "values": {code: number}}]}
Result<evaluation::Panel> parse_panel(const json::object& body) {
  evaluation::Panel panel;
  const auto* indicators = body.if_contains("indicators");
  if (!indicators || !indicators->is_array()) return bad_request("\"indicators\" must be an array of {code, direction}");
  for (const auto& item : indicators->get_array()) {
    const auto* o = item.if_object();
    const auto* code = o ? o->if_contains("code") : nullptr;
    if (!code || !code->is_string()) return bad_request("each indicator needs a \"code\" string");
    const auto* direction = o->if_contains("direction");
    auto parsed = evaluation::parse_direction(direction && direction->is_string() ? direction->get_string() : "");
    if (!parsed) return bad_request("indicator " + std::string(code->get_string()) + ": " + parsed.problem().detail);
    panel.indicators.push_back({std::string(code->get_string()), *parsed});
  }
  const auto* alternatives = body.if_contains("alternatives");
  if (!alternatives || !alternatives->is_array()) return bad_request("\"alternatives\" must be an array of {name, values}");
  for (const auto& item : alternatives->get_array()) {
    const auto* o = item.if_object();
    const auto* name = o ? o->if_contains("name") : nullptr;
    if (!name || !name->is_string()) return bad_request("each alternative needs a \"name\" string");
    evaluation::Alternative alternative{std::string(name->get_string()), {}};
    const auto* values = o->if_contains("values");
    if (!values || !values->is_object())
      return bad_request("alternative \"" + alternative.name + "\": \"values\" must be an object {code: number}");
    for (const auto& [code, value] : values->get_object()) {
      if (!value.is_number())
        return bad_request("indicator " + std::string(code) + ": the value for alternative \"" + alternative.name + "\" is not a number");
      alternative.values[std::string(code)] = value.to_number<double>();
    }
    panel.alternatives.push_back(std::move(alternative));
  }
  return panel;
}

Outcome compare(Call& call) {
  CT_TRY(body, read_json_value(call));
  if (!body.is_object()) return bad_request("the body must be a JSON object");
  const auto* method = body.get_object().if_contains("method");
  const std::string_view name = method && method->is_string() ? std::string_view(method->get_string()) : "";
  if (name != "entropy" && name != "entropy-topsis")
    return bad_request("\"method\" must be \"entropy\" or \"entropy-topsis\"");
  CT_TRY(panel, parse_panel(body.get_object()));
  CT_TRY(result, name == "entropy" ? evaluation::entropy(panel) : evaluation::entropy_topsis(panel));
  json::object weights, scores;
  for (const auto& [code, w] : result.weights) weights[code] = w;
  for (const auto& [alt, c] : result.scores) scores[alt] = c;
  return evaluation_json_reply(200, json::object{{"weights", std::move(weights)}, {"scores", std::move(scores)}});
}

json::object definition_json(const evaluation::EvaluationDefinition& d) {
  return {{"id", d.id}, {"framework", d.framework}, {"scope", d.scope}, {"period", d.period.text}};
}

json::object run_json(const evaluation::Run& run) {
  json::object out = evaluation::evaluation_result_json(*run.framework, run.result);
  out["id"] = run.definition.id;
  out["scope"] = run.definition.scope;
  out["period"] = run.definition.period.text;
  if (run.districts) out["districts"] = *run.districts;
  return out;
}

Outcome define_and_run(Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_value(call));
  CT_TRY(definition, e.define(tenant, body));
  CT_TRY(run, e.run(tenant, definition));
  Response response = evaluation_json_reply(201, run_json(run));
  response.set(beast_http::field::location, std::string(kEvaluations) + "/" + definition.id);
  return response;
}

Outcome get_evaluation(Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(definition, e.definition(tenant, call.path_params[0]));
  CT_TRY(run, e.run(tenant, definition));
  return evaluation_json_reply(200, run_json(run));
}

Outcome evaluation_report_csv(Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(definition, e.definition(tenant, call.path_params[0]));
  CT_TRY(run, e.run(tenant, definition));
  return make_response(200, evaluation::evaluation_csv(*run.framework, run.result), "text/csv; charset=utf-8");
}

Outcome list_evaluations(Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  json::array list;
  for (const auto& d : e.definitions(tenant)) list.push_back(definition_json(d));
  return evaluation_json_reply(200, list);
}

Outcome delete_evaluation(Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  if (auto st = e.remove(tenant, call.path_params[0]); !st) return st.problem();
  return make_response(204);
}

Outcome list_frameworks(Evaluations& e, Call&) {
  json::array list;
  for (const auto& f : e.frameworks())
    list.push_back(json::object{{"id", f.id},
                                {"name", json::object{{"zh", f.name_zh}, {"en", f.name_en}}},
                                {"edition", f.edition},
                                {"total", f.total},
                                {"verified", f.verified},
                                {"indicators", f.indicators.size()},
                                {"note", f.note}});
  return evaluation_json_reply(200, list);
}

Outcome get_framework(Evaluations& e, Call& call) {
  const auto* f = e.framework(call.path_params[0]);
  if (!f) return not_found("framework " + call.path_params[0] + " is not loaded");
  return evaluation_json_reply(200, evaluation::framework_json(*f));
}

Outcome put_manual_value(Services& s, Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_value(call));
  CT_TRY(entry, Evaluations::parse_manual(body));
  CT_TRY(sequence, e.set_manual(tenant, call.path_params[0], entry));
  return answer_when_durable(call, s.store, sequence, make_response(201));
}

Outcome get_manual_values(Evaluations& e, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(values, e.manual_values(tenant, call.path_params[0]));
  return evaluation_json_reply(200, values);
}

}  // namespace

void add_evaluation_routes(Router& router, Services& s, Evaluations& e) {
  const std::string evaluations(kEvaluations);
  auto bind = [&e](Outcome (*fn)(Evaluations&, Call&)) { return [&e, fn](Call& call) { return fn(e, call); }; };
  router.add(verb::post, evaluations + "/compare", [](Call& call) { return compare(call); });
  router.add(verb::post, evaluations, bind(define_and_run));
  router.add(verb::get, evaluations, bind(list_evaluations));
  router.add(verb::get, evaluations + "/{id}", bind(get_evaluation));
  router.add(verb::get, evaluations + "/{id}/report.csv", bind(evaluation_report_csv));
  router.add(verb::delete_, evaluations + "/{id}", bind(delete_evaluation));
  router.add(verb::get, "/admin/v1/frameworks", bind(list_frameworks));
  router.add(verb::get, "/admin/v1/frameworks/{id}", bind(get_framework));
  router.add(verb::post, "/admin/v1/indicators/{code}/values",
             [&s, &e](Call& call) { return put_manual_value(s, e, call); });
  router.add(verb::get, "/admin/v1/indicators/{code}/values", bind(get_manual_values));
}

}  // namespace ct::http
