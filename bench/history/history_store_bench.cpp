// History store benchmark, through the real RocksDB store, recorder, compactor and reader: one year
// of 1-minute readings (525,600 points) of one attribute is recorded as raw records, compacted into
// day blocks, then aggregated hourly (avg/min/max) the way the temporal API does it.
//
//   history_store_bench [--data-dir DIR] [--series temperature|pm25] [--repeat 20] [--keep]
//
// Prints: recording and compaction rates, the bytes the store holds per point (keys and values of
// the series after compaction), and the aggregation time (min and median of the repeats). With
// --keep the data dir stays, holding entity urn:ngsi-ld:Bench:1 (no current state), so the same
// query can be timed over HTTP (bench/history/run.sh).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "history/aggregate.hpp"
#include "history/history_store.hpp"
#include "signals.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

#include <rocksdb/db.h>

namespace {

using namespace ct;
using namespace ct::history;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What RocksDB's own background compaction does to the History column family over time (drop the
// tombstones of compacted raw records), done at once: the steady state a year of history reaches.
bool compact_rocksdb(const std::string& dir) {
  rocksdb::Options options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families{{rocksdb::kDefaultColumnFamilyName, {}}};
  for (std::size_t i = 0; i < storage::kCollectionCount; ++i)
    families.emplace_back(std::string(storage::collection_name(static_cast<storage::Collection>(i))),
                          rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, families, &handles, &raw).ok()) return false;
  std::unique_ptr<rocksdb::DB> db(raw);
  const auto history = handles[1 + static_cast<std::size_t>(storage::Collection::History)];
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const bool ok = db->CompactRange(compact, history, nullptr, nullptr).ok();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return ok;
}

std::uintmax_t sst_bytes(const std::string& dir) {
  std::uintmax_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().extension() == ".sst") n += f.file_size();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"history store benchmark"};
  std::string dir = (std::filesystem::temp_directory_path() / "citytwin-history-bench").string();
  std::string which = "temperature";
  int repeat = 20;
  bool keep = false;
  app.add_option("--data-dir", dir, "a fresh data dir (removed first)");
  app.add_option("--series", which, "temperature or pm25")->check(CLI::IsMember({"temperature", "pm25"}));
  app.add_option("--repeat", repeat, "aggregation repeats")->check(CLI::Range(1, 1000));
  app.add_flag("--keep", keep, "keep the data dir");
  CLI11_PARSE(app, argc, argv);

  const auto points = which == "pm25" ? bench::pm25_year() : bench::temperature_year();
  std::filesystem::remove_all(dir);
  auto store = storage::open_rocksdb_store({dir, true});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.problem().detail.c_str());
    return 1;
  }
  HistoryStore history(**store);
  const std::string entity = "urn:ngsi-ld:Bench:1";
  const std::string attribute = "https://uri.etsi.org/ngsi-ld/default-context/" + which;

  // Recording: what contribute() does for each written instance, 10,000 instances per store group.
  auto t0 = Clock::now();
  std::vector<storage::Write> writes;
  storage::Sequence last = 0;
  model::Attribute instance;
  instance.name = model::Term::intern(attribute);
  instance.unit_code = model::Term::intern(which == "pm25" ? "GQ" : "CEL");
  for (std::size_t i = 0; i < points.size(); ++i) {
    instance.value = points[i].value;
    instance.observed_at = points[i].time;
    history.record_instance("", entity, instance, points[i].time, writes);
    if (writes.size() >= 20'000) last = (*store)->enqueue(std::exchange(writes, {}));
  }
  if (!writes.empty()) last = (*store)->enqueue(std::move(writes));
  if (!(*store)->wait_durable(last)) return 1;
  const double record_s = seconds_since(t0);

  t0 = Clock::now();
  auto compacted = history.compact(bench::kYearStart + 400 * bench::kDay, 0);
  if (!compacted) {
    std::fprintf(stderr, "%s\n", compacted.problem().detail.c_str());
    return 1;
  }
  const double compact_s = seconds_since(t0);

  std::size_t key_bytes = 0, value_bytes = 0, records = 0;
  (void)(*store)->scan(storage::Collection::History, "S", [&](std::string_view key, std::string_view value) {
    key_bytes += key.size();
    value_bytes += value.size();
    ++records;
    return true;
  });

  // Hourly avg/min/max over the year, as the temporal API computes it: one range scan of the
  // series, every block handed to the aggregator, raw points added. Returns min and median ms.
  const SeriesId series{entity, attribute, ""};
  using M = AggregationMethod;
  std::size_t buckets = 0;
  auto time_aggregation = [&](HistoryStore& reader) -> std::pair<double, double> {
    std::vector<double> times_ms;
    for (int r = 0; r < repeat; ++r) {
      const auto start = Clock::now();
      auto aggregator = Aggregator::create(
          {bench::kYearStart, bench::kYearStart + 365 * bench::kDay, bench::kHour, {M::Avg, M::Min, M::Max}});
      if (!aggregator) std::abort();
      Status failure;
      auto st = reader.read_numeric(
          "", series, bench::kYearStart, bench::kYearStart + 365 * bench::kDay,
          [&](std::string_view block) {
            if (auto added = aggregator->add_block(block); !added) failure = added;
          },
          [&](const HistoryInstance& i) {
            if (i.number) aggregator->add_point(i.time, *i.number);
          });
      if (!st || !failure) std::abort();
      buckets = aggregator->result().size();
      times_ms.push_back(seconds_since(start) * 1000);
    }
    std::sort(times_ms.begin(), times_ms.end());
    return {times_ms.front(), times_ms[times_ms.size() / 2]};
  };
  const auto fresh = time_aggregation(history);
  history.stop();
  (*store)->close();
  store->reset();
  t0 = Clock::now();
  if (!compact_rocksdb(dir)) return 1;
  const double rocksdb_compact_s = seconds_since(t0);
  const auto sst = sst_bytes(dir);
  store = storage::open_rocksdb_store({dir, true});
  if (!store) return 1;
  HistoryStore reopened(**store);
  const auto steady = time_aggregation(reopened);

  std::printf("series: %s, %zu points of 1-minute data\n", which.c_str(), points.size());
  std::printf("record (raw, durable, 10,000 per group): %.2f s, %.0f points/s\n", record_s,
              static_cast<double>(points.size()) / record_s);
  std::printf("compact into day blocks: %.2f s (%zu blocks from %zu records)\n", compact_s, compacted->blocks_written,
              compacted->raws_compacted);
  std::printf("stored after compaction: %zu records, %zu key + %zu value bytes = %.3f bytes/point\n", records,
              key_bytes, value_bytes,
              static_cast<double>(key_bytes + value_bytes) / static_cast<double>(points.size()));
  std::printf("on disk after RocksDB compacted the history (%.2f s): %ju bytes of .sst files = %.3f bytes/point\n",
              rocksdb_compact_s, sst, static_cast<double>(sst) / static_cast<double>(points.size()));
  std::printf("hourly avg/min/max over the year (%zu buckets), %d runs:\n", buckets, repeat);
  std::printf("  right after the history compactor (which has RocksDB reclaim the raws it deleted): min %.2f ms, median %.2f ms\n",
              fresh.first, fresh.second);
  std::printf("  after a restart and a full RocksDB compaction: min %.2f ms, median %.2f ms\n", steady.first,
              steady.second);
  (*store)->close();
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
