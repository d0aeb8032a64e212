#include "http/ngsi_ld_request.hpp"

#include <charconv>
#include <memory>

#include "model/names.hpp"

namespace ct::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type of a Content-Type or Accept item, without parameters, lower case.
std::string media_type(std::string_view value) { return lower(trim(value.substr(0, value.find(';')))); }

bool valid_tenant(std::string_view t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

// The URL of a Link header whose rel is the JSON-LD context; empty if none.
Result<std::string> link_url(std::string_view link) {
  link = trim(link);
  if (link.empty()) return std::string();
  if (link.front() != '<') return bad_request("the Link header must start with <URL>");
  auto close = link.find('>');
  if (close == std::string_view::npos) return bad_request("the Link header's URL is not closed by >");
  std::string url(link.substr(1, close - 1));
  if (link.find(kJsonLdContextRel) == std::string_view::npos)
    return bad_request("the Link header must have rel=\"" + std::string(kJsonLdContextRel) + "\"");
  if (url.empty()) return bad_request("the Link header's URL is empty");
  return url;
}

}  // namespace

Result<std::string> tenant_of(const Call& call) {
  std::string_view tenant = call.header("NGSILD-Tenant");
  if (tenant.empty()) tenant = call.header("fiware-service");
  if (tenant.empty()) return std::string();
  if (!valid_tenant(tenant))
    return bad_request("tenant names are 1 to 64 letters, digits, '_' or '-'");
  return std::string(tenant);
}

Result<RequestContext> link_context(const Call& call, jsonld::ContextStore& contexts) {
  auto url = link_url(call.header(beast_http::field::link));
  if (!url) return url.problem();
  if (url->empty()) return RequestContext{contexts.core(), {}};
  auto ctx = contexts.resolve_url(*url);
  if (!ctx) return ctx.problem();
  return RequestContext{*ctx, *url};
}

Result<json::value> read_json_value(const Call& call, bool allow_merge_patch, json::storage_ptr storage) {
  const std::string type = media_type(call.header(beast_http::field::content_type));
  if (type != "application/json" && type != "application/ld+json" &&
      !(allow_merge_patch && type == "application/merge-patch+json"))
    return Problem{ProblemKind::UnsupportedMediaType,
                   type.empty() ? "a Content-Type is required: application/json or application/ld+json"
                                : "Content-Type " + type + " is not supported; use application/json or application/ld+json"};
  if (call.request.body().empty()) return bad_request("the request body is empty");
  return parse_json(call.request.body(), kMaxJsonDepth, std::move(storage));
}

Result<JsonBody> read_json_body(const Call& call, jsonld::ContextStore& contexts, bool allow_merge_patch) {
  auto value = read_json_value(call, allow_merge_patch);
  if (!value) return value.problem();
  if (!value->is_object()) return bad_request("the request body must be a JSON object");
  JsonBody body;
  body.object = std::move(value->as_object());
  const bool json_ld = media_type(call.header(beast_http::field::content_type)) == "application/ld+json";
  auto* inline_context = body.object.if_contains("@context");
  if (json_ld) {
    if (!inline_context) return bad_request("an application/ld+json body must carry an @context");
    if (!call.header(beast_http::field::link).empty())
      return bad_request("a Link header @context cannot be combined with an application/ld+json body");
    auto ctx = contexts.resolve(*inline_context);
    if (!ctx) return ctx.problem();
    body.context.context = *ctx;
    if (inline_context->is_string()) body.context.url = std::string(inline_context->get_string());
    body.object.erase("@context");
    return body;
  }
  if (inline_context)
    return bad_request("an application/json body cannot carry an @context: send it as application/ld+json or in a Link header");
  auto ctx = link_context(call, contexts);
  if (!ctx) return ctx.problem();
  body.context = std::move(ctx).value();
  return body;
}

Result<std::size_t> page_param(const Call& call, const std::string& name, std::size_t fallback, std::size_t maximum) {
  if (!call.has_param(name)) return fallback;
  const std::string text = call.param(name);
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return bad_request(name + " must be a non-negative integer, got \"" + text.substr(0, 40) + "\"");
  if (value > maximum) {
    if (name == "limit")
      return Problem{ProblemKind::TooManyResults,
                     "limit " + text + " is above the maximum of " + std::to_string(maximum) + " per page"};
    return bad_request(name + " must be at most " + std::to_string(maximum));
  }
  return value;
}

Result<MediaType> negotiate(const Call& call, bool allow_geojson) {
  std::string_view accept = call.header(beast_http::field::accept);
  if (trim(accept).empty()) return MediaType::Json;
  double best_q = -1;
  MediaType best = MediaType::Json;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    double q = 1;
    if (auto qpos = item.find(";q="); qpos != std::string_view::npos) q = std::atof(std::string(item.substr(qpos + 3)).c_str());
    const std::string type = media_type(item);
    std::optional<MediaType> candidate;
    if (type == "application/json" || type == "*/*" || type == "application/*") candidate = MediaType::Json;
    else if (type == "application/ld+json") candidate = MediaType::JsonLd;
    else if (type == "application/geo+json" && allow_geojson) candidate = MediaType::GeoJson;
    if (candidate && q > 0 && q > best_q) {
      best_q = q;
      best = *candidate;
    }
  }
  if (best_q < 0)
    return Problem{ProblemKind::NotAcceptable,
                   std::string("none of the Accept types is available: use application/json, application/ld+json") +
                       (allow_geojson ? " or application/geo+json" : "")};
  return best;
}

