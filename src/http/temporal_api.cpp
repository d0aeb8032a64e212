// The temporal API (ETSI GS CIM 009 clause 6.18–6.22): the history of entities, read from the
// history store, with entities selected on their current state by the core query criteria.
//
// Paging of long histories (clause 6.3.10): at most kInstancePage instances of any attribute per
// answer. When an attribute has more in the asked range, every attribute is cut at the same
// instant and the answer is 206 with `Content-Range: date-time <first>-<last>/<lastN or *>`:
// forwards (oldest first) without lastN, backwards (newest first) with it. The next page is asked
// with timerel=after&timeAt=<last> (forwards) or timerel=before&timeAt=<last> (backwards).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "history/aggregate.hpp"
#include "history/duration.hpp"
#include "history/history_store.hpp"
#include "http/entity_query.hpp"
#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "model/names.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::string_view kTemporal = "/ngsi-ld/v1/temporal/entities";
constexpr std::size_t kInstancePage = 1000;
constexpr Timestamp kMinTime = std::numeric_limits<Timestamp>::min() / 2;
constexpr Timestamp kMaxTime = std::numeric_limits<Timestamp>::max();

enum class TimeProperty { ObservedAt, CreatedAt, ModifiedAt };
enum class Representation { Normalized, TemporalValues, Aggregated };

struct TemporalQuery {
  Timestamp from = kMinTime;  // inclusive
  Timestamp to = kMaxTime;    // exclusive
  bool has_timerel = false;
  bool after = false, before = false;
  TimeProperty property = TimeProperty::ObservedAt;
  std::optional<std::size_t> last_n;
  Representation representation = Representation::Normalized;
  bool sys_attrs = false;
  std::vector<history::AggregationMethod> methods;
  std::int64_t period_ms = 0;
  std::unordered_set<std::string> attrs;  // expanded; empty = all
};

Result<Timestamp> time_param(const Call& call, const std::string& name) {
  const std::string text = call.param(name);
  auto t = parse_datetime(text);
  if (!t) return bad_request(name + ": \"" + text.substr(0, 80) + "\" is not an ISO 8601 date-time");
  return *t;
}

Result<TemporalQuery> parse_temporal(const Call& call, const jsonld::Context& ctx, bool aggregation_allowed = true) {
  TemporalQuery q;
  const bool has_timerel = call.has_param("timerel"), has_time_at = call.has_param("timeAt"),
             has_end = call.has_param("endTimeAt");
  if (has_timerel) {
    const std::string timerel = call.param("timerel");
    if (timerel != "before" && timerel != "after" && timerel != "between")
      return bad_request("timerel must be before, after or between, not \"" + timerel.substr(0, 40) + "\"");
    if (!has_time_at) return bad_request("timerel needs timeAt");
    auto at = time_param(call, "timeAt");
    if (!at) return at.problem();
    q.has_timerel = true;
    if (timerel == "between") {
      if (!has_end) return bad_request("timerel=between needs endTimeAt");
      auto end = time_param(call, "endTimeAt");
      if (!end) return end.problem();
      if (*end <= *at) return bad_request("endTimeAt must be later than timeAt");
      q.from = *at;
      q.to = *end;
    } else {
      if (has_end) return bad_request("endTimeAt is only allowed with timerel=between");
      if (timerel == "before") {
        q.to = *at;
        q.before = true;
      } else {
        q.from = *at + 1;
        q.after = true;
      }
    }
  } else if (has_time_at || has_end) {
    return bad_request("timeAt and endTimeAt need timerel");
  }
  if (call.has_param("timeproperty")) {
    const std::string p = call.param("timeproperty");
    if (p == "observedAt") q.property = TimeProperty::ObservedAt;
    else if (p == "createdAt") q.property = TimeProperty::CreatedAt;
    else if (p == "modifiedAt") q.property = TimeProperty::ModifiedAt;
    else return bad_request("timeproperty must be observedAt, createdAt or modifiedAt");
  }
  if (call.has_param("lastN")) {
    const std::string text = call.param("lastN");
    std::size_t n = 0;
    bool ok = !text.empty() && text.size() <= 9;
    for (char c : text) ok = ok && c >= '0' && c <= '9';
    if (ok) n = std::stoul(text);
    if (!ok || n == 0) return bad_request("lastN must be a positive integer, not \"" + text.substr(0, 40) + "\"");
    q.last_n = n;
  }
  for (const auto& o : call.param_list("options")) {
    if (o == "temporalValues" || o == "keyValues" || o == "simplified") q.representation = Representation::TemporalValues;
    else if (o == "aggregatedValues") q.representation = Representation::Aggregated;
    else if (o == "sysAttrs") q.sys_attrs = true;
    else if (o != "normalized") return bad_request("unknown option \"" + o + "\"");
  }
  if (call.param("format") == "temporalValues" || call.param("format") == "simplified")
    q.representation = Representation::TemporalValues;
  else if (call.param("format") == "aggregatedValues")
    q.representation = Representation::Aggregated;
  if (q.representation == Representation::Aggregated) {
    if (!aggregation_allowed) return bad_request("aggregatedValues is not allowed here");
    const auto names = call.param_list("aggrMethods");
    if (names.empty()) return bad_request("options=aggregatedValues needs aggrMethods");
    for (const auto& name : names) {
      auto m = history::parse_method(name);
      if (!m) return m.problem();
      q.methods.push_back(*m);
    }
    if (call.has_param("aggrPeriodDuration")) {
      auto period = history::parse_duration_ms(call.param("aggrPeriodDuration"));
      if (!period) return period.problem();
      q.period_ms = *period;
    }
    if (q.last_n) return bad_request("lastN cannot be combined with aggregatedValues");
  } else if (call.has_param("aggrMethods") || call.has_param("aggrPeriodDuration")) {
    return bad_request("aggrMethods and aggrPeriodDuration need options=aggregatedValues");
  }
  for (const auto& name : call.param_list("attrs")) {
    if (!model::is_valid_term(name)) return bad_request("attrs: \"" + name.substr(0, 80) + "\" is not a valid name");
    q.attrs.insert(ctx.expand(name));
  }
  return q;
}

