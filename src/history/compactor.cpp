#include "history/compactor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "history/event_record.hpp"
#include "history/keys.hpp"
#include "history/reader.hpp"
#include "history/records.hpp"
#include "history/series_codec.hpp"

namespace ct::history {
namespace {

// Compacting at least this many raw records of one series at once asks the store to reclaim them.
constexpr std::size_t kReclaimAfterDeletions = 20'000;
constexpr std::size_t kEventsPerGroup = 1000;

}  // namespace

void Compactor::mark_dirty(std::string_view entity_series_prefix, Timestamp earliest) {
  std::lock_guard lock(dirty_mutex_);
  auto it = dirty_.find(entity_series_prefix);
  if (it == dirty_.end()) dirty_.emplace(std::string(entity_series_prefix), earliest);
  else it->second = std::min(it->second, earliest);
}

Status Compactor::split(const std::string& event_prefix, Timestamp changed_before) {
  std::lock_guard rewrite(locks_.rewrite);
  const std::string end = prefix_end(event_prefix);
  std::string begin = event_prefix;
  for (bool more = true; more;) {
    more = false;
    std::unique_lock events(locks_.events);  // one group at a time: readers wait for one group at most
    std::vector<storage::Write> writes;
    std::size_t split_events = 0;
    std::unordered_map<std::string, Timestamp> earliest;  // per entity ('S' + entity part), to mark dirty
    auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
      if (split_events >= kEventsPerGroup) {  // every event whole in one group
        begin = std::string(key);
        more = true;
        return false;
      }
      const auto event = parse_event_key(key);
      if (!event || event->changed_at >= changed_before) return true;
      std::uint32_t counter = event->counter;
      const std::string entity_prefix = 'S' + std::string(event->entity_part);
      Timestamp& mark = earliest.try_emplace(entity_prefix, std::numeric_limits<Timestamp>::max()).first->second;
      const bool ok = for_each_event_entry(value, event->changed_at, [&](const EventEntry& e) {
        std::string prefix = entity_prefix;
        prefix.append(e.attribute).push_back('\0');
        prefix.append(e.dataset).push_back('\0');
        writes.push_back({storage::Collection::History, raw_key(prefix, e.time, event->changed_at, counter++), e.raw});
        mark = std::min(mark, e.time);
      });
      if (!ok) spdlog::warn("history: a malformed event record was dropped");
      writes.push_back({storage::Collection::History, std::string(key), std::nullopt});
      ++split_events;
      return true;
    });
    if (!st) return st;
    if (writes.empty()) return {};
    if (auto durable = store_.wait_durable(store_.enqueue(std::move(writes))); !durable) return durable;
    events.unlock();
    for (const auto& [entity, time] : earliest) mark_dirty(entity, time);
  }
  return {};
}

Status Compactor::compact_series(const std::string& prefix, Timestamp from, Timestamp cutoff, CompactionStats& stats) {
  std::lock_guard lock(locks_.rewrite);
  std::string begin = prefix, end = prefix;
  if (from > kEarliest) put_time(begin, day_of(from));
  put_time(end, cutoff);
  struct Day {
    std::string block_key;
    std::optional<std::string> block;
    std::vector<std::string> raw_keys;
    std::vector<SeriesPoint> points;
    std::string unit;
    bool compactable = true;
  };
  std::vector<Day> days;
  Timestamp current_day = 0;
  auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < kSuffixHead) return true;
    const Timestamp day = day_of(get_time(suffix));
    if (days.empty() || day != current_day) {
      days.emplace_back();
      current_day = day;
      days.back().block_key = block_key(prefix, day);
    }
    Day& d = days.back();
    if (!d.compactable) return true;
    if (suffix[8] == kBlockKind) {
      d.block = std::string(value);
      return true;
    }
    auto raw = parse_raw(value);
    auto c = raw ? compactable(*raw) : std::nullopt;
    if (!c || (!d.raw_keys.empty() && c->unit != d.unit)) {
      d.compactable = false;
      return true;
    }
    d.unit = c->unit;
    d.raw_keys.emplace_back(key);
    d.points.push_back({get_time(suffix), c->value});
    return true;
  });
  if (!st) return st;
  storage::Sequence last = 0;
  std::size_t deleted = 0;
  for (auto& d : days) {
    if (!d.compactable || d.raw_keys.empty()) continue;
    if (d.block) {
      std::string_view unit, block;
      if (!split_block_value(*d.block, unit, block) || unit != d.unit) continue;
      auto old = decode_block(block);
      if (!old) continue;
      d.points.insert(d.points.end(), old->begin(), old->end());
    }
    if (d.points.size() > kMaxBlockPoints) continue;
    std::stable_sort(d.points.begin(), d.points.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
    SeriesBlockBuilder builder;
    bool ok = true;
    for (const auto& p : d.points) ok = ok && builder.append(p.time, p.value);
    if (!ok) continue;
    std::vector<storage::Write> writes;
    writes.push_back({storage::Collection::History, d.block_key, block_value(d.unit, builder.finish())});
    for (auto& key : d.raw_keys) writes.push_back({storage::Collection::History, std::move(key), std::nullopt});
    stats.raws_compacted += d.raw_keys.size();
    deleted += d.raw_keys.size();
    ++stats.blocks_written;
    last = store_.enqueue(std::move(writes));  // one group: the block and the deletion of its raws
  }
  if (last == 0) return {};
  if (auto durable = store_.wait_durable(last); !durable) return durable;
  // A bulk of deletions (a back-fill compacted at once): have the store drop their tombstones now,
  // so that scans of this series do not step over them until the store's own compaction comes.
  if (deleted >= kReclaimAfterDeletions) store_.reclaim(storage::Collection::History, prefix, end);
  return {};
}

Result<CompactionStats> Compactor::compact(Timestamp now, std::int64_t grace_ms) {
  const Timestamp cutoff = day_of(now - grace_ms);
  CompactionStats stats;
  // The changes older than the grace become raws first. Recording does not mark entities (that
  // costs a hash lookup per change on the ingest path); splitting marks them.
  if (auto st = split("E", now - grace_ms); !st) return st.problem();
  // The entities to look at, from the earliest raw each may have before the cutoff. The first pass
  // looks at everything (raws written before a restart); later ones only at what was recorded since.
  std::vector<std::pair<std::string, Timestamp>> entities;
  {
    std::lock_guard lock(dirty_mutex_);
    if (!full_pass_done_) {
      full_pass_done_ = true;
      std::string last;
      auto st = for_each_series(store_, "S", [&](const std::string& series) {
        // 'S' tenant \0 entity \0 ...: the entity part ends at the second zero byte.
        const auto entity_end = series.find('\0', series.find('\0') + 1) + 1;
        std::string entity = series.substr(0, entity_end);
        if (entity != last) entities.emplace_back(entity, kEarliest);
        last = std::move(entity);
      });
      if (!st) return st.problem();
    } else {
      for (auto& [entity, earliest] : dirty_)
        if (earliest < cutoff) entities.emplace_back(entity, earliest);
    }
    // Claimed up to the cutoff: raws recorded from now on lower the mark again.
    for (const auto& [entity, earliest] : entities) dirty_[entity] = cutoff;
  }
  for (const auto& [entity, earliest] : entities) {
    std::vector<std::string> prefixes;
    if (auto st = for_each_series(store_, entity, [&](const std::string& series) { prefixes.push_back(series); }); !st)
      return st.problem();
    for (const auto& prefix : prefixes)
      if (auto st = compact_series(prefix, earliest, cutoff, stats); !st) return st.problem();
  }
  return stats;
}

}  // namespace ct::history
