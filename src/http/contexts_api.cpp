// /ngsi-ld/v1/jsonldContexts: the @context documents the broker holds for its users.
#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::string_view kContexts = "/ngsi-ld/v1/jsonldContexts";

json::object describe(const jsonld::StoredContext& c) {
  json::object o;
  o["URL"] = c.url;
  o["localId"] = c.url;
  o["kind"] = c.kind;
  if (c.created_at.time_since_epoch().count() != 0)
    o["createdAt"] = format_datetime(
        std::chrono::duration_cast<std::chrono::milliseconds>(c.created_at.time_since_epoch()).count());
  return o;
}

}  // namespace

Status restore_hosted_contexts(storage::Store& store, jsonld::ContextStore& contexts) {
  return store.scan(storage::Collection::Contexts, "", [&](std::string_view url, std::string_view document) {
    if (auto parsed = parse_json(document)) contexts.restore_hosted(std::string(url), std::move(parsed).value());
    return true;
  });
}

void add_context_routes(Router& router, Services& s) {
  const std::string base(kContexts);
  router.add(verb::post, base, [&s](Call& call) -> Outcome {
    CT_TRY(body, read_json_value(call));
    CT_TRY(url, s.contexts.register_context(body));
    Response response = make_response(201);
    response.set(beast_http::field::location, std::string(kContexts) + "/" + url);
    const auto seq = s.store.enqueue({{storage::Collection::Contexts, url, to_text(body)}});
    return answer_when_durable(call, s.store, seq, std::move(response));
  });
  router.add(verb::get, base, [&s](Call& call) -> Outcome {
    const bool details = call.param("details") == "true";
    json::array list;
    for (const auto& c : s.contexts.list()) {
      if (details)
        list.push_back(describe(c));
      else
        list.push_back(json::value(c.url));
    }
    return make_response(200, to_text(list));
  });
  router.add(verb::get, base + "/{id}", [&s](Call& call) -> Outcome {
    CT_TRY(stored, s.contexts.get(call.path_params[0]));
    if (call.param("details") == "true") return make_response(200, to_text(describe(stored)));
    return make_response(200, to_text(stored.document), "application/ld+json");
  });
  router.add(verb::delete_, base + "/{id}", [&s](Call& call) -> Outcome {
    if (auto st = s.contexts.remove(call.path_params[0]); !st) return st.problem();
    const auto seq = s.store.enqueue({{storage::Collection::Contexts, call.path_params[0], std::nullopt}});
    return answer_when_durable(call, s.store, seq, make_response(204));
  });
}

void add_health_routes(Router& router, Services& s) {
  router.add(verb::get, "/health", [&s](Call&) -> Outcome {
    const auto stats = s.twin.stats();
    const auto storage = s.store.health();
    json::object body;
    // Degraded, not down: reads, deletes and the server go on; writes come back by themselves.
    body["status"] = storage.writable ? "ok" : "degraded";
    if (!storage.writable) body["reason"] = storage.reason;
    body["version"] = "0.1.0";
    body["uptimeSeconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - s.started).count();
    body["entities"] = stats.entities;
    body["tenants"] = stats.tenants;
    return make_response(200, to_text(body));
  });
}

}  // namespace ct::http
