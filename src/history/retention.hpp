#pragma once
// Retention: how long a tenant keeps the history of the entities of one type (or of every type: "*").
//
// Numeric history older than keep_raw is rolled up to one value per roll_up period (the mean of the
// period, at its start), or deleted when roll_up is 0; non-numeric history older than keep_raw stays
// (it cannot be averaged) unless roll_up is 0. Everything older than keep_roll_ups (when not 0) is
// deleted. Aggregations over rolled-up days see the roll-ups, not the original points. Only whole
// days older than a cutoff are touched, and only days already compacted are rolled up.
//
// Policies are kept in the History collection ('C' keys) and in memory. Threads: set() and
// policies() from any thread (set() never waits for the disk); load() once before the history
// starts; apply() from the history's own threads only (it takes the rewrite lock and waits for the store).
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "history/compactor.hpp"
#include "history/rewrite_locks.hpp"
#include "storage/store.hpp"

namespace ct::history {

struct RetentionPolicy {
  std::int64_t keep_raw_ms = 0;
  std::int64_t roll_up_ms = 0;        // 0 < roll_up_ms <= a day, dividing it; 0: no roll-ups
  std::int64_t keep_roll_ups_ms = 0;  // 0: forever
  friend bool operator==(const RetentionPolicy&, const RetentionPolicy&) = default;
};
inline constexpr std::string_view kAnyType = "*";

struct RetentionStats {
  std::size_t days_rolled_up = 0;
  std::size_t records_deleted = 0;
};

class Retention {
 public:
  Retention(storage::Store& store, RewriteLocks& locks, Compactor& compactor)
      : store_(store), locks_(locks), compactor_(compactor) {}

  // Reads the policies kept in the store.
  Status load();
  // Sets (or, with nullopt, removes) the policy of `type` (expanded, or kAnyType) in `tenant`:
  // queues the write and returns its sequence at once. The policy takes effect (policies() shows it,
  // apply() uses it) once the write is durable, before any when_durable() callback for that sequence
  // registered after this returns runs; if the write fails, nothing changes. BadRequestData for an
  // inconsistent policy (nothing is written).
  Result<storage::Sequence> set(const std::string& tenant, const std::string& type,
                                const std::optional<RetentionPolicy>& policy);
  // The policies of `tenant`, by type.
  std::vector<std::pair<std::string, RetentionPolicy>> policies(const std::string& tenant) const;
  // The types of an entity (for per-type policies): the program asks the twin. Without one, only
  // the kAnyType policies apply. Set before the history starts.
  using TypeResolver = std::function<std::vector<std::string>(const std::string& tenant, const std::string& entity_id)>;
  void set_type_resolver(TypeResolver resolver) { types_of_ = std::move(resolver); }
  // Applies every policy as of `now`. Durable on return.
  Result<RetentionStats> apply(Timestamp now);

 private:
  Status retain_series(const std::string& series_prefix, const RetentionPolicy& policy, Timestamp now,
                       RetentionStats& stats);

  storage::Store& store_;
  RewriteLocks& locks_;
  Compactor& compactor_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, RetentionPolicy> policies_;  // (tenant, type)
  TypeResolver types_of_;
};

}  // namespace ct::history
