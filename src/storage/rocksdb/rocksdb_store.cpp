#include "storage/rocksdb/rocksdb_store.hpp"

#include "storage/commit_group.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <pthread.h>

namespace ct::storage {
namespace {

class RocksDbStore final : public Store {
 public:
  RocksDbStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync)
      : db_(std::move(db)), handles_(std::move(handles)), sync_(sync) {
    committer_ = std::thread([this] { commit_loop(); });
    pthread_setname_np(committer_.native_handle(), "ct-store-commit");  // to tell it apart in profiles
  }

  ~RocksDbStore() override {
    close();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }

  Sequence enqueue(std::vector<Write> writes) override {
    std::lock_guard lock(mutex_);
    // Nothing to write: durable as soon as everything queued before it is (a new sequence number
    // with no write behind it would wait for some later write to wake the committer).
    if (writes.empty() && !closed_) return last_queued_;
    const Sequence seq = ++last_queued_;
    if (closed_) {
      failed_through_ = seq;
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
      if (seq <= failed_through_ && seq > durable_) status = failure_;
    }
    done(status);
  }

  Status wait_durable(Sequence seq) override {
    std::unique_lock lock(mutex_);
    durable_changed_.wait(lock, [&] { return durable_ >= seq || failed_through_ >= seq; });
    if (durable_ >= seq) return {};
    return failure_;
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
    db_->FlushWAL(true);
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Collection c) const { return handles_[static_cast<std::size_t>(c)]; }

  void commit_loop() {
    std::vector<Write> group;
    std::vector<const Write*> effective;
    for (;;) {
      Sequence through;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !pending_.empty() || closed_; });
        if (pending_.empty() && closed_) return;
        group.swap(pending_);
        through = last_queued_;
      }
      // A later write to a key supersedes an earlier one: only the last is written (an entity
      // updated by many messages of one group, once), in key order.
      effective_writes(group, effective);
      rocksdb::WriteBatch batch;
      for (const Write* w : effective) {
        const rocksdb::Slice key(w->key);
        if (w->value)
          batch.Put(handle(w->collection), key, rocksdb::Slice(*w->value));
        else
          batch.Delete(handle(w->collection), key);
      }
      effective.clear();
      group.clear();
      rocksdb::WriteOptions options;
      options.sync = sync_;
      const auto s = db_->Write(options, &batch);

      std::vector<std::function<void(const Status&)>> ready;
      Status status;
      {
        std::lock_guard lock(mutex_);
        if (s.ok()) {
          durable_ = through;
        } else {
          failure_ = Problem{ProblemKind::InternalError, "storage write failed: " + s.ToString()};
          failed_through_ = through;
          status = failure_;
        }
        for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= through;) {
          ready.push_back(std::move(it->second));
          it = waiters_.erase(it);
        }
      }
      durable_changed_.notify_all();
      for (auto& done : ready) done(status);
    }
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  const bool sync_;

  std::mutex mutex_;
  std::condition_variable wake_, durable_changed_;
  std::vector<Write> pending_;
  std::multimap<Sequence, std::function<void(const Status&)>> waiters_;
  Sequence last_queued_ = 0, durable_ = 0, failed_through_ = 0;
  Status failure_;
  bool closed_ = false;
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

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;
  db_options.keep_log_file_num = 3;

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
  if (!s.ok()) return Problem{ProblemKind::InternalError, "cannot open the store in " + options.directory.string() + ": " + s.ToString()};
  std::unique_ptr<rocksdb::DB> db(raw);
  db->DestroyColumnFamilyHandle(handles.front());  // the default family is unused
  handles.erase(handles.begin());
  return std::unique_ptr<Store>(std::make_unique<RocksDbStore>(std::move(db), std::move(handles), options.sync));
}

}  // namespace ct::storage
