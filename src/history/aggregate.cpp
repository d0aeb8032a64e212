#include "history/aggregate.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "common/text.hpp"

namespace ct::history {
namespace {

constexpr std::string_view kMethodNames[] = {"totalCount", "distinctCount", "sum",    "avg",
                                             "min",        "max",           "stddev", "sumsq"};

// distinctCount compares values as numbers: both zeros count as one value.
std::uint64_t distinct_key(double v) { return v == 0 ? 0 : std::bit_cast<std::uint64_t>(v); }

// The points of one bucket met in a row. Deviations are summed around the run's first value
// (the "shifted data" variance algorithm): as stable as Welford's for data near that value, without
// a division per point.
struct Run {
  std::uint64_t count = 0;
  double shift = 0;
  double shifted_sum = 0;
  double shifted_squares = 0;
  double sum = 0;
  double sum_squares = 0;
  double min = 0;
  double max = 0;

  void start(double v) { *this = Run{0, v, 0, 0, 0, 0, v, v}; }
  void add(double v) {
    ++count;
    const double d = v - shift;
    shifted_sum += d;
    shifted_squares += d * d;
    sum += v;
    sum_squares += v * v;
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
};

}  // namespace

std::string_view method_name(AggregationMethod method) { return kMethodNames[static_cast<std::size_t>(method)]; }

Result<AggregationMethod> parse_method(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kMethodNames); ++i)
    if (kMethodNames[i] == name) return static_cast<AggregationMethod>(i);
  return bad_request("unknown aggregation method '" + printable_utf8(name.substr(0, 64)) +
                     "'; expected totalCount, distinctCount, sum, avg, min, max, stddev or sumsq");
}

void Aggregator::Accumulator::merge(std::uint64_t n, double n_sum, double n_sum_squares, double n_min, double n_max,
                                    double n_mean, double n_squared_deviations) {
  if (n == 0) return;
  if (count == 0) {
    count = n;
    sum = n_sum;
    sum_squares = n_sum_squares;
    min = n_min;
    max = n_max;
    mean = n_mean;
    squared_deviations = n_squared_deviations;
    return;
  }
  // Chan, Golub & LeVeque: combine two (count, mean, M2) without revisiting the points.
  const double a = static_cast<double>(count);
  const double b = static_cast<double>(n);
  const double delta = n_mean - mean;
  mean += delta * (b / (a + b));
  squared_deviations += n_squared_deviations + delta * delta * (a * b / (a + b));
  count += n;
  sum += n_sum;
  sum_squares += n_sum_squares;
  min = std::min(min, n_min);
  max = std::max(max, n_max);
}

Aggregator::Aggregator(AggregationQuery query) : query_(std::move(query)) {
  distinct_ = std::find(query_.methods.begin(), query_.methods.end(), AggregationMethod::DistinctCount) !=
              query_.methods.end();
}

Result<Aggregator> Aggregator::create(AggregationQuery query) {
  if (query.from >= query.to) return bad_request("aggregation needs a time range whose start precedes its end");
  if (query.period_ms < 0) return bad_request("aggregation period must not be negative");
  if (query.methods.empty()) return bad_request("aggregation needs at least one method");
  return Aggregator(std::move(query));
}

std::uint64_t Aggregator::bucket_index(Timestamp time) const {
  if (query_.period_ms == 0) return 0;
  // Unsigned: time - from may exceed INT64_MAX, and time >= from makes the difference exact.
  return (static_cast<std::uint64_t>(time) - static_cast<std::uint64_t>(query_.from)) /
         static_cast<std::uint64_t>(query_.period_ms);
}

Status Aggregator::add_block(std::string_view block) {
  auto reader = SeriesBlockReader::open(block);
  if (!reader) return std::move(reader).problem();
  const BlockSummary& s = reader->summary();
  if (s.count == 0 || s.last_time < query_.from || s.first_time >= query_.to) {
    ++stats_.blocks_skipped;
    return {};
  }
  if (s.first_time >= query_.from && s.last_time < query_.to &&
      bucket_index(s.first_time) == bucket_index(s.last_time) && (!distinct_ || s.min == s.max)) {
    Accumulator& acc = buckets_[bucket_index(s.first_time)];
    acc.merge(s.count, s.sum, s.sum_squares, s.min, s.max, s.sum / s.count, s.squared_deviations);
    if (distinct_) acc.distinct.insert(distinct_key(s.min));
    ++stats_.blocks_summarized;
    return {};
  }

  // Decode everything up to `to` first, so that a corrupt block adds nothing.
  scratch_.clear();
  SeriesPoint p;
  while (reader->next(p.time, p.value) && p.time < query_.to) scratch_.push_back(p);
  if (!reader->status().ok()) return reader->status().problem();
  ++stats_.blocks_decoded;
  add_points(scratch_);
  return {};
}

