#pragma once
// How RocksDB meets its surroundings: its log, its background errors, its files.
//
// - Its info log (options, flushes, compactions, errors) goes to spdlog: by default RocksDB writes
//   a LOG file beside the data, which on a full volume is one more write that fails (and, in
//   Debian's build with assertions, one that aborted the process). INFO and below log at debug.
// - Its background errors (a flush or compaction that failed, a log write that failed) are logged
//   and counted; the store resumes the database once space returns (rocksdb_store.cpp).
// - Its write-ahead log files are preallocated in blocks of at most 4 MB. RocksDB asks for 110 % of
//   the largest memtable (70 MB with the history family's 64 MB) in one fallocate: on ext4 the
//   first 210-byte write of a fresh log took 50 MB of a 64 MB volume, and the reserve (see
//   storage/volume_reserve.hpp) would count a log's preallocation as used space.
#include <atomic>
#include <cstdint>
#include <memory>

#include <rocksdb/env.h>
#include <rocksdb/listener.h>

namespace ct::storage {

std::shared_ptr<rocksdb::Logger> make_spdlog_rocksdb_logger();
// The default environment with write-ahead log preallocation capped (see above).
std::unique_ptr<rocksdb::Env> make_capped_preallocation_env();

class BackgroundErrors final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override;
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override;

  // Background errors since the start, and whether the database is stopped by one now (as far
  // as RocksDB has told: a successful Resume() clears it too, see cleared()).
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  bool pending() const { return pending_.load(std::memory_order_relaxed); }
  void cleared() { pending_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> count_{0};
  std::atomic<bool> pending_{false};
};

}  // namespace ct::storage
