#include "evaluation/framework.hpp"

#include <cmath>

#include "common/text_file.hpp"
#include "jsonld/context_store.hpp"
#include "query/q.hpp"

namespace ct::evaluation {
namespace {

constexpr double kWeightTolerance = 1e-6;

std::string text_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

class FrameworkParser {
 public:
  FrameworkParser(const Vocabulary& vocabulary, const jsonld::Context& ctx) : vocabulary_(vocabulary), ctx_(ctx) {}

  Result<Framework> parse(const json::value& document) {
    const auto* root = document.if_object();
    if (!root) return bad_request("framework: the document must be a JSON object");
    Framework f;
    f.id = text_member(*root, "id");
    if (f.id.empty()) return bad_request("framework: \"id\" must be a non-empty string");
    where_ = "framework " + f.id;
    if (const auto* name = root->if_contains("name"); name && name->is_object()) {
      f.name_zh = text_member(name->get_object(), "zh");
      f.name_en = text_member(name->get_object(), "en");
    }
    f.edition = text_member(*root, "edition");
    f.note = text_member(*root, "note");
    if (const auto* v = root->if_contains("verified")) f.verified = v->is_bool() && v->get_bool();
    if (const auto* total = root->if_contains("total")) {
      if (!total->is_number() || !(total->to_number<double>() > 0)) return fault("", "\"total\" must be a positive number");
      f.total = total->to_number<double>();
    }
    const auto* list = root->if_contains("indicators");
    if (!list || !list->is_array() || list->get_array().empty())
      return fault("", "\"indicators\" must be a non-empty array");
    std::vector<Indicator> read;
    for (const auto& item : list->get_array()) {
      auto indicator = parse_indicator(item, read.size());
      if (!indicator) return indicator.problem();
      read.push_back(std::move(indicator).value());
    }
    if (auto s = link(f, std::move(read)); !s) return s.problem();
    if (auto s = check_weights(f); !s) return s.problem();
    return f;
  }

 private:
  Problem fault(const std::string& code, const std::string& what) const {
    return bad_request(where_ + (code.empty() ? std::string() : ", indicator " + code) + ": " + what);
  }

  Result<Indicator> parse_indicator(const json::value& item, std::size_t position) {
    const auto* o = item.if_object();
    if (!o) return fault("", "indicator #" + std::to_string(position + 1) + " must be an object");
    Indicator ind;
    ind.code = text_member(*o, "code");
    if (ind.code.empty()) return fault("", "indicator #" + std::to_string(position + 1) + " has no \"code\"");
    ind.parent = text_member(*o, "parent");
    if (const auto* name = o->if_contains("name"); name && name->is_object()) {
      ind.name_zh = text_member(name->get_object(), "zh");
      ind.name_en = text_member(name->get_object(), "en");
    }
    if (ind.name_zh.empty() && ind.name_en.empty()) return fault(ind.code, "needs a name (zh or en)");
    const auto* weight = o->if_contains("weight");
    if (!weight || !weight->is_number() || !std::isfinite(weight->to_number<double>()) || weight->to_number<double>() < 0)
      return fault(ind.code, "\"weight\" must be a number ≥ 0");
    ind.weight = weight->to_number<double>();
    if (const auto* v = o->if_contains("verified")) ind.verified = v->is_bool() && v->get_bool();
    const std::string child_weights = text_member(*o, "childWeights");
    if (child_weights == "percent") ind.children_in_percent = true;
    else if (!child_weights.empty() && child_weights != "points")
      return fault(ind.code, "\"childWeights\" must be \"points\" or \"percent\"");
    ind.note = text_member(*o, "note");
    ind.unit = text_member(*o, "unit");
    if (const auto* d = o->if_contains("direction")) {
      if (!d->is_string()) return fault(ind.code, "\"direction\" must be a string");
      auto direction = parse_direction(d->get_string());
      if (!direction) return fault(ind.code, direction.problem().detail);
      ind.direction = *direction;
    }
    if (const auto* rule = o->if_contains("scoring")) {
      auto parsed = parse_scoring_rule(*rule);
      if (!parsed) return fault(ind.code, parsed.problem().detail);
      ind.rule = std::move(parsed).value();
    }
    if (const auto* source = o->if_contains("source")) {
      auto parsed = parse_source(ind.code, *source);
      if (!parsed) return parsed.problem();
      ind.source = std::move(parsed).value();
    }
    return ind;
  }

