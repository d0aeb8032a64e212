#include "domains/core/app_support.hpp"

#include <cmath>

#include <spdlog/spdlog.h>

#include "jsonld/entity_codec.hpp"

namespace ct::domains {

json::object property(json::value value, Timestamp observed_at, std::string_view unit_code) {
  json::object p{{"type", "Property"}, {"value", std::move(value)}};
  if (observed_at != kNoTimestamp) p["observedAt"] = format_datetime(observed_at);
  if (!unit_code.empty()) p["unitCode"] = json::string(unit_code);
  return p;
}

json::object relationship(std::string_view object) { return {{"type", "Relationship"}, {"object", json::string(object)}}; }

model::Term default_term(std::string_view name) {
  return model::Term::intern("https://uri.etsi.org/ngsi-ld/default-context/" + std::string(name));
}

std::optional<double> number_of(const model::Entity& entity, model::Term name) {
  const auto* a = entity.find(name);
  if (a == nullptr || !a->value.is_number()) return std::nullopt;
  const double d = a->value.to_number<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<std::string> text_of(const model::Entity& entity, model::Term name) {
  const auto* a = entity.find(name);
  if (a == nullptr || !a->value.is_string()) return std::nullopt;
  return std::string(a->value.as_string());
}

std::optional<Timestamp> date_time_of(const model::Entity& entity, model::Term name) {
  const auto* a = entity.find(name);
  if (a == nullptr) return std::nullopt;
  const json::value* v = &a->value;
  if (v->is_object())
    if (const auto* inner = v->as_object().if_contains("@value")) v = inner;
  if (!v->is_string()) return std::nullopt;
  return parse_datetime(std::string_view(v->as_string()));
}

bool wrote(const twin::ChangeEvent& event, model::Term name) {
  for (const auto& [written, dataset] : event.written)
    if (written == name && dataset.empty()) return true;
  return false;
}

Timestamp reading_time(const model::Attribute& attribute) {
  return attribute.observed_at != kNoTimestamp ? attribute.observed_at : now_ms();
}

bool WriteBack::merge(const std::string& tenant, const std::string& id, const json::object& attributes,
                      const jsonld::Context* context) {
  auto decoded = jsonld::decode_entity(attributes, context ? *context : *core_, {});
  if (!decoded) {
    ++failures_;
    spdlog::warn("{}: a write-back to {} does not decode: {}", application_, id, decoded.problem().detail);
    return false;
  }
  auto done = twin_.merge(tenant, id, std::move(decoded).value(), {twin::Origin::Application, {}});
  if (!done && done.problem().kind != ProblemKind::ResourceNotFound) {
    ++failures_;
    spdlog::warn("{}: cannot write to {}: {}", application_, id, done.problem().detail);
  }
  return done.ok();
}

bool WriteBack::report_problem(const std::string& tenant, const std::string& id, const Problem& problem,
                               Timestamp at) {
  // The fault's kind and detail, as the air application's aqiProblem states them: an entity attribute is
  // no HTTP answer, so it carries no status (the kind → HTTP mapping belongs to http/).
  json::object detail{{"type", "https://uri.etsi.org/ngsi-ld/errors/" + std::string(kind_name(problem.kind))},
                      {"title", json::string(kind_name(problem.kind))},
                      {"detail", problem.detail}};
  return merge(tenant, id, {{"problemDetail", property(std::move(detail), at)}});
}

void KpiBoard::set(const std::string& tenant, KpiFigure figure) {
  auto key = tenant + '\n' + kpi_entity_id(figure);
  auto [it, added] = entries_.try_emplace(std::move(key));
  auto& e = it->second;
  if (!added && e.figure.value == figure.value && e.figure.from == figure.from && e.figure.standing == figure.standing)
    return;
  e.tenant = tenant;
  e.figure = std::move(figure);
  e.dirty = true;
}

std::size_t KpiBoard::flush(KpiPublisher& publisher, Timestamp now, Timestamp interval) {
  if (next_flush_ != kNoTimestamp && now < next_flush_) return 0;
  next_flush_ = now + interval;
  std::size_t published = 0;
  for (auto& [key, e] : entries_) {
    if (!e.dirty) continue;
    e.dirty = false;
    auto done = publisher.publish(e.tenant, e.figure);
    if (done) ++published;
    else spdlog::warn("{}: cannot publish KPI {}: {}", e.figure.application, kpi_entity_id(e.figure), done.problem().detail);
  }
  published_ += published;
  return published;
}

LocalDay::Span LocalDay::of(const TimeZone& zone, Timestamp at) {
  if (zone.name() == zone_ && span_.start != kNoTimestamp && at >= span_.start && at < span_.end) return span_;
  zone_ = zone.name();
  const auto date = zone.date_of(at);
  span_ = {zone.start_of_day(date), zone.start_of_day(add_days(date, 1))};
  return span_;
}

}  // namespace ct::domains
