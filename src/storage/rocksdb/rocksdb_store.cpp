#include "storage/rocksdb/rocksdb_store.hpp"

#include "storage/commit_group.hpp"
#include "storage/rocksdb/rocksdb_environment.hpp"
#include "storage/volume_reserve.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <pthread.h>

#include <spdlog/spdlog.h>

namespace ct::storage {
namespace {

// What RocksDB needs beside the database, and must outlive it.
struct Surroundings {
  std::unique_ptr<rocksdb::Env> env;
  std::shared_ptr<BackgroundErrors> errors;
  std::unique_ptr<VolumeReserve> reserve;
};

class RocksDbStore final : public Store {
 public:
  RocksDbStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync,
               Surroundings surroundings)
      : surroundings_(std::move(surroundings)), db_(std::move(db)), handles_(std::move(handles)), sync_(sync) {
    committer_ = std::thread([this] { commit_loop(); });
    pthread_setname_np(committer_.native_handle(), "ct-store-commit");  // to tell it apart in profiles
  }

  ~RocksDbStore() override {
    close();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_.reset();  // before the environment it runs in
  }

  Sequence enqueue(std::vector<Write> writes) override {
    std::lock_guard lock(mutex_);
    // Nothing to write: durable as soon as everything queued before it is (a new sequence number
    // with no write behind it would wait for some later write to wake the committer).
    if (writes.empty() && !closed_) return last_queued_;
    const Sequence seq = ++last_queued_;
    if (closed_) {
      failed_through_ = seq;
      failed_ranges_.emplace_back(seq, seq);
      failure_ = Problem{ProblemKind::ServiceUnavailable, "the store is closed"};
      return seq;
    }
    for (auto& w : writes) pending_.push_back(std::move(w));
    wake_.notify_one();
    return seq;
  }

  void when_durable(Sequence seq, std::function<void(const Status&)> done) override {
    Status status;
    {
      std::lock_guard lock(mutex_);
      if (seq > durable_ && seq > failed_through_) {
        waiters_.emplace(seq, std::move(done));
        return;
      }
      status = outcome_of(seq);
    }
    done(status);
  }

  Status wait_durable(Sequence seq) override {
    std::unique_lock lock(mutex_);
    durable_changed_.wait(lock, [&] { return durable_ >= seq || failed_through_ >= seq; });
    return outcome_of(seq);
  }

  Sequence durable_sequence() const override { return durable_sequence_.load(std::memory_order_acquire); }

  void set_failure_handler(std::function<void(Sequence)> handler) override {
    std::lock_guard lock(mutex_);
    failure_handler_ = std::move(handler);
  }

  Status admit(bool freeing) override { return surroundings_.reserve->admit(freeing); }

  Health health() const override {
    Health h;
    const auto& reserve = *surroundings_.reserve;
    h.free_bytes = reserve.free_bytes();
    h.reserve_bytes = reserve.reserve_bytes();
    h.refused_groups = refused_groups_.load(std::memory_order_relaxed);
    h.failed_groups = failed_groups_.load(std::memory_order_relaxed);
    if (reserve.full()) {
      h.writable = false;
      h.reason = "storage full";
    } else if (needs_resume_.load(std::memory_order_relaxed) || surroundings_.errors->pending()) {
      h.writable = false;
      h.reason = "storage error";
    }
    return h;
  }

