#include "evaluation/evaluations.hpp"

#include <cmath>
#include <set>

#include "jsonld/entity_codec.hpp"

namespace ct::evaluation {
namespace {

constexpr std::string_view kManualType = "EvaluationManualValue";

std::string manual_id(const std::string& framework, const std::string& code, const std::string& scope) {
  return "urn:ngsi-ld:" + std::string(kManualType) + ":" + framework + ":" + code + ":" + scope;
}

std::string_view attribute_short_name(std::string_view iri) {
  const auto cut = iri.find_last_of("/#");
  return cut == std::string_view::npos ? iri : iri.substr(cut + 1);
}

const json::value* member_of(const model::Entity& e, std::string_view name) {
  for (const auto& a : e.attributes)
    if (attribute_short_name(a.name.str()) == name) return &a.value;
  return nullptr;
}

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string frequency_of(const Period& p) {
  if (p.text.size() == 4) return "yearly";
  return p.text[5] == 'Q' ? "quarterly" : "monthly";
}

json::object property(json::value v) { return {{"type", "Property"}, {"value", std::move(v)}}; }

}  // namespace

Evaluations::Evaluations(std::vector<Framework> frameworks, twin::Twin& twin, jsonld::ContextStore& contexts,
                         domains::KpiPublisher& kpis)
    : frameworks_(std::move(frameworks)), twin_(twin), contexts_(contexts), kpis_(kpis), sources_(twin, contexts) {}

const Framework* Evaluations::framework(std::string_view id) const {
  for (const auto& f : frameworks_)
    if (f.id == id) return &f;
  return nullptr;
}

Status Evaluations::check_scope(const std::string& tenant, const std::string& scope) const {
  if (scope == "city") return {};
  bool district = false;
  auto st = twin_.read(tenant, scope, [&](const model::Entity& e) {
    for (const auto& t : e.types)
      if (attribute_short_name(t.str()) == kDistrictType) district = true;
  });
  if (!st || !district) return bad_request("scope: \"" + scope + "\" is neither \"city\" nor the id of a District entity");
  return {};
}

Result<EvaluationDefinition> Evaluations::define(const std::string& tenant, const json::value& body) {
  const auto* o = body.if_object();
  if (!o) return bad_request("evaluation: the body must be a JSON object {framework, scope, period}");
  EvaluationDefinition d;
  d.framework = text_of(*o, "framework");
  if (!framework(d.framework)) return bad_request("framework: unknown framework \"" + d.framework + "\"");
  d.scope = text_of(*o, "scope");
  if (d.scope.empty()) d.scope = "city";
  if (auto st = check_scope(tenant, d.scope); !st) return st.problem();
  auto period = parse_period(text_of(*o, "period"));
  if (!period) return period.problem();
  d.period = std::move(period).value();
  if (const auto weighting = text_of(*o, "weighting"); weighting == "entropy") d.weighting = Weighting::Entropy;
  else if (weighting == "entropy-topsis") d.weighting = Weighting::EntropyTopsis;
  else if (!weighting.empty() && weighting != "standard")
    return bad_request("weighting: \"" + weighting + "\" is none of standard, entropy, entropy-topsis");
  if (d.weighting != Weighting::Standard && d.scope != "city")
    return bad_request("weighting: entropy weights compare the districts, so the scope must be \"city\"");
  d.id = d.framework + ":" + d.scope + ":" + d.period.text;
  std::lock_guard lock(mutex_);
  definitions_[tenant][d.id] = d;
  return d;
}

std::vector<EvaluationDefinition> Evaluations::definitions(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  std::vector<EvaluationDefinition> out;
  if (auto it = definitions_.find(tenant); it != definitions_.end())
    for (const auto& [id, d] : it->second) out.push_back(d);
  return out;
}

Result<EvaluationDefinition> Evaluations::definition(const std::string& tenant, const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (auto it = definitions_.find(tenant); it != definitions_.end())
    if (auto d = it->second.find(id); d != it->second.end()) return d->second;
  return not_found("evaluation " + id + " is not defined");
}

Status Evaluations::remove(const std::string& tenant, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = definitions_.find(tenant); it != definitions_.end() && it->second.erase(id)) return {};
  return not_found("evaluation " + id + " is not defined");
}