json::value type_member(const std::vector<model::Term>& types, const jsonld::Context& ctx) {
  if (types.size() == 1) return json::value(ctx.compact(types.front().str()));
  json::array out;
  for (auto t : types) out.emplace_back(ctx.compact(t.str()));
  return out;
}

Timestamp time_of(const history::HistoryInstance& instance, TimeProperty property) {
  switch (property) {
    case TimeProperty::ObservedAt: return instance.time;
    case TimeProperty::ModifiedAt: return instance.changed_at;
    case TimeProperty::CreatedAt:
      return instance.attribute.created_at != kNoTimestamp ? instance.attribute.created_at : instance.changed_at;
  }
  return instance.time;
}

// One attribute's instances selected for an answer.
struct SeriesInstances {
  history::SeriesId series;
  std::vector<history::HistoryInstance> instances;  // in time order
};

// Every instance of the entity's selected series in the query's range.
Result<std::vector<SeriesInstances>> read_instances(Services& s, const std::string& tenant, const std::string& id,
                                                    const TemporalQuery& q) {
  auto all = s.history->series_of(tenant, id);
  if (!all) return all.problem();
  std::vector<SeriesInstances> out;
  for (auto& series : *all) {
    if (!q.attrs.empty() && !q.attrs.contains(series.attribute)) continue;
    SeriesInstances item{series, {}};
    const bool by_record_time = q.property == TimeProperty::ObservedAt;
    auto keep = [&](const history::HistoryInstance& instance) {
      const Timestamp t = time_of(instance, q.property);
      if (t >= q.from && t < q.to) item.instances.push_back(instance);
    };
    Status st;
    if (!by_record_time) {
      st = s.history->read(tenant, series, kMinTime, kMaxTime, keep);
    } else if (!q.last_n) {
      st = s.history->read(tenant, series, q.from, q.to, keep, kInstancePage + 1);  // one more tells "partial"
    } else {
      // The newest ones: windows back from the end, growing fourfold, until enough are found.
      const std::size_t need = std::min(*q.last_n, kInstancePage) + 1;
      const std::uint64_t span = static_cast<std::uint64_t>(q.to) - static_cast<std::uint64_t>(q.from);
      for (std::uint64_t window = 86'400'000;; window = window > span / 4 ? span : window * 4) {
        const Timestamp start = window >= span ? q.from : static_cast<Timestamp>(static_cast<std::uint64_t>(q.to) - window);
        item.instances.clear();
        st = s.history->read(tenant, series, start, q.to, keep);
        if (!st || item.instances.size() >= need || start == q.from) break;
      }
    }
    if (!st) return st.problem();
    if (!by_record_time)
      std::stable_sort(item.instances.begin(), item.instances.end(),
                       [&](const auto& a, const auto& b) { return time_of(a, q.property) < time_of(b, q.property); });
    out.push_back(std::move(item));
  }
  return out;
}

