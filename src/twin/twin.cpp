#include "twin/twin.hpp"

#include <malloc.h>

#include <algorithm>
#include <mutex>
#include <span>
#include <thread>

#include <spdlog/spdlog.h>

#include "twin/entity_record.hpp"
#include "twin/tenant.hpp"

namespace ct::twin {

using model::Attribute;
using model::Entity;
using model::put_instance;
using model::Term;

namespace {

// A stored document is the normalized form of an entity accepted in any form: each attribute may add
// a level ({"value": …}) to what the client sent within the API's depth limit.
constexpr std::size_t kStoredDocumentDepth = 2 * kMaxJsonDepth;

// Writes to a named tenant that was never written are about a tenant that does not exist.
Problem missing(const std::string& tenant, const std::string& id) {
  if (!tenant.empty()) return Problem{ProblemKind::NonexistentTenant, "tenant " + tenant + " does not exist"};
  return not_found("entity " + id + " was not found");
}

void add_types(Entity& entity, const std::vector<Term>& types) {
  for (Term t : types)
    if (!entity.has_type(t)) entity.types.push_back(t);
}

// Merges `patch` into `target`: given members replace, absent ones stay; a null sub-attribute is removed.
void merge_instance(Attribute& target, Attribute&& patch, const model::WriteStamp& stamp) {
  if (!patch.value.is_null()) {
    target.kind = patch.kind;
    target.value = std::move(patch.value);
  }
  if (patch.observed_at != kNoTimestamp) target.observed_at = patch.observed_at;
  if (!patch.unit_code.empty()) target.unit_code = patch.unit_code;
  for (auto& sub : patch.sub_attributes) {
    auto it = std::find_if(target.sub_attributes.begin(), target.sub_attributes.end(),
                           [&](const Attribute& s) { return s.name == sub.name; });
    if (sub.value.is_null() && sub.kind == model::AttributeKind::Property) {
      if (it != target.sub_attributes.end()) target.sub_attributes.erase(it);
      continue;
    }
    model::stamp_write(sub, it != target.sub_attributes.end() ? &*it : nullptr, stamp);
    if (it != target.sub_attributes.end())
      *it = std::move(sub);
    else
      target.sub_attributes.push_back(std::move(sub));
  }
  target.modified_at = stamp.at;
  target.revision = stamp.revision;
}

// The changes behind PUT, PATCH and POST /attrs, PATCH /attrs: shared by the single and batch forms.
Status replace_with(Entity& e, jsonld::DecodedEntity& decoded, const model::WriteStamp& stamp) {
  std::vector<Attribute> previous = std::move(e.attributes);
  e.attributes.clear();
  if (!decoded.header.types.empty()) e.types = std::move(decoded.header.types);
  e.scopes = std::move(decoded.header.scopes);  // a replaced entity keeps no scope it was not given
  for (auto& a : decoded.attributes) {
    auto old = std::find_if(previous.begin(), previous.end(),
                            [&](const Attribute& p) { return p.name == a.name && p.dataset_id == a.dataset_id; });
    model::stamp_write(a, old != previous.end() ? &*old : nullptr, stamp);
    e.attributes.push_back(std::move(a));
  }
  return {};
}

Status merge_with(Entity& e, jsonld::DecodedEntity& fragment, const model::WriteStamp& stamp, UpdateReport& report) {
  add_types(e, fragment.header.types);
  if (fragment.header.has_scope) e.scopes = std::move(fragment.header.scopes);
  for (Term name : fragment.deleted) e.remove(name, {}, true);
  for (auto& a : fragment.attributes) {
    report.updated.push_back(a.name);
    if (Attribute* existing = e.find(a.name, a.dataset_id))
      merge_instance(*existing, std::move(a), stamp);
    else
      put_instance(e, std::move(a), stamp);
  }
  return {};
}

Status append_to(Entity& e, jsonld::DecodedEntity& fragment, bool no_overwrite, const model::WriteStamp& stamp,
                 UpdateReport& report) {
  add_types(e, fragment.header.types);
  if (fragment.header.has_scope) e.scopes = std::move(fragment.header.scopes);
  for (auto& a : fragment.attributes) {
    if (no_overwrite && e.find(a.name, a.dataset_id)) {
      report.not_updated.push_back({a.name, "attribute exists and options=noOverwrite was given"});
      continue;
    }
    report.updated.push_back(a.name);
    put_instance(e, std::move(a), stamp);
  }
  return {};
}

Status update_existing(Entity& e, jsonld::DecodedEntity& fragment, const model::WriteStamp& stamp, UpdateReport& report) {
  for (auto& a : fragment.attributes) {
    if (!e.find(a.name, a.dataset_id)) {
      report.not_updated.push_back({a.name, "attribute does not exist"});
      continue;
    }
    report.updated.push_back(a.name);
    put_instance(e, std::move(a), stamp);
  }
  return {};
}

Status same_id(const jsonld::DecodedEntity& body, const std::string& id) {
  if (!body.header.id.empty() && body.header.id != id)
    return bad_request("the body's id " + body.header.id + " differs from " + id);
  return {};
}

}  // namespace

Twin::Twin(storage::Store& store) : store_(store), stream_(store) {
  auto identity = std::make_shared<jsonld::Context>();
  identity->seal(nullptr);
  identity_context_ = identity;
  store_.set_failure_handler([this](storage::Sequence durable) { roll_back(durable); });
}

Twin::~Twin() { store_.set_failure_handler({}); }

storage::Write Twin::document_write(const std::string& tenant, const Entity& entity) const {
  std::string record;
  record.reserve(64 + entity.id.size() + 32 * entity.attributes.size());
  append_entity_record(record, entity);
  return storage::Write{storage::Collection::Entities, storage::tenant_key(tenant, entity.id), std::move(record)};
}

storage::Write Twin::deletion_write(const std::string& tenant, const std::string& id) const {
  return storage::Write{storage::Collection::Entities, storage::tenant_key(tenant, id), std::nullopt};
}

namespace {

// One stored entity document, read back; decoded off the scanning thread.
struct StoredDocument {
  std::string tenant;
  std::string id;
  std::string text;
  Result<Entity> entity = Problem{};
};

// A document written before entity records: the entity's normalized JSON with system attributes.
Result<Entity> decode_json_document(std::string_view text, const jsonld::Context& identity) {
  jsonld::DecodeOptions options;
  options.trusted = true;
  auto parsed = parse_json(text, kStoredDocumentDepth);
  if (!parsed) return std::move(parsed).problem();
  if (!parsed->is_object()) return Problem{ProblemKind::InternalError, "the JSON document is not an object"};
  auto decoded = jsonld::decode_entity(parsed->get_object(), identity, options);
  if (!decoded) return std::move(decoded).problem();
  if (decoded->header.id.empty()) return Problem{ProblemKind::InternalError, "the JSON document has no id"};
  Entity entity;
  entity.id = std::move(decoded->header.id);
  entity.types = std::move(decoded->header.types);
  entity.scopes = std::move(decoded->header.scopes);
  entity.created_at = decoded->header.created_at;
  entity.modified_at = decoded->header.modified_at;
  entity.attributes = std::move(decoded->attributes);
  return entity;
}

void decode_documents(std::span<StoredDocument> documents, const jsonld::Context& identity) {
  for (auto& doc : documents) {
    doc.entity = is_entity_record(doc.text) ? read_entity_record(doc.text) : decode_json_document(doc.text, identity);
    if (doc.entity && doc.entity->id != doc.id)  // two keys must never claim one entity
      doc.entity = Problem{ProblemKind::InternalError, "the stored entity's id " + doc.entity->id.substr(0, 200) +
                                                           " differs from its key"};
    std::string().swap(doc.text);
  }
}

}  // namespace

Status Twin::load() {
  // Documents are read in chunks; each chunk is decoded on two threads (parsing dominates start-up)
  // and then inserted, so memory holds one chunk of text at a time.
  constexpr std::size_t kChunk = 8192;
  constexpr std::size_t kNamedSkips = 20;  // then only counted: a damaged store must not flood the log
  std::size_t loaded = 0, skipped = 0;
  std::vector<StoredDocument> chunk;
  chunk.reserve(kChunk);
  std::unique_lock lock(tenants_mutex_);
  auto flush = [&] {
    const std::span<StoredDocument> all(chunk);
    const std::size_t half = all.size() / 2;
    std::thread helper([&] { decode_documents(all.first(half), *identity_context_); });
    decode_documents(all.subspan(half), *identity_context_);
    helper.join();
    for (auto& doc : chunk) {
      if (!doc.entity) {
        if (++skipped <= kNamedSkips)
          spdlog::warn("twin: skipped the stored entity {} of tenant \"{}\": {}", doc.id, doc.tenant,
                       doc.entity.problem().detail);
        continue;
      }
      auto& slot = tenants_[doc.tenant];
      if (!slot) slot = std::make_unique<Tenant>();
      slot->insert(std::move(*doc.entity));
      ++loaded;
    }
    chunk.clear();
  };
  auto status = store_.scan(storage::Collection::Entities, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, id;
    if (!storage::split_tenant_key(key, tenant, id)) {
      if (++skipped <= kNamedSkips) spdlog::warn("twin: skipped a stored entity under a malformed key");
      return true;
    }
    chunk.push_back(StoredDocument{std::string(tenant), std::string(id), std::string(value)});
    if (chunk.size() == kChunk) flush();
    return true;
  });
  flush();
  if (skipped) spdlog::warn("twin: {} stored entity documents could not be read and were skipped", skipped);
  malloc_trim(0);  // the documents parsed while loading are freed: give their pages back to the system
  spdlog::info("twin: loaded {} entities in {} tenants", loaded, tenants_.size());
  return status;
}

