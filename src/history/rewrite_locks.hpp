#pragma once
// The two locks between what reads the history and what rewrites records already stored
// (splitting events into raws, compaction, deletions, retention). Shared by one history's reader,
// compactor, retention and deleters; recording (appending new records) takes neither.
#include <mutex>
#include <shared_mutex>

namespace ct::history {

struct RewriteLocks {
  // Serialises the rewriters. Each holds it until its writes are durable, so that none works from a
  // scan that misses what another just wrote or removed (and resurrects it). Held only on the
  // history's own threads (compactor, rewrite thread), never on an HTTP worker.
  std::mutex rewrite;
  // Readers hold it shared for one read; whatever removes event records (splitting, deleting an
  // entity) holds it exclusively, one store group at a time, until that group is durable.
  // Why that is enough: a reader reads an entity's events before its series and drops a series'
  // raws it already saw as events; so with no event removed during the read it sees every instance
  // once. Rewrites that leave events alone need not wait for readers: each of their store groups
  // is atomic, and a reader reads a series in one scan (one consistent view of the store).
  mutable std::shared_mutex events;
};

}  // namespace ct::history
