// Batch operations: each entity succeeds or fails on its own, all successes are made durable with
// one group commit, and the answer lists both (207 Multi-Status when anything failed).
#include <algorithm>
#include <span>
#include <vector>

#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"
#include "model/names.hpp"

namespace ct::http {
namespace {

using beast_http::verb;
constexpr std::size_t kMaxBatch = 1000;

// The entities of a batch body, each decoded alone: one bad entity fails alone, before the batch runs.
struct DecodedBatch {
  std::vector<jsonld::DecodedEntity> entities;
  std::vector<twin::BatchItem> rejected;
};

// A batch body, parsed into an arena: the tree is read once (the entities copy the values they keep
// out of it) and dropped whole. The arena's first block is a buffer each HTTP thread keeps from one
// request to the next, and the resource is not shared, so Boost.JSON neither counts references to it
// nor visits the tree's nodes to destroy them. Nothing may copy-construct a value out of the tree
// (a copy would keep the arena as its storage): values are assigned, which copies them to the heap.
class BatchBody {
 public:
  explicit BatchBody(std::size_t body_size) : BatchBody(thread_buffer(2 * body_size + 4096)) {}
  BatchBody(const BatchBody&) = delete;
  BatchBody& operator=(const BatchBody&) = delete;

  Result<json::array*> parse(const Call& call) {
    auto value = read_json_value(call, false, json::storage_ptr(&arena_));
    if (!value) return value.problem();
    value_ = std::move(value).value();
    if (!value_.is_array()) return bad_request("a batch body must be a JSON array");
    auto& array = value_.get_array();
    if (array.empty()) return bad_request("a batch body must not be empty");
    if (array.size() > kMaxBatch) return bad_request("a batch holds at most " + std::to_string(kMaxBatch) + " entities");
    return &array;
  }

 private:
  explicit BatchBody(std::span<unsigned char> first_block) : arena_(first_block.data(), first_block.size()) {}

  // About twice the body holds its tree (beyond it, the arena takes more blocks from the heap). The
  // buffer is kept for the thread's next request, up to a bound.
  static std::span<unsigned char> thread_buffer(std::size_t wanted) {
    constexpr std::size_t kMaxKept = 8 << 20;
    thread_local std::vector<unsigned char> buffer;
    if (buffer.size() < std::min(wanted, kMaxKept)) buffer.resize(std::min(wanted, kMaxKept));
    return buffer;
  }

