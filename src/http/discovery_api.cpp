// Discovery: which entity types and attributes the tenant holds (clause 5.7.5–5.7.10).
// Computed from the entities on request: discovery is rare, and nothing is kept in step on writes.
#include <map>
#include <set>

#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "model/names.hpp"

namespace ct::http {
namespace {

using beast_http::verb;

// Terms in the order of their text, so that lists come out sorted.
struct TermLess {
  bool operator()(model::Term a, model::Term b) const { return a.str() < b.str(); }
};
struct AttributeFacts {
  std::size_t count = 0;
  std::set<std::string_view> kinds;
  std::set<model::Term, TermLess> types;
};
struct TypeFacts {
  std::size_t count = 0;
  std::map<model::Term, std::set<std::string_view>, TermLess> attributes;  // name → kinds
};

struct Census {
  std::map<model::Term, TypeFacts, TermLess> types;
  std::map<model::Term, AttributeFacts, TermLess> attributes;
};

Result<Census> take_census(Services& s, const std::string& tenant) {
  Census census;
  auto st = s.twin.scan(tenant, [&](const model::Entity& e) {
    for (auto type : e.types) {
      auto& facts = census.types[type];
      ++facts.count;
      for (const auto& a : e.attributes) facts.attributes[a.name].insert(model::kind_name(a.kind));
    }
    for (const auto& a : e.attributes) {
      auto& facts = census.attributes[a.name];
      ++facts.count;
      facts.kinds.insert(model::kind_name(a.kind));
      for (auto type : e.types) facts.types.insert(type);
    }
  });
  if (!st) return st.problem();
  return census;
}

template <class Strings>
json::array strings(const Strings& items) {
  json::array out;
  for (const auto& item : items) out.push_back(json::value(item));
  return out;
}

json::array compacted(const auto& terms, const jsonld::Context& ctx) {
  json::array out;
  for (const auto& term : terms) out.push_back(json::value(ctx.compact(term.str())));
  return out;
}

template <class Handler>
Outcome discovery(Services& s, Call& call, Handler handler) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call, /*allow_geojson=*/false));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(census, take_census(s, tenant));
  auto body = handler(census, *ctx.context);
  if (!body) return body.problem();
  return json_response(200, std::move(body).value(), type, ctx);
}

}  // namespace

void add_discovery_routes(Router& router, Services& s) {
  router.add(verb::get, "/ngsi-ld/v1/types", [&s](Call& call) -> Outcome {
    const bool details = call.param("details") == "true";
    return discovery(s, call, [&](const Census& census, const jsonld::Context& ctx) -> Result<json::value> {
      if (!details) {
        std::vector<model::Term> names;
        for (const auto& [type, facts] : census.types) names.push_back(type);
        return json::value(json::object{{"id", "urn:ngsi-ld:EntityTypeList:" + std::to_string(census.types.size())},
                                        {"type", "EntityTypeList"},
                                        {"typeList", compacted(names, ctx)}});
      }
      json::array list;
      for (const auto& [type, facts] : census.types) {
        std::vector<model::Term> attributes;
        for (const auto& [name, kinds] : facts.attributes) attributes.push_back(name);
        list.push_back(json::object{{"id", type.str()}, {"type", "EntityType"}, {"typeName", ctx.compact(type.str())},
                                    {"attributeNames", compacted(attributes, ctx)}});
      }
      return json::value(std::move(list));
    });
  });
  router.add(verb::get, "/ngsi-ld/v1/types/{type}", [&s](Call& call) -> Outcome {
    const std::string name = call.path_params[0];
    return discovery(s, call, [&](const Census& census, const jsonld::Context& ctx) -> Result<json::value> {
      if (!model::is_valid_term(name)) return bad_request("\"" + name.substr(0, 80) + "\" is not a valid type name");
      auto it = census.types.find(model::Term::intern(ctx.expand(name)));
      if (it == census.types.end()) return not_found("no entity of type " + name);
      json::array details;
      for (const auto& [attribute, kinds] : it->second.attributes)
        details.push_back(json::object{{"id", attribute.str()}, {"type", "Attribute"},
                                       {"attributeName", ctx.compact(attribute.str())}, {"attributeTypes", strings(kinds)}});
      return json::value(json::object{{"id", it->first.str()}, {"type", "EntityTypeInfo"},
                                      {"typeName", ctx.compact(it->first.str())}, {"entityCount", it->second.count},
                                      {"attributeDetails", std::move(details)}});
    });
  });
  router.add(verb::get, "/ngsi-ld/v1/attributes", [&s](Call& call) -> Outcome {
    const bool details = call.param("details") == "true";
    return discovery(s, call, [&](const Census& census, const jsonld::Context& ctx) -> Result<json::value> {
      if (!details) {
        std::vector<model::Term> names;
        for (const auto& [name, facts] : census.attributes) names.push_back(name);
        return json::value(json::object{
            {"id", "urn:ngsi-ld:EntityAttributeList:" + std::to_string(census.attributes.size())},
            {"type", "EntityAttributeList"},
            {"attributeList", compacted(names, ctx)}});
      }
      json::array list;
      for (const auto& [name, facts] : census.attributes)
        list.push_back(json::object{{"id", name.str()}, {"type", "Attribute"}, {"attributeName", ctx.compact(name.str())},
                                    {"typeNames", compacted(facts.types, ctx)}});
      return json::value(std::move(list));
    });
  });
  router.add(verb::get, "/ngsi-ld/v1/attributes/{attr}", [&s](Call& call) -> Outcome {
    const std::string name = call.path_params[0];
    return discovery(s, call, [&](const Census& census, const jsonld::Context& ctx) -> Result<json::value> {
      if (!model::is_valid_term(name)) return bad_request("\"" + name.substr(0, 80) + "\" is not a valid attribute name");
      auto it = census.attributes.find(model::Term::intern(ctx.expand(name)));
      if (it == census.attributes.end()) return not_found("no attribute " + name);
      return json::value(json::object{{"id", it->first.str()}, {"type", "Attribute"},
                                      {"attributeName", ctx.compact(it->first.str())},
                                      {"attributeCount", it->second.count},
                                      {"attributeTypes", strings(it->second.kinds)},
                                      {"typeNames", compacted(it->second.types, ctx)}});
    });
  });
}

}  // namespace ct::http