  Result<IndicatorSource> parse_source(const std::string& code, const json::value& value) {
    const auto* o = value.if_object();
    if (!o) return fault(code, "\"source\" must be an object");
    const std::string kind = text_member(*o, "kind");
    if (kind == "manual") {
      ManualSource m;
      for (auto [key, target] : {std::pair{"min", &m.min}, std::pair{"max", &m.max}}) {
        if (const auto* v = o->if_contains(key)) {
          if (!v->is_number()) return fault(code, std::string("manual source: \"") + key + "\" must be a number");
          *target = v->to_number<double>();
        }
      }
      if (!(m.min < m.max)) return fault(code, "manual source: min must be below max");
      return IndicatorSource{m};
    }
    if (kind == "kpi") {
      KpiSource k;
      k.indicator = text_member(*o, "indicator");
      if (k.indicator.empty()) return fault(code, "kpi source: \"indicator\" must name a KPI");
      if (!vocabulary_.kpi_indicators.count(k.indicator))
        return fault(code, "kpi source: no application publishes a KPI named \"" + k.indicator + "\"");
      if (auto freq = text_member(*o, "frequency"); !freq.empty()) k.frequency = freq;
      if (k.frequency != "hourly" && k.frequency != "daily")
        return fault(code, "kpi source: frequency must be \"hourly\" or \"daily\"");
      return IndicatorSource{k};
    }
    if (kind == "query") return parse_query_source(code, *o);
    return fault(code, "source: unknown kind \"" + kind + "\" (query, kpi, manual)");
  }

  Result<IndicatorSource> parse_query_source(const std::string& code, const json::object& o) {
    TwinQuerySource s;
    s.type = text_member(o, "type");
    const auto type = vocabulary_.attributes.find(s.type);
    if (type == vocabulary_.attributes.end())
      return fault(code, "query source: unknown entity type \"" + s.type + "\"");
    auto aggregate = parse_aggregate(text_member(o, "aggregate"));
    if (!aggregate) return fault(code, "query source: " + aggregate.problem().detail);
    s.aggregate = *aggregate;
    s.q = text_member(o, "q");
    if (!s.q.empty()) {
      auto q = query::parse_q(s.q, ctx_);
      if (!q) return fault(code, "query source: " + q.problem().detail);
      for (const auto& attribute : q->attributes()) {
        const std::string name = ctx_.compact(attribute.str());
        if (!type->second.count(name))
          return fault(code, "query source: q names \"" + name + "\", not an attribute of " + s.type);
      }
    }
    s.attribute = text_member(o, "attribute");
    const bool needs_attribute = s.aggregate != Aggregate::Count && s.aggregate != Aggregate::Share;
    if (needs_attribute && s.attribute.empty())
      return fault(code, "query source: " + std::string(aggregate_name(s.aggregate)) + " needs an \"attribute\"");
    if (!needs_attribute && !s.attribute.empty())
      return fault(code, "query source: " + std::string(aggregate_name(s.aggregate)) + " takes no \"attribute\"");
    if (needs_attribute && !type->second.count(s.attribute))
      return fault(code, "query source: \"" + s.attribute + "\" is not an attribute of " + s.type);
    return IndicatorSource{s};
  }