Tenant* Twin::find_tenant(const std::string& tenant) const {
  std::shared_lock lock(tenants_mutex_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : it->second.get();
}

Tenant& Twin::tenant_for_write(const std::string& tenant) {
  if (Tenant* t = find_tenant(tenant)) return *t;
  std::unique_lock lock(tenants_mutex_);
  auto& slot = tenants_[tenant];
  if (!slot) slot = std::make_unique<Tenant>();
  return *slot;
}

bool Twin::tenant_exists(const std::string& tenant) const { return tenant.empty() || find_tenant(tenant) != nullptr; }

std::vector<std::string> Twin::tenants() const {
  std::shared_lock lock(tenants_mutex_);
  std::vector<std::string> out;
  for (const auto& [name, t] : tenants_) out.push_back(name);
  return out;
}

TwinStats Twin::stats() const {
  std::shared_lock lock(tenants_mutex_);
  TwinStats stats;
  stats.tenants = tenants_.size();
  for (const auto& [name, t] : tenants_) {
    std::shared_lock tenant_lock(t->mutex);
    stats.entities += t->entities.size();
  }
  return stats;
}

// ---- writes on one entity, lock held -------------------------------------------------------------

namespace {

std::vector<ChangeEvent::Instance> instances_of(const Entity& e) {
  std::vector<ChangeEvent::Instance> out;
  out.reserve(e.attributes.size());
  for (const auto& a : e.attributes) out.emplace_back(a.name, a.dataset_id);
  return out;
}

}  // namespace

Status Twin::create_locked(Tenant& t, const std::string& tenant, jsonld::DecodedEntity&& decoded, Pending& pending) {
  if (decoded.header.id.empty()) return bad_request("an entity needs an id");
  if (decoded.header.types.empty()) return bad_request("an entity needs a type");
  if (t.entities.contains(decoded.header.id))
    return Problem{ProblemKind::AlreadyExists, "entity " + decoded.header.id + " already exists"};
  Entity entity;
  entity.id = decoded.header.id;
  entity.revision = 1;
  const model::WriteStamp stamp{now_ms(), entity.revision};
  entity.types = std::move(decoded.header.types);
  entity.scopes = std::move(decoded.header.scopes);
  entity.created_at = entity.modified_at = stamp.at;
  for (auto& a : decoded.attributes) put_instance(entity, std::move(a), stamp);
  enrich(tenant, entity, stamp, pending.origin);
  pending.writes.push_back(document_write(tenant, entity));
  pending.undos.push_back(Undo{entity.id, nullptr});
  const Entity& stored = t.insert(std::move(entity));
  if (makes_events()) {
    ChangeEvent event;
    event.kind = ChangeEvent::Kind::Created;
    event.tenant = tenant;
    event.entity = std::make_shared<const Entity>(stored);
    event.written = instances_of(stored);
    event.at = stamp.at;
    pending.events.push_back(std::move(event));
  }
  return {};
}

Status Twin::modify_locked(Tenant& t, const std::string& tenant, const std::string& id, const Change& change,
                           WriteOutcome& outcome, Pending& pending) {
  auto it = t.entities.find(id);
  if (it == t.entities.end()) return not_found("entity " + id + " was not found");
  Entity& entity = it->second;
  const auto keys_before = t.indexes.keys_of(entity);
  // The entity as it was: to undo the change if its group fails, and for the consumers.
  auto previous = std::make_shared<const Entity>(entity);
  const bool events = makes_events();
  const auto instances_before = instances_of(entity);
  const model::WriteStamp stamp{now_ms(), entity.revision + 1};
  if (auto st = change(entity, stamp, outcome); !st) return st;
  enrich(tenant, entity, stamp, pending.origin);
  entity.revision = stamp.revision;
  entity.modified_at = stamp.at;
  t.indexes.update(&entity, keys_before, t.indexes.keys_of(entity));
  pending.writes.push_back(document_write(tenant, entity));
  pending.undos.push_back(Undo{id, previous});
  if (events) {
    ChangeEvent event;
    event.kind = ChangeEvent::Kind::Updated;
    event.tenant = tenant;
    event.entity = std::make_shared<const Entity>(entity);
    event.previous = std::move(previous);
    for (const auto& a : entity.attributes)
      if (a.revision == stamp.revision) event.written.emplace_back(a.name, a.dataset_id);
    for (const auto& instance : instances_before)
      if (!entity.find(instance.first, instance.second)) event.removed.push_back(instance);
    event.at = stamp.at;
    pending.events.push_back(std::move(event));
  }
  return {};
}

Status Twin::remove_locked(Tenant& t, const std::string& tenant, const std::string& id, Pending& pending) {
  auto it = t.entities.find(id);
  if (it == t.entities.end()) return not_found("entity " + id + " was not found");
  auto removed = std::make_shared<const Entity>(t.take(it));
  pending.undos.push_back(Undo{id, removed});
  if (makes_events()) {
    ChangeEvent event;
    event.kind = ChangeEvent::Kind::Deleted;
    event.tenant = tenant;
    event.removed = instances_of(*removed);
    event.entity = std::move(removed);
    event.at = now_ms();
    pending.events.push_back(std::move(event));
  }
  pending.writes.push_back(deletion_write(tenant, id));
  return {};
}

storage::Sequence Twin::commit(Tenant& t, Pending& pending) {
  for (auto& event : pending.events) {
    event.origin = pending.origin.origin;
    if (!pending.origin.principal.empty()) event.principal = pending.origin.principal;
  }
  for (auto* contributor : contributors_)
    for (const auto& event : pending.events) contributor->contribute(event, pending.writes);
  if (pending.writes.empty()) return 0;
  const storage::Sequence sequence = store_.enqueue(std::move(pending.writes));
  t.journal.forget_through(store_.durable_sequence());
  t.journal.record(sequence, pending.undos);
  // Still under the tenant's lock, so that the stream receives one entity's changes in order; it
  // delivers them only once the group is durable and succeeded.
  stream_.publish(sequence, std::move(pending.events));
  return sequence;
}

void Twin::roll_back(storage::Sequence durable) {
  std::vector<std::pair<std::string, Tenant*>> all;
  {
    std::shared_lock lock(tenants_mutex_);
    for (const auto& [name, t] : tenants_) all.emplace_back(name, t.get());
  }
  for (auto& [name, t] : all) {
    std::unique_lock lock(t->mutex);
    if (const std::size_t undone = t->journal.roll_back(durable, *t))
      spdlog::warn("twin: {} changes of tenant \"{}\" were undone: their writes failed", undone, name);
  }
}

void Twin::add_contributor(ChangeContributor* contributor) { contributors_.push_back(contributor); }

void Twin::add_enricher(Enricher* enricher) {
  std::unique_lock lock(enrichers_mutex_);
  enrichers_.push_back(enricher);
  enricher_count_.store(enrichers_.size());
}

void Twin::remove_enricher(Enricher* enricher) {
  std::unique_lock lock(enrichers_mutex_);  // waits for every write inside enrich()
  std::erase(enrichers_, enricher);
  enricher_count_.store(enrichers_.size());
}

void Twin::enrich(const std::string& tenant, Entity& entity, const model::WriteStamp& stamp, const WriteOrigin& origin) {
  if (enricher_count_.load(std::memory_order_relaxed) == 0) return;
  std::shared_lock lock(enrichers_mutex_);
  const Enrichment write{tenant, origin, entity, stamp};
  for (auto* enricher : enrichers_) enricher->enrich(write);
}

// ---- single writes ----------------------------------------------------------------------------

Result<WriteOutcome> Twin::create(const std::string& tenant, jsonld::DecodedEntity decoded, const WriteOrigin& origin) {
  if (auto st = store_.admit(false); !st) return st.problem();
  Tenant& t = tenant_for_write(tenant);
  Pending pending(origin);
  std::unique_lock lock(t.mutex);
  if (auto st = create_locked(t, tenant, std::move(decoded), pending); !st) return st.problem();
  WriteOutcome outcome;
  outcome.sequence = commit(t, pending);
  lock.unlock();
  stream_.after_write();
  return outcome;
}

Result<WriteOutcome> Twin::modify(const std::string& tenant, const std::string& id, const Change& change,
                                 const WriteOrigin& origin) {
  if (auto st = store_.admit(false); !st) return st.problem();
  Tenant* t = find_tenant(tenant);
  if (!t) return missing(tenant, id);
  Pending pending(origin);
  WriteOutcome outcome;
  std::unique_lock lock(t->mutex);
  if (auto st = modify_locked(*t, tenant, id, change, outcome, pending); !st) return st.problem();
  outcome.sequence = commit(*t, pending);
  lock.unlock();
  stream_.after_write();
  return outcome;
}

Result<WriteOutcome> Twin::replace(const std::string& tenant, const std::string& id, jsonld::DecodedEntity decoded,
                                  const WriteOrigin& origin) {
  if (auto st = same_id(decoded, id); !st) return st.problem();
  return modify(tenant, id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome&) {
    return replace_with(e, decoded, stamp);
  }, origin);
}