void Aggregator::add_points(std::span<const SeriesPoint> points) {
  const Timestamp from = query_.from;
  const Timestamp to = query_.to;
  const auto period = static_cast<std::uint64_t>(query_.period_ms);

  Run run;
  Accumulator* acc = nullptr;  // map nodes stay put while others are inserted
  Timestamp run_start = 0;     // the run's bucket is [run_start, run_end)
  Timestamp run_end = 0;
  const auto flush = [&] {
    if (acc == nullptr || run.count == 0) return;
    const double n = static_cast<double>(run.count);
    double squared_deviations = run.shifted_squares - run.shifted_sum * run.shifted_sum / n;
    if (squared_deviations < 0) squared_deviations = 0;  // rounding; keeps NaN from infinities
    acc->merge(run.count, run.sum, run.sum_squares, run.min, run.max, run.shift + run.shifted_sum / n,
               squared_deviations);
  };

  for (const SeriesPoint& point : points) {
    if (point.time < from || point.time >= to || std::isnan(point.value)) continue;
    if (acc == nullptr || point.time < run_start || point.time >= run_end) {
      flush();
      const std::uint64_t index = bucket_index(point.time);
      acc = &buckets_[index];
      if (period == 0) {
        run_start = from;
        run_end = to;
      } else {
        const std::uint64_t start = static_cast<std::uint64_t>(from) + index * period;
        run_start = static_cast<Timestamp>(start);
        run_end = static_cast<std::uint64_t>(to) - start <= period ? to : static_cast<Timestamp>(start + period);
      }
      run.start(point.value);
    }
    run.add(point.value);
    if (distinct_) acc->distinct.insert(distinct_key(point.value));
  }
  flush();
}

std::vector<AggregatedBucket> Aggregator::result() const {
  std::vector<AggregatedBucket> out;
  out.reserve(buckets_.size());
  const auto period = static_cast<std::uint64_t>(query_.period_ms);
  for (const auto& [index, acc] : buckets_) {
    if (acc.count == 0) continue;
    AggregatedBucket& b = out.emplace_back();
    if (period == 0) {
      b.start = query_.from;
      b.end = query_.to;
    } else {
      const std::uint64_t start = static_cast<std::uint64_t>(query_.from) + index * period;
      b.start = static_cast<Timestamp>(start);
      b.end = static_cast<std::uint64_t>(query_.to) - start <= period ? query_.to
                                                                      : static_cast<Timestamp>(start + period);
    }
    const double n = static_cast<double>(acc.count);
    b.values.reserve(query_.methods.size());
    for (AggregationMethod m : query_.methods) {
      switch (m) {
        case AggregationMethod::TotalCount: b.values.push_back(n); break;
        case AggregationMethod::DistinctCount: b.values.push_back(static_cast<double>(acc.distinct.size())); break;
        case AggregationMethod::Sum: b.values.push_back(acc.sum); break;
        case AggregationMethod::Avg: b.values.push_back(acc.sum / n); break;
        case AggregationMethod::Min: b.values.push_back(acc.min); break;
        case AggregationMethod::Max: b.values.push_back(acc.max); break;
        case AggregationMethod::StdDev: b.values.push_back(std::sqrt(acc.squared_deviations / n)); break;
        case AggregationMethod::SumSq: b.values.push_back(acc.sum_squares); break;
      }
    }
  }
  return out;
}

Result<std::vector<AggregatedBucket>> aggregate_blocks(const AggregationQuery& query,
                                                       std::span<const std::string_view> blocks) {
  auto aggregator = Aggregator::create(query);
  if (!aggregator) return std::move(aggregator).problem();
  for (std::string_view block : blocks) {
    Status added = aggregator->add_block(block);
    if (!added.ok()) return added.problem();
  }
  return aggregator->result();
}

}  // namespace ct::history
