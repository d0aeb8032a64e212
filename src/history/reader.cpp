#include "history/reader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "history/event_record.hpp"
#include "history/records.hpp"
#include "history/series_codec.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::history {
namespace {

HistoryInstance instance_from_raw(const SeriesId& series, Timestamp time, std::string_view suffix, const RawRecord& r) {
  HistoryInstance out;
  out.time = time;
  out.changed_at = r.changed_at;
  out.deleted = r.deleted;
  out.instance_id = raw_instance_id(suffix);
  out.attribute.name = model::Term::intern(series.attribute);
  out.attribute.dataset_id = model::Term::intern(series.dataset_id);
  if (!r.deleted) {
    jsonld::DecodeOptions options;
    options.trusted = true;
    auto decoded = jsonld::decode_attribute(out.attribute.name, r.attribute, identity_context(), options);
    if (decoded && !decoded->empty()) out.attribute = std::move(decoded->front());
    if (out.attribute.kind == model::AttributeKind::Property) out.number = number_of(out.attribute.value);
  }
  return out;
}

HistoryInstance instance_from_point(const SeriesId& series, Timestamp time, double value, std::string_view unit,
                                    std::size_t ordinal) {
  HistoryInstance out;
  out.time = out.changed_at = time;
  out.number = value;
  out.instance_id = point_instance_id(time, ordinal);
  out.attribute.name = model::Term::intern(series.attribute);
  out.attribute.dataset_id = model::Term::intern(series.dataset_id);
  out.attribute.kind = model::AttributeKind::Property;
  out.attribute.value = value;
  out.attribute.observed_at = time;
  if (!unit.empty()) out.attribute.unit_code = model::Term::intern(unit);
  return out;
}

}  // namespace

Status for_each_series(storage::Store& store, const std::string& prefix,
                       const std::function<void(const std::string& series_prefix)>& visit) {
  const std::string end = prefix_end(prefix);
  std::string begin = prefix;
  for (;;) {
    std::string series;
    auto st = store.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view) {
      series = std::string(series_prefix_of(key));
      return false;
    });
    if (!st) return st;
    if (series.empty()) return {};
    visit(series);
    begin = series;
    begin.back() = '\x01';  // past every key of this series (names hold no zero byte)
  }
}

Status SeriesReader::pending_raws(const std::string& tenant, const std::string& entity_id,
                                  const std::function<void(PendingRaw&&)>& visit) const {
  const std::string prefix = entity_event_prefix(tenant, entity_id);
  // A range with an upper bound, not a prefix scan: the scan stops at the bound rather than at the
  // next live key, which may lie beyond the tombstones of a long history just deleted.
  return store_.scan_range(storage::Collection::History, prefix, prefix_end(prefix), [&](std::string_view key, std::string_view value) {
    if (key.size() != prefix.size() + kEventSuffixSize) return true;
    const Timestamp changed_at = get_time(key.substr(prefix.size()));
    std::uint32_t counter = get_be32(key.substr(prefix.size() + 8));
    const bool ok = for_each_event_entry(value, changed_at, [&](const EventEntry& e) {
      visit(PendingRaw{e.attribute, std::string(e.dataset), e.time, raw_suffix(e.time, changed_at, counter++), e.raw});
    });
    if (!ok) spdlog::warn("history: a malformed event record was skipped");
    return true;
  });
}

Result<std::vector<SeriesId>> SeriesReader::series_of(const std::string& tenant, const std::string& entity_id) const {
  std::shared_lock lock(locks_.events);
  // attribute \0 datasetId, which sorts as the series keys do (names hold no zero byte)
  std::set<std::string> names;
  auto st = pending_raws(tenant, entity_id, [&](PendingRaw&& p) { names.insert(p.attribute + '\0' + p.dataset); });
  if (!st) return st.problem();
  const std::string prefix = entity_series_prefix(tenant, entity_id);
  st = for_each_series(store_, prefix, [&](const std::string& series) {
    const std::string_view rest = std::string_view(series).substr(prefix.size());
    if (rest.size() >= 2) names.insert(std::string(rest.substr(0, rest.size() - 1)));  // without the last \0
  });
  if (!st) return st.problem();
  std::vector<SeriesId> out;
  for (const auto& name : names) {
    const auto zero = name.find('\0');
    if (zero == std::string::npos) continue;
    out.push_back({entity_id, name.substr(0, zero), name.substr(zero + 1)});
  }
  return out;
}