Result<WriteOutcome> Twin::merge(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                                const WriteOrigin& origin) {
  if (auto st = same_id(fragment, id); !st) return st.problem();
  return modify(tenant, id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome& outcome) {
    return merge_with(e, fragment, stamp, outcome.report);
  }, origin);
}

Result<WriteOutcome> Twin::append(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                                  bool no_overwrite, const WriteOrigin& origin) {
  return modify(tenant, id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome& outcome) {
    return append_to(e, fragment, no_overwrite, stamp, outcome.report);
  }, origin);
}

Result<WriteOutcome> Twin::update(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                                 const WriteOrigin& origin) {
  return modify(tenant, id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome& outcome) {
    return update_existing(e, fragment, stamp, outcome.report);
  }, origin);
}

Result<WriteOutcome> Twin::patch_attribute(const std::string& tenant, const std::string& id, Attribute fragment,
                                          const WriteOrigin& origin) {
  return modify(tenant, id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome& outcome) -> Status {
    Attribute* existing = e.find(fragment.name, fragment.dataset_id);
    if (!existing) return not_found("attribute " + std::string(fragment.name.str()) + " was not found in " + id);
    outcome.report.updated.push_back(fragment.name);
    merge_instance(*existing, std::move(fragment), stamp);
    return {};
  }, origin);
}