  // Orders parents before children, checks parents exist and the parent chain has no cycle.
  Status link(Framework& f, std::vector<Indicator> read) {
    std::map<std::string, std::size_t> position;
    for (std::size_t i = 0; i < read.size(); ++i)
      if (!position.emplace(read[i].code, i).second) return fault(read[i].code, "the code is used twice");
    for (const auto& ind : read) {
      if (ind.parent.empty()) continue;
      if (!position.count(ind.parent)) return fault(ind.code, "parent \"" + ind.parent + "\" does not exist");
      // Walk up: a chain longer than the list of indicators must revisit one.
      std::string at = ind.parent;
      for (std::size_t steps = 0; !at.empty(); ++steps) {
        if (steps > read.size() || at == ind.code) return fault(ind.code, "its parent chain forms a cycle");
        at = read[position.at(at)].parent;
      }
    }
    // Breadth-first from the roots keeps file order within each level of a parent.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < read.size(); ++i)
      if (read[i].parent.empty()) order.push_back(i);
    for (std::size_t at = 0; at < order.size(); ++at)
      for (std::size_t i = 0; i < read.size(); ++i)
        if (read[i].parent == read[order[at]].code) order.push_back(i);
    for (std::size_t i : order) {
      f.by_code[read[i].code] = f.indicators.size();
      f.indicators.push_back(std::move(read[i]));
    }
    for (std::size_t i = 0; i < f.indicators.size(); ++i) {
      auto& ind = f.indicators[i];
      if (ind.parent.empty()) f.roots.push_back(i);
      else f.indicators[f.by_code.at(ind.parent)].children.push_back(i);
    }
    for (const auto& ind : f.indicators) {
      if (ind.leaf()) {
        if (!ind.rule) return fault(ind.code, "a leaf indicator needs a \"scoring\" rule");
        if (!ind.source) return fault(ind.code, "a leaf indicator needs a \"source\"");
      } else if (ind.source) {
        return fault(ind.code, "only leaf indicators have a source (this one has sub-indicators)");
      }
    }
    return {};
  }

  Status check_weights(Framework& f) {
    double sum = 0;
    for (std::size_t r : f.roots) sum += f.indicators[r].weight;
    if (std::abs(sum - f.total) > kWeightTolerance)
      return fault("", "the first-level weights sum to " + format_number(sum) + ", not the total " + format_number(f.total));
    for (std::size_t r : f.roots) f.indicators[r].points = f.indicators[r].weight;
    for (auto& ind : f.indicators) {  // parents come first, so ind.points is set here
      if (ind.leaf()) continue;
      double children = 0;
      for (std::size_t c : ind.children) children += f.indicators[c].weight;
      const double expected = ind.children_in_percent ? 100.0 : ind.weight;
      if (std::abs(children - expected) > kWeightTolerance)
        return fault(ind.code, "the weights of its sub-indicators sum to " + format_number(children) + ", not " +
                                   format_number(expected) + (ind.children_in_percent ? " (percent)" : " (its weight)"));
      for (std::size_t c : ind.children)
        f.indicators[c].points = ind.children_in_percent ? ind.points * f.indicators[c].weight / 100.0 : f.indicators[c].weight;
    }
    return {};
  }

  static std::string format_number(double d) {
    std::string out;
    append_double(out, d);
    return out;
  }

  const Vocabulary& vocabulary_;
  const jsonld::Context& ctx_;
  std::string where_;
};

}  // namespace

Result<Aggregate> parse_aggregate(std::string_view text) {
  static const std::pair<std::string_view, Aggregate> kNames[] = {
      {"count", Aggregate::Count}, {"sum", Aggregate::Sum}, {"avg", Aggregate::Avg},
      {"min", Aggregate::Min},     {"max", Aggregate::Max}, {"share", Aggregate::Share}};
  for (const auto& [name, aggregate] : kNames)
    if (name == text) return aggregate;
  return bad_request("unknown aggregate \"" + std::string(text) + "\" (count, sum, avg, min, max, share)");
}

std::string_view aggregate_name(Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::Count: return "count";
    case Aggregate::Sum: return "sum";
    case Aggregate::Avg: return "avg";
    case Aggregate::Min: return "min";
    case Aggregate::Max: return "max";
    case Aggregate::Share: return "share";
  }
  return "count";
}

Result<Vocabulary> parse_vocabulary(const json::value& document) {
  const auto* o = document.if_object();
  if (!o) return bad_request("vocabulary: the document must be a JSON object");
  Vocabulary v;
  if (const auto* types = o->if_contains("types"); types && types->is_object()) {
    for (const auto& [type, attributes] : types->get_object()) {
      if (!attributes.is_array()) return bad_request("vocabulary: type " + std::string(type) + " must list its attributes");
      auto& names = v.attributes[std::string(type)];
      for (const auto& a : attributes.get_array())
        if (a.is_string()) names.emplace(a.get_string());
    }
  }
  if (const auto* kpis = o->if_contains("kpiIndicators"); kpis && kpis->is_array())
    for (const auto& k : kpis->get_array())
      if (k.is_string()) v.kpi_indicators.emplace(k.get_string());
  return v;
}

