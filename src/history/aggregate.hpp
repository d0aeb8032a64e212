#pragma once
// NGSI-LD temporal aggregation (ETSI GS CIM 009, aggrMethods / aggrPeriodDuration) over one
// numeric series: the points of [from, to), grouped into buckets of a fixed period, each reduced
// by the requested methods.
//
// Semantics:
// - Bucket i covers [from + i * period, from + (i + 1) * period), cut at `to`; period 0 makes one
//   bucket [from, to). A bucket without points is left out of the result: its count is 0 and its
//   avg, min, max and stddev do not exist. Buckets come out in time order.
// - totalCount: the number of points (duplicates of a time included). distinctCount: the number
//   of different values, compared as numbers (-0.0 equals 0.0). sum, avg, min, max as named.
//   sumsq: the sum of the squared values. stddev: the population standard deviation,
//   sqrt(sum((v - avg)^2) / n), since a bucket holds every instance of its period rather than a
//   sample of them; a single point has stddev 0.
// - Values are IEEE doubles: an infinite value makes sum/avg/sumsq infinite and stddev NaN.
//
// Cost: a block lying wholly inside one bucket is merged from its header summary without being
// decoded (for distinctCount only if all its values are equal); other blocks overlapping [from, to)
// are decoded, and blocks outside it are only opened (their checksum verified).
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "history/series_codec.hpp"

namespace ct::history {

enum class AggregationMethod : std::uint8_t { TotalCount, DistinctCount, Sum, Avg, Min, Max, StdDev, SumSq };

std::string_view method_name(AggregationMethod method);  // the NGSI-LD name: "totalCount", "stddev", ...
// BadRequestData naming the unknown method.
Result<AggregationMethod> parse_method(std::string_view name);

struct AggregationQuery {
  Timestamp from = 0;          // inclusive
  Timestamp to = 0;            // exclusive
  std::int64_t period_ms = 0;  // bucket length (aggrPeriodDuration); 0 = one bucket for the whole range
  std::vector<AggregationMethod> methods;
};

struct AggregatedBucket {
  Timestamp start = 0;
  Timestamp end = 0;           // exclusive
  std::vector<double> values;  // one per query method, in the query's order (counts are whole numbers)
};

// Counts of how blocks were handled, to check (and measure) that summaries spare decoding.
struct AggregatorStats {
  std::size_t blocks_skipped = 0;     // outside [from, to)
  std::size_t blocks_summarized = 0;  // merged from their summary
  std::size_t blocks_decoded = 0;
};

// Accumulates blocks and raw points into the buckets of one query. Input may come in any order;
// time order is only faster.
class Aggregator {
 public:
  // BadRequestData unless from < to, period_ms >= 0 and at least one method is asked for.
  static Result<Aggregator> create(AggregationQuery query);

  // Adds the points of one encoded block that fall in [from, to). On a Problem (a corrupt block)
  // nothing of the block has been added.
  Status add_block(std::string_view block);
  // Adds points not yet encoded (recent ones). Points outside [from, to) and NaN values are skipped,
  // as the codec refuses NaN.
  void add_points(std::span<const SeriesPoint> points);
  void add_point(Timestamp time, double value) {
    const SeriesPoint point{time, value};
    add_points(std::span<const SeriesPoint>(&point, 1));
  }

  // The buckets holding at least one point, in time order.
  std::vector<AggregatedBucket> result() const;
  const AggregatorStats& stats() const { return stats_; }

 private:
  struct Accumulator {
    std::uint64_t count = 0;
    double sum = 0;
    double sum_squares = 0;
    double min = 0;
    double max = 0;
    double mean = 0;
    double squared_deviations = 0;
    std::unordered_set<std::uint64_t> distinct;  // value bits, only when distinctCount is asked for

    void merge(std::uint64_t n, double n_sum, double n_sum_squares, double n_min, double n_max, double n_mean,
               double n_squared_deviations);
  };

  explicit Aggregator(AggregationQuery query);
  std::uint64_t bucket_index(Timestamp time) const;

  AggregationQuery query_;
  bool distinct_ = false;  // distinctCount asked for
  std::map<std::uint64_t, Accumulator> buckets_;
  AggregatorStats stats_;
  std::vector<SeriesPoint> scratch_;  // a decoded block
};

// Aggregates blocks given in any order; the Problem of the first corrupt block.
Result<std::vector<AggregatedBucket>> aggregate_blocks(const AggregationQuery& query,
                                                       std::span<const std::string_view> blocks);

}  // namespace ct::history