Result<WriteOutcome> Twin::delete_attribute(const std::string& tenant, const std::string& id, Term name,
                                            Term dataset_id, bool all_instances, const WriteOrigin& origin) {
  return modify(tenant, id, [&](Entity& e, const model::WriteStamp&, WriteOutcome&) -> Status {
    if (e.remove(name, dataset_id, all_instances) == 0)
      return not_found("attribute " + std::string(name.str()) + " was not found in " + id);
    return {};
  }, origin);
}

Result<WriteOutcome> Twin::remove(const std::string& tenant, const std::string& id, const WriteOrigin& origin) {
  if (auto st = store_.admit(true); !st) return st.problem();
  Tenant* t = find_tenant(tenant);
  if (!t) return missing(tenant, id);
  Pending pending(origin);
  std::unique_lock lock(t->mutex);
  if (auto st = remove_locked(*t, tenant, id, pending); !st) return st.problem();
  WriteOutcome outcome;
  outcome.sequence = commit(*t, pending);
  lock.unlock();
  stream_.after_write();
  return outcome;
}

// ---- batches ----------------------------------------------------------------------------------

BatchOutcome Twin::batch(const std::string& tenant, const std::vector<std::string>& ids, bool create_tenant,
                         bool freeing, const WriteOrigin& origin, std::vector<storage::Write> together,
                         const std::function<Status(Tenant&, std::size_t, BatchItem&, Pending&)>& apply) {
  BatchOutcome outcome;
  const std::size_t count = ids.size();
  outcome.items.resize(count);
  for (std::size_t i = 0; i < count; ++i) outcome.items[i].id = ids[i];
  if (auto st = store_.admit(freeing); !st) {
    for (auto& item : outcome.items) item.error = st.problem();
    return outcome;
  }
  Tenant* t = create_tenant ? &tenant_for_write(tenant) : find_tenant(tenant);
  if (!t) {
    for (auto& item : outcome.items) item.error = missing(tenant, item.id);
    return outcome;
  }
  Pending pending(origin);
  pending.writes = std::move(together);
  std::unique_lock lock(t->mutex);
  for (std::size_t i = 0; i < count; ++i)
    if (auto st = apply(*t, i, outcome.items[i], pending); !st) outcome.items[i].error = st.problem();
  outcome.sequence = commit(*t, pending);
  lock.unlock();
  stream_.after_write();
  return outcome;
}

