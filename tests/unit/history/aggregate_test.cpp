#include "history/aggregate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "history/checksum.hpp"

namespace ct::history {
namespace {

__extension__ typedef __int128 Int128;  // exact bucket arithmetic for the reference

constexpr Timestamp kMinute = 60'000;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = 24 * kHour;
constexpr Timestamp kJan2024 = 1'704'067'200'000;

using M = AggregationMethod;
const std::vector<M> kAllMethods{M::TotalCount, M::DistinctCount, M::Sum, M::Avg,
                                 M::Min,        M::Max,           M::StdDev, M::SumSq};

// The reference: every method computed the obvious way, from the points of each bucket.
std::vector<AggregatedBucket> naive_aggregate(const std::vector<SeriesPoint>& points, const AggregationQuery& q) {
  std::map<Int128, std::vector<double>> groups;
  for (const SeriesPoint& p : points) {
    if (p.time < q.from || p.time >= q.to) continue;
    groups[q.period_ms == 0 ? 0 : (Int128{p.time} - q.from) / q.period_ms].push_back(p.value);
  }
  std::vector<AggregatedBucket> out;
  for (const auto& [index, values] : groups) {
    AggregatedBucket b;
    const Int128 start = q.period_ms == 0 ? Int128{q.from} : q.from + index * q.period_ms;
    const Int128 end = q.period_ms == 0 ? Int128{q.to} : std::min<Int128>(start + q.period_ms, q.to);
    b.start = static_cast<Timestamp>(start);
    b.end = static_cast<Timestamp>(end);
    const double n = static_cast<double>(values.size());
    double sum = 0, sum_squares = 0;
    for (double v : values) {
      sum += v;
      sum_squares += v * v;
    }
    long double deviations = 0;
    const long double mean = static_cast<long double>(sum) / n;
    for (double v : values) deviations += (v - mean) * (v - mean);
    for (M m : q.methods) {
      switch (m) {
        case M::TotalCount: b.values.push_back(n); break;
        case M::DistinctCount:
          b.values.push_back(static_cast<double>(std::set<double>(values.begin(), values.end()).size()));
          break;
        case M::Sum: b.values.push_back(sum); break;
        case M::Avg: b.values.push_back(sum / n); break;
        case M::Min: b.values.push_back(*std::min_element(values.begin(), values.end())); break;
        case M::Max: b.values.push_back(*std::max_element(values.begin(), values.end())); break;
        case M::StdDev: b.values.push_back(static_cast<double>(std::sqrt(deviations / n))); break;
        case M::SumSq: b.values.push_back(sum_squares); break;
      }
    }
    out.push_back(b);
  }
  return out;
}

void expect_same(const std::vector<AggregatedBucket>& got, const std::vector<AggregatedBucket>& want,
                 const AggregationQuery& q, double scale) {
  ASSERT_EQ(got.size(), want.size()) << "from " << q.from << " to " << q.to << " period " << q.period_ms;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].start, want[i].start) << i;
    ASSERT_EQ(got[i].end, want[i].end) << i;
    ASSERT_EQ(got[i].values.size(), q.methods.size());
    for (std::size_t j = 0; j < q.methods.size(); ++j) {
      const double g = got[i].values[j], w = want[i].values[j];
      switch (q.methods[j]) {
        case M::TotalCount:
        case M::DistinctCount:
        case M::Min:
        case M::Max: ASSERT_EQ(g, w) << method_name(q.methods[j]) << " in bucket " << i; break;
        default:
          // Sums in another order: equal to rounding, relative to the magnitudes summed.
          ASSERT_NEAR(g, w, 1e-9 * std::max(std::fabs(w), scale))
              << method_name(q.methods[j]) << " in bucket " << i;
      }
    }
  }
}

std::vector<std::string> encode_in_blocks(const std::vector<SeriesPoint>& points, std::mt19937_64& rng,
                                          std::size_t max_block) {
  std::vector<std::string> blocks;
  SeriesBlockBuilder builder;
  std::size_t target = 1 + rng() % max_block;
  for (const SeriesPoint& p : points) {
    EXPECT_TRUE(builder.append(p.time, p.value).ok());
    if (builder.size() >= target) {
      blocks.push_back(builder.finish());
      target = 1 + rng() % max_block;
      if (rng() % 20 == 0) blocks.push_back(builder.finish());  // an empty block now and then
    }
  }
  blocks.push_back(builder.finish());
  return blocks;
}

std::vector<std::string_view> views(const std::vector<std::string>& blocks) {
  return {blocks.begin(), blocks.end()};
}

void reseal(std::string& block) {
  const std::uint32_t crc = crc32c(std::string_view(block).substr(4));
  for (int i = 0; i < 4; ++i) block[i] = static_cast<char>(crc >> (8 * i));
}

}  // namespace