const Indicator* Framework::find(std::string_view code) const {
  auto it = by_code.find(std::string(code));
  return it == by_code.end() ? nullptr : &indicators[it->second];
}

Result<Framework> load_framework(const json::value& document, const Vocabulary& vocabulary) {
  const jsonld::ContextStore contexts;
  return FrameworkParser(vocabulary, *contexts.core()).parse(document);
}

Result<std::vector<Framework>> load_framework_directory(const std::filesystem::path& folder) {
  auto read_json = [](const std::filesystem::path& path) -> Result<json::value> {
    auto text = read_text_file(path);
    if (!text) return text.problem();
    auto parsed = parse_json(*text);
    if (!parsed) return bad_request(path.filename().string() + ": " + parsed.problem().detail);
    return parsed;
  };
  auto vocabulary_json = read_json(folder / "vocabulary.json");
  if (!vocabulary_json) return vocabulary_json.problem();
  auto vocabulary = parse_vocabulary(*vocabulary_json);
  if (!vocabulary) return vocabulary.problem();
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
    if (entry.path().extension() == ".json" && entry.path().filename() != "vocabulary.json") files.push_back(entry.path());
  if (ec) return Problem{ProblemKind::InternalError, "frameworks: cannot list " + folder.string() + ": " + ec.message()};
  std::sort(files.begin(), files.end());
  const jsonld::ContextStore contexts;
  std::vector<Framework> out;
  for (const auto& path : files) {
    auto document = read_json(path);
    if (!document) return document.problem();
    auto framework = FrameworkParser(*vocabulary, *contexts.core()).parse(*document);
    if (!framework) return bad_request(path.filename().string() + ": " + framework.problem().detail);
    out.push_back(std::move(framework).value());
  }
  return out;
}

json::object indicator_source_json(const IndicatorSource& source) {
  if (const auto* s = std::get_if<TwinQuerySource>(&source)) {
    json::object o{{"kind", "query"}, {"type", s->type}, {"aggregate", aggregate_name(s->aggregate)}};
    if (!s->q.empty()) o["q"] = s->q;
    if (!s->attribute.empty()) o["attribute"] = s->attribute;
    return o;
  }
  if (const auto* s = std::get_if<KpiSource>(&source))
    return {{"kind", "kpi"}, {"indicator", s->indicator}, {"frequency", s->frequency}};
  const auto& m = std::get<ManualSource>(source);
  return {{"kind", "manual"}, {"min", m.min}, {"max", m.max}};
}

json::object framework_json(const Framework& f) {
  json::array indicators;
  for (const auto& ind : f.indicators) {
    json::object o{{"code", ind.code},       {"name", json::object{{"zh", ind.name_zh}, {"en", ind.name_en}}},
                   {"weight", ind.weight},   {"points", ind.points},
                   {"verified", ind.verified}};
    if (!ind.parent.empty()) o["parent"] = ind.parent;
    if (!ind.note.empty()) o["note"] = ind.note;
    if (ind.leaf()) {
      if (!ind.unit.empty()) o["unit"] = ind.unit;
      o["direction"] = direction_name(ind.direction);
      o["scoring"] = scoring_rule_json(*ind.rule);
      o["source"] = indicator_source_json(*ind.source);
    } else {
      json::array children;
      for (std::size_t c : ind.children) children.push_back(json::string(f.indicators[c].code));
      o["children"] = std::move(children);
      if (ind.children_in_percent) o["childWeights"] = "percent";
    }
    indicators.push_back(std::move(o));
  }
  return {{"id", f.id},
          {"name", json::object{{"zh", f.name_zh}, {"en", f.name_en}}},
          {"edition", f.edition},
          {"total", f.total},
          {"verified", f.verified},
          {"note", f.note},
          {"indicators", std::move(indicators)}};
}

}  // namespace ct::evaluation