namespace {
std::vector<std::string> ids_of(const std::vector<jsonld::DecodedEntity>& entities) {
  std::vector<std::string> ids;
  ids.reserve(entities.size());
  for (const auto& e : entities) ids.push_back(e.header.id);
  return ids;
}
}  // namespace

BatchOutcome Twin::batch_create(const std::string& tenant, std::vector<jsonld::DecodedEntity> entities,
                                const WriteOrigin& origin) {
  return batch(tenant, ids_of(entities), true, false, origin, {}, [&](Tenant& t, std::size_t i, BatchItem& item, Pending& pending) {
    item.created = true;
    return create_locked(t, tenant, std::move(entities[i]), pending);
  });
}

BatchOutcome Twin::batch_upsert(const std::string& tenant, std::vector<jsonld::DecodedEntity> entities, UpsertMode mode,
                                const WriteOrigin& origin, std::vector<storage::Write> together) {
  return batch(tenant, ids_of(entities), true, false, origin, std::move(together), [&](Tenant& t, std::size_t i, BatchItem& item, Pending& pending) -> Status {
    auto& decoded = entities[i];
    if (!t.entities.contains(decoded.header.id)) {
      item.created = true;
      return create_locked(t, tenant, std::move(decoded), pending);
    }
    WriteOutcome ignored;
    return modify_locked(t, tenant, item.id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome& o) {
      return mode == UpsertMode::Replace ? replace_with(e, decoded, stamp) : append_to(e, decoded, false, stamp, o.report);
    }, ignored, pending);
  });
}

