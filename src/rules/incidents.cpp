#include "rules/incidents.hpp"

#include <atomic>

#include "model/names.hpp"
#include "rules/ngsi_values.hpp"

namespace ct::rules {
namespace {

using model::Term;

std::string_view step_name(IncidentStep step) {
  switch (step) {
    case IncidentStep::Acknowledge: return "acknowledged";
    case IncidentStep::Dispatch: return "dispatched";
    case IncidentStep::Resolve: return "resolved";
    case IncidentStep::Close: return "closed";
  }
  return "?";
}

bool allowed(std::string_view from, IncidentStep step) {
  switch (step) {
    case IncidentStep::Acknowledge: return from == "open";
    case IncidentStep::Dispatch: return from == "acknowledged";
    case IncidentStep::Resolve: return from == "acknowledged" || from == "dispatched";
    case IncidentStep::Close: return from == "resolved";
  }
  return false;
}

Result<std::string> optional_string(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string() || v->get_string().size() > 4096) return bad_request(std::string(name) + ": must be a string");
  return std::string(v->get_string());
}

}  // namespace

struct Incidents::Snapshot {
  std::string id;
  std::string status;
  Timestamp opened_at = kNoTimestamp;
  std::optional<Position> at;
  std::string unit_kind;
  json::array timeline;
};

Incidents::Incidents(twin::Twin& twin, jsonld::ContextPtr context, RoadGraphs& roads)
    : twin_(twin), context_(std::move(context)), roads_(roads) {}

Result<IncidentSpec> Incidents::parse_spec(const json::object& body) {
  IncidentSpec spec;
  for (const auto& m : body) {
    static constexpr std::array<std::string_view, 8> kMembers{"id", "category", "subCategory", "description",
                                                              "severity", "location", "unitKind", "by"};
    if (std::find(kMembers.begin(), kMembers.end(), m.key()) == kMembers.end())
      return bad_request(std::string(m.key()) + ": unknown member of an incident");
  }
  auto id = optional_string(body, "id");
  if (!id) return id.problem();
  if (!id->empty() && !model::is_uri(*id)) return bad_request("id: must be a URI");
  spec.id = *id;
  auto category = optional_string(body, "category");
  if (!category) return category.problem();
  if (category->empty()) return bad_request("category: is required");
  spec.category = *category;
  for (auto [name, field] : {std::pair{"subCategory", &spec.sub_category}, std::pair{"description", &spec.description},
                             std::pair{"unitKind", &spec.unit_kind}, std::pair{"by", &spec.by}}) {
    auto v = optional_string(body, name);
    if (!v) return v.problem();
    if (!v->empty()) *field = *v;
  }
  auto severity = optional_string(body, "severity");
  if (!severity) return severity.problem();
  if (!severity->empty()) spec.severity = *severity;
  if (const auto* location = body.if_contains("location")) {
    if (!representative_point(*location)) return bad_request("location: must be a GeoJSON geometry");
    spec.location = *location;
  }
  return spec;
}

Result<StepRequest> Incidents::parse_step(IncidentStep step, const json::object& body) {
  StepRequest request;
  request.step = step;
  auto by = optional_string(body, "by");
  if (!by) return by.problem();
  if (by->empty()) return bad_request("by: is required (who takes this step)");
  request.by = *by;
  auto note = optional_string(body, "note");
  if (!note) return note.problem();
  request.note = *note;
  auto unit = optional_string(body, "unit");
  if (!unit) return unit.problem();
  request.unit = *unit;
  auto kind = optional_string(body, "kind");
  if (!kind) return kind.problem();
  request.kind = *kind;
  auto rank = optional_string(body, "rankBy");
  if (!rank) return rank.problem();
  if (*rank == "travelTime") request.rank = RankBy::TravelTime;
  else if (rank->empty() || *rank == "distance") request.rank = RankBy::Distance;
  else return bad_request("rankBy: must be distance or travelTime");
  return request;
}