  Status scan(Collection collection, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) override {
    rocksdb::ReadOptions options;
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handle(collection)));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
      const auto key = it->key();
      if (!key.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      if (!visit(std::string_view(key.data(), key.size()), std::string_view(it->value().data(), it->value().size())))
        break;
    }
    if (!it->status().ok()) return Problem{ProblemKind::InternalError, "storage scan: " + it->status().ToString()};
    return {};
  }

  Status scan_range(Collection collection, std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view, std::string_view)>& visit) override {
    const rocksdb::Slice upper(end.data(), end.size());
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handle(collection)));
    for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()),
                 std::string_view(it->value().data(), it->value().size())))
        break;
    }
    if (!it->status().ok()) return Problem{ProblemKind::InternalError, "storage scan: " + it->status().ToString()};
    return {};
  }

  void reclaim(Collection collection, std::string_view begin, std::string_view end) override {
    const rocksdb::Slice from(begin.data(), begin.size()), to(end.data(), end.size());
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;  // where tombstones go
    (void)db_->CompactRange(options, handle(collection), &from, &to);  // a hint: a failure changes nothing
  }

  Result<std::optional<std::string>> get(Collection collection, std::string_view key) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), handle(collection), rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return Problem{ProblemKind::InternalError, "storage get: " + s.ToString()};
    return std::optional<std::string>(std::move(value));
  }

  void close() override {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      wake_.notify_one();
    }
    if (committer_.joinable()) committer_.join();
    // Synced writes left nothing to flush; after a failed write the log must not be touched again
    // (RocksDB asserts on a log writer that saw an error).
    if (!sync_ && !needs_resume_.load()) db_->FlushWAL(true);
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Collection c) const { return handles_[static_cast<std::size_t>(c)]; }

  // Under mutex_: the outcome of a sequence already settled (durable or failed).
  Status outcome_of(Sequence seq) const {
    for (auto it = failed_ranges_.rbegin(); it != failed_ranges_.rend(); ++it) {
      if (seq > it->second) break;
      if (seq >= it->first) return failure_;
    }
    return {};
  }

  void commit_loop() {
    std::vector<Write> group;
    std::vector<const Write*> effective;
    // A group failed: what was queued until its failure was handled fails with it, unwritten.
    bool failing = false;
    for (;;) {
      Sequence first, through;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !pending_.empty() || closed_; });
        if (pending_.empty() && closed_) return;
        group.swap(pending_);
        first = std::max(durable_, failed_through_) + 1;
        through = last_queued_;
      }
      Status status = failing ? Status(failure_copy_) : write_group(group, effective);
      group.clear();

      std::vector<std::function<void(const Status&)>> ready;
      if (status.ok()) {
        std::lock_guard lock(mutex_);
        durable_ = through;
        durable_sequence_.store(through, std::memory_order_release);
        take_waiters(through, ready);
      } else {
        failing = true;
        failure_copy_ = status.problem();
        std::function<void(Sequence)> handler;
        {
          std::lock_guard lock(mutex_);
          handler = failure_handler_;
        }
        if (handler) handler(durable_sequence());  // undoes in memory before anyone hears of the failure
        std::lock_guard lock(mutex_);
        failure_ = status.problem();
        failed_through_ = through;
        if (!failed_ranges_.empty() && failed_ranges_.back().second + 1 == first)
          failed_ranges_.back().second = through;
        else
          failed_ranges_.emplace_back(first, through);
        if (failed_ranges_.size() > kFailedRangesKept) failed_ranges_.pop_front();
        take_waiters(through, ready);
        if (pending_.empty()) failing = false;  // nothing can build on the failed writes any more
      }
      durable_changed_.notify_all();
      for (auto& done : ready) done(status);
    }
  }

  void take_waiters(Sequence through, std::vector<std::function<void(const Status&)>>& ready) {
    for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= through;) {
      ready.push_back(std::move(it->second));
      it = waiters_.erase(it);
    }
  }

  // Writes one group as one batch, unless the volume is at its reserve. Commit thread.
  Status write_group(const std::vector<Write>& group, std::vector<const Write*>& effective) {
    // A later write to a key supersedes an earlier one: only the last is written (an entity
    // updated by many messages of one group, once), in key order.
    effective_writes(group, effective);
    std::uint64_t bytes = 0, put = 0;
    bool deletes = false;
    for (const Write* w : effective) {
      bytes += w->key.size() + (w->value ? w->value->size() : 0) + 16;
      if (w->value) put += w->value->size();
      deletes = deletes || !w->value;
    }
    // A group that deletes and puts little (the history record of a deletion) frees space.
    const bool freeing = deletes && put < kSmallPut;
    // Twice the batch: once in the log, once more when its memtable is flushed.
    if (auto st = surroundings_.reserve->check(2 * bytes, freeing); !st) {
      effective.clear();
      refused_groups_.fetch_add(1, std::memory_order_relaxed);
      if (!refusing_) {
        refusing_ = true;
        spdlog::warn("storage: the data volume is at its reserve ({} MB free, {} MB kept): writes are refused",
                     surroundings_.reserve->free_bytes() >> 20, surroundings_.reserve->reserve_bytes() >> 20);
      }
      return st;
    }
    if (needs_resume_.load(std::memory_order_relaxed)) {
      // The database stopped at an error; with space back, it flushes its memtables and opens a new log.
      if (const auto s = db_->Resume(); !s.ok()) {
        effective.clear();
        failed_groups_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("storage: cannot resume writing yet: {}", s.ToString());
        return s.IsNoSpace() ? storage_full() : Problem{ProblemKind::ServiceUnavailable, "the store cannot write now"};
      }
      needs_resume_.store(false, std::memory_order_relaxed);
      surroundings_.errors->cleared();
      spdlog::info("storage: resumed after an error");
    }
    if (refusing_) {
      refusing_ = false;
      spdlog::info("storage: space is back ({} MB free): writing again", surroundings_.reserve->free_bytes() >> 20);
    }
    rocksdb::WriteBatch batch;
    for (const Write* w : effective) {
      const rocksdb::Slice key(w->key);
      if (w->value)
        batch.Put(handle(w->collection), key, rocksdb::Slice(*w->value));
      else
        batch.Delete(handle(w->collection), key);
    }
    effective.clear();
    rocksdb::WriteOptions options;
    options.sync = sync_;
    const auto s = db_->Write(options, &batch);
    if (s.ok()) return {};
    // RocksDB stops writing after a failed log write or a background error, until Resume().
    needs_resume_.store(true, std::memory_order_relaxed);
    failed_groups_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("storage: a write failed: {}", s.ToString());  // may name files: the log only
    if (s.IsNoSpace()) return storage_full();
    return Problem{ProblemKind::ServiceUnavailable, "the store could not write; the write changed nothing"};
  }

  static constexpr std::size_t kFailedRangesKept = 1024;
  static constexpr std::uint64_t kSmallPut = 64 << 10;

  Surroundings surroundings_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  const bool sync_;

  std::mutex mutex_;
  std::condition_variable wake_, durable_changed_;
  std::vector<Write> pending_;
  std::multimap<Sequence, std::function<void(const Status&)>> waiters_;
  Sequence last_queued_ = 0, durable_ = 0, failed_through_ = 0;
  std::deque<std::pair<Sequence, Sequence>> failed_ranges_;  // [first, last] failed, oldest first
  Problem failure_;
  std::function<void(Sequence)> failure_handler_;
  bool closed_ = false;
  std::atomic<Sequence> durable_sequence_{0};
  // Commit thread only.
  Problem failure_copy_;
  bool refusing_ = false;
  std::atomic<bool> needs_resume_{false};
  std::atomic<std::uint64_t> refused_groups_{0}, failed_groups_{0};
  std::thread committer_;
};