  json::monotonic_resource arena_;
  json::value value_ = json::value(json::storage_ptr(&arena_));
};

Result<DecodedBatch> decode_batch(const Call& call, jsonld::ContextStore& contexts, bool need_type) {
  BatchBody body(call.request.body().size());
  auto array = body.parse(call);
  if (!array) return array.problem();
  // application/json: every entity under the Link context; application/ld+json: each its own @context.
  auto link = link_context(call, contexts);
  if (!link) return link.problem();
  const bool json_ld = call.header(beast_http::field::content_type).starts_with("application/ld+json");
  jsonld::NameCache names;
  std::vector<jsonld::ContextPtr> contexts_in_use;  // alive while `names` may refer to them
  jsonld::DecodeOptions options;
  options.simplified = has_option(call, "keyValues");
  options.names = &names;
  DecodedBatch out;
  out.entities.reserve((*array)->size());
  for (auto& item : **array) {
    twin::BatchItem rejected;
    auto fail = [&](Problem p) {
      rejected.error = std::move(p);
      out.rejected.push_back(std::move(rejected));
    };
    if (!item.is_object()) {
      fail(bad_request("each batch item must be an entity object"));
      continue;
    }
    auto& object = item.as_object();
    if (const auto* id = object.if_contains("id"); id && id->is_string()) rejected.id = std::string(id->get_string());
    jsonld::ContextPtr ctx = link->context;
    if (const auto* inline_context = object.if_contains("@context")) {
      if (!json_ld) {
        fail(bad_request("an application/json batch cannot carry @context members"));
        continue;
      }
      auto resolved = contexts.resolve(*inline_context);
      if (!resolved) {
        fail(resolved.problem());
        continue;
      }
      ctx = *resolved;
      if (contexts_in_use.empty() || contexts_in_use.back() != ctx) contexts_in_use.push_back(ctx);
    } else if (json_ld) {
      fail(bad_request("each entity of an application/ld+json batch must carry an @context"));
      continue;
    }
    auto decoded = jsonld::decode_entity(object, *ctx, options);
    if (!decoded) {
      fail(decoded.problem());
      continue;
    }
    if (decoded->header.id.empty()) {
      fail(bad_request("an entity needs an \"id\""));
      continue;
    }
    if (need_type && decoded->header.types.empty()) {
      fail(bad_request("an entity needs a \"type\""));
      continue;
    }
    out.entities.push_back(std::move(decoded).value());
  }
  return out;
}

json::object error_entry(const twin::BatchItem& item) {
  return json::object{{"entityId", item.id}, {"error", json::parse(problem_body(*item.error))}};
}

// 201/204 with the created ids when all succeeded, else 207 {"success": [...], "errors": [...]}.
Result<Response> batch_response(const twin::BatchOutcome& outcome, const std::vector<twin::BatchItem>& rejected,
                        unsigned all_ok_status, bool list_created) {
  // Refused whole because the volume is full: one 507 with Retry-After, not a 207 of refusals.
  const bool all_refused = !outcome.items.empty() && std::all_of(outcome.items.begin(), outcome.items.end(), [](const auto& item) {
    return item.error && item.error->kind == ProblemKind::InsufficientStorage;
  });
  if (all_refused) return *outcome.items.front().error;
  json::array success, errors, created;
  for (const auto& item : outcome.items) {
    if (item.error)
      errors.push_back(error_entry(item));
    else {
      success.push_back(json::value(item.id));
      if (item.created) created.push_back(json::value(item.id));
    }
  }
  for (const auto& item : rejected) errors.push_back(error_entry(item));
  if (errors.empty()) {
    if (all_ok_status == 201 && list_created) {
      if (created.empty()) return make_response(204);
      return make_response(201, to_text(created));
    }
    return all_ok_status == 204 ? make_response(204) : make_response(all_ok_status, to_text(success));
  }
  return make_response(207, to_text(json::object{{"success", std::move(success)}, {"errors", std::move(errors)}}));
}

template <class Run>
Outcome run_batch(Services& s, Call& call, bool need_type, unsigned all_ok_status, bool list_created, Run run) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(batch, decode_batch(call, s.contexts, need_type));
  // A batch none of whose entities decodes touches nothing (and creates no tenant).
  twin::BatchOutcome outcome = batch.entities.empty() ? twin::BatchOutcome{} : run(tenant, std::move(batch.entities));
  CT_TRY(response, batch_response(outcome, batch.rejected, all_ok_status, list_created));
  return answer_when_durable(call, s.store, outcome.sequence, std::move(response));
}

}  // namespace

void add_batch_routes(Router& router, Services& s) {
  const std::string base = "/ngsi-ld/v1/entityOperations/";
  router.add(verb::post, base + "create", [&s](Call& call) -> Outcome {
    return run_batch(s, call, true, 201, false, [&](const std::string& tenant, auto entities) {
      return s.twin.batch_create(tenant, std::move(entities));
    });
  });
  router.add(verb::post, base + "upsert", [&s](Call& call) -> Outcome {
    const auto mode = has_option(call, "update") ? twin::UpsertMode::Update : twin::UpsertMode::Replace;
    return run_batch(s, call, true, 201, true, [&](const std::string& tenant, auto entities) {
      return s.twin.batch_upsert(tenant, std::move(entities), mode);
    });
  });
  router.add(verb::post, base + "update", [&s](Call& call) -> Outcome {
    const bool no_overwrite = has_option(call, "noOverwrite");
    return run_batch(s, call, false, 204, false, [&](const std::string& tenant, auto entities) {
      return s.twin.batch_update(tenant, std::move(entities), no_overwrite);
    });
  });
  router.add(verb::post, base + "delete", [&s](Call& call) -> Outcome {
    CT_TRY(tenant, tenant_of(call));
    BatchBody body(call.request.body().size());
    CT_TRY(array, body.parse(call));
    std::vector<std::string> ids;
    std::vector<twin::BatchItem> rejected;
    for (const auto& item : *array) {
      if (item.is_string() && model::is_uri(item.get_string()))
        ids.emplace_back(item.get_string());
      else
        rejected.push_back({item.is_string() ? std::string(item.get_string()) : to_text(item),
                            bad_request("a batch delete takes an array of entity ids (URIs)"), false});
    }
    twin::BatchOutcome outcome = s.twin.batch_delete(tenant, ids);
    CT_TRY(response, batch_response(outcome, rejected, 204, false));
    return answer_when_durable(call, s.store, outcome.sequence, std::move(response));
  });
}

}  // namespace ct::http