Result<Written> Incidents::open(const std::string& tenant, const IncidentSpec& spec, const twin::WriteOrigin& origin) {
  static std::atomic<std::uint64_t> counter{0};
  const Timestamp now = now_ms();
  const std::string id =
      spec.id.empty() ? "urn:ngsi-ld:Incident:" + std::to_string(now) + "-" + std::to_string(++counter) : spec.id;
  json::object body{{"id", id},
                    {"type", "Incident"},
                    {"status", property("open")},
                    {"category", property(spec.category)},
                    {"severity", property(spec.severity)},
                    {"openedAt", property(date_time(now))},
                    {"timeline", property(json::array{json::object{
                                     {"status", "open"}, {"by", spec.by}, {"at", format_datetime(now)}}})}};
  if (!spec.sub_category.empty()) body["subCategory"] = property(spec.sub_category);
  if (!spec.description.empty()) body["description"] = property(spec.description);
  if (!spec.unit_kind.empty()) body["unitKind"] = property(spec.unit_kind);
  if (spec.location) body["location"] = json::object{{"type", "GeoProperty"}, {"value", *spec.location}};
  if (!spec.alert.empty()) body["alert"] = json::object{{"type", "Relationship"}, {"object", spec.alert}};
  if (!spec.source.empty() && model::is_uri(spec.source))
    body["concerns"] = json::object{{"type", "Relationship"}, {"object", spec.source}};
  auto decoded = jsonld::decode_entity(body, *context_, {});
  if (!decoded) return decoded.problem();
  auto created = twin_.create(tenant, std::move(decoded).value(), origin);
  if (!created) return created.problem();
  return Written{id, created->sequence, {}};
}

Result<Incidents::Snapshot> Incidents::load(const std::string& tenant, const std::string& id) const {
  Snapshot s;
  bool is_incident = false;
  const Term type = Term::intern(context_->expand("Incident"));
  const Term status = Term::intern(context_->expand("status"));
  const Term opened = Term::intern(context_->expand("openedAt"));
  const Term location = Term::intern(context_->expand("location"));
  const Term kind = Term::intern(context_->expand("unitKind"));
  const Term timeline = Term::intern(context_->expand("timeline"));
  auto read = twin_.read(tenant, id, [&](const model::Entity& e) {
    is_incident = e.has_type(type);
    s.id = e.id;
    if (const auto* a = e.find(status); a && a->value.is_string()) s.status = std::string(a->value.get_string());
    if (const auto* a = e.find(opened)) {
      const json::value* v = &a->value;
      if (v->is_object() && v->get_object().contains("@value")) v = &v->get_object().at("@value");
      if (v->is_string())
        if (auto t = parse_datetime(v->get_string())) s.opened_at = *t;
    }
    if (const auto* a = e.find(location)) s.at = representative_point(a->value);
    if (const auto* a = e.find(kind); a && a->value.is_string()) s.unit_kind = std::string(a->value.get_string());
    if (const auto* a = e.find(timeline); a && a->value.is_array()) s.timeline = a->value.get_array();
  });
  if (!read) return read.problem();
  if (!is_incident) return not_found("incident " + id + " was not found");
  return s;
}

std::vector<Unit> Incidents::available_units(const std::string& tenant, const std::string& kind) const {
  std::vector<Unit> units;
  const Term type = Term::intern(context_->expand("ResponseUnit"));
  const Term kind_name = Term::intern(context_->expand("kind"));
  const Term available = Term::intern(context_->expand("available"));
  const Term location = Term::intern(context_->expand("location"));
  (void)twin_.scan(tenant, [&](const model::Entity& e) {
    if (!e.has_type(type)) return;
    const auto* k = e.find(kind_name);
    const auto* a = e.find(available);
    const auto* l = e.find(location);
    if (!k || k->value != json::value(kind) || !a || a->value != json::value(true) || !l) return;
    if (auto at = representative_point(l->value)) units.push_back({e.id, *at});
  });
  return units;
}

