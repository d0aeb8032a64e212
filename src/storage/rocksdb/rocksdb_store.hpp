#pragma once
// The embedded default Store: RocksDB, one column family per collection, write-ahead log synced
// on every commit group. A single commit thread drains the queue, writes one WriteBatch for the
// whole group with sync=true (a write superseded by a later one to the same key within the group
// is left out), and then reports durability to every waiter in the group.
#include <cstdint>
#include <filesystem>
#include <memory>

#include "common/result.hpp"
#include "storage/store.hpp"

namespace ct::storage {

struct RocksDbOptions {
  std::filesystem::path directory;
  bool sync = true;  // fsync the log before reporting a write durable; off only for throw-away runs
  // Free space of the volume kept in reserve (storage/volume_reserve.hpp); 0: 5 % of it, 16 MB–1 GB.
  std::uint64_t reserve_bytes = 0;
};

Result<std::unique_ptr<Store>> open_rocksdb_store(const RocksDbOptions& options);

}  // namespace ct::storage
