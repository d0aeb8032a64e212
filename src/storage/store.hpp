#pragma once
// The Store contract: durable, ordered key-value collections behind the in-memory twin.
//
// Writes are queued, not performed: enqueue() returns at once with a sequence number, and a
// commit thread makes queued writes durable in groups (one fsync for everything queued since the
// last one). A caller acknowledges its client only once when_durable() has reported its sequence.
// Writes become durable in the order they were enqueued, so the last write queued for a key wins.
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