Status SeriesReader::read(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                          const std::function<void(const HistoryInstance&)>& visit, std::size_t limit) const {
  if (from >= to) return {};
  std::shared_lock lock(locks_.events);
  std::vector<HistoryInstance> pending;
  std::set<std::string> pending_suffixes;
  auto pending_st = pending_raws(tenant, series.entity_id, [&](PendingRaw&& p) {
    if (p.attribute != series.attribute || p.dataset != series.dataset_id || p.time < from || p.time >= to) return;
    if (auto raw = parse_raw(p.raw)) pending.push_back(instance_from_raw(series, p.time, p.suffix, *raw));
    pending_suffixes.insert(std::move(p.suffix));
  });
  if (!pending_st) return pending_st;
  // Keys come in day order (a day's block first, then its raws), so once `limit` instances are
  // found, finishing the day at hand makes the first `limit` in time order final (the unsplit
  // ones are all in `pending`, merged afterwards).
  std::optional<Timestamp> last_day;
  const std::string prefix = series_prefix(tenant, series);
  std::string begin = prefix, end = prefix;
  put_time(begin, day_of(from));
  put_time(end, to);
  std::vector<HistoryInstance> found;
  Status failure;
  auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < kSuffixHead) return true;
    const Timestamp time = get_time(suffix);
    if (last_day && day_of(time) > *last_day) return false;
    if (!last_day && found.size() >= limit) last_day = day_of(time);
    if (suffix[8] == kBlockKind) {
      std::string_view unit, block;
      if (!split_block_value(value, unit, block)) {
        failure = Problem{ProblemKind::InternalError, "history: a malformed block"};
        return false;
      }
      auto reader = SeriesBlockReader::open(block);
      if (!reader) {
        failure = reader.problem();
        return false;
      }
      Timestamp t, previous = kNoTimestamp;
      double v;
      std::size_t same_time = 0;  // the ordinal of a point among those of its time: stable across merges
      while (reader->next(t, v)) {
        same_time = t == previous ? same_time + 1 : 0;
        previous = t;
        if (t >= from && t < to) found.push_back(instance_from_point(series, t, v, unit, same_time));
      }
      if (!reader->status()) failure = reader->status();
      return static_cast<bool>(failure);
    }
    if (time < from || pending_suffixes.contains(std::string(suffix))) return true;
    auto raw = parse_raw(value);
    if (raw) found.push_back(instance_from_raw(series, time, suffix, *raw));
    return true;
  });
  if (!st) return st;
  if (!failure) return failure;
  found.insert(found.end(), std::make_move_iterator(pending.begin()), std::make_move_iterator(pending.end()));
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
  if (found.size() > limit) found.resize(limit);
  for (const auto& instance : found) visit(instance);
  return {};
}

Status SeriesReader::read_numeric(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                                  const std::function<void(std::string_view block)>& block_visit,
                                  const std::function<void(const HistoryInstance&)>& other) const {
  if (from >= to) return {};
  std::shared_lock lock(locks_.events);
  auto visit_raw = [&](Timestamp time, std::string_view suffix, const RawRecord& raw) {
    if (raw.deleted) return;
    if (auto c = compactable(raw)) {
      HistoryInstance instance;
      instance.time = time;
      instance.changed_at = raw.changed_at;
      instance.number = c->value;
      other(instance);
    } else {
      other(instance_from_raw(series, time, suffix, raw));
    }
  };
  std::set<std::string> pending_suffixes;
  auto pending_st = pending_raws(tenant, series.entity_id, [&](PendingRaw&& p) {
    if (p.attribute != series.attribute || p.dataset != series.dataset_id || p.time < from || p.time >= to) return;
    if (auto raw = parse_raw(p.raw)) visit_raw(p.time, p.suffix, *raw);
    pending_suffixes.insert(std::move(p.suffix));
  });
  if (!pending_st) return pending_st;
  const std::string prefix = series_prefix(tenant, series);
  std::string begin = prefix, end = prefix;
  put_time(begin, day_of(from));
  put_time(end, to);
  Status failure;
  auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < kSuffixHead) return true;
    const Timestamp time = get_time(suffix);
    if (suffix[8] == kBlockKind) {
      std::string_view unit, block;
      if (!split_block_value(value, unit, block)) {
        failure = Problem{ProblemKind::InternalError, "history: a malformed block"};
        return false;
      }
      block_visit(block);
      return true;
    }
    if (time < from || pending_suffixes.contains(std::string(suffix))) return true;
    if (auto raw = parse_raw(value)) visit_raw(time, suffix, *raw);
    return true;
  });
  if (!st) return st;
  return failure;
}

Status SeriesReader::numeric_points(const std::string& tenant, const std::string& entity_id,
                                    const std::string& attribute, Timestamp from, Timestamp to,
                                    const std::function<void(Timestamp, double)>& visit) const {
  auto all = series_of(tenant, entity_id);
  if (!all) return all.problem();
  std::vector<SeriesPoint> points;
  for (const auto& series : *all) {
    if (series.attribute != attribute) continue;
    Status failure;
    auto st = read_numeric(
        tenant, series, from, to,
        [&](std::string_view block) {
          auto decoded = decode_block(block);
          if (!decoded) {
            failure = decoded.problem();
            return;
          }
          for (const auto& p : *decoded)
            if (p.time >= from && p.time < to) points.push_back(p);
        },
        [&](const HistoryInstance& instance) {
          if (instance.number) points.push_back({instance.time, *instance.number});
        });
    if (!st) return st;
    if (!failure) return failure;
  }
  std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
  for (const auto& p : points) visit(p.time, p.value);
  return {};
}

}  // namespace ct::history
