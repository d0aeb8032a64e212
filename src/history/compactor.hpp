#pragma once
// The compactor: splits event records into raw records, and turns the raws of a day that ended more
// than `grace` ago into one block of that day (the series codec) when they are all numeric
// Properties with the same unitCode and no sub-attributes, and no deletion; otherwise they stay raw
// (non-numeric history is stored plainly). The block (merged with the day's earlier block) is written
// and the raws deleted in ONE store group, so a crash never loses or duplicates a point. A
// compacted point keeps its time, value and unitCode; its change time becomes its record time.
//
// Splitting writes an event's raws and deletes the event in one store group (at most 1000 events a
// group, each group under the events lock, rewrite_locks.hpp). It is done by every deleter for the
// entity it touches, by retention, and by compact() for changes older than its grace.
//
// Threads: mark_dirty() from any thread (recording calls it); split() and compact() from the
// history's own threads only: they take the rewrite lock and wait for the store.
#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.hpp"
#include "common/time.hpp"
#include "history/rewrite_locks.hpp"
#include "storage/store.hpp"

namespace ct::history {

struct CompactionStats {
  std::size_t blocks_written = 0;
  std::size_t raws_compacted = 0;
};

class Compactor {
 public:
  Compactor(storage::Store& store, RewriteLocks& locks) : store_(store), locks_(locks) {}

  // Lowers the mark of an entity ('S' tenant \0 entity \0) to `earliest`: the next pass looks at its
  // series from that day on. A lower bound is enough.
  void mark_dirty(std::string_view entity_series_prefix, Timestamp earliest);
  // Splits the event records under `event_prefix` ('E' + ...) changed before `changed_before` into
  // raw records. Durable on return.
  Status split(const std::string& event_prefix, Timestamp changed_before = std::numeric_limits<Timestamp>::max());
  // Compacts every day that ended before `now - grace`. Durable on return. The first call looks at
  // every series; later ones only at the entities recorded since (from the earliest day recorded).
  Result<CompactionStats> compact(Timestamp now, std::int64_t grace_ms);

 private:
  Status compact_series(const std::string& series_prefix, Timestamp from, Timestamp cutoff, CompactionStats& stats);

  storage::Store& store_;
  RewriteLocks& locks_;
  // Per entity ('S' tenant \0 entity \0) with raw records written since start (recorded directly
  // or split from events), the earliest record time not yet looked at (a lower bound).
  std::mutex dirty_mutex_;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  std::unordered_map<std::string, Timestamp, TextHash, std::equal_to<>> dirty_;
  bool full_pass_done_ = false;
};

}  // namespace ct::history