bool has_option(const Call& call, std::string_view option) {
  for (const auto& o : call.param_list("options"))
    if (o == option) return true;
  return false;
}

Result<jsonld::EncodeOptions> render_options(const Call& call, const jsonld::Context& ctx, RenderSelection& storage) {
  jsonld::EncodeOptions options;
  for (const auto& o : call.param_list("options")) {
    if (o == "keyValues" || o == "simplified") options.form = jsonld::Form::Simplified;
    else if (o == "concise") options.form = jsonld::Form::Concise;
    else if (o == "normalized") options.form = jsonld::Form::Normalized;
    else if (o == "sysAttrs") options.sys_attrs = true;
    else if (o != "noOverwrite" && o != "update" && o != "replace")
      return bad_request("unknown option \"" + o + "\"");
  }
  if (call.has_param("format")) {
    const std::string format = call.param("format");
    if (format == "keyValues" || format == "simplified") options.form = jsonld::Form::Simplified;
    else if (format == "concise") options.form = jsonld::Form::Concise;
    else if (format == "normalized") options.form = jsonld::Form::Normalized;
    else return bad_request("unknown format \"" + format + "\"");
  }
  // id, type and scope are entity members, not attributes, but pick and omit name them too.
  struct Members {
    bool id = false, type = false, scope = false;
  };
  auto collect = [&](const std::string& param, std::unordered_set<model::Term>& into, Members& members) -> Status {
    for (const auto& name : call.param_list(param)) {
      if (name == "id") { members.id = true; continue; }
      if (name == "type") { members.type = true; continue; }
      if (name == "scope") { members.scope = true; continue; }
      if (!model::is_valid_term(name)) return bad_request(param + ": \"" + name + "\" is not a valid attribute name");
      into.insert(model::Term::intern(ctx.expand(name)));
    }
    return {};
  };
  Members picked, omitted, ignored;
  const bool picking = call.has_param("pick") || call.has_param("attrs");
  if (auto st = collect("pick", storage.pick, picked); !st) return st.problem();
  if (auto st = collect("attrs", storage.pick, ignored); !st) return st.problem();
  if (auto st = collect("omit", storage.omit, omitted); !st) return st.problem();
  if (call.has_param("pick") && call.has_param("omit")) return bad_request("pick and omit cannot be used together");
  if (picking) {
    options.pick = &storage.pick;
    if (call.has_param("pick")) {
      options.omit_id = !picked.id;
      options.omit_type = !picked.type;
      options.omit_scope = !picked.scope;
    }
  }
  if (call.has_param("omit")) {
    options.omit = &storage.omit;
    options.omit_id = omitted.id;
    options.omit_type = omitted.type;
    options.omit_scope = omitted.scope;
  }
  options.lang = call.param("lang");
  return options;
}

namespace {
std::string context_url_of(const RequestContext& ctx) {
  return ctx.url.empty() ? std::string(jsonld::kCoreContextUrl) : ctx.url;
}
}  // namespace

Response json_response(unsigned status, json::value body, MediaType type, const RequestContext& ctx) {
  if (type == MediaType::JsonLd) {
    const std::string context_url = context_url_of(ctx);
    auto add_context = [&](json::object& o) { o["@context"] = context_url; };
    if (body.is_object()) add_context(body.as_object());
    if (body.is_array())
      for (auto& item : body.as_array())
        if (item.is_object()) add_context(item.as_object());
  }
  return printed_json_response(status, to_text(body), type, ctx);
}

Response printed_json_response(unsigned status, std::string body, MediaType type, const RequestContext& ctx) {
  if (type == MediaType::JsonLd) return make_response(status, std::move(body), "application/ld+json");
  Response response =
      make_response(status, std::move(body), type == MediaType::GeoJson ? "application/geo+json" : "application/json");
  response.set(beast_http::field::link, "<" + context_url_of(ctx) + ">; rel=\"" + std::string(kJsonLdContextRel) +
                                            "\"; type=\"application/ld+json\"");
  return response;
}

jsonld::EntityWriter entity_writer(MediaType type, const RequestContext& ctx, const jsonld::EncodeOptions& options) {
  return jsonld::EntityWriter(ctx.context, options, type == MediaType::JsonLd ? context_url_of(ctx) : std::string());
}

Outcome answer_when_durable(Call& call, storage::Store& store, storage::Sequence sequence, Response response) {
  answer_when_durable(call.later(), store, sequence, std::move(response));
  return Deferred{};
}

void answer_when_durable(Later later, storage::Store& store, storage::Sequence sequence, Response response) {
  store.when_durable(sequence, [later = std::move(later), response = std::move(response)](const Status& status) mutable {
    if (status.ok())
      later.answer(std::move(response));
    else
      later.fail(status.problem());
  });
}

}  // namespace ct::http
