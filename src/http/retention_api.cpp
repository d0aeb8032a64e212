// History retention, per tenant and entity type: /admin/v1/retention. An operator's setting rather
// than NGSI-LD, so it lives under /admin; the tenant is the NGSILD-Tenant header as everywhere.
//   GET    /admin/v1/retention          the tenant's policies: [{"type", "keepRaw", "rollUp", "keepRollUps"}]
//   PUT    /admin/v1/retention/{type}   {"keepRaw": "P90D", "rollUp": "PT1H", "keepRollUps": "P1825D"}
//   DELETE /admin/v1/retention/{type}
// {type} is an entity type (short name, expanded with the Link @context) or * for every type
// without a policy of its own. Durations are ISO 8601 (history/duration.hpp).
#include "history/duration.hpp"
#include "history/history_store.hpp"
#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "model/names.hpp"

namespace ct::http {
namespace {

using beast_http::verb;

Result<std::string> type_param(const Call& call, const jsonld::Context& ctx) {
  const std::string& type = call.path_params[0];
  if (type == history::kAnyType) return type;
  if (!model::is_valid_term(type)) return bad_request("\"" + type.substr(0, 80) + "\" is not a valid type name");
  return ctx.expand(type);
}

Outcome list_policies(Services& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(ctx, link_context(call, s.contexts));
  json::array out;
  for (const auto& [type, policy] : s.history->retention(tenant)) {
    json::object o{{"type", type == history::kAnyType ? type : ctx.context->compact(type)},
                   {"keepRaw", history::format_duration_ms(policy.keep_raw_ms)}};
    if (policy.roll_up_ms > 0) o["rollUp"] = history::format_duration_ms(policy.roll_up_ms);
    if (policy.keep_roll_ups_ms > 0) o["keepRollUps"] = history::format_duration_ms(policy.keep_roll_ups_ms);
    out.push_back(std::move(o));
  }
  return make_response(200, to_text(out));
}

Outcome put_policy(Services& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_body(call, s.contexts));
  CT_TRY(type, type_param(call, *body.context.context));
  history::RetentionPolicy policy;
  for (const auto& [key, member] : body.object) {
    std::int64_t* into = key == "keepRaw"       ? &policy.keep_raw_ms
                         : key == "rollUp"      ? &policy.roll_up_ms
                         : key == "keepRollUps" ? &policy.keep_roll_ups_ms
                                                : nullptr;
    if (key == "@context") continue;
    if (!into) return bad_request("unknown member \"" + std::string(key).substr(0, 40) + "\" (keepRaw, rollUp, keepRollUps)");
    if (!member.is_string()) return bad_request(std::string(key) + " must be an ISO 8601 duration");
    CT_TRY(ms, history::parse_duration_ms(member.get_string()));
    *into = ms;
  }
  if (!body.object.contains("keepRaw")) return bad_request("a policy needs keepRaw");
  CT_TRY(sequence, s.history->set_retention(tenant, type, policy));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

Outcome delete_policy(Services& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(ctx, link_context(call, s.contexts));
  CT_TRY(type, type_param(call, *ctx.context));
  bool found = false;
  for (const auto& [existing, policy] : s.history->retention(tenant)) found = found || existing == type;
  if (!found) return not_found("no retention policy for " + call.path_params[0]);
  CT_TRY(sequence, s.history->set_retention(tenant, type, std::nullopt));
  return answer_when_durable(call, s.store, sequence, make_response(204));
}

}  // namespace

void add_retention_routes(Router& router, Services& s) {
  auto bind = [&s](Outcome (*fn)(Services&, Call&)) {
    return [&s, fn](Call& call) -> Outcome {
      if (!s.history) return Problem{ProblemKind::OperationNotSupported, "history is not kept"};
      return fn(s, call);
    };
  };
  router.add(verb::get, "/admin/v1/retention", bind(list_policies));
  router.add(verb::put, "/admin/v1/retention/{type}", bind(put_policy));
  router.add(verb::delete_, "/admin/v1/retention/{type}", bind(delete_policy));
}

}  // namespace ct::http
