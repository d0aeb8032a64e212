#pragma once
// Reading the history: the series of an entity, the instances of a series in a time range, and the
// numeric points rules and domain applications window over.
//
// A read never waits for a store write and never splits: it merges the entity's unsplit event
// records (event_record.hpp) in memory with the raws and blocks stored (same keys, so same
// instance ids). It holds the events lock shared (rewrite_locks.hpp): it waits only while a store
// group that removes events becomes durable. Every method may be called from any thread, also
// concurrently with recording and with every rewrite.
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "history/keys.hpp"
#include "history/rewrite_locks.hpp"
#include "model/entity.hpp"
#include "storage/store.hpp"

namespace ct::history {

// One instance of a series as read back.
struct HistoryInstance {
  Timestamp time = 0;        // observedAt, else the change time
  Timestamp changed_at = 0;  // when it was written (compacted points: their time)
  bool deleted = false;      // the instance was deleted at changed_at
  std::optional<double> number;  // a numeric Property value
  model::Attribute attribute;    // decoded (name, kind, value, observedAt, unitCode, sub-attributes)
  std::string instance_id;       // see keys.hpp
};

// Every series whose key starts with `prefix` ('S' + ...), by its series prefix, in key order: one
// short scan per series (hopping from one to the next).
Status for_each_series(storage::Store& store, const std::string& prefix,
                       const std::function<void(const std::string& series_prefix)>& visit);

class SeriesReader {
 public:
  SeriesReader(storage::Store& store, RewriteLocks& locks) : store_(store), locks_(locks) {}

  // The series of an entity (attribute, datasetId), in key order.
  Result<std::vector<SeriesId>> series_of(const std::string& tenant, const std::string& entity_id) const;
  // The instances of one series whose record time is in [from, to), in time order; only the first
  // `limit` of them (the scan then stops at the end of the day that holds the limit-th).
  Status read(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
              const std::function<void(const HistoryInstance&)>& visit,
              std::size_t limit = std::numeric_limits<std::size_t>::max()) const;
  // The blocks and raw numeric points of one series in [from, to), for aggregation: blocks as
  // encoded series blocks (whole days), points as they are. Non-numeric live instances are
  // reported with `number` empty through `other`.
  Status read_numeric(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                      const std::function<void(std::string_view block)>& block,
                      const std::function<void(const HistoryInstance&)>& other) const;
  // Every numeric value of `attribute` (any datasetId) of `entity_id` whose record time is in
  // [from, to), oldest first (the contract with rules, contract-history-rules.md).
  Status numeric_points(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                        Timestamp from, Timestamp to, const std::function<void(Timestamp, double)>& visit) const;

 private:
  // The entries of an entity's unsplit event records, as the raws they will become.
  struct PendingRaw {
    std::string attribute;
    std::string dataset;
    Timestamp time = 0;
    std::string suffix;  // the raw key after its series prefix: time 'R' changedAt counter
    std::string raw;     // the raw record's value
  };
  Status pending_raws(const std::string& tenant, const std::string& entity_id,
                      const std::function<void(PendingRaw&&)>& visit) const;

  storage::Store& store_;
  RewriteLocks& locks_;
};

}  // namespace ct::history
