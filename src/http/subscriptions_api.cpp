// /ngsi-ld/v1/subscriptions (ETSI GS CIM 009 v1.8, clauses 5.8 and 6.10–6.11), and the WebSocket
// stream of one subscription's notifications. Parsing, matching and delivery are in notify/.
#include <boost/url/parse.hpp>
#include <charconv>
#include <limits>

#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "notify/subscriptions.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::string_view kSubscriptions = "/ngsi-ld/v1/subscriptions";

// The @context of a request body as a subscription keeps it: the URL (Link header, or an inline
// @context that is a URL), the inline value itself, or null for the core context.
Result<notify::ContextRef> context_of(const Call& call, const JsonBody& body) {
  if (!body.context.url.empty()) return notify::ContextRef{json::value(body.context.url), body.context.context};
  if (call.header(beast_http::field::content_type).find("ld+json") != std::string_view::npos) {
    auto document = parse_json(call.request.body());  // read_json_body took the @context out: read it again
    if (!document) return document.problem();
    if (const auto* inline_context = document->as_object().if_contains("@context"))
      return notify::ContextRef{*inline_context, body.context.context};
  }
  return notify::ContextRef{nullptr, body.context.context};
}

Status wired(const Services& s) {
  if (!s.subscriptions) return Problem{ProblemKind::OperationNotSupported, "subscriptions are not enabled"};
  return {};
}

Outcome create_subscription(Services& s, Call& call) {
  if (auto st = wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(ctx, context_of(call, body));
  CT_TRY(created, s.subscriptions->create(tenant, body.object, ctx));
  Response response = make_response(201);
  response.set(beast_http::field::location, std::string(kSubscriptions) + "/" + created.id);
  return answer_when_durable(call, s.store, created.sequence, std::move(response));
}

Outcome list_subscriptions(Services& s, Call& call) {
  if (auto st = wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call, /*allow_geojson=*/false));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(limit, page_param(call, "limit", s.limits.default_page, s.limits.max_page));
  CT_TRY(offset, page_param(call, "offset", 0, std::numeric_limits<std::int32_t>::max()));
  const bool want_count = call.param("count") == "true";
  if (limit == 0 && !want_count) return bad_request("limit=0 is only allowed with count=true");
  const bool sys_attrs = has_option(call, "sysAttrs");
  std::size_t total = 0;
  json::array list;
  const Timestamp now = now_ms();
  for (const auto& view : s.subscriptions->list(tenant, offset, limit, total))
    list.push_back(notify::render_subscription(*view.subscription, view.report, *ctx.context, now, sys_attrs));
  Response response = json_response(200, std::move(list), type, ctx);
  if (want_count) response.set("NGSILD-Results-Count", std::to_string(total));
  response.prepare_payload();
  return response;
}

Outcome get_subscription(Services& s, Call& call) {
  if (auto st = wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(type, negotiate(call, /*allow_geojson=*/false));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(view, s.subscriptions->get(tenant, call.path_params[0]));
  return json_response(200,
                       notify::render_subscription(*view.subscription, view.report, *ctx.context, now_ms(),
                                                   has_option(call, "sysAttrs")),
                       type, ctx);
}

Outcome update_subscription(Services& s, Call& call) {
  if (auto st = wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts, /*allow_merge_patch=*/true));
  CT_TRY(ctx, context_of(call, body));
  CT_TRY(sequence, s.subscriptions->update(tenant, call.path_params[0], body.object, ctx));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

Outcome delete_subscription(Services& s, Call& call) {
  if (auto st = wired(s); !st) return st.problem();
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(sequence, s.subscriptions->remove(tenant, call.path_params[0]));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

}  // namespace

void add_subscription_routes(Router& router, Services& s) {
  const std::string base(kSubscriptions);
  router.add(verb::post, base, [&s](Call& call) -> Outcome { return create_subscription(s, call); });
  router.add(verb::get, base, [&s](Call& call) -> Outcome { return list_subscriptions(s, call); });
  router.add(verb::get, base + "/{id}", [&s](Call& call) -> Outcome { return get_subscription(s, call); });
  router.add(verb::patch, base + "/{id}", [&s](Call& call) -> Outcome { return update_subscription(s, call); });
  router.add(verb::delete_, base + "/{id}", [&s](Call& call) -> Outcome { return delete_subscription(s, call); });
  // Reached only without "Upgrade: websocket" (upgrades go to upgrade_subscription_stream).
  router.add(verb::get, base + "/{id}/ws", [](Call&) -> Outcome {
    return bad_request("this is the WebSocket stream of the subscription: connect with Upgrade: websocket");
  });
}

// A WebSocket upgrade: GET /ngsi-ld/v1/subscriptions/{id}/ws, the tenant in NGSILD-Tenant or, since
// a browser cannot set headers on a WebSocket, in the query parameter `tenant`.
void upgrade_subscription_stream(Services& s, boost::asio::ip::tcp::socket socket, Request request) {
  auto refuse = [&](const Problem& problem) { notify::refuse_upgrade(std::move(socket), problem_response(problem)); };
  if (!s.subscriptions) return refuse({ProblemKind::OperationNotSupported, "subscriptions are not enabled"});
  const std::string target(request.target());
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return refuse(bad_request("the request target is not a valid URI path"));
  std::vector<std::string> segments;
  for (auto segment : parsed->segments()) segments.push_back(segment);
  if (segments.size() != 5 || segments[0] != "ngsi-ld" || segments[1] != "v1" || segments[2] != "subscriptions" ||
      segments[4] != "ws" || segments[3].empty())
    return refuse(not_found("no WebSocket at " + std::string(parsed->path())));
  Call call;
  call.request = std::move(request);
  for (auto p : parsed->params()) call.query.emplace(p.key, p.has_value ? p.value : std::string());
  if (call.header("NGSILD-Tenant").empty() && call.has_param("tenant"))
    call.request.set("NGSILD-Tenant", call.param("tenant"));
  auto tenant = tenant_of(call);
  if (!tenant) return refuse(tenant.problem());
  const std::string& id = segments[3];
  if (auto found = s.subscriptions->get(*tenant, id); !found) return refuse(found.problem());
  s.subscriptions->stream(std::move(socket), std::move(call.request), *tenant, id);
}

}  // namespace ct::http