// Applies lastN and the instance page to every series; the Content-Range of a partial answer.
std::optional<std::string> page_instances(std::vector<SeriesInstances>& all, const TemporalQuery& q) {
  const bool backwards = q.last_n.has_value();
  const std::size_t page = std::min(q.last_n.value_or(kInstancePage), kInstancePage);
  std::optional<Timestamp> boundary;
  for (auto& item : all) {
    auto& v = item.instances;
    if (v.size() <= page) continue;
    if (backwards) {
      const Timestamp first_kept = time_of(v[v.size() - page], q.property);
      if (q.last_n > kInstancePage) boundary = boundary ? std::max(*boundary, first_kept) : first_kept;
      v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(page));
    } else {
      const Timestamp last_kept = time_of(v[page - 1], q.property);
      boundary = boundary ? std::min(*boundary, last_kept) : last_kept;
      v.resize(page);
    }
  }
  if (!boundary) return std::nullopt;
  Timestamp newest = kMinTime, oldest = kMaxTime;
  for (auto& item : all) {
    auto& v = item.instances;
    std::erase_if(v, [&](const auto& i) {
      const Timestamp t = time_of(i, q.property);
      return backwards ? t < *boundary : t > *boundary;
    });
    for (const auto& i : v) {
      newest = std::max(newest, time_of(i, q.property));
      oldest = std::min(oldest, time_of(i, q.property));
    }
  }
  const std::string size = q.last_n ? std::to_string(*q.last_n) : "*";
  if (backwards) return "date-time " + format_datetime(newest) + "-" + format_datetime(oldest) + "/" + size;
  return "date-time " + format_datetime(oldest) + "-" + format_datetime(newest) + "/" + size;
}

json::object render_instance(const history::HistoryInstance& instance, const jsonld::Context& ctx, bool sys_attrs) {
  if (instance.deleted) {
    json::object o{{"type", "Property"},
                   {"value", jsonld::kNgsiLdNull},
                   {"deletedAt", format_datetime(instance.changed_at)},
                   {"instanceId", instance.instance_id}};
    if (!instance.attribute.dataset_id.empty()) o["datasetId"] = instance.attribute.dataset_id.str();
    return o;
  }
  model::Entity wrapper;
  wrapper.id = "urn:ngsi-ld:history";
  wrapper.attributes.push_back(instance.attribute);
  jsonld::EncodeOptions options;
  options.sys_attrs = sys_attrs;
  auto encoded = jsonld::encode_entity(wrapper, ctx, options);
  json::object out;
  for (auto& [key, member] : encoded) {
    if (key == "id" || key == "type" || !member.is_object()) continue;
    out = std::move(member.as_object());
    break;
  }
  out["instanceId"] = instance.instance_id;
  if (sys_attrs) out["modifiedAt"] = format_datetime(instance.changed_at);
  return out;
}

// The temporalValues form: {"type": "Property", "values": [[value, time], ...]}.
json::object render_values(const SeriesInstances& item, const TemporalQuery& q) {
  std::string kind = "Property", member = "values";
  json::array values;
  for (const auto& instance : item.instances) {
    if (instance.deleted) continue;
    kind = std::string(model::kind_name(instance.attribute.kind));
    if (instance.attribute.kind == model::AttributeKind::Relationship) member = "objects";
    values.push_back(json::array{instance.attribute.value, format_datetime(time_of(instance, q.property))});
  }
  json::object o{{"type", kind}, {member, std::move(values)}};
  if (!item.series.dataset_id.empty()) o["datasetId"] = item.series.dataset_id;
  return o;
}

bool needs_numbers(history::AggregationMethod m) {
  return m != history::AggregationMethod::TotalCount && m != history::AggregationMethod::DistinctCount;
}

json::value aggregate_value(history::AggregationMethod m, double v) {
  if (!needs_numbers(m)) return static_cast<std::int64_t>(v);
  if (!std::isfinite(v)) return nullptr;
  return v;
}