TEST(TemporalAggregation, EveryMethodMatchesANaiveComputationOnRandomData) {
  std::mt19937_64 rng(2024);
  std::vector<SeriesPoint> points;
  Timestamp t = kJan2024;
  for (int i = 0; i < 20'000; ++i) {
    t += rng() % 10 == 0 ? static_cast<Timestamp>(rng() % (3 * kHour)) : static_cast<Timestamp>(rng() % 90'000);
    // Few distinct values, so that distinctCount is not simply the count.
    points.push_back({t, static_cast<double>(static_cast<int>(rng() % 2001) - 500) / 10});
  }
  const std::vector<std::string> blocks = encode_in_blocks(points, rng, 700);
  const Timestamp first = points.front().time, last = points.back().time;
  const Timestamp periods[] = {0, 1, 7, 1000, kMinute, 15 * kMinute, kHour, kDay, 7 * kDay, 400 * kDay};

  for (int trial = 0; trial < 300; ++trial) {
    AggregationQuery q;
    const Timestamp span = last - first;
    q.from = first - span / 10 + static_cast<Timestamp>(rng() % static_cast<std::uint64_t>(span));
    q.to = q.from + 1 + static_cast<Timestamp>(rng() % static_cast<std::uint64_t>(span));
    if (trial % 10 == 0) {  // the whole series, exactly
      q.from = first;
      q.to = last + 1;
    }
    q.period_ms = periods[rng() % std::size(periods)];
    if (q.period_ms == 1 || q.period_ms == 7) q.to = std::min(q.to, q.from + 50 * kDay);  // bounded bucket count
    const std::size_t method_count = 1 + rng() % 10;
    for (std::size_t i = 0; i < method_count; ++i) q.methods.push_back(kAllMethods[rng() % kAllMethods.size()]);

    auto got = aggregate_blocks(q, views(blocks));
    ASSERT_TRUE(got.ok()) << got.problem().detail;
    expect_same(*got, naive_aggregate(points, q), q, 150);
  }
}

TEST(TemporalAggregation, BucketsAreHalfOpenAndCutAtTheEndOfTheRange) {
  const std::vector<SeriesPoint> points{{0, 1}, {999, 2}, {1000, 3}, {1999, 4}, {2000, 5}, {2500, 6}, {3000, 7}};
  SeriesBlockBuilder builder;
  for (const SeriesPoint& p : points) ASSERT_TRUE(builder.append(p.time, p.value).ok());
  const std::string block = builder.finish();
  const std::string_view blocks[] = {block};

  auto run = [&](Timestamp from, Timestamp to, std::int64_t period) {
    auto r = aggregate_blocks({from, to, period, {M::TotalCount, M::Sum}}, blocks);
    EXPECT_TRUE(r.ok());
    std::vector<std::vector<double>> rows;
    for (const AggregatedBucket& b : *r)
      rows.push_back({static_cast<double>(b.start), static_cast<double>(b.end), b.values[0], b.values[1]});
    return rows;
  };
  using Rows = std::vector<std::vector<double>>;
  EXPECT_EQ(run(0, 2500, 1000), (Rows{{0, 1000, 2, 3}, {1000, 2000, 2, 7}, {2000, 2500, 1, 5}}));
  EXPECT_EQ(run(0, 2500, 0), (Rows{{0, 2500, 5, 15}}));
  EXPECT_EQ(run(500, 3001, 1000), (Rows{{500, 1500, 2, 5}, {1500, 2500, 2, 9}, {2500, 3001, 2, 13}}));
  EXPECT_EQ(run(1, 999, 10), Rows{}) << "no point in range";
  EXPECT_EQ(run(0, 10'000, 700), (Rows{{0, 700, 1, 1},
                                       {700, 1400, 2, 5},
                                       {1400, 2100, 2, 9},
                                       {2100, 2800, 1, 6},
                                       {2800, 3500, 1, 7}}));
  EXPECT_EQ(run(-5000, 10'000, 4000), (Rows{{-1000, 3000, 6, 21}, {3000, 7000, 1, 7}}));
  EXPECT_EQ(run(3000, 3001, 1), (Rows{{3000, 3001, 1, 7}}));
  EXPECT_EQ(run(0, 100'000, 1000).size(), 4u) << "empty buckets are left out";
}

TEST(TemporalAggregation, WholeBlocksInsideABucketAreMergedFromTheirSummary) {
  // Ten days of minute data, one block per day.
  std::vector<SeriesPoint> points;
  std::vector<std::string> blocks;
  SeriesBlockBuilder builder;
  for (int day = 0; day < 10; ++day) {
    for (int minute = 0; minute < 1440; ++minute) {
      const Timestamp t = kJan2024 + day * kDay + minute * kMinute;
      const double v = day == 3 ? 7.5 : std::round(200 * std::sin(minute / 100.0) + day * 10) / 10;
      points.push_back({t, v});
      ASSERT_TRUE(builder.append(t, v).ok());
    }
    blocks.push_back(builder.finish());
  }
  const auto blocks_view = views(blocks);

  auto check = [&](AggregationQuery q, std::size_t skipped, std::size_t summarized, std::size_t decoded) {
    auto aggregator = Aggregator::create(q);
    ASSERT_TRUE(aggregator.ok());
    for (std::string_view b : blocks_view) ASSERT_TRUE(aggregator->add_block(b).ok());
    expect_same(aggregator->result(), naive_aggregate(points, q), q, 30);
    EXPECT_EQ(aggregator->stats().blocks_skipped, skipped);
    EXPECT_EQ(aggregator->stats().blocks_summarized, summarized);
    EXPECT_EQ(aggregator->stats().blocks_decoded, decoded);
  };
  const std::vector<M> no_distinct{M::TotalCount, M::Sum, M::Avg, M::Min, M::Max, M::StdDev, M::SumSq};
  check({kJan2024, kJan2024 + 10 * kDay, kDay, no_distinct}, 0, 10, 0);
  check({kJan2024, kJan2024 + 10 * kDay, 2 * kDay, no_distinct}, 0, 10, 0);
  check({kJan2024, kJan2024 + 10 * kDay, 0, no_distinct}, 0, 10, 0);
  check({kJan2024 + 2 * kDay, kJan2024 + 5 * kDay, kDay, no_distinct}, 7, 3, 0);
  check({kJan2024 + 2 * kDay, kJan2024 + 4 * kDay + 12 * kHour, kDay, no_distinct}, 7, 2, 1);  // day 4 is cut
  // Buckets start at `from`: shifted by 1 ms, no day block lies inside one bucket any more.
  check({kJan2024 + 2 * kDay + 1, kJan2024 + 5 * kDay, kDay, no_distinct}, 7, 0, 3);
  check({kJan2024, kJan2024 + 10 * kDay, kHour, no_distinct}, 0, 0, 10);  // blocks span buckets
  // distinctCount needs decoding, except for day 3, whose values are all equal.
  check({kJan2024, kJan2024 + 10 * kDay, kDay, kAllMethods}, 0, 1, 9);
  check({kJan2024 - 5 * kDay, kJan2024 - kDay, kDay, kAllMethods}, 10, 0, 0);
}

TEST(TemporalAggregation, DistinctCountComparesValuesAsNumbers) {
  SeriesBlockBuilder builder;
  for (double v : {0.0, -0.0, 1.5, 1.5, -1.5, 1e300, 0.0, 1.5})
    ASSERT_TRUE(builder.append(10, v).ok());
  const std::string block = builder.finish();
  const std::string_view blocks[] = {block};
  auto r = aggregate_blocks({0, 100, 0, {M::DistinctCount, M::TotalCount}}, blocks);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].values, (std::vector<double>{4, 8}));

  // A constant block of zeros of both signs is one value, summarized or not.
  for (double v : {0.0, -0.0}) ASSERT_TRUE(builder.append(20, v).ok());
  const std::string zeros = builder.finish();
  const std::string_view both[] = {zeros, block};
  r = aggregate_blocks({0, 100, 0, {M::DistinctCount}}, both);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].values, (std::vector<double>{4}));
}

