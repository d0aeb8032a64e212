#include "history/history_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "history/checksum.hpp"
#include "history/event_record.hpp"
#include "history/records.hpp"
#include "history/series_codec.hpp"

namespace ct::history {

HistoryStore::HistoryStore(storage::Store& store)
    : store_(store),
      counter_(std::random_device{}()),
      reader_(store, locks_),
      compactor_(store, locks_),
      retention_(store, locks_, compactor_) {
  rewriter_ = std::thread([this] { run_rewrites(); });
}

HistoryStore::~HistoryStore() { stop(); }

// --- recording -----------------------------------------------------------------------------------

void HistoryStore::record_instance(const std::string& tenant, const std::string& entity_id,
                                   const model::Attribute& instance, Timestamp changed_at,
                                   std::vector<storage::Write>& writes) {
  const SeriesId series{entity_id, std::string(instance.name.str()), std::string(instance.dataset_id.str())};
  const Timestamp time = instance.observed_at != kNoTimestamp ? instance.observed_at : changed_at;
  std::string key = raw_key(series_prefix(tenant, series), time, changed_at, counter_.fetch_add(1));
  compactor_.mark_dirty(entity_series_prefix(tenant, entity_id), time);  // the next pass looks from this day on
  writes.push_back({storage::Collection::History, std::move(key), raw_value(entity_id, instance, changed_at)});
  records_written_.fetch_add(1, std::memory_order_relaxed);
}

void HistoryStore::record_backfill(const std::string& tenant, const std::string& entity_id,
                                   const model::Attribute& instance, Timestamp now, std::vector<storage::Write>& writes) {
  if (instance.observed_at == kNoTimestamp) return record_instance(tenant, entity_id, instance, now, writes);
  const SeriesId series{entity_id, std::string(instance.name.str()), std::string(instance.dataset_id.str())};
  const Timestamp time = instance.observed_at;
  std::string value = raw_value(entity_id, instance, time);
  std::string key = raw_key(series_prefix(tenant, series), time, time, crc32c(value));
  compactor_.mark_dirty(entity_series_prefix(tenant, entity_id), time);
  writes.push_back({storage::Collection::History, std::move(key), std::move(value)});
  records_written_.fetch_add(1, std::memory_order_relaxed);
}

void HistoryStore::contribute(const twin::ChangeEvent& event, std::vector<storage::Write>& writes) {
  if (event.origin == twin::Origin::TemporalBackfill || !event.entity) return;
  const model::Entity& entity = *event.entity;
  EventRecordWriter record;
  for (const auto& [name, dataset] : event.written)
    if (const auto* instance = entity.find(name, dataset)) record.add_written(entity.id, *instance, event.at);
  for (const auto& [name, dataset] : event.removed) record.add_removed(name.str(), dataset.str());
  const std::uint32_t entries = record.entries();
  if (entries == 0) return;
  writes.push_back({storage::Collection::History, event_key(event.tenant, entity.id, event.at, counter_.fetch_add(entries)),
                    record.take()});
  records_written_.fetch_add(entries, std::memory_order_relaxed);
}

// --- deleting --------------------------------------------------------------------------------------

Status HistoryStore::delete_keys(const std::vector<std::string>& prefixes) {
  std::vector<storage::Write> writes;
  for (const auto& prefix : prefixes) {
    auto st = store_.scan(storage::Collection::History, prefix, [&](std::string_view key, std::string_view) {
      writes.push_back({storage::Collection::History, std::string(key), std::nullopt});
      return true;
    });
    if (!st) return st;
  }
  if (writes.empty()) return {};
  return store_.wait_durable(store_.enqueue(std::move(writes)));  // one group: a reader sees all or none gone
}

void HistoryStore::delete_entity(const std::string& tenant, const std::string& entity_id, storage::Sequence after,
                                 Done done) {
  post(
      [this, tenant, entity_id, after]() -> Status {
        if (auto st = store_.wait_durable(after); !st) return st;
        std::lock_guard rewrite(locks_.rewrite);
        std::unique_lock events(locks_.events);  // its events go too
        return delete_keys({entity_event_prefix(tenant, entity_id), entity_series_prefix(tenant, entity_id)});
      },
      std::move(done));
}

void HistoryStore::delete_attribute(const std::string& tenant, const std::string& entity_id,
                                    const std::string& attribute, const std::optional<std::string>& dataset_id,
                                    Done done) {
  post(
      [this, tenant, entity_id, attribute, dataset_id]() -> Status {
        if (auto st = compactor_.split(entity_event_prefix(tenant, entity_id)); !st) return st;
        std::lock_guard rewrite(locks_.rewrite);
        if (dataset_id) return delete_keys({series_prefix(tenant, SeriesId{entity_id, attribute, *dataset_id})});
        std::string every_dataset = entity_series_prefix(tenant, entity_id);
        every_dataset.append(attribute).push_back('\0');
        return delete_keys({every_dataset});
      },
      std::move(done));
}

void HistoryStore::delete_instance(const std::string& tenant, const std::string& entity_id,
                                   const std::string& attribute, const std::string& instance_id, Done done) {
  post([this, tenant, entity_id, attribute,
        instance_id]() -> Status { return delete_instance_now(tenant, entity_id, attribute, instance_id); },
       std::move(done));
}

Status HistoryStore::delete_instance_now(const std::string& tenant, const std::string& entity_id,
                                         const std::string& attribute, const std::string& instance_id) {
  const auto ref = parse_instance_id(instance_id);
  if (!ref) return not_found("instance " + instance_id + " was not found");
  if (auto st = compactor_.split(entity_event_prefix(tenant, entity_id)); !st) return st;  // it may be in an event
  auto all = reader_.series_of(tenant, entity_id);
  if (!all) return all.problem();
  std::lock_guard rewrite(locks_.rewrite);
  for (const auto& series : *all) {
    if (series.attribute != attribute) continue;
    const std::string prefix = series_prefix(tenant, series);
    if (!ref->ordinal) {
      const std::string key = prefix + ref->suffix;
      auto existing = store_.get(storage::Collection::History, key);
      if (!existing) return existing.problem();
      if (!*existing) continue;
      return store_.wait_durable(store_.enqueue({{storage::Collection::History, key, std::nullopt}}));
    }
    const Timestamp time = get_time(ref->suffix);
    const std::string key = block_key(prefix, day_of(time));
    auto existing = store_.get(storage::Collection::History, key);
    if (!existing) return existing.problem();
    if (!*existing) continue;
    std::string_view unit, block;
    if (!split_block_value(**existing, unit, block)) return Problem{ProblemKind::InternalError, "history: a malformed block"};
    auto points = decode_block(block);
    if (!points) return points.problem();
    auto victim = std::find_if(points->begin(), points->end(), [&, n = *ref->ordinal](const SeriesPoint& p) mutable {
      return p.time == time && n-- == 0;
    });
    if (victim == points->end()) continue;
    points->erase(victim);
    std::optional<std::string> rewritten;
    if (!points->empty()) {
      SeriesBlockBuilder builder;
      for (const auto& p : *points)
        if (auto st = builder.append(p.time, p.value); !st) return st;
      rewritten = block_value(std::string(unit), builder.finish());
    }
    return store_.wait_durable(store_.enqueue({{storage::Collection::History, key, std::move(rewritten)}}));
  }
  return not_found("instance " + instance_id + " of " + attribute + " was not found");
}

// --- threads ---------------------------------------------------------------------------------------

void HistoryStore::post(std::function<Status()> job, Done done) {
  {
    std::lock_guard lock(rewrites_mutex_);
    if (!rewrites_stopping_) {
      rewrites_.emplace_back(std::move(job), std::move(done));
      rewrites_wake_.notify_one();
      return;
    }
  }
  done(Problem{ProblemKind::ServiceUnavailable, "the history is shutting down"});
}

void HistoryStore::run_rewrites() {
  std::unique_lock lock(rewrites_mutex_);
  for (;;) {
    rewrites_wake_.wait(lock, [this] { return rewrites_stopping_ || !rewrites_.empty(); });
    if (rewrites_.empty()) return;  // stopping, and every deletion asked for is done
    auto [job, done] = std::move(rewrites_.front());
    rewrites_.pop_front();
    lock.unlock();
    const Status status = job();
    done(status);
    lock.lock();
  }
}

void HistoryStore::start(std::int64_t interval_ms, std::int64_t grace_ms, std::int64_t retention_interval_ms) {
  compactor_thread_ = std::thread([this, interval_ms, grace_ms, retention_interval_ms] {
    std::unique_lock lock(thread_mutex_);
    Timestamp last_retention = kEarliest;
    while (!stopping_) {
      lock.unlock();
      auto stats = compactor_.compact(now_ms(), grace_ms);
      if (!stats) spdlog::warn("history compaction: {}", stats.problem().detail);
      else if (stats->blocks_written > 0)
        spdlog::debug("history compaction: {} blocks from {} records", stats->blocks_written, stats->raws_compacted);
      if (now_ms() - last_retention >= retention_interval_ms) {
        last_retention = now_ms();
        auto retained = retention_.apply(last_retention);
        if (!retained) spdlog::warn("history retention: {}", retained.problem().detail);
        else if (retained->days_rolled_up + retained->records_deleted > 0)
          spdlog::debug("history retention: {} days rolled up, {} records deleted", retained->days_rolled_up,
                        retained->records_deleted);
      }
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stopping_; });
    }
  });
}

void HistoryStore::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (compactor_thread_.joinable()) compactor_thread_.join();
  {
    std::lock_guard lock(rewrites_mutex_);
    rewrites_stopping_ = true;
  }
  rewrites_wake_.notify_all();
  if (rewriter_.joinable()) rewriter_.join();
}

}  // namespace ct::history