// The aggregated form of one series: {"type": "Property", "avg": [[value, start, end], ...], ...}.
Result<json::object> aggregate_series(Services& s, const std::string& tenant, const history::SeriesId& series,
                                      const TemporalQuery& q, const jsonld::Context& ctx) {
  std::vector<std::string> blocks;
  std::vector<history::SeriesPoint> points;
  std::vector<history::HistoryInstance> others;  // live non-numeric instances
  bool relationship = false;
  auto st = s.history->read_numeric(
      tenant, series, q.from, q.to, [&](std::string_view block) { blocks.emplace_back(block); },
      [&](const history::HistoryInstance& instance) {
        if (instance.deleted) return;
        if (instance.number) points.push_back({instance.time, *instance.number});
        else {
          relationship = relationship || instance.attribute.kind == model::AttributeKind::Relationship;
          others.push_back(instance);
        }
      });
  if (!st) return st.problem();
  json::object out{{"type", relationship ? "Relationship" : "Property"}};
  if (!series.dataset_id.empty()) out["datasetId"] = series.dataset_id;
  if (!others.empty())
    for (auto m : q.methods)
      if (needs_numbers(m))
        return bad_request(std::string(history::method_name(m)) + " needs numbers, but " + ctx.compact(series.attribute) +
                           " has non-numeric values");

  // The range of the buckets: the query's bounds, else the data's.
  Timestamp first = kMaxTime, last = kMinTime;
  for (const auto& b : blocks) {
    auto reader = history::SeriesBlockReader::open(b);
    if (!reader) return reader.problem();
    const auto& summary = reader->summary();
    if (summary.count == 0) continue;
    first = std::min(first, std::max(summary.first_time, q.from));
    last = std::max(last, std::min(summary.last_time, q.to - 1));
  }
  for (const auto& p : points) first = std::min(first, p.time), last = std::max(last, p.time);
  for (const auto& o : others) first = std::min(first, o.time), last = std::max(last, o.time);
  for (auto m : q.methods) out[history::method_name(m)] = json::array();
  if (first > last) return out;
  // Without a lower bound, buckets are aligned to whole periods (whole hours, days) since the epoch.
  Timestamp from = first;
  if (q.has_timerel && !q.before) from = q.from;
  else if (q.period_ms > 0) from = first - ((first % q.period_ms) + q.period_ms) % q.period_ms;
  Timestamp to = last + 1;
  if (q.has_timerel && !q.after) to = q.to;
  else if (q.period_ms > 0) to = from + ((last - from) / q.period_ms + 1) * q.period_ms;

  if (!others.empty()) {
    // Counting non-numeric values: by their JSON text.
    std::map<std::int64_t, std::pair<std::size_t, std::set<std::string>>> buckets;
    auto add = [&](Timestamp t, std::string text) {
      if (t < from || t >= to) return;
      const std::int64_t index = q.period_ms > 0 ? (t - from) / q.period_ms : 0;
      auto& b = buckets[index];
      ++b.first;
      b.second.insert(std::move(text));
    };
    for (const auto& o : others) add(o.time, to_text(o.attribute.value));
    for (const auto& p : points) add(p.time, to_text(json::value(p.value)));
    for (const auto& b : blocks) {
      auto decoded = history::decode_block(b);
      if (!decoded) return decoded.problem();
      for (const auto& p : *decoded) add(p.time, to_text(json::value(p.value)));
    }
    for (const auto& [index, bucket] : buckets) {
      const Timestamp start = from + index * q.period_ms;
      const Timestamp end = q.period_ms > 0 ? std::min(to, start + q.period_ms) : to;
      for (auto m : q.methods) {
        const std::size_t v = m == history::AggregationMethod::TotalCount ? bucket.first : bucket.second.size();
        out[history::method_name(m)].as_array().push_back(
            json::array{static_cast<std::int64_t>(v), format_datetime(start), format_datetime(end)});
      }
    }
    return out;
  }

  auto aggregator = history::Aggregator::create({from, to, q.period_ms, q.methods});
  if (!aggregator) return aggregator.problem();
  for (const auto& b : blocks)
    if (auto added = aggregator->add_block(b); !added) return added.problem();
  aggregator->add_points(points);
  for (const auto& bucket : aggregator->result())
    for (std::size_t i = 0; i < q.methods.size(); ++i)
      out[history::method_name(q.methods[i])].as_array().push_back(json::array{
          aggregate_value(q.methods[i], bucket.values[i]), format_datetime(bucket.start), format_datetime(bucket.end)});
  return out;
}

