#include "domains/core/kpi.hpp"

namespace ct::domains {
namespace {

json::object property(json::value value) { return {{"type", "Property"}, {"value", std::move(value)}}; }
json::object property(std::string_view text) { return property(json::value(json::string(text))); }

std::string date_time(Timestamp at) { return format_datetime(at); }

}  // namespace

std::string kpi_entity_id(const KpiFigure& f) {
  return "urn:ngsi-ld:KeyPerformanceIndicator:" + f.application + ":" + f.indicator + ":" + f.frequency + ":" +
         (f.district ? *f.district : std::string("city")) + (f.subject ? ":" + *f.subject : std::string());
}

KpiPublisher::KpiPublisher(twin::Twin& twin, jsonld::ContextStore& contexts) : twin_(twin), contexts_(contexts) {}

Result<storage::Sequence> KpiPublisher::publish(const std::string& tenant, const KpiFigure& f) {
  auto ctx = contexts_.resolve_url(std::string(kKpiContextUrl));
  if (!ctx) return ctx.problem();
  json::object value = property(f.value);
  value["observedAt"] = date_time(f.to);
  json::object body{
      {"id", kpi_entity_id(f)},
      {"type", "KeyPerformanceIndicator"},
      {"kpiValue", std::move(value)},
      {"calculationPeriod", property(json::object{{"from", date_time(f.from)}, {"to", date_time(f.to)}})},
      {"calculationFrequency", property(f.frequency)},
      {"calculationMethod", property(std::string_view("automatic"))},
      {"category", property(json::array{"quantitative"})},
      {"name", property(f.name)},
      {"description", property(f.description)},
      {"process", property(f.application)},
      {"area", property(std::string_view(f.district ? *f.district : std::string("city")))},
      {"dateNextCalculation", property(date_time(f.to + (f.to - f.from)))},
  };
  if (f.standing) body["currentStanding"] = property(std::string_view(*f.standing));
  if (f.subject) body["subject"] = property(std::string_view(*f.subject));
  if (f.district) body["refDistrict"] = json::object{{"type", "Relationship"}, {"object", *f.district}};
  auto decoded = jsonld::decode_entity(body, **ctx, {});
  if (!decoded) return decoded.problem();
  std::vector<jsonld::DecodedEntity> one;
  one.push_back(std::move(decoded).value());
  auto outcome = twin_.batch_upsert(tenant, std::move(one), twin::UpsertMode::Update, {twin::Origin::Application, {}});
  if (!outcome.items.empty() && outcome.items.front().error) return *outcome.items.front().error;
  return outcome.sequence;
}

}  // namespace ct::domains
