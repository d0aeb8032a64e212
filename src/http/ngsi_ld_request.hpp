#pragma once
// What every NGSI-LD handler does the same way: the tenant, the @context (Link header or body),
// the request body's media type, content negotiation of the response, the representation options
// (options=, format=, pick/omit/attrs, lang), and answering once a write is durable.
#include <string>
#include <unordered_set>

#include "common/json.hpp"
#include "common/result.hpp"
#include "http/problem_mapping.hpp"
#include "http/router.hpp"
#include "jsonld/context_store.hpp"
#include "jsonld/entity_codec.hpp"
#include "jsonld/entity_writer.hpp"
#include "storage/store.hpp"

namespace ct::http {

inline constexpr std::string_view kJsonLdContextRel = "http://www.w3.org/ns/json-ld#context";

enum class MediaType { Json, JsonLd, GeoJson };

// The tenant named by NGSILD-Tenant (or the IoT Agents' fiware-service); empty for the default.
Result<std::string> tenant_of(const Call& call);

// The @context of a request without a body: from the Link header, else the core context.
struct RequestContext {
  jsonld::ContextPtr context;
  std::string url;  // the Link URL, empty when the core context applies
};
Result<RequestContext> link_context(const Call& call, jsonld::ContextStore& contexts);

// A request body as a JSON object, with the @context it carries (application/ld+json) or the one
// its Link header names (application/json).
struct JsonBody {
  json::object object;
  RequestContext context;
};
Result<JsonBody> read_json_body(const Call& call, jsonld::ContextStore& contexts, bool allow_merge_patch = false);
// The same for a body whose top level is an array (batch operations), parsed into `storage`.
Result<json::value> read_json_value(const Call& call, bool allow_merge_patch = false, json::storage_ptr storage = {});

// A paging parameter (limit, offset): a non-negative integer, `fallback` when absent. Above `maximum`
// a limit is TooManyResults (403), anything else BadRequestData.
Result<std::size_t> page_param(const Call& call, const std::string& name, std::size_t fallback, std::size_t maximum);

// The response media type the Accept header asks for (406 when none of ours is acceptable).
Result<MediaType> negotiate(const Call& call, bool allow_geojson = true);

// Representation options from options=, format=, pick/attrs/omit, lang. `storage` keeps the sets
// the returned options point into.
struct RenderSelection {
  std::unordered_set<model::Term> pick, omit;
};
Result<jsonld::EncodeOptions> render_options(const Call& call, const jsonld::Context& ctx, RenderSelection& storage);
bool has_option(const Call& call, std::string_view option);

// A JSON response in the negotiated media type: the @context goes in the body for JSON-LD, in a
// Link header otherwise.
Response json_response(unsigned status, json::value body, MediaType type, const RequestContext& ctx);
// The same for a body already printed by `entity_writer` (which embeds the @context for JSON-LD).
Response printed_json_response(unsigned status, std::string body, MediaType type, const RequestContext& ctx);
jsonld::EntityWriter entity_writer(MediaType type, const RequestContext& ctx, const jsonld::EncodeOptions& options);

// Answers `response` once `sequence` is durable (or the store's problem if it failed): returns
// Deferred, having taken call.later().
Outcome answer_when_durable(Call& call, storage::Store& store, storage::Sequence sequence, Response response);
// The same through a Later already taken (an answer that waits for something else first).
void answer_when_durable(Later later, storage::Store& store, storage::Sequence sequence, Response response);

}  // namespace ct::http
