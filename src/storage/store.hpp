#pragma once
// The Store contract: durable, ordered key-value collections behind the in-memory twin.
//
// Writes are queued, not performed: enqueue() returns at once with a sequence number, and a
// commit thread makes queued writes durable in groups (one fsync for everything queued since the
// last one). A caller acknowledges its client only once when_durable() has reported its sequence.
// Writes become durable in the order they were enqueued, so the last write queued for a key wins.
//
// A group can fail (the volume is at its reserve, the disk failed). A write may build on an earlier
// one that is not durable yet (the twin applies writes before they are durable), so a failure takes
// with it every write queued until the failure handler has run: the store calls the handler, then
// tells the waiters, and fails (without writing) whatever was queued meanwhile before it writes again.
// A full volume is a state, not a crash: the store refuses writes while it lasts and writes again
// by itself once space returns.
//
// Backends: storage/rocksdb (embedded, the default). Nothing above this header knows which one runs.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace ct::storage {

// The collections a backend keeps. Each may be stored and tuned separately (a column family, a table).
enum class Collection : std::uint8_t { Entities, Subscriptions, Contexts, Rules, History, Meta, Devices };
inline constexpr std::size_t kCollectionCount = 7;
std::string_view collection_name(Collection c);

struct Write {
  Collection collection = Collection::Entities;
  std::string key;
  std::optional<std::string> value;  // nullopt deletes the key
};

using Sequence = std::uint64_t;

class Store {
 public:
  virtual ~Store() = default;

  // Queues writes to become durable together and in order. Never blocks on I/O.
  virtual Sequence enqueue(std::vector<Write> writes) = 0;
  // Calls `done` once every write up to `seq` is durable (or failed). It runs on the commit
  // thread, or at once on the caller's thread if `seq` is already durable: keep it short.
  virtual void when_durable(Sequence seq, std::function<void(const Status&)> done) = 0;
  // Blocks until every write up to `seq` is durable.
  virtual Status wait_durable(Sequence seq) = 0;
  // Every write up to this sequence is durable (it never goes back). Any thread; cheap.
  virtual Sequence durable_sequence() const = 0;
  // Called on the commit thread when a group fails, with durable_sequence(), before the failed
  // group's waiters are told: every write queued after that sequence and before the handler returns
  // fails. The handler undoes what they did (see twin/rollback.hpp); it may take locks that
  // enqueue() callers hold, since the store holds none of its own while it runs. Set it once, before
  // writing; an empty function removes it.
  virtual void set_failure_handler(std::function<void(Sequence durable_through)> handler) = 0;

  // Whether a write would be accepted now. InsufficientStorage while the volume is at its reserve;
  // `freeing` (the write only deletes) is admitted further, down to a smaller reserve. Cheap: for
  // every write, before it is applied. A write admitted may still fail (see above).
  virtual Status admit(bool freeing) {
    (void)freeing;
    return {};
  }
  struct Health {
    bool writable = true;
    std::string reason;  // why not writable ("storage full"), for /health; never a path
    std::uint64_t free_bytes = 0, reserve_bytes = 0;  // of the data volume (0: not known)
    std::uint64_t refused_groups = 0, failed_groups = 0;  // refused at the reserve; failed in the backend
  };
  virtual Health health() const { return {}; }

  // Visits every key under `prefix` in one collection, in key order. Stops early when `visit` returns false.
  virtual Status scan(Collection collection, std::string_view prefix,
                      const std::function<bool(std::string_view key, std::string_view value)>& visit) = 0;
  // Visits every key in [begin, end) of one collection, in key order (one range scan: time-ordered
  // series). Stops early when `visit` returns false. The default filters a full scan; backends seek.
  virtual Status scan_range(Collection collection, std::string_view begin, std::string_view end,
                            const std::function<bool(std::string_view key, std::string_view value)>& visit);
  // A hint that many keys in [begin, end) of `collection` were just deleted: the backend may reclaim
  // their space (and stop stepping over them in scans) now rather than in its own time. May take
  // long; call it from a background thread. The default does nothing.
  virtual void reclaim(Collection collection, std::string_view begin, std::string_view end) {
    (void)collection;
    (void)begin;
    (void)end;
  }
  virtual Result<std::optional<std::string>> get(Collection collection, std::string_view key) = 0;

  // Makes everything queued durable and stops the commit thread. Later writes fail.
  virtual void close() = 0;
};

// Keys of per-tenant records: the tenant, a unit separator, then the record's own key.
std::string tenant_key(std::string_view tenant, std::string_view key);
// Splits a key made by tenant_key; false if it has no separator.
bool split_tenant_key(std::string_view full, std::string_view& tenant, std::string_view& key);

}  // namespace ct::storage
