#pragma once
// The history of every attribute instance, kept in the store's History collection.
//
// Recording: HistoryStore is a twin ChangeContributor. In contribute() (under the tenant's write lock,
// before the change is queued) it appends ONE event record per change (every instance the change
// wrote or removed), so history becomes durable in the same store group as the change. One store
// key per change rather than per attribute value is what keeps ingest with history cheap.
// An event record is split into the raw records below ("materialized") in one store group that
// writes the raws and deletes the event: by every deleter for the entity it touches, by retention,
// and by the compactor for changes older than its grace. Readers do not split: they merge the
// entity's unsplit events in memory with what is stored (so a read never waits for a store write).
// Raw keys take the event's change time and counter, so an instance id does not depend on when or
// whether that happens.
//
// Keys (one series = tenant, entity, attribute, datasetId; every time is big-endian with the sign
// bit flipped, so keys sort by time):
//   'S' tenant \0 entity \0 attribute \0 datasetId \0 time 'B'                   a compacted day block
//   'S' tenant \0 entity \0 attribute \0 datasetId \0 time 'R' changedAt counter a raw record
//   'E' tenant \0 entity \0 changedAt counter                                     an event record
// A series' records in [from, to) are one range scan from the start of from's day to `to`. The
// series of an entity are found by hopping from one series to the next (one short scan each).
// The record time is the instance's observedAt, or, without one, the time of the change.
//
// Compaction (background): the raws of a day that ended more than `grace` ago are turned into one
// block of that day (the series codec) when they are all numeric Properties with the same unitCode
// and no sub-attributes, and no deletion; otherwise they stay raw (non-numeric history is stored
// plainly). The block (merged with the day's earlier block) is written and the raws deleted in ONE
// store group, so a crash never loses or duplicates a point. A compacted point keeps its time,
// value and unitCode; its change time becomes its record time.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "model/entity.hpp"
#include "storage/store.hpp"
#include "twin/change_event.hpp"

namespace ct::history {

inline constexpr std::int64_t kBucketMs = 86'400'000;  // one block per series and UTC day

struct SeriesId {
  std::string entity_id;
  std::string attribute;   // expanded
  std::string dataset_id;  // expanded; empty for the default instance
};

// One instance of a series as read back.
struct HistoryInstance {
  Timestamp time = 0;        // observedAt, else the change time
  Timestamp changed_at = 0;  // when it was written (compacted points: their time)
  bool deleted = false;      // the instance was deleted at changed_at
  std::optional<double> number;  // a numeric Property value
  model::Attribute attribute;    // decoded (name, kind, value, observedAt, unitCode, sub-attributes)
  // urn:ngsi-ld:history:<hex of the record key>, or for a compacted point <hex time>-<its ordinal
  // among the points of that time>: a raw instance's id changes once when it is compacted.
  std::string instance_id;
};

// How long a tenant keeps the history of the entities of one type (or of every type: "*").
// Numeric history older than keep_raw is rolled up to one value per roll_up period (the mean of
// the period, at its start), or deleted when roll_up is 0; non-numeric history older than keep_raw
// stays (it cannot be averaged) unless roll_up is 0. Everything older than keep_roll_ups (when not
// 0) is deleted. Aggregations over rolled-up days see the roll-ups, not the original points.
struct RetentionPolicy {
  std::int64_t keep_raw_ms = 0;
  std::int64_t roll_up_ms = 0;        // 0 < roll_up_ms <= a day, dividing it; 0: no roll-ups
  std::int64_t keep_roll_ups_ms = 0;  // 0: forever
  friend bool operator==(const RetentionPolicy&, const RetentionPolicy&) = default;
};
inline constexpr std::string_view kAnyType = "*";

struct RetentionStats {
  std::size_t days_rolled_up = 0;
  std::size_t records_deleted = 0;
};

struct CompactionStats {
  std::size_t blocks_written = 0;
  std::size_t raws_compacted = 0;
};

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

  // --- reading ---------------------------------------------------------------------------------
  // The series of an entity (attribute, datasetId), in key order.
  Result<std::vector<SeriesId>> series_of(const std::string& tenant, const std::string& entity_id) const;
  // The instances of one series whose record time is in [from, to), in time order; only the first
  // `limit` of them (the scan then stops at the end of the day that holds the limit-th).
  Status read(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
              const std::function<void(const HistoryInstance&)>& visit,
              std::size_t limit = std::numeric_limits<std::size_t>::max()) const;
  // The raw blocks and raw numeric points of one series in [from, to), for aggregation: blocks
  // as encoded series blocks (whole days), points as they are. Non-numeric live instances are
  // reported with `number` empty through `other`.
  Status read_numeric(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                      const std::function<void(std::string_view block)>& block,
                      const std::function<void(const HistoryInstance&)>& other) const;
  // The contract with rules (contract-history-rules.md): every numeric value of `attribute` (any
  // datasetId) of `entity_id` whose record time is in [from, to), oldest first.
  Status numeric_points(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                        Timestamp from, Timestamp to, const std::function<void(Timestamp, double)>& visit) const;

