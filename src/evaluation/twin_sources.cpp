#include "evaluation/twin_sources.hpp"

#include <cmath>
#include <memory>

#include "query/q.hpp"

namespace ct::evaluation {
namespace {

constexpr std::string_view kKpiPrefix = "urn:ngsi-ld:KeyPerformanceIndicator:";

std::string_view short_name(std::string_view iri) {
  const auto cut = iri.find_last_of("/#");
  return cut == std::string_view::npos ? iri : iri.substr(cut + 1);
}
std::string_view vocabulary_of(std::string_view iri) {
  const auto cut = iri.find_last_of("/#");
  return cut == std::string_view::npos ? std::string_view() : iri.substr(0, cut + 1);
}

const model::Attribute* attribute_named(const model::Entity& e, std::string_view name) {
  for (const auto& a : e.attributes)
    if (short_name(a.name.str()) == name) return &a;
  return nullptr;
}

// One query source's running totals.
struct QueryTally {
  const Indicator* indicator = nullptr;
  const TwinQuerySource* source = nullptr;
  std::map<std::string, std::optional<query::QExpression>, std::less<>> q_by_vocabulary;  // nullopt: q does not parse there
  std::size_t of_type = 0, matching = 0, numeric = 0;
  double sum = 0, min = INFINITY, max = -INFINITY;
};

}  // namespace

TwinSources::TwinSources(twin::Twin& twin, jsonld::ContextStore& contexts)
    : twin_(twin), contexts_(contexts), districts_(twin, contexts) {}

std::map<std::string, IndicatorInput> TwinSources::compute(const std::string& tenant, const Framework& framework,
                                                           const std::string& scope) {
  std::vector<QueryTally> tallies;
  std::map<std::string, const Indicator*> kpis;  // "<indicator>:<frequency>:<area>" suffix → indicator
  for (const auto& ind : framework.indicators) {
    if (!ind.leaf()) continue;
    if (const auto* q = std::get_if<TwinQuerySource>(&*ind.source)) {
      QueryTally tally;
      tally.indicator = &ind;
      tally.source = q;
      tallies.push_back(std::move(tally));
    }
    if (const auto* k = std::get_if<KpiSource>(&*ind.source)) kpis[":" + k->indicator + ":" + k->frequency + ":" + scope] = &ind;
  }
  const bool whole_city = scope == "city";
  auto core = contexts_.core();

  // Pass 1 (under the read lock): which entities count, with their points when a district is asked.
  // Placed once per entity, however many sources count it: the district lookup is the costly part.
  struct Candidate {
    std::size_t tally;
    bool matches;
    std::optional<double> number;
    std::size_t place;  // index into `points`
  };
  std::vector<Candidate> candidates;
  std::vector<std::pair<double, double>> points;
  std::map<std::string, IndicatorInput> out;
  auto status = twin_.scan(tenant, [&](const model::Entity& e) {
    std::optional<std::size_t> place;  // this entity's index in `points`, once placed
    bool unplaceable = false;
    if (std::string_view(e.id).substr(0, kKpiPrefix.size()) == kKpiPrefix) {
      for (const auto& [suffix, ind] : kpis) {
        if (e.id.size() < suffix.size() || e.id.compare(e.id.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        const auto* value = attribute_named(e, "kpiValue");
        if (!value || !value->value.is_number()) continue;
        IndicatorInput input{InputStatus::Computed, value->value.to_number<double>(),
                             {{"kind", "kpi"}, {"entity", e.id}, {"attribute", "kpiValue"}}};
        if (value->observed_at != kNoTimestamp) input.provenance["observedAt"] = format_datetime(value->observed_at);
        out[ind->code] = std::move(input);
      }
    }
    for (std::size_t t = 0; t < tallies.size(); ++t) {
      auto& tally = tallies[t];
      const model::Term* type = nullptr;
      for (const auto& candidate_type : e.types)
        if (short_name(candidate_type.str()) == tally.source->type) type = &candidate_type;
      if (!type) continue;
      const std::string_view vocab = vocabulary_of(type->str());
      auto q = tally.q_by_vocabulary.find(vocab);
      if (q == tally.q_by_vocabulary.end()) {
        std::optional<query::QExpression> parsed;
        if (tally.source->q.empty()) {
          parsed.emplace();
        } else {
          jsonld::Context ctx;
          ctx.add_definitions(json::object{{"@vocab", vocab}});
          ctx.seal(core.get());
          if (auto r = query::parse_q(tally.source->q, ctx)) parsed = std::move(r).value();
        }
        q = tally.q_by_vocabulary.emplace(std::string(vocab), std::move(parsed)).first;
      }
      Candidate c{t, q->second && q->second->matches(e), std::nullopt, 0};
      if (!tally.source->attribute.empty())
        if (const auto* a = attribute_named(e, tally.source->attribute); a && a->value.is_number())
          c.number = a->value.to_number<double>();
      if (!whole_city) {
        if (!place && !unplaceable) {
          auto point = domains::point_location(e);
          if (point) place = points.size(), points.push_back(*point);
          else unplaceable = true;  // cannot be placed in a district
        }
        if (!place) continue;
        c.place = *place;
      }
      candidates.push_back(c);
    }
  });
  if (!status) {
    for (const auto& tally : tallies)
      out[tally.indicator->code] = {InputStatus::Missing, 0, {{"kind", "query"}, {"reason", status.problem().detail}}};
    return out;
  }

  // Pass 2 (outside the lock: the locator queries the twin): keep the district's, then aggregate.
  std::vector<signed char> in_scope(points.size(), -1);  // -1: not looked up yet
  const std::string district_type(kDistrictType);
  for (const auto& c : candidates) {
    if (!whole_city) {
      auto& known = in_scope[c.place];
      if (known < 0) {
        auto district = districts_.district_of(tenant, district_type, points[c.place].first, points[c.place].second);
        known = district && *district == scope ? 1 : 0;
      }
      if (!known) continue;
    }
    auto& tally = tallies[c.tally];
    ++tally.of_type;
    if (!c.matches) continue;
    ++tally.matching;
    if (c.number) {
      ++tally.numeric;
      tally.sum += *c.number;
      tally.min = std::min(tally.min, *c.number);
      tally.max = std::max(tally.max, *c.number);
    }
  }
  for (const auto& tally : tallies) {
    const auto& s = *tally.source;
    json::object provenance{{"kind", "query"},
                            {"type", s.type},
                            {"q", s.q},
                            {"aggregate", aggregate_name(s.aggregate)},
                            {"scope", scope},
                            {"entitiesOfType", tally.of_type},
                            {"matching", tally.matching}};
    if (!s.attribute.empty()) provenance["attribute"] = s.attribute, provenance["withNumericValue"] = tally.numeric;
    IndicatorInput input{InputStatus::Computed, 0, std::move(provenance)};
    switch (s.aggregate) {
      case Aggregate::Count: input.value = static_cast<double>(tally.matching); break;
      case Aggregate::Share:
        if (tally.of_type == 0) input.status = InputStatus::Missing;
        else input.value = static_cast<double>(tally.matching) / static_cast<double>(tally.of_type);
        break;
      case Aggregate::Sum: input.value = tally.sum; break;
      case Aggregate::Avg:
        if (tally.numeric == 0) input.status = InputStatus::Missing;
        else input.value = tally.sum / static_cast<double>(tally.numeric);
        break;
      case Aggregate::Min:
      case Aggregate::Max:
        if (tally.numeric == 0) input.status = InputStatus::Missing;
        else input.value = s.aggregate == Aggregate::Min ? tally.min : tally.max;
        break;
    }
    if (input.status == InputStatus::Missing)
      input.provenance["reason"] = "no " + s.type + " entity " + (tally.of_type ? "with a numeric value" : "in scope");
    out[tally.indicator->code] = std::move(input);
  }
  for (const auto& [suffix, ind] : kpis)
    if (!out.count(ind->code))
      out[ind->code] = {InputStatus::Missing, 0,
                        {{"kind", "kpi"}, {"reason", "no KeyPerformanceIndicator entity ends with " + suffix}}};
  return out;
}

}  // namespace ct::evaluation
