#pragma once
// The history of every attribute instance, kept in the store's History collection: the one object
// the program wires, made of the parts below.
//   keys.hpp          the key layout and instance ids
//   records.hpp       raw records and day blocks (the stored values)
//   event_record.hpp  one record per change, written with the change
//   reader.hpp        reading (merging unsplit events with what is stored)
//   compactor.hpp     splitting events into raws, and raws into day blocks
//   retention.hpp     per-type policies: roll-ups and deletion of old history
//   rewrite_locks.hpp what readers and rewriters promise each other
//
// Recording: HistoryStore is a twin ChangeContributor. In contribute() (under the tenant's write
// lock, before the change is queued) it appends ONE event record per change (every instance the
// change wrote or removed), so history becomes durable in the same store group as the change.
//
// Threads. Recording and reading: any thread, never waiting for the disk (a read waits at most for
// one store group that removes events, rewrite_locks.hpp). Everything that rewrites stored records
// runs on the history's own threads: compaction and retention on the background thread (start()),
// deletions asked for by clients on the rewrite thread, so that no caller (an HTTP worker) waits for
// a scan of a long history, for the disk, or for the rewrite lock.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "history/compactor.hpp"
#include "history/keys.hpp"
#include "history/reader.hpp"
#include "history/retention.hpp"
#include "history/rewrite_locks.hpp"
#include "model/entity.hpp"
#include "storage/store.hpp"
#include "twin/change_event.hpp"

namespace ct::history {

class HistoryStore final : public twin::ChangeContributor {
 public:
  explicit HistoryStore(storage::Store& store);
  ~HistoryStore() override;

  // --- recording -------------------------------------------------------------------------------
  // Records nothing for a change of origin TemporalBackfill: the temporal API and the importer
  // record the back-filled instances themselves, with their own times (record_instance).
  void contribute(const twin::ChangeEvent& event, std::vector<storage::Write>& writes) override;
  // The writes that record `instance` (with its own observedAt) as written at `changed_at`.
  void record_instance(const std::string& tenant, const std::string& entity_id, const model::Attribute& instance,
                       Timestamp changed_at, std::vector<storage::Write>& writes);
  // The writes that record a back-filled `instance` that has an observedAt: keyed by its content
  // (series, observedAt, and a CRC-32C of the record, its change time being its observedAt), so
  // that the same instance back-filled twice (a client retrying an unanswered request) is stored
  // once. Without an observedAt, as record_instance() at `now`.
  void record_backfill(const std::string& tenant, const std::string& entity_id, const model::Attribute& instance,
                       Timestamp now, std::vector<storage::Write>& writes);
  std::size_t records_written() const { return records_written_.load(); }

  // --- reading (reader.hpp) ----------------------------------------------------------------------
  Result<std::vector<SeriesId>> series_of(const std::string& tenant, const std::string& entity_id) const {
    return reader_.series_of(tenant, entity_id);
  }
  Status read(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
              const std::function<void(const HistoryInstance&)>& visit,
              std::size_t limit = std::numeric_limits<std::size_t>::max()) const {
    return reader_.read(tenant, series, from, to, visit, limit);
  }
  Status read_numeric(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                      const std::function<void(std::string_view block)>& block,
                      const std::function<void(const HistoryInstance&)>& other) const {
    return reader_.read_numeric(tenant, series, from, to, block, other);
  }
  Status numeric_points(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                        Timestamp from, Timestamp to, const std::function<void(Timestamp, double)>& visit) const {
    return reader_.numeric_points(tenant, entity_id, attribute, from, to, visit);
  }

  // --- deleting (temporal API) -----------------------------------------------------------------
  // Each deletion is queued to the rewrite thread and the call returns at once; the deletions run
  // there one after the other, in the order asked. `done` runs on that thread once the deletion is
  // durable, or with its failure: keep it short (reply, or hand over). After stop(), done() is
  // called at once with ServiceUnavailable. Any thread.
  using Done = std::function<void(const Status&)>;
  // Every record of the entity, once the write `after` (the entity's own removal, whose history
  // record goes too; 0: none) is durable.
  void delete_entity(const std::string& tenant, const std::string& entity_id, storage::Sequence after, Done done);
  // Every record of one attribute: of every datasetId, or of one.
  void delete_attribute(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                        const std::optional<std::string>& dataset_id, Done done);
  // One instance by its instance id; ResourceNotFound if it is not one of this attribute's.
  void delete_instance(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                       const std::string& instance_id, Done done);

  // --- retention (retention.hpp) -----------------------------------------------------------------
  Status load_retention() { return retention_.load(); }  // once, before start()
  Result<storage::Sequence> set_retention(const std::string& tenant, const std::string& type,
                                          const std::optional<RetentionPolicy>& policy) {
    return retention_.set(tenant, type, policy);
  }
  std::vector<std::pair<std::string, RetentionPolicy>> retention(const std::string& tenant) const {
    return retention_.policies(tenant);
  }
  void set_type_resolver(Retention::TypeResolver resolver) { retention_.set_type_resolver(std::move(resolver)); }
  // Applies every policy as of `now`, on the caller's thread (tests, tools). Durable on return.
  Result<RetentionStats> apply_retention(Timestamp now) { return retention_.apply(now); }

  // --- compaction (compactor.hpp) --------------------------------------------------------------
  // On the caller's thread (tests, the importer). Durable on return.
  Result<CompactionStats> compact(Timestamp now, std::int64_t grace_ms) { return compactor_.compact(now, grace_ms); }
  // Runs compact() every `interval_ms` and apply_retention() every `retention_interval_ms` in a
  // background thread until stop().
  void start(std::int64_t interval_ms, std::int64_t grace_ms, std::int64_t retention_interval_ms = 3'600'000);
  // Stops the background thread, then runs the deletions queued and stops the rewrite thread.
  void stop();

 private:
  // Runs `job` on the rewrite thread, then `done` with its outcome.
  void post(std::function<Status()> job, Done done);
  void run_rewrites();
  Status delete_keys(const std::vector<std::string>& prefixes);
  Status delete_instance_now(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                             const std::string& instance_id);

  storage::Store& store_;
  std::atomic<std::uint32_t> counter_;
  std::atomic<std::size_t> records_written_{0};
  RewriteLocks locks_;
  SeriesReader reader_;
  Compactor compactor_;
  Retention retention_;

  std::mutex rewrites_mutex_;
  std::condition_variable rewrites_wake_;
  std::deque<std::pair<std::function<Status()>, Done>> rewrites_;
  bool rewrites_stopping_ = false;
  std::thread rewriter_;

  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread compactor_thread_;
};

}  // namespace ct::history