// The temporal representation of one entity.
Result<json::object> render_entity(Services& s, const std::string& tenant, const std::string& id,
                                   const std::vector<model::Term>& types, const TemporalQuery& q,
                                   const jsonld::Context& ctx, std::optional<std::string>& content_range) {
  json::object out{{"id", id}};
  if (!types.empty()) out["type"] = type_member(types, ctx);
  auto add = [&](const history::SeriesId& series, json::value v) {
    const std::string name = ctx.compact(series.attribute);
    auto* existing = out.if_contains(name);
    if (!existing) {
      out[name] = std::move(v);
    } else if (existing->is_array() && q.representation != Representation::Normalized) {
      existing->as_array().push_back(std::move(v));
    } else if (existing->is_array()) {
      for (auto& item : v.as_array()) existing->as_array().push_back(std::move(item));
    } else {
      json::array both{std::move(*existing), std::move(v)};
      *existing = std::move(both);
    }
  };
  if (q.representation == Representation::Aggregated) {
    auto all = s.history->series_of(tenant, id);
    if (!all) return all.problem();
    for (const auto& series : *all) {
      if (!q.attrs.empty() && !q.attrs.contains(series.attribute)) continue;
      auto aggregated = aggregate_series(s, tenant, series, q, ctx);
      if (!aggregated) return aggregated.problem();
      add(series, std::move(*aggregated));
    }
    return out;
  }
  auto all = read_instances(s, tenant, id, q);
  if (!all) return all.problem();
  if (auto range = page_instances(*all, q)) content_range = range;
  for (const auto& item : *all) {
    if (item.instances.empty()) continue;
    if (q.representation == Representation::TemporalValues) {
      add(item.series, render_values(item, q));
    } else {
      json::array instances;
      for (const auto& instance : item.instances) instances.push_back(render_instance(instance, ctx, q.sys_attrs));
      add(item.series, std::move(instances));
    }
  }
  return out;
}

Response temporal_response(json::value body, MediaType type, const RequestContext& ctx,
                           const std::optional<std::string>& content_range) {
  Response response = json_response(content_range ? 206 : 200, std::move(body), type, ctx);
  if (content_range) response.set(beast_http::field::content_range, *content_range);
  response.prepare_payload();
  return response;
}

Status check_temporal_entity_id(const std::string& id) {
  if (!model::is_uri(id)) return bad_request("\"" + id.substr(0, 80) + "\" is not a URI");
  return {};
}

Outcome get_temporal_entity(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_temporal_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call, false));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(q, parse_temporal(call, *ctx.context));
  std::vector<model::Term> types;
  const auto current = s.twin.read(tenant, id, [&](const model::Entity& e) { types = e.types; });
  if (!current) {
    auto series = s.history->series_of(tenant, id);
    if (!series) return series.problem();
    if (series->empty()) return not_found("entity " + id + " has no history");
  }
  std::optional<std::string> content_range;
  CT_TRY(body, render_entity(s, tenant, id, types, q, *ctx.context, content_range));
  return temporal_response(std::move(body), type, ctx, content_range);
}

Outcome query_temporal(Services& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call, false));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(q, parse_temporal(call, *ctx.context));
  CT_TRY(limit, page_param(call, "limit", s.limits.default_page, s.limits.max_page));
  CT_TRY(offset, page_param(call, "offset", 0, std::numeric_limits<std::int32_t>::max()));
  Criteria c = criteria_from_parameters(call);
  CT_TRY(query, build_query(c, *ctx.context, tenant, ctx.url));
  std::vector<std::pair<std::string, std::vector<model::Term>>> selected;
  auto total = s.twin.query(tenant, query, offset, limit, [&](const model::Entity& e) { selected.emplace_back(e.id, e.types); });
  if (!total) {
    if (total.problem().kind != ProblemKind::NonexistentTenant) return total.problem();
    total = std::size_t{0};  // a tenant with nothing current selects nothing
  }
  json::array body;
  std::optional<std::string> content_range;
  for (const auto& [id, types] : selected) {
    CT_TRY(entity, render_entity(s, tenant, id, types, q, *ctx.context, content_range));
    body.push_back(std::move(entity));
  }
  Response response = temporal_response(std::move(body), type, ctx, content_range);
  if (call.param("count") == "true") response.set("NGSILD-Results-Count", std::to_string(*total));
  response.prepare_payload();
  return response;
}

// --- temporal provision ------------------------------------------------------------------------