TEST(TemporalAggregation, AcceptsRawPointsInAnyOrderAlongsideBlocks) {
  std::mt19937_64 rng(8);
  std::vector<SeriesPoint> points;
  Timestamp t = 0;
  for (int i = 0; i < 5000; ++i) points.push_back({t += static_cast<Timestamp>(rng() % 5000), (rng() % 1000) / 4.0});
  const std::vector<SeriesPoint> early(points.begin(), points.begin() + 3000);
  std::vector<SeriesPoint> recent(points.begin() + 3000, points.end());
  std::shuffle(recent.begin(), recent.end(), rng);
  recent.push_back({t + 1, std::numeric_limits<double>::quiet_NaN()});  // skipped

  const std::vector<std::string> blocks = encode_in_blocks(early, rng, 400);
  for (std::int64_t period : {std::int64_t{0}, std::int64_t{1234}, kMinute, kHour}) {
    AggregationQuery q{-1, t + 2, period, kAllMethods};
    auto aggregator = Aggregator::create(q);
    ASSERT_TRUE(aggregator.ok());
    for (std::size_t i = 0; i < recent.size() / 2; ++i) aggregator->add_point(recent[i].time, recent[i].value);
    for (const std::string& b : blocks) ASSERT_TRUE(aggregator->add_block(b).ok());
    aggregator->add_points(std::span(recent).subspan(recent.size() / 2));
    expect_same(aggregator->result(), naive_aggregate(points, q), q, 250);
  }
}

