// History store core benchmark: one year of 1-minute readings (525,600 points) of two synthetic but
// realistic sensor signals, encoded into blocks, then aggregated and decoded.
//
//   history_bench                      the size table, then every benchmark
//   history_bench --benchmark_filter=Aggregate
//
// The signals are deterministic (fixed seeds), so sizes are reproducible across runs and machines.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "history/aggregate.hpp"
#include "history/series_codec.hpp"
#include "signals.hpp"

namespace ct::history {
namespace {

using namespace ct::history::bench;

// Splits a series into blocks of calendar days (UTC) or of a fixed number of points.
enum class Blocking { Day, Hour, Points4096 };
std::vector<std::string> encode_blocks(const std::vector<SeriesPoint>& points, Blocking blocking,
                                       ValueScaling scaling = ValueScaling::Auto) {
  std::vector<std::string> blocks;
  SeriesBlockBuilder builder(scaling);
  const Timestamp span = blocking == Blocking::Day ? kDay : kHour;
  Timestamp block_end = 0;
  for (const SeriesPoint& p : points) {
    const bool full = blocking == Blocking::Points4096 ? builder.size() == 4096 : p.time >= block_end;
    if (full && !builder.empty()) blocks.push_back(builder.finish());
    if (blocking != Blocking::Points4096 && p.time >= block_end) block_end = p.time - p.time % span + span;
    if (!builder.append(p.time, p.value).ok()) std::abort();
  }
  blocks.push_back(builder.finish());
  return blocks;
}

std::size_t total_bytes(const std::vector<std::string>& blocks) {
  std::size_t n = 0;
  for (const std::string& b : blocks) n += b.size();
  return n;
}

const std::vector<SeriesPoint>& temperature() {
  static const std::vector<SeriesPoint> points = temperature_year();
  return points;
}
const std::vector<SeriesPoint>& pm25() {
  static const std::vector<SeriesPoint> points = pm25_year();
  return points;
}
const std::vector<SeriesPoint>& series(int which) { return which == 0 ? temperature() : pm25(); }
const char* series_name(int which) { return which == 0 ? "temperature" : "pm25"; }

void print_size_table() {
  std::printf("Bytes per point, one year of 1-minute data (%zu points), block headers (%zu B) included\n",
              kYearPoints, kBlockHeaderSize);
  std::printf("%-34s %14s %14s %14s\n", "series", "1-day blocks", "4096-pt blocks", "1-hour blocks");
  const auto row = [](const char* name, const std::vector<SeriesPoint>& points, ValueScaling scaling) {
    std::printf("%-34s", name);
    for (Blocking b : {Blocking::Day, Blocking::Points4096, Blocking::Hour}) {
      const auto blocks = encode_blocks(points, b, scaling);
      std::printf(" %14.3f", static_cast<double>(total_bytes(blocks)) / static_cast<double>(points.size()));
    }
    std::printf("\n");
  };
  row("temperature (0.1 C)", temperature(), ValueScaling::Auto);
  row("temperature, plain Gorilla", temperature(), ValueScaling::Off);
  row("PM2.5 (0.1 ug/m3)", pm25(), ValueScaling::Auto);
  row("PM2.5, plain Gorilla", pm25(), ValueScaling::Off);
  row("PM2.5, times jittered 0-999 ms", pm25_year(1000), ValueScaling::Auto);
  std::printf("(raw: 16 bytes per point)\n\n");
  std::fflush(stdout);
}

void BM_Encode(benchmark::State& state) {
  const auto& points = series(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto blocks = encode_blocks(points, Blocking::Day);
    bytes = total_bytes(blocks);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetLabel(series_name(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * points.size()));
  state.counters["bytes/point"] = static_cast<double>(bytes) / static_cast<double>(points.size());
}

void BM_Decode(benchmark::State& state) {
  const auto& points = series(static_cast<int>(state.range(0)));
  const auto blocks = encode_blocks(points, Blocking::Day);
  for (auto _ : state) {
    double sum = 0;
    for (const std::string& block : blocks) {
      auto reader = SeriesBlockReader::open(block);
      Timestamp t;
      double v;
      while (reader->next(t, v)) sum += v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetLabel(series_name(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * points.size()));
}

// args: series, period (ms), blocking, with distinctCount and the rest
void BM_Aggregate(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const auto period = static_cast<std::int64_t>(state.range(1));
  const auto blocking = static_cast<Blocking>(state.range(2));
  const bool all_methods = state.range(3) != 0;
  const auto blocks = encode_blocks(series(which), blocking);
  const std::vector<std::string_view> views(blocks.begin(), blocks.end());
  using M = AggregationMethod;
  AggregationQuery query{kYearStart, kYearStart + 365 * kDay, period, {M::Avg, M::Min, M::Max}};
  if (all_methods) query.methods = {M::TotalCount, M::DistinctCount, M::Sum, M::Avg, M::Min, M::Max, M::StdDev, M::SumSq};
  std::size_t buckets = 0;
  for (auto _ : state) {
    auto result = aggregate_blocks(query, views);
    if (!result) std::abort();
    buckets = result->size();
    benchmark::DoNotOptimize(result);
  }
  state.SetLabel(std::string(series_name(which)) + (period == kHour ? " hourly" : period == kDay ? " daily" : " year") +
                 (blocking == Blocking::Day ? ", 1-day blocks" : ", 4096-pt blocks") +
                 (all_methods ? ", all 8 methods" : ", avg/min/max"));
  state.counters["buckets"] = static_cast<double>(buckets);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kYearPoints));
}

BENCHMARK(BM_Encode)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Aggregate)
    ->Args({0, kHour, static_cast<std::int64_t>(Blocking::Day), 0})
    ->Args({1, kHour, static_cast<std::int64_t>(Blocking::Day), 0})
    ->Args({1, kHour, static_cast<std::int64_t>(Blocking::Points4096), 0})
    ->Args({1, kHour, static_cast<std::int64_t>(Blocking::Day), 1})
    ->Args({1, kDay, static_cast<std::int64_t>(Blocking::Day), 0})
    ->Args({1, kDay, static_cast<std::int64_t>(Blocking::Day), 1})
    ->Args({1, 0, static_cast<std::int64_t>(Blocking::Day), 0})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ct::history

int main(int argc, char** argv) {
  ct::history::print_size_table();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