bool is_entity_member(std::string_view key) {
  return key == "id" || key == "type" || key == "@context" || key == "scope" || key == "createdAt" ||
         key == "modifiedAt";
}

// Every attribute instance of a temporal entity fragment: {"attr": instance | [instances...]}.
Result<std::vector<model::Attribute>> decode_instances(const json::object& body, const jsonld::Context& ctx) {
  std::vector<model::Attribute> out;
  for (const auto& [key, member] : body) {
    if (is_entity_member(key)) continue;
    if (!model::is_valid_term(key)) return bad_request("\"" + std::string(key).substr(0, 80) + "\" is not a valid attribute name");
    const auto name = model::Term::intern(ctx.expand(key));
    auto decode_one = [&](const json::value& v) -> Status {
      if (!v.is_object()) return bad_request("each instance of " + std::string(key) + " must be an object");
      auto decoded = jsonld::decode_attribute(name, v, ctx, {});
      if (!decoded) return decoded.problem();
      for (auto& a : *decoded) out.push_back(std::move(a));
      return {};
    };
    if (member.is_array()) {
      for (const auto& item : member.get_array())
        if (auto st = decode_one(item); !st) return st.problem();
    } else if (auto st = decode_one(member); !st) {
      return st.problem();
    }
  }
  return out;
}

std::string instance_key(const model::Attribute& a) {
  return std::string(a.name.str()) + '\0' + std::string(a.dataset_id.str());
}

// Records `instances` in the history with their own observedAt, and brings the entity's current
// state up to the newest of them (creating the entity if needed). Answers once durable.
Outcome provision(Services& s, Call& call, const std::string& tenant, const std::string& id, std::vector<model::Term> types,
                  std::vector<model::Attribute> instances, bool must_exist) {
  std::vector<model::Term> current_types;
  std::map<std::string, Timestamp> current_observed;  // by instance_key
  const auto current = s.twin.read(tenant, id, [&](const model::Entity& e) {
    current_types = e.types;
    for (const auto& a : e.attributes) current_observed[instance_key(a)] = a.observed_at;
  });
  const bool exists = static_cast<bool>(current);
  if (must_exist && !exists) return not_found("entity " + id + " was not found");
  if (!exists && types.empty()) return bad_request("an entity needs a \"type\"");
  const Timestamp now = now_ms();
  std::vector<storage::Write> writes;
  // The newest instance of each attribute becomes its current value, unless the current one is newer.
  std::map<std::string, const model::Attribute*> newest;
  for (const auto& a : instances) {
    s.history->record_backfill(tenant, id, a, now, writes);
    const auto key = instance_key(a);
    const Timestamp t = a.observed_at != kNoTimestamp ? a.observed_at : now;
    auto& best = newest[key];
    if (!best || t >= (best->observed_at != kNoTimestamp ? best->observed_at : now)) best = &a;
  }
  jsonld::DecodedEntity update;
  update.header.id = id;
  update.header.types = types.empty() ? current_types : types;
  for (const auto& [key, a] : newest) {
    auto it = current_observed.find(key);
    if (it != current_observed.end() && it->second != kNoTimestamp && a->observed_at != kNoTimestamp &&
        it->second > a->observed_at)
      continue;
    update.attributes.push_back(*a);
  }
  // One durable group: the history records and the entity's change together (a crash keeps both or
  // neither). The change says it is a back-fill, so history does not record it a second time.
  storage::Sequence sequence = 0;
  if (!exists || !update.attributes.empty()) {
    std::vector<jsonld::DecodedEntity> batch;
    batch.push_back(std::move(update));
    auto outcome = s.twin.batch_upsert(tenant, std::move(batch), twin::UpsertMode::Update,
                                       {twin::Origin::TemporalBackfill, {}}, std::move(writes));
    if (!outcome.items.empty() && outcome.items.front().error)
      return *outcome.items.front().error;
    sequence = outcome.sequence;
  } else if (!writes.empty()) {
    sequence = s.store.enqueue(std::move(writes));
  }
  Response response = make_response(exists ? 204 : 201);
  if (!exists) response.set(beast_http::field::location, std::string(kTemporal) + "/" + id);
  return answer_when_durable(call, s.store, sequence, std::move(response));
}