// History keys are time-ordered within a series or an entity: 'S' tenant \0 entity \0 attribute \0
// dataset \0 time..., 'E' tenant \0 entity \0 time.... New records mostly land right after the
// last one of their series or entity, so the memtable remembers where it inserted for each such
// prefix and starts the next insert there instead of searching its whole skip list.
class HistorySeriesPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "citytwin.HistorySeriesPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), prefix_size(key)}; }
  bool InDomain(const rocksdb::Slice& key) const override { return prefix_size(key) != 0; }

 private:
  // Through the 2nd ('E') or 4th ('S') NUL; 0 for other keys.
  static std::size_t prefix_size(const rocksdb::Slice& key) {
    if (key.empty()) return 0;
    int fields = key[0] == 'E' ? 2 : key[0] == 'S' ? 4 : 0;
    if (fields == 0) return 0;
    for (std::size_t i = 1; i < key.size(); ++i)
      if (key[i] == '\0' && --fields == 0) return i + 1;
    return 0;
  }
};

}  // namespace

Result<std::unique_ptr<Store>> open_rocksdb_store(const RocksDbOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec) return Problem{ProblemKind::InternalError, "cannot create " + options.directory.string() + ": " + ec.message()};

  Surroundings surroundings;
  surroundings.env = make_capped_preallocation_env();
  surroundings.errors = std::make_shared<BackgroundErrors>();
  surroundings.reserve = std::make_unique<VolumeReserve>(options.directory, options.reserve_bytes);

  rocksdb::Options db_options;
  db_options.env = surroundings.env.get();
  db_options.info_log = make_spdlog_rocksdb_logger();  // not a LOG file on the data volume
  db_options.listeners.push_back(surroundings.errors);
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.compression = rocksdb::kLZ4Compression;
  cf_options.write_buffer_size = 64 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  // History deletes its raw records in bursts once they are compacted into blocks: files made
  // mostly of deletions are compacted soon, so that range scans do not step over the tombstones.
  rocksdb::ColumnFamilyOptions history_options = cf_options;
  history_options.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(16384, 8192));
  history_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<HistorySeriesPrefix>();
  // Entity documents are rewritten whole on every update: a small memtable keeps their
  // overwritten versions few, and inserting into it (a skip list, cache-miss bound) cheap. Their
  // keys are random, so every level-0 file overlaps all of level 1 and each level-0 compaction
  // rewrites level 1 whole: letting 32 files (256 MB, about level 1's size) gather first makes it
  // rare. After a PATCH load on 300,000 entities, the compaction it left behind cost a following
  // batch upsert 1.15 µs of 3.3 µs per value with the default 4 files, 0.4 of 2.2 with 32.
  rocksdb::ColumnFamilyOptions entity_options = cf_options;
  entity_options.write_buffer_size = 8 << 20;
  entity_options.level0_file_num_compaction_trigger = 32;
  entity_options.level0_slowdown_writes_trigger = 48;
  entity_options.level0_stop_writes_trigger = 64;
  for (std::size_t i = 0; i < kCollectionCount; ++i) {
    const auto c = static_cast<Collection>(i);
    families.emplace_back(std::string(collection_name(c)), c == Collection::History    ? history_options
                                                           : c == Collection::Entities ? entity_options
                                                                                       : cf_options);
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, options.directory.string(), families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsNoSpace()) return Problem{ProblemKind::InsufficientStorage, "cannot open the store in " + options.directory.string() + ": the volume is full"};
    return Problem{ProblemKind::InternalError, "cannot open the store in " + options.directory.string() + ": " + s.ToString()};
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  db->DestroyColumnFamilyHandle(handles.front());  // the default family is unused
  handles.erase(handles.begin());
  return std::unique_ptr<Store>(std::make_unique<RocksDbStore>(std::move(db), std::move(handles), options.sync,
                                                                std::move(surroundings)));
}

}  // namespace ct::storage