Result<std::vector<Candidate>> Incidents::proposals(const std::string& tenant, const std::string& id,
                                                    const std::string& kind, RankBy rank, std::size_t limit) {
  auto incident = load(tenant, id);
  if (!incident) return incident.problem();
  const std::string wanted = kind.empty() ? incident->unit_kind : kind;
  if (wanted.empty()) return bad_request("kind: say which kind of unit (the incident has no unitKind)");
  if (!incident->at) return Problem{ProblemKind::Conflict, "incident " + id + " has no location"};
  auto roads = roads_.find(tenant);
  auto ranked = rank_units(*incident->at, available_units(tenant, wanted), rank, roads.get());
  if (ranked.size() > limit) ranked.resize(limit);
  return ranked;
}

Result<Written> Incidents::assign(const std::string& tenant, const Snapshot& incident, const Candidate& unit,
                                  const std::string& by, const std::string& note) {
  const Timestamp now = now_ms();
  json::array timeline = incident.timeline;
  json::object entry{{"status", "dispatched"}, {"by", by}, {"at", format_datetime(now)}, {"unit", unit.unit}};
  if (!note.empty()) entry["note"] = note;
  timeline.push_back(std::move(entry));
  json::object body{{"status", property("dispatched")},
                    {"dispatchedAt", property(date_time(now))},
                    {"timeline", property(std::move(timeline))},
                    {"assignedUnit", json::object{{"type", "Relationship"}, {"object", unit.unit}}}};
  if (incident.opened_at != kNoTimestamp)
    body["timeToDispatch"] = json::object{{"type", "Property"}, {"value", double(now - incident.opened_at) / 1000.0}, {"unitCode", "SEC"}};
  json::object unit_body{{"available", property(false)},
                         {"assignedIncident", json::object{{"type", "Relationship"}, {"object", incident.id}}}};
  auto unit_fragment = jsonld::decode_entity(unit_body, *context_, {});
  auto fragment = jsonld::decode_entity(body, *context_, {});
  if (!unit_fragment) return unit_fragment.problem();
  if (!fragment) return fragment.problem();
  auto unit_done = twin_.merge(tenant, unit.unit, std::move(unit_fragment).value());
  if (!unit_done) return unit_done.problem();
  auto done = twin_.merge(tenant, incident.id, std::move(fragment).value());
  if (!done) return done.problem();
  json::object detail{{"unit", unit.unit}, {"distance", unit.distance_m}};
  if (unit.travel_time_s >= 0) detail["travelTime"] = unit.travel_time_s;
  return Written{incident.id, std::max(unit_done->sequence, done->sequence), std::move(detail)};
}