Outcome create_temporal(Services& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  const auto* id = body.object.if_contains("id");
  if (!id || !id->is_string() || !model::is_uri(id->get_string()))
    return bad_request("a temporal entity needs an \"id\" that is a URI");
  std::vector<model::Term> types;
  if (const auto* type = body.object.if_contains("type")) {
    std::vector<std::string> names;
    if (type->is_string()) names.emplace_back(type->get_string());
    else if (type->is_array())
      for (const auto& t : type->get_array())
        if (t.is_string()) names.emplace_back(t.get_string());
    if (names.empty()) return bad_request("type must be a name or an array of names");
    for (const auto& n : names) {
      if (!model::is_valid_term(n)) return bad_request("\"" + n.substr(0, 80) + "\" is not a valid type");
      types.push_back(model::Term::intern(body.context.context->expand(n)));
    }
  }
  CT_TRY(instances, decode_instances(body.object, *body.context.context));
  return provision(s, call, tenant, std::string(id->get_string()), std::move(types), std::move(instances), false);
}

Outcome append_temporal(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_temporal_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(instances, decode_instances(body.object, *body.context.context));
  if (instances.empty()) return bad_request("no attribute instance to add");
  return provision(s, call, tenant, id, {}, std::move(instances), true);
}

// The deletions of history run on the history's rewrite thread (they may scan and rewrite a long
// history and wait for the disk): the worker returns at once, and the answer goes once durable.
history::HistoryStore::Done answer_when_deleted(Later later) {
  return [later = std::move(later)](const Status& status) {
    if (status) later.answer(make_response(204));
    else later.fail(status.problem());
  };
}

Outcome delete_temporal_entity(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_temporal_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(series, s.history->series_of(tenant, id));
  storage::Sequence sequence = 0;
  // The deletion record history makes of this change goes with the whole history, once durable.
  auto removed = s.twin.remove(tenant, id);
  if (!removed && series.empty()) return removed.problem();
  if (removed) sequence = removed->sequence;
  s.history->delete_entity(tenant, id, sequence, answer_when_deleted(call.later()));
  return Deferred{};
}

Result<std::string> attribute_param(const Call& call, const jsonld::Context& ctx) {
  const std::string& short_name = call.path_params[1];
  if (!model::is_valid_term(short_name)) return bad_request("\"" + short_name.substr(0, 80) + "\" is not a valid attribute name");
  return ctx.expand(short_name);
}

Outcome delete_temporal_attribute(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_temporal_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(attribute, attribute_param(call, *ctx.context));
  std::optional<std::string> dataset;
  if (call.param("deleteAll") != "true") dataset = call.param("datasetId");
  if (dataset && !dataset->empty() && !model::is_uri(*dataset))
    return bad_request("datasetId must be a URI");
  CT_TRY(series, s.history->series_of(tenant, id));
  const bool found = std::any_of(series.begin(), series.end(), [&](const auto& x) {
    return x.attribute == attribute && (!dataset || x.dataset_id == *dataset);
  });
  if (!found) return not_found("attribute " + call.path_params[1] + " has no history");
  s.history->delete_attribute(tenant, id, attribute, dataset, answer_when_deleted(call.later()));
  return Deferred{};
}

Outcome delete_temporal_instance(Services& s, Call& call) {
  const std::string& id = call.path_params[0];
  if (auto st = check_temporal_entity_id(id); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(attribute, attribute_param(call, *ctx.context));
  s.history->delete_instance(tenant, id, attribute, call.path_params[2], answer_when_deleted(call.later()));
  return Deferred{};
}

}  // namespace

void add_temporal_routes(Router& router, Services& s) {
  auto bind = [&s](Outcome (*fn)(Services&, Call&)) {
    return [&s, fn](Call& call) -> Outcome {
      if (!s.history) return Problem{ProblemKind::OperationNotSupported, "history is not kept"};
      return fn(s, call);
    };
  };
  const std::string base(kTemporal);
  router.add(verb::get, base, bind(query_temporal));
  router.add(verb::post, base, bind(create_temporal));
  router.add(verb::get, base + "/{id}", bind(get_temporal_entity));
  router.add(verb::delete_, base + "/{id}", bind(delete_temporal_entity));
  router.add(verb::post, base + "/{id}/attrs", bind(append_temporal));
  router.add(verb::delete_, base + "/{id}/attrs/{attr}", bind(delete_temporal_attribute));
  router.add(verb::delete_, base + "/{id}/attrs/{attr}/{instanceId}", bind(delete_temporal_instance));
}

}  // namespace ct::http
