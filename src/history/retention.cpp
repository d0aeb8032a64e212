#include "history/retention.hpp"

#include "common/json.hpp"
#include "history/keys.hpp"
#include "history/reader.hpp"
#include "history/records.hpp"
#include "history/series_codec.hpp"

namespace ct::history {

Status Retention::load() {
  std::map<std::pair<std::string, std::string>, RetentionPolicy> loaded;
  auto st = store_.scan(storage::Collection::History, "C", [&](std::string_view key, std::string_view value) {
    const auto rest = key.substr(1);
    const auto zero = rest.find('\0');
    auto parsed = parse_json(value);
    if (zero == std::string_view::npos || !parsed || !parsed->is_object()) return true;
    const auto& o = parsed->get_object();
    auto field = [&](const char* name) -> std::int64_t {
      const auto* v = o.if_contains(name);
      return v && v->is_int64() ? v->get_int64() : 0;
    };
    loaded[{std::string(rest.substr(0, zero)), std::string(rest.substr(zero + 1))}] =
        RetentionPolicy{field("keepRaw"), field("rollUp"), field("keepRollUps")};
    return true;
  });
  if (!st) return st;
  std::lock_guard lock(mutex_);
  policies_ = std::move(loaded);
  return {};
}

Result<storage::Sequence> Retention::set(const std::string& tenant, const std::string& type,
                                         const std::optional<RetentionPolicy>& policy) {
  if (policy) {
    if (policy->keep_raw_ms <= 0) return bad_request("keepRaw must be a positive duration");
    if (policy->roll_up_ms < 0 || policy->roll_up_ms > kBucketMs ||
        (policy->roll_up_ms > 0 && kBucketMs % policy->roll_up_ms != 0))
      return bad_request("rollUp must divide a day evenly (PT1M, PT15M, PT1H, P1D, ...)");
    if (policy->keep_roll_ups_ms < 0 || (policy->keep_roll_ups_ms > 0 && policy->keep_roll_ups_ms < policy->keep_raw_ms))
      return bad_request("keepRollUps must not be shorter than keepRaw");
    if (policy->keep_roll_ups_ms > 0 && policy->roll_up_ms == 0) return bad_request("keepRollUps needs rollUp");
  }
  std::optional<std::string> value;
  if (policy) {
    value = to_text(json::object{
        {"keepRaw", policy->keep_raw_ms}, {"rollUp", policy->roll_up_ms}, {"keepRollUps", policy->keep_roll_ups_ms}});
  }
  // Writes become durable in the order they are queued, and their callbacks run in that order, so
  // the policies in memory follow the store's even when two settings race.
  const storage::Sequence sequence =
      store_.enqueue({{storage::Collection::History, policy_key(tenant, type), std::move(value)}});
  store_.when_durable(sequence, [this, tenant, type, policy](const Status& status) {
    if (!status) return;
    std::lock_guard lock(mutex_);
    if (policy) policies_[{tenant, type}] = *policy;
    else policies_.erase({tenant, type});
  });
  return sequence;
}

std::vector<std::pair<std::string, RetentionPolicy>> Retention::policies(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, RetentionPolicy>> out;
  for (const auto& [key, policy] : policies_)
    if (key.first == tenant) out.emplace_back(key.second, policy);
  return out;
}

Status Retention::retain_series(const std::string& prefix, const RetentionPolicy& policy, Timestamp now,
                                RetentionStats& stats) {
  std::lock_guard lock(locks_.rewrite);
  const Timestamp raw_cutoff = day_of(now - policy.keep_raw_ms);  // whole days before it are old
  const Timestamp drop_cutoff = policy.roll_up_ms == 0          ? raw_cutoff
                                : policy.keep_roll_ups_ms > 0 ? day_of(now - policy.keep_roll_ups_ms)
                                                              : kEarliest;
  std::string end = prefix;
  put_time(end, raw_cutoff);
  std::vector<storage::Write> writes;
  Status failure;
  auto st = store_.scan_range(storage::Collection::History, prefix, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < kSuffixHead) return true;
    if (get_time(suffix) < drop_cutoff) {
      writes.push_back({storage::Collection::History, std::string(key), std::nullopt});
      ++stats.records_deleted;
      return true;
    }
    if (suffix[8] != kBlockKind) return true;
    std::string_view unit, block;
    bool rolled_up = false;
    if (!split_block_value(value, unit, block, &rolled_up) || rolled_up) return true;
    auto points = decode_block(block);
    if (!points) return true;  // a corrupt block is left for a reader to report
    // One point per period: the mean of its points, at its start.
    SeriesBlockBuilder builder;
    for (std::size_t i = 0; i < points->size();) {
      const Timestamp period = day_of((*points)[i].time) +
                               ((*points)[i].time - day_of((*points)[i].time)) / policy.roll_up_ms * policy.roll_up_ms;
      double sum = 0;
      std::size_t n = 0;
      for (; i < points->size() && (*points)[i].time < period + policy.roll_up_ms; ++i, ++n) sum += (*points)[i].value;
      if (auto added = builder.append(period, sum / static_cast<double>(n)); !added) {
        failure = added;
        return false;
      }
    }
    writes.push_back({storage::Collection::History, std::string(key), block_value(std::string(unit), builder.finish(), true)});
    ++stats.days_rolled_up;
    return true;
  });
  if (!st) return st;
  if (!failure) return failure;
  if (writes.empty()) return {};
  return store_.wait_durable(store_.enqueue(std::move(writes)));
}

Result<RetentionStats> Retention::apply(Timestamp now) {
  RetentionStats stats;
  {
    std::lock_guard lock(mutex_);
    if (policies_.empty()) return stats;
  }
  if (auto st = compactor_.split("E"); !st) return st.problem();
  std::vector<std::string> index_keys;
  auto st = for_each_series(store_, "S", [&](const std::string& series) {
    index_keys.push_back(series.substr(0, series.size() - 1));
  });
  if (!st) return st.problem();
  std::string last_entity;
  std::vector<std::string> types;
  for (const auto& key : index_keys) {
    const std::string_view rest = std::string_view(key).substr(1);
    const auto tenant_end = rest.find('\0');
    const auto entity_end = rest.find('\0', tenant_end + 1);
    if (entity_end == std::string_view::npos) continue;
    const std::string tenant(rest.substr(0, tenant_end));
    const std::string entity(rest.substr(tenant_end + 1, entity_end - tenant_end - 1));
    if (std::string(rest.substr(0, entity_end)) != last_entity) {
      last_entity = std::string(rest.substr(0, entity_end));
      types = types_of_ ? types_of_(tenant, entity) : std::vector<std::string>();
    }
    std::optional<RetentionPolicy> policy;
    {
      std::lock_guard lock(mutex_);
      for (const auto& type : types)
        if (auto it = policies_.find({tenant, type}); it != policies_.end()) policy = it->second;
      if (!policy)
        if (auto it = policies_.find({tenant, std::string(kAnyType)}); it != policies_.end()) policy = it->second;
    }
    if (!policy) continue;
    if (auto s = retain_series('S' + std::string(rest) + '\0', *policy, now, stats); !s) return s.problem();
  }
  return stats;
}

}  // namespace ct::history
