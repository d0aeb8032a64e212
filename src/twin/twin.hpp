#pragma once
// The twin: the authoritative in-memory state of every entity, per tenant.
//
// Every write is applied in memory and its new entity document queued to the Store under the
// tenant's lock, so the store receives writes to one entity in the order they were applied. The
// returned sequence number tells the caller what to wait for before acknowledging (see store.hpp).
// Readers see a write as soon as it is applied; a write never acknowledged may be lost by a crash.
// A batch takes the tenant's lock once and queues all its documents as one group.
// Every write names its origin (the last parameter, a client request by default); the change events
// it makes carry it to the contributors (synchronously) and to the consumers of the change stream
// (once the group is durable). A write call may wait afterwards, outside every lock, for a consumer
// whose queue is full (back-pressure, see change_stream.hpp).
// A write refused by the store (a full volume) changes nothing: it is refused before it is applied
// when the store says so (Store::admit), and rolled back if its group fails (twin/rollback.hpp).
#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "jsonld/entity_codec.hpp"
#include "model/entity.hpp"
#include "query/geo.hpp"
#include "query/id_pattern.hpp"
#include "query/q.hpp"
#include "query/scope.hpp"
#include "query/type_expression.hpp"
#include "storage/store.hpp"
#include "twin/change_event.hpp"
#include "twin/change_stream.hpp"
#include "twin/enricher.hpp"
#include "twin/rollback.hpp"

namespace ct::twin {

struct Tenant;

// What an append or update did, attribute by attribute (NGSI-LD UpdateResult).
struct NotUpdated {
  model::Term attribute;
  std::string reason;
};
struct UpdateReport {
  std::vector<model::Term> updated;
  std::vector<NotUpdated> not_updated;
};

struct WriteOutcome {
  storage::Sequence sequence = 0;  // wait for this before acknowledging
  UpdateReport report;
};

// One entity of a batch: its id and, if it failed, why. `created` tells an upsert's creations.
struct BatchItem {
  std::string id;
  std::optional<Problem> error;
  bool created = false;
};
struct BatchOutcome {
  storage::Sequence sequence = 0;
  std::vector<BatchItem> items;  // in request order
};

enum class UpsertMode { Replace, Update };

// One item of a query's entities list: every criterion given must hold.
struct EntitySelector {
  std::optional<query::TypeExpression> types;
  std::vector<std::string> ids;
  std::optional<query::IdPattern> id_pattern;
};

// Query Entities: an entity matches when it satisfies any selector (or there is none) and every
// other criterion given. Results come in entity id order.
struct EntityQuery {
  std::vector<EntitySelector> selectors;
  std::optional<query::QExpression> q;
  std::optional<query::ScopeQuery> scope;
  std::optional<query::GeoQuery> geo;
  std::vector<model::Term> any_attribute;  // attrs=: entities with at least one of these
  // Identifies this query (tenant and every criterion) across its pages: pages after the first are
  // cut from the result of the first, so a changing population never shifts unchanged entities
  // between pages. Empty: no paging snapshot.
  std::string paging_key;
};

struct TwinStats {
  std::size_t tenants = 0;
  std::size_t entities = 0;
};

class Twin {
 public:
  explicit Twin(storage::Store& store);
  ~Twin();

  // Rebuilds every tenant from the store. Call once, before serving.
  Status load();
  // Every change is shown to the contributors, in order, under the tenant's lock, before its group
  // is queued (see ChangeContributor). Add them before serving; the twin does not own them.
  void add_contributor(ChangeContributor* contributor);
  // The stream through which consumers receive every durable change (change_stream.hpp).
  ChangeStream& changes() { return stream_; }
  // Enrichers derive attributes inside each write (enricher.hpp). From any thread, at any time; the
  // twin does not own them. remove_enricher returns once no write is inside its enrich().
  void add_enricher(Enricher* enricher);
  void remove_enricher(Enricher* enricher);

  // The default tenant is the empty string; a named tenant exists once something was written to it.
  bool tenant_exists(const std::string& tenant) const;
  std::vector<std::string> tenants() const;
  TwinStats stats() const;

  Result<WriteOutcome> create(const std::string& tenant, jsonld::DecodedEntity entity, const WriteOrigin& origin = {});
  // PUT /entities/{id}: every attribute replaced; the type too when the body names one.
  Result<WriteOutcome> replace(const std::string& tenant, const std::string& id, jsonld::DecodedEntity entity,
                               const WriteOrigin& origin = {});
  // PATCH /entities/{id}: attributes merged; null-valued ones deleted.
  Result<WriteOutcome> merge(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                             const WriteOrigin& origin = {});
  // POST /entities/{id}/attrs: attributes added, existing ones overwritten unless no_overwrite.
  Result<WriteOutcome> append(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                              bool no_overwrite, const WriteOrigin& origin = {});
  // PATCH /entities/{id}/attrs: existing attributes replaced; absent ones reported, not added.
  Result<WriteOutcome> update(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                              const WriteOrigin& origin = {});
  // PATCH /entities/{id}/attrs/{attr}: the instance with the fragment's datasetId merged with it.
  Result<WriteOutcome> patch_attribute(const std::string& tenant, const std::string& id, model::Attribute fragment,
                                       const WriteOrigin& origin = {});
  Result<WriteOutcome> delete_attribute(const std::string& tenant, const std::string& id, model::Term name,
                                        model::Term dataset_id, bool all_instances, const WriteOrigin& origin = {});
  Result<WriteOutcome> remove(const std::string& tenant, const std::string& id, const WriteOrigin& origin = {});

