#pragma once
// The twin: the authoritative in-memory state of every entity, per tenant.
//
// Every write is applied in memory and its new entity document queued to the Store under the
// tenant's lock, so the store receives writes to one entity in the order they were applied. The
// returned sequence number tells the caller what to wait for before acknowledging (see store.hpp).
// Readers see a write as soon as it is applied; a write never acknowledged may be lost by a crash.
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "jsonld/entity_codec.hpp"
#include "model/entity.hpp"
#include "storage/store.hpp"

namespace ct::twin {

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

  // The default tenant is the empty string; a named tenant exists once something was written to it.
  bool tenant_exists(const std::string& tenant) const;
  std::vector<std::string> tenants() const;
  TwinStats stats() const;

  Result<WriteOutcome> create(const std::string& tenant, jsonld::DecodedEntity entity);
  // PUT /entities/{id}: every attribute replaced; the type too when the body names one.
  Result<WriteOutcome> replace(const std::string& tenant, const std::string& id, jsonld::DecodedEntity entity);
  // PATCH /entities/{id}: attributes merged; null-valued ones deleted.
  Result<WriteOutcome> merge(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment);
  // POST /entities/{id}/attrs: attributes added, existing ones overwritten unless no_overwrite.
  Result<WriteOutcome> append(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment,
                              bool no_overwrite);
  // PATCH /entities/{id}/attrs: existing attributes replaced; absent ones reported, not added.
  Result<WriteOutcome> update(const std::string& tenant, const std::string& id, jsonld::DecodedEntity fragment);
  // PATCH /entities/{id}/attrs/{attr}: the instance with the fragment's datasetId merged with it.
  Result<WriteOutcome> patch_attribute(const std::string& tenant, const std::string& id, model::Attribute fragment);
  Result<WriteOutcome> delete_attribute(const std::string& tenant, const std::string& id, model::Term name,
                                        model::Term dataset_id, bool all_instances);
  Result<WriteOutcome> remove(const std::string& tenant, const std::string& id);

  // Runs `read` on the entity under the tenant's read lock (no copy). ResourceNotFound if absent;
  // NonexistentTenant if the tenant has never been written.
  Status read(const std::string& tenant, const std::string& id, const std::function<void(const model::Entity&)>& read) const;

 private:
  struct Tenant;
  Tenant* find_tenant(const std::string& tenant) const;
  Tenant& tenant_for_write(const std::string& tenant);
  // Applies `change` to the entity under the tenant's write lock, then queues the entity document.
  Result<WriteOutcome> modify(const std::string& tenant, const std::string& id,
                              const std::function<Status(model::Entity&, WriteOutcome&)>& change);
  storage::Write document_write(const std::string& tenant, const model::Entity& entity) const;

  storage::Store& store_;
  std::shared_ptr<const jsonld::Context> identity_context_;
  mutable std::shared_mutex tenants_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Tenant>> tenants_;
};

}  // namespace ct::twin