  // --- deleting (temporal API) -----------------------------------------------------------------
  // Every record of the entity (or of one attribute: every datasetId, or one). Durable on return.
  Status delete_entity(const std::string& tenant, const std::string& entity_id);
  Status delete_attribute(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                          const std::optional<std::string>& dataset_id);
  // One instance by its instance id; ResourceNotFound if it is not one of this attribute's.
  Status delete_instance(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                         const std::string& instance_id);

  // --- retention -------------------------------------------------------------------------------
  // Reads the policies kept in the store. Call once before start().
  Status load_retention();
  // Sets (or, with nullopt, removes) the policy of `type` (expanded, or kAnyType) in `tenant`,
  // durably. BadRequestData for an inconsistent policy.
  Status set_retention(const std::string& tenant, const std::string& type, const std::optional<RetentionPolicy>& policy);
  // The policies of `tenant`, by type.
  std::vector<std::pair<std::string, RetentionPolicy>> retention(const std::string& tenant) const;
  // The types of an entity (for per-type policies): the program asks the twin. Without one, only
  // the kAnyType policies apply.
  using TypeResolver = std::function<std::vector<std::string>(const std::string& tenant, const std::string& entity_id)>;
  void set_type_resolver(TypeResolver resolver) { types_of_ = std::move(resolver); }
  // Applies every policy as of `now`. Durable on return.
  Result<RetentionStats> apply_retention(Timestamp now);

  // --- compaction ------------------------------------------------------------------------------
  // Compacts every day that ended before `now - grace`. Durable on return. The first call looks at
  // every series; later ones only at the entities recorded since (from the earliest day recorded).
  Result<CompactionStats> compact(Timestamp now, std::int64_t grace_ms);
  // Runs compact() every `interval_ms` and apply_retention() every `retention_interval_ms` in a
  // background thread until stop().
  void start(std::int64_t interval_ms, std::int64_t grace_ms, std::int64_t retention_interval_ms = 3'600'000);
  void stop();

  std::size_t records_written() const { return records_written_.load(); }

 private:
  // Splits the event records under `event_prefix` ('E' + ...) changed before `changed_before` into
  // raw records (each event's raws and its deletion in one store group). Durable on return.
  Status materialize(const std::string& event_prefix, Timestamp changed_before = std::numeric_limits<Timestamp>::max()) const;
  // Lowers the compactor's mark of an entity ('S' tenant \0 entity \0) to `earliest`.
  void mark_dirty(std::string_view entity_series_prefix, Timestamp earliest) const;
  Status materialize_entity(const std::string& tenant, const std::string& entity_id) const;
  // The entries of an entity's unsplit event records, as the raws they will become (same keys, so
  // same instance ids). Readers merge them with what is stored instead of splitting first.
  struct PendingRaw {
    std::string attribute;
    std::string dataset;
    Timestamp time = 0;
    std::string suffix;  // the raw key after its series prefix: time 'R' changedAt counter
    std::string raw;     // the raw record's value
  };
  Status pending_raws(const std::string& tenant, const std::string& entity_id,
                      const std::function<void(PendingRaw&&)>& visit) const;
  Status compact_series(const std::string& series_prefix, Timestamp from, Timestamp cutoff, CompactionStats& stats);
  Status delete_prefix(const std::string& prefix);
  // Every series whose key starts with `prefix` ('S' + ...), by its series prefix, in key order.
  Status for_each_series(const std::string& prefix, const std::function<void(const std::string& series_prefix)>& visit) const;
  Status retain_series(const std::string& series_prefix, const RetentionPolicy& policy, Timestamp now,
                       RetentionStats& stats);

  storage::Store& store_;
  std::atomic<std::uint32_t> counter_;
  std::atomic<std::size_t> records_written_{0};
  // Serialises what rewrites existing records (splitting, compaction, deletions) so that neither
  // resurrects what the other removed; each holds it until its writes are durable. Readers hold it
  // shared, so that an event is never seen both unsplit and split (or neither).
  mutable std::shared_mutex rewrite_mutex_;
  // Per entity ('S' tenant \0 entity \0) with raw records written since start (recorded directly
  // or split from events), the earliest record time not yet looked at by the compactor (a lower bound).
  mutable std::mutex dirty_mutex_;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  mutable std::unordered_map<std::string, Timestamp, TextHash, std::equal_to<>> dirty_;
  bool full_pass_done_ = false;
  mutable std::mutex retention_mutex_;
  std::map<std::pair<std::string, std::string>, RetentionPolicy> policies_;  // (tenant, type)
  TypeResolver types_of_;
  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread compactor_;
};

}  // namespace ct::history