  // /entityOperations: each entity succeeds or fails alone; all successes become durable together.
  BatchOutcome batch_create(const std::string& tenant, std::vector<jsonld::DecodedEntity> entities,
                            const WriteOrigin& origin = {});
  // `together`: store writes that become durable in the same group as the batch (a temporal
  // back-fill's history records).
  BatchOutcome batch_upsert(const std::string& tenant, std::vector<jsonld::DecodedEntity> entities, UpsertMode mode,
                            const WriteOrigin& origin = {}, std::vector<storage::Write> together = {});
  BatchOutcome batch_update(const std::string& tenant, std::vector<jsonld::DecodedEntity> entities, bool no_overwrite,
                            const WriteOrigin& origin = {});
  BatchOutcome batch_delete(const std::string& tenant, const std::vector<std::string>& ids, const WriteOrigin& origin = {});

  // Runs `read` on the entity under the tenant's read lock (no copy). ResourceNotFound if absent;
  // NonexistentTenant if the tenant has never been written.
  Status read(const std::string& tenant, const std::string& id, const std::function<void(const model::Entity&)>& read) const;

  // Query Entities: visits the matches at [offset, offset + limit) in id order under the read lock,
  // and returns how many match in all.
  Result<std::size_t> query(const std::string& tenant, const EntityQuery& query, std::size_t offset, std::size_t limit,
                            const std::function<void(const model::Entity&)>& visit);

  // Every entity of the tenant (discovery: /types, /attributes), under the read lock.
  Status scan(const std::string& tenant, const std::function<void(const model::Entity&)>& visit) const;

 private:
  using Change = std::function<Status(model::Entity&, const model::WriteStamp&, WriteOutcome&)>;
  // What a write under one lock produces: store writes and change events, committed together.
  struct Pending {
    explicit Pending(const WriteOrigin& o) : origin(o) {}
    const WriteOrigin& origin;
    std::vector<storage::Write> writes;
    std::vector<ChangeEvent> events;
    std::vector<Undo> undos;  // one per change, in the order applied
  };
  Tenant* find_tenant(const std::string& tenant) const;
  Tenant& tenant_for_write(const std::string& tenant);
  storage::Write document_write(const std::string& tenant, const model::Entity& entity) const;
  storage::Write deletion_write(const std::string& tenant, const std::string& id) const;

  // The operations on one entity, with the tenant's write lock held; each adds the store write and
  // the change event it makes to `pending`. A change that fails must fail before it modifies anything.
  Status create_locked(Tenant& t, const std::string& tenant, jsonld::DecodedEntity&& decoded, Pending& pending);
  Status modify_locked(Tenant& t, const std::string& tenant, const std::string& id, const Change& change,
                       WriteOutcome& outcome, Pending& pending);
  Status remove_locked(Tenant& t, const std::string& tenant, const std::string& id, Pending& pending);
  // Lets the enrichers add their derived attributes to a write of one entity, lock held.
  void enrich(const std::string& tenant, model::Entity& entity, const model::WriteStamp& stamp,
              const WriteOrigin& origin);
  // Lets contributors add their writes, queues everything as one group, journals the undos, then
  // publishes the events. With the tenant's write lock held.
  storage::Sequence commit(Tenant& t, Pending& pending);
  // Whether changes need events: someone contributes or consumes them.
  bool makes_events() const { return !contributors_.empty() || stream_.has_consumers(); }
  // The store's failure handler: undoes every change of every tenant not durable through `durable`.
  void roll_back(storage::Sequence durable);

  Result<WriteOutcome> modify(const std::string& tenant, const std::string& id, const Change& change,
                              const WriteOrigin& origin);
  // Runs `apply` once per entity of a batch under one lock and queues every write as one group.
  // `freeing`: the batch only deletes (Store::admit). `together`: writes made durable in the same group.
  BatchOutcome batch(const std::string& tenant, const std::vector<std::string>& ids, bool create_tenant, bool freeing,
                     const WriteOrigin& origin, std::vector<storage::Write> together,
                     const std::function<Status(Tenant&, std::size_t, BatchItem&, Pending&)>& apply);

  // Builds the indexes `query` could use that the tenant does not have yet.
  void prepare_indexes(Tenant& t, const EntityQuery& query);
  // `geo_decided`: the spatial index answered and already checked the geo criterion for every candidate.
  std::vector<const model::Entity*> candidates(const Tenant& t, const EntityQuery& query, bool& geo_decided) const;

  using SnapshotIds = std::shared_ptr<const std::vector<std::string>>;
  struct Snapshot {
    SnapshotIds ids;
    std::chrono::steady_clock::time_point used;
  };
  SnapshotIds find_snapshot(const std::string& key);
  void keep_snapshot(const std::string& key, SnapshotIds ids);

  storage::Store& store_;
  std::vector<ChangeContributor*> contributors_;
  std::shared_mutex enrichers_mutex_;  // shared while enriching, exclusive to change the list
  std::vector<Enricher*> enrichers_;
  std::atomic<std::size_t> enricher_count_{0};  // lets writes skip the lock when there is none
  ChangeStream stream_;  // after store_: constructed with it
  std::shared_ptr<const jsonld::Context> identity_context_;
  mutable std::shared_mutex tenants_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Tenant>> tenants_;
  std::mutex snapshots_mutex_;
  std::list<std::pair<std::string, Snapshot>> snapshots_;  // most recently used first
};

// Whether `entity` satisfies every criterion of `query` (exposed for subscriptions and tests).
bool matches(const model::Entity& entity, const EntityQuery& query);

}  // namespace ct::twin