BatchOutcome Twin::batch_update(const std::string& tenant, std::vector<jsonld::DecodedEntity> entities, bool no_overwrite,
                                const WriteOrigin& origin) {
  return batch(tenant, ids_of(entities), false, false, origin, {}, [&](Tenant& t, std::size_t i, BatchItem& item, Pending& pending) -> Status {
    auto& decoded = entities[i];
    if (item.id.empty()) return bad_request("an entity needs an id");
    WriteOutcome ignored;
    return modify_locked(t, tenant, item.id, [&](Entity& e, const model::WriteStamp& stamp, WriteOutcome& o) {
      return append_to(e, decoded, no_overwrite, stamp, o.report);
    }, ignored, pending);
  });
}

BatchOutcome Twin::batch_delete(const std::string& tenant, const std::vector<std::string>& ids, const WriteOrigin& origin) {
  return batch(tenant, ids, false, true, origin, {}, [&](Tenant& t, std::size_t i, BatchItem&, Pending& pending) {
    return remove_locked(t, tenant, ids[i], pending);
  });
}

// ---- reads ------------------------------------------------------------------------------------

Status Twin::read(const std::string& tenant, const std::string& id,
                  const std::function<void(const Entity&)>& read) const {
  Tenant* t = find_tenant(tenant);
  if (!t) return missing(tenant, id);
  std::shared_lock lock(t->mutex);
  auto it = t->entities.find(id);
  if (it == t->entities.end()) return not_found("entity " + id + " was not found");
  read(it->second);
  return {};
}

Status Twin::scan(const std::string& tenant, const std::function<void(const Entity&)>& visit) const {
  Tenant* t = find_tenant(tenant);
  if (!t) {
    if (tenant.empty()) return {};
    return Problem{ProblemKind::NonexistentTenant, "tenant " + tenant + " does not exist"};
  }
  std::shared_lock lock(t->mutex);
  for (const auto& [id, e] : t->entities) visit(e);
  return {};
}

}  // namespace ct::twin