std::map<std::string, IndicatorInput> Evaluations::inputs_for(const std::string& tenant, const Framework& framework,
                                                            const std::string& scope, const Period& period) {
  const Framework* f = &framework;
  auto inputs = sources_.compute(tenant, *f, scope);
  for (const auto& ind : f->indicators) {
    if (!ind.leaf() || !std::holds_alternative<ManualSource>(*ind.source)) continue;
    const std::string id = manual_id(f->id, ind.code, scope);
    IndicatorInput input{InputStatus::Missing, 0, {{"kind", "manual"}, {"entity", id}}};
    auto st = twin_.read(tenant, id, [&](const model::Entity& e) {
      const auto* value = member_of(e, "indicatorValue");
      const auto* date = member_of(e, "dateEstablished");
      const auto at = date && date->is_string() ? parse_datetime(date->get_string()) : std::nullopt;
      if (!value || !value->is_number()) return;
      for (const char* key : {"evidence", "evidenceSource", "dateEstablished"})
        if (const auto* v = member_of(e, key)) input.provenance[key == std::string_view("evidenceSource") ? "source" : key] = *v;
      if (at && *at >= period.to) {
        input.provenance["reason"] = "the value was established after the period";
        return;
      }
      input.status = InputStatus::Manual;
      input.value = value->to_number<double>();
    });
    if (!st) input.provenance["reason"] = "no manual value entered";
    inputs[ind.code] = std::move(input);
  }
  return inputs;
}

json::object Evaluations::compare_districts(const std::string& tenant, const Framework& f, const EvaluationDefinition& d) {
  Panel panel;
  std::set<std::string> excluded;
  std::vector<std::map<std::string, IndicatorInput>> per_district;
  const auto districts = sources_.districts(tenant);
  for (const auto& district : districts) per_district.push_back(inputs_for(tenant, f, district, d.period));
  for (const auto& ind : f.indicators) {
    if (!ind.leaf()) continue;
    bool everywhere = !districts.empty();
    for (const auto& inputs : per_district) {
      auto it = inputs.find(ind.code);
      everywhere &= it != inputs.end() && it->second.status != InputStatus::Missing;
    }
    if (everywhere) panel.indicators.push_back({ind.code, ind.direction});
    else excluded.insert(ind.code);
  }
  for (std::size_t i = 0; i < districts.size(); ++i) {
    Alternative alternative{districts[i], {}};
    for (const auto& indicator : panel.indicators) alternative.values[indicator.code] = per_district[i].at(indicator.code).value;
    panel.alternatives.push_back(std::move(alternative));
  }
  const bool topsis = d.weighting == Weighting::EntropyTopsis;
  auto compared = topsis ? entropy_topsis(panel) : entropy(panel);
  if (!compared) return {{"problem", compared.problem().detail}};
  json::object weights, scores;
  for (const auto& [code, w] : compared->weights) weights[code] = w;
  for (const auto& [name, c] : compared->scores) scores[name] = c;
  json::array left_out;
  for (const auto& code : excluded) left_out.push_back(json::string(code));
  return {{"method", topsis ? "entropy-topsis" : "entropy"},
          {"weights", std::move(weights)},
          {"scores", std::move(scores)},
          {"excluded", std::move(left_out)}};
}

Result<Run> Evaluations::run(const std::string& tenant, const EvaluationDefinition& definition) {
  const Framework* f = framework(definition.framework);
  if (!f) return not_found("framework " + definition.framework + " is not loaded");
  auto inputs = inputs_for(tenant, *f, definition.scope, definition.period);
  Run out{f, definition, evaluate(*f, inputs), std::nullopt};
  if (definition.weighting != Weighting::Standard) out.districts = compare_districts(tenant, *f, definition);

  // Publish the total and the scores above the leaves as KPIs.
  domains::KpiFigure figure;
  figure.application = "evaluation-" + f->id;
  figure.frequency = frequency_of(definition.period);
  if (definition.scope != "city") figure.district = definition.scope;
  figure.from = definition.period.from;
  figure.to = definition.period.to;
  figure.indicator = "total";
  figure.name = f->name_en.empty() ? f->name_zh : f->name_en;
  figure.description = "Score of " + f->id + " (of " + std::to_string(static_cast<int>(f->total)) + " points)";
  figure.value = out.result.total;
  if (auto published = kpis_.publish(tenant, figure); !published) return published.problem();
  for (std::size_t i = 0; i < f->indicators.size(); ++i) {
    const auto& ind = f->indicators[i];
    if (ind.leaf()) continue;
    figure.indicator = ind.code;
    figure.name = ind.name_zh + (ind.name_en.empty() ? "" : " / " + ind.name_en);
    figure.description = ind.code + " of " + f->id;
    figure.value = out.result.indicators[i].score;
    if (auto published = kpis_.publish(tenant, figure); !published) return published.problem();
  }
  return out;
}