Result<Written> Incidents::advance(const std::string& tenant, const std::string& id, const StepRequest& request) {
  std::lock_guard lock(mutex_);
  auto incident = load(tenant, id);
  if (!incident) return incident.problem();
  if (!allowed(incident->status, request.step))
    return Problem{ProblemKind::Conflict, std::string(kIllegalTransition) + ": incident " + id + " is " +
                                              incident->status + ", it cannot be " + std::string(step_name(request.step))};
  if (request.step == IncidentStep::Dispatch) {
    const std::string kind = request.kind.empty() ? incident->unit_kind : request.kind;
    std::vector<Candidate> ranked;
    if (!request.unit.empty()) {
      // The unit the operator named: it must be an available unit of the kind the incident needs.
      const auto units = available_units(tenant, kind);
      const auto named = std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.id == request.unit; });
      if (kind.empty() || named == units.end())
        return Problem{ProblemKind::Conflict, "unit " + request.unit + " is not an available unit of kind " + kind};
      ranked = rank_units(incident->at.value_or(named->at), {*named}, request.rank, roads_.find(tenant).get());
    } else {
      if (kind.empty()) return bad_request("kind: say which kind of unit to dispatch (the incident has no unitKind)");
      if (!incident->at) return Problem{ProblemKind::Conflict, "incident " + id + " has no location: name the unit"};
      auto roads = roads_.find(tenant);
      ranked = rank_units(*incident->at, available_units(tenant, kind), request.rank, roads.get());
      if (ranked.empty()) return Problem{ProblemKind::Conflict, "no available unit of kind " + kind};
    }
    return assign(tenant, *incident, ranked.front(), request.by, request.note);
  }
  const Timestamp now = now_ms();
  json::array timeline = incident->timeline;
  json::object entry{{"status", step_name(request.step)}, {"by", request.by}, {"at", format_datetime(now)}};
  if (!request.note.empty()) entry["note"] = request.note;
  timeline.push_back(std::move(entry));
  json::object body{{"status", property(step_name(request.step))}, {"timeline", property(std::move(timeline))}};
  const double seconds = incident->opened_at == kNoTimestamp ? 0 : double(now - incident->opened_at) / 1000.0;
  auto measure = [&](const char* name) {
    body[name] = json::object{{"type", "Property"}, {"value", seconds}, {"unitCode", "SEC"}};
  };
  switch (request.step) {
    case IncidentStep::Acknowledge:
      body["acknowledgedAt"] = property(date_time(now));
      measure("timeToAcknowledge");
      break;
    case IncidentStep::Resolve:
      body["resolvedAt"] = property(date_time(now));
      measure("timeToResolve");
      break;
    case IncidentStep::Close: body["closedAt"] = property(date_time(now)); break;
    case IncidentStep::Dispatch: break;
  }
  auto fragment = jsonld::decode_entity(body, *context_, {});
  if (!fragment) return fragment.problem();
  auto done = twin_.merge(tenant, id, std::move(fragment).value());
  if (!done) return done.problem();
  return Written{id, done->sequence, {}};
}

Result<std::vector<Written>> Incidents::dispatch_many(const std::string& tenant, const std::vector<std::string>& ids,
                                                      const std::string& kind, RankBy rank, const std::string& by) {
  std::lock_guard lock(mutex_);
  if (ids.empty() || ids.size() > 100) return bad_request("incidents: between 1 and 100 incident ids");
  if (kind.empty()) return bad_request("kind: is required");
  std::vector<Snapshot> incidents;
  for (const auto& id : ids) {
    auto s = load(tenant, id);
    if (!s) return s.problem();
    if (!allowed(s->status, IncidentStep::Dispatch))
      return Problem{ProblemKind::Conflict, std::string(kIllegalTransition) + ": incident " + id + " is " + s->status};
    if (!s->at) return Problem{ProblemKind::Conflict, "incident " + id + " has no location"};
    incidents.push_back(std::move(s).value());
  }
  const auto units = available_units(tenant, kind);
  if (units.size() > 500) return bad_request("too many available units to assign at once (at most 500)");
  auto roads = roads_.find(tenant);
  std::vector<std::vector<double>> cost;
  std::vector<std::vector<Candidate>> ranked;
  for (const auto& incident : incidents) {
    auto r = rank_units(*incident.at, units, rank, roads.get());
    std::vector<double> row(units.size(), -1);
    for (const auto& c : r) {
      const auto j = std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.id == c.unit; }) - units.begin();
      row[j] = rank == RankBy::TravelTime && roads ? c.travel_time_s : c.distance_m;
    }
    cost.push_back(std::move(row));
    ranked.push_back(std::move(r));
  }
  const auto choice = assign_min_cost(cost);
  std::vector<Written> out;
  for (std::size_t i = 0; i < incidents.size(); ++i) {
    if (choice[i] < 0) continue;
    const auto& unit_id = units[choice[i]].id;
    const auto c = std::find_if(ranked[i].begin(), ranked[i].end(), [&](const Candidate& x) { return x.unit == unit_id; });
    auto written = assign(tenant, incidents[i], *c, by, "");
    if (!written) return written.problem();
    out.push_back(std::move(written).value());
  }
  return out;
}

}  // namespace ct::rules