TEST(TemporalAggregation, StddevStaysAccurateForALargeMeanAndSmallSpread) {
  std::mt19937_64 rng(4);
  std::vector<SeriesPoint> points;
  for (int i = 0; i < 10'000; ++i) points.push_back({i * 1000, 1e9 + static_cast<double>(rng() % 1000) / 1000});
  const std::vector<std::string> blocks = encode_in_blocks(points, rng, 300);
  for (std::int64_t period : {std::int64_t{0}, std::int64_t{1'000'000}}) {
    AggregationQuery q{0, 10'000'000, period, {M::StdDev}};
    auto got = aggregate_blocks(q, views(blocks));
    ASSERT_TRUE(got.ok());
    const auto want = naive_aggregate(points, q);
    ASSERT_EQ(got->size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_GT(want[i].values[0], 0.25);  // uniform on [0, 1): about 0.29
      EXPECT_NEAR((*got)[i].values[0], want[i].values[0], 1e-5) << "bucket " << i;
    }
  }
}

TEST(TemporalAggregation, HandlesTheWholeTimeLine) {
  const Timestamp lo = std::numeric_limits<Timestamp>::min();
  const Timestamp hi = std::numeric_limits<Timestamp>::max();
  const std::vector<SeriesPoint> points{{lo, 1}, {lo + 1, 2}, {-1, 3}, {0, 4}, {hi - 1, 5}, {hi, 6}};
  SeriesBlockBuilder builder;
  for (const SeriesPoint& p : points) ASSERT_TRUE(builder.append(p.time, p.value).ok());
  const std::string block = builder.finish();
  const std::string_view blocks[] = {block};
  for (std::int64_t period : {std::int64_t{0}, std::int64_t{1}, 365 * kDay, hi}) {
    AggregationQuery q{lo, hi, period, {M::TotalCount, M::Sum, M::Min, M::Max}};
    auto got = aggregate_blocks(q, blocks);
    ASSERT_TRUE(got.ok());
    expect_same(*got, naive_aggregate(points, q), q, 1);
  }
}

TEST(TemporalAggregation, ACorruptBlockIsRefusedAndAddsNothing) {
  std::vector<SeriesPoint> points;
  for (int i = 0; i < 100; ++i) points.push_back({i * 1000, i % 10 * 1.0});
  SeriesBlockBuilder builder;
  for (const SeriesPoint& p : points) ASSERT_TRUE(builder.append(p.time, p.value).ok());
  const std::string good = builder.finish();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(builder.append(200'000 + i * 1000, 5).ok());
  std::string forged = builder.finish();
  forged[forged.size() - 3] = '\xff';  // breaks the bit stream near its end
  reseal(forged);
  std::string torn = good.substr(0, good.size() - 1);

  auto aggregator = Aggregator::create({0, 1'000'000, 10'000, {M::TotalCount, M::Sum}});
  ASSERT_TRUE(aggregator.ok());
  ASSERT_TRUE(aggregator->add_block(good).ok());
  const auto before = aggregator->result();
  for (const std::string& bad : {torn, forged}) {
    Status s = aggregator->add_block(bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.problem().kind, ProblemKind::BadRequestData);
    EXPECT_NE(s.problem().detail.find("series block"), std::string::npos) << s.problem().detail;
  }
  const auto after = aggregator->result();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].values, before[i].values);

  const std::string_view blocks[] = {good, torn};
  EXPECT_FALSE(aggregate_blocks({0, 1'000'000, 0, {M::Sum}}, blocks).ok());
}

TEST(TemporalAggregation, RefusesMeaninglessQueries) {
  EXPECT_FALSE(Aggregator::create({10, 10, 0, {M::Sum}}).ok()) << "empty range";
  EXPECT_FALSE(Aggregator::create({10, 5, 0, {M::Sum}}).ok()) << "reversed range";
  EXPECT_FALSE(Aggregator::create({0, 10, -1, {M::Sum}}).ok()) << "negative period";
  auto r = Aggregator::create({0, 10, 0, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
}

TEST(TemporalAggregation, NamesMethodsAsNgsiLdDoes) {
  for (M m : kAllMethods) {
    auto parsed = parse_method(method_name(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_EQ(method_name(M::StdDev), "stddev");
  EXPECT_EQ(method_name(M::TotalCount), "totalCount");
  auto bad = parse_method("median");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(bad.problem().detail.find("median"), std::string::npos);
  EXPECT_FALSE(parse_method("Sum").ok()) << "names are case-sensitive";
}

}  // namespace ct::history