Result<ManualEntry> Evaluations::parse_manual(const json::value& body) {
  const auto* o = body.if_object();
  if (!o) return bad_request("manual value: the body must be a JSON object {value, evidence, source, date}");
  ManualEntry m;
  const auto* value = o->if_contains("value");
  if (!value || !value->is_number() || !std::isfinite(value->to_number<double>()))
    return bad_request("manual value: \"value\" must be a finite number");
  m.value = value->to_number<double>();
  m.evidence = text_of(*o, "evidence");
  m.source = text_of(*o, "source");
  if (m.evidence.empty() || m.source.empty())
    return bad_request("manual value: \"evidence\" and \"source\" are required (what shows the value, and who gave it)");
  const auto date = parse_datetime(text_of(*o, "date"));
  if (!date) return bad_request("manual value: \"date\" must be an ISO 8601 date-time");
  m.date = *date;
  if (auto scope = text_of(*o, "scope"); !scope.empty()) m.scope = scope;
  m.framework = text_of(*o, "framework");
  return m;
}

Result<const Framework*> Evaluations::framework_with_manual(const std::string& code, const std::string& framework_id) const {
  std::vector<const Framework*> having;
  for (const auto& f : frameworks_)
    if ((framework_id.empty() || f.id == framework_id) && f.find(code)) having.push_back(&f);
  if (having.empty())
    return not_found("indicator " + code + ": no " + (framework_id.empty() ? std::string("loaded framework") : "framework " + framework_id) +
                     " has it");
  if (having.size() > 1) return bad_request("indicator " + code + ": several frameworks have it; name one in \"framework\"");
  const Indicator* ind = having.front()->find(code);
  if (!ind->leaf() || !std::holds_alternative<ManualSource>(*ind->source))
    return bad_request("indicator " + code + ": takes no manual value (it is " +
                       (ind->leaf() ? "computed from the twin" : "the sum of its sub-indicators") + ")");
  return having.front();
}

Result<storage::Sequence> Evaluations::set_manual(const std::string& tenant, const std::string& code, const ManualEntry& m) {
  auto f = framework_with_manual(code, m.framework);
  if (!f) return f.problem();
  const auto& range = std::get<ManualSource>(*(*f)->find(code)->source);
  if (m.value < range.min || m.value > range.max) {
    std::string lo, hi;
    append_double(lo, range.min), append_double(hi, range.max);
    return bad_request("indicator " + code + ": value outside its range [" + lo + ", " + hi + "]");
  }
  if (auto st = check_scope(tenant, m.scope); !st) return st.problem();
  json::object body{{"id", manual_id((*f)->id, code, m.scope)},
                    {"type", kManualType},
                    {"indicator", property(json::string(code))},
                    {"framework", property(json::string((*f)->id))},
                    {"area", property(json::string(m.scope))},
                    {"indicatorValue", property(m.value)},
                    {"evidence", property(json::string(m.evidence))},
                    {"evidenceSource", property(json::string(m.source))},
                    {"dateEstablished", property(json::string(format_datetime(m.date)))}};
  auto decoded = jsonld::decode_entity(body, *contexts_.core(), {});
  if (!decoded) return decoded.problem();
  std::vector<jsonld::DecodedEntity> one;
  one.push_back(std::move(decoded).value());
  auto outcome = twin_.batch_upsert(tenant, std::move(one), twin::UpsertMode::Replace);
  if (!outcome.items.empty() && outcome.items.front().error) return *outcome.items.front().error;
  return outcome.sequence;
}

Result<json::array> Evaluations::manual_values(const std::string& tenant, const std::string& code) const {
  json::array out;
  for (const auto& f : frameworks_) {
    if (!f.find(code)) continue;
    const std::string prefix = "urn:ngsi-ld:" + std::string(kManualType) + ":" + f.id + ":" + code + ":";
    auto st = twin_.scan(tenant, [&](const model::Entity& e) {
      if (e.id.compare(0, prefix.size(), prefix) != 0) return;
      json::object o{{"framework", f.id}, {"scope", e.id.substr(prefix.size())}};
      for (const auto& [key, name] : {std::pair{"value", "indicatorValue"}, std::pair{"evidence", "evidence"},
                                      std::pair{"source", "evidenceSource"}, std::pair{"date", "dateEstablished"}})
        if (const auto* v = member_of(e, name)) o[key] = *v;
      out.push_back(std::move(o));
    });
    if (!st && st.problem().kind != ProblemKind::NonexistentTenant) return st.problem();
  }
  return out;
}

}  // namespace ct::evaluation
