#include "history/series_codec.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "history/checksum.hpp"

namespace ct::history {
namespace {

constexpr Timestamp kCodecMinute = 60'000;
constexpr Timestamp kYear = 365LL * 86'400'000;
constexpr Timestamp kCodecJan2024 = 1'704'067'200'000;

std::string encode(const std::vector<SeriesPoint>& points, ValueScaling scaling = ValueScaling::Auto) {
  SeriesBlockBuilder builder(scaling);
  for (const SeriesPoint& p : points) EXPECT_TRUE(builder.append(p.time, p.value).ok()) << p.time;
  return builder.finish();
}

// Decodes and compares bit for bit (== would equate -0.0 and 0.0).
void expect_round_trip(const std::vector<SeriesPoint>& points, ValueScaling scaling = ValueScaling::Auto) {
  const std::string block = encode(points, scaling);
  auto decoded = decode_block(block);
  ASSERT_TRUE(decoded.ok()) << decoded.problem().detail;
  ASSERT_EQ(decoded->size(), points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    ASSERT_EQ((*decoded)[i].time, points[i].time) << "point " << i;
    ASSERT_EQ(std::bit_cast<std::uint64_t>((*decoded)[i].value), std::bit_cast<std::uint64_t>(points[i].value))
        << "point " << i << ": " << points[i].value << " came back as " << (*decoded)[i].value;
  }
}

std::vector<SeriesPoint> regular(std::size_t count, Timestamp start, Timestamp step, double (*f)(std::size_t)) {
  std::vector<SeriesPoint> points;
  for (std::size_t i = 0; i < count; ++i) points.push_back({start + static_cast<Timestamp>(i) * step, f(i)});
  return points;
}

// Seals `block` again after a test has changed it, to get past the checksum to the deeper checks.
void reseal_block(std::string& block) {
  const std::uint32_t crc = crc32c(std::string_view(block).substr(4));
  for (int i = 0; i < 4; ++i) block[i] = static_cast<char>(crc >> (8 * i));
}

}  // namespace

TEST(SeriesCodec, RoundTripsSpecialDoublesBitExactly) {
  using L = std::numeric_limits<double>;
  const double specials[] = {0.0,         -0.0,          1.0,          -1.0,         L::infinity(),
                             -L::infinity(), L::denorm_min(), -L::denorm_min(), L::min() / 2, L::min(),
                             L::max(),    L::lowest(),   L::epsilon(), 1e300,        -1e-300,
                             0.1,         9007199254740993.0, 4503599627370497.5, 21.3, -0.0};
  std::vector<SeriesPoint> points;
  Timestamp t = kCodecJan2024;
  for (double a : specials)
    for (double b : specials) {
      points.push_back({t += 1000, a});
      points.push_back({t += 1000, b});
    }
  expect_round_trip(points);
  expect_round_trip(points, ValueScaling::Off);
  // The same values in blocks where every other value is a decimal, so scaling is tried on them.
  for (double v : specials) {
    expect_round_trip({{0, 21.3}, {1, v}, {2, 0.05}});
    expect_round_trip({{0, v}, {0, v}});
  }
}

TEST(SeriesCodec, RoundTripsRandomBitPatterns) {
  std::mt19937_64 rng(42);
  std::vector<SeriesPoint> points;
  Timestamp t = kCodecJan2024;
  while (points.size() < 20'000) {
    const double v = std::bit_cast<double>(rng());
    if (std::isnan(v)) continue;
    t += static_cast<Timestamp>(rng() % 100'000);
    points.push_back({t, v});
  }
  expect_round_trip(points);
}

TEST(SeriesCodec, RefusesNaNAndLeavesTheBuilderUnchanged) {
  SeriesBlockBuilder builder;
  ASSERT_TRUE(builder.append(1000, 1.5).ok());
  const double nans[] = {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::signaling_NaN(),
                         std::bit_cast<double>(std::uint64_t{0x7FF0'0000'0000'0001})};
  for (double nan : nans) {
    Status s = builder.append(2000, nan);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.problem().kind, ProblemKind::BadRequestData);
    EXPECT_NE(s.problem().detail.find("NaN"), std::string::npos);
  }
  EXPECT_EQ(builder.size(), 1u);
  auto decoded = decode_block(builder.finish());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (std::vector<SeriesPoint>{{1000, 1.5}}));
}

TEST(SeriesCodec, RefusesDecreasingTimesButKeepsDuplicates) {
  SeriesBlockBuilder builder;
  ASSERT_TRUE(builder.append(5000, 1).ok());
  ASSERT_TRUE(builder.append(5000, 2).ok());
  Status s = builder.append(4999, 3);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(s.problem().detail.find("time order"), std::string::npos);
  ASSERT_TRUE(builder.append(5000, 4).ok());
  EXPECT_EQ(*decode_block(builder.finish()), (std::vector<SeriesPoint>{{5000, 1}, {5000, 2}, {5000, 4}}));

  expect_round_trip({{7, 1}, {7, 1}, {7, 2}, {7, 2}, {8, 2}, {8, 2}, {8, 3}});
}

TEST(SeriesCodec, RegularTimesCostOneBitAPoint) {
  // 1000 points, 1 minute apart, one constant value: 64 bits for the first value, then 37 bits for
  // the first delta (60000 needs the 32-bit bucket) + 1 for the value, then 2 bits per point.
  const auto points = regular(1000, kCodecJan2024, kCodecMinute, [](std::size_t) { return 18.5; });
  const std::string block = encode(points);
  EXPECT_EQ(block.size(), kBlockHeaderSize + (64 + 38 + 998 * 2 + 7) / 8);
  expect_round_trip(points);
}

TEST(SeriesCodec, RoundTripsEveryDeltaOfDeltaBucketAndItsEdges) {
  // Deltas chosen so that the delta-of-delta lands on each side of each bucket boundary.
  const std::int64_t dods[] = {0,     1,     -1,    63,    64,    -64,  -65,       255,        256,
                               -256,  -257,  2047,  2048,  -2048, -2049, INT32_MAX, INT32_MAX + 1LL,
                               INT32_MIN, INT32_MIN - 1LL, 1LL << 40, -(1LL << 40)};
  std::vector<SeriesPoint> points{{0, 0}};
  std::int64_t delta = 1LL << 41;  // large enough that no negative dod makes it negative
  for (std::int64_t dod : dods) {
    delta += dod;
    points.push_back({points.back().time + delta, static_cast<double>(points.size())});
  }
  expect_round_trip(points);
}

TEST(SeriesCodec, RoundTripsIrregularTimesAndLargeGaps) {
  std::mt19937_64 rng(3);
  std::vector<SeriesPoint> points;
  Timestamp t = -kYear * 30;  // before 1970 too
  for (int i = 0; i < 10'000; ++i) {
    switch (rng() % 6) {
      case 0: t += 1000 + static_cast<Timestamp>(rng() % 40) - 20; break;  // jittery 1 s
      case 1: t += kCodecMinute; break;
      case 2: t += static_cast<Timestamp>(rng() % 5); break;  // bursts, duplicates
      case 3: t += static_cast<Timestamp>(rng() % (kYear * 3)); break;  // gaps of years
      case 4: t += 15 * kCodecMinute + static_cast<Timestamp>(rng() % 3000); break;
      default: break;  // same time
    }
    points.push_back({t, std::round(static_cast<double>(rng() % 100'000) - 50'000) / 100});
  }
  expect_round_trip(points);
}

TEST(SeriesCodec, RoundTripsTheExtremesOfTime) {
  const Timestamp lo = std::numeric_limits<Timestamp>::min();
  const Timestamp hi = std::numeric_limits<Timestamp>::max();
  expect_round_trip({{lo, 1}, {hi, 2}});
  expect_round_trip({{lo, 1}, {lo + 1, 2}, {hi - 1, 3}, {hi, 4}});
  expect_round_trip({{lo, 1}, {0, 2}, {hi, 3}, {hi, 3}});
  expect_round_trip({{hi, 1}});
}

TEST(SeriesCodec, ScalesDecimalValuesAndStaysExact) {
  auto scale_of = [](const std::vector<SeriesPoint>& points, ValueScaling scaling = ValueScaling::Auto) {
    auto reader = SeriesBlockReader::open(encode(points, scaling));
    EXPECT_TRUE(reader.ok());
    return reader->value_scale();
  };
  EXPECT_EQ(scale_of({{0, 21.3}, {1, 21.4}, {2, -3.0}}), 1u);
  EXPECT_EQ(scale_of({{0, 0.1}, {1, 0.25}}), 2u);
  EXPECT_EQ(scale_of({{0, 12}, {1, 13}}), 0u) << "integers need no scale";
  EXPECT_EQ(scale_of({{0, 21.3}, {1, std::numbers::pi}}), 0u) << "one non-decimal value keeps the block plain";
  EXPECT_EQ(scale_of({{0, 21.3}, {1, 1e300}}), 0u);
  EXPECT_EQ(scale_of({{0, 0.000001}, {1, 1.5}}), 6u);
  EXPECT_EQ(scale_of({{0, -0.0}, {1, 0.5}}), 1u) << "-0.0 scales to -0.0";
  EXPECT_EQ(scale_of({{0, 21.3}, {1, 21.4}}, ValueScaling::Off), 0u);

  // Random decimals of every precision and magnitude: exact, whatever scale each block gets.
  std::mt19937_64 rng(11);
  for (int digits = 0; digits <= 17; ++digits) {
    std::vector<SeriesPoint> points;
    for (int i = 0; i < 500; ++i) {
      const auto n = static_cast<double>(static_cast<std::int64_t>(rng() % 2'000'000'000'000'000'000ULL) -
                                         1'000'000'000'000'000'000LL) /
                     std::pow(10.0, static_cast<double>(rng() % 19));
      points.push_back({i, std::round(n * std::pow(10.0, digits)) / std::pow(10.0, digits)});
    }
    expect_round_trip(points);
  }
}

TEST(SeriesCodec, ScalingShrinksDecimalSeries) {
  std::mt19937_64 rng(5);
  std::vector<SeriesPoint> points;
  double level = 20;
  for (int i = 0; i < 1440; ++i) {
    level += static_cast<double>(static_cast<int>(rng() % 5) - 2) / 10;
    points.push_back({kCodecJan2024 + i * kCodecMinute, std::round(level * 10) / 10});
  }
  const std::size_t scaled = encode(points).size();
  const std::size_t plain = encode(points, ValueScaling::Off).size();
  EXPECT_LT(scaled * 2, plain) << scaled << " vs " << plain;
}

TEST(SeriesCodec, HeaderCarriesTheSummary) {
  const std::vector<SeriesPoint> points{{1000, 3}, {2000, -1.5}, {2000, 4}, {9000, 0.5}};
  auto reader = SeriesBlockReader::open(encode(points));
  ASSERT_TRUE(reader.ok());
  const BlockSummary& s = reader->summary();
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.first_time, 1000);
  EXPECT_EQ(s.last_time, 9000);
  EXPECT_EQ(s.min, -1.5);
  EXPECT_EQ(s.max, 4);
  EXPECT_DOUBLE_EQ(s.sum, 6);
  EXPECT_DOUBLE_EQ(s.sum_squares, 9 + 2.25 + 16 + 0.25);
  EXPECT_DOUBLE_EQ(s.squared_deviations, (1.5 * 1.5) + 3 * 3 + 2.5 * 2.5 + 1);
}

TEST(SeriesCodec, EmptyBuilderMakesAnEmptyBlockAndBuildersAreReusable) {
  SeriesBlockBuilder builder;
  const std::string empty = builder.finish();
  auto reader = SeriesBlockReader::open(empty);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->summary().count, 0u);
  Timestamp t;
  double v;
  EXPECT_FALSE(reader->next(t, v));
  EXPECT_TRUE(reader->status().ok());

  ASSERT_TRUE(builder.append(10, 1).ok());
  EXPECT_EQ(*decode_block(builder.finish()), (std::vector<SeriesPoint>{{10, 1}}));
  EXPECT_TRUE(builder.empty());
  ASSERT_TRUE(builder.append(5, 2).ok()) << "a new block starts a new time order";
  EXPECT_EQ(*decode_block(builder.finish()), (std::vector<SeriesPoint>{{5, 2}}));
}

TEST(SeriesCodec, LimitsTheBlockSize) {
  SeriesBlockBuilder builder;
  for (std::uint32_t i = 0; i < kMaxBlockPoints; ++i) ASSERT_TRUE(builder.append(i, 1).ok());
  Status s = builder.append(kMaxBlockPoints, 1);
  EXPECT_FALSE(s.ok());
  auto decoded = decode_block(builder.finish());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), kMaxBlockPoints);
}

TEST(SeriesCodec, RefusesTruncatedBlocks) {
  std::mt19937_64 rng(1);
  std::vector<SeriesPoint> points;
  for (int i = 0; i < 200; ++i) points.push_back({i * 1000 + static_cast<Timestamp>(rng() % 700), (rng() % 1000) / 10.0});
  const std::string block = encode(points);
  for (std::size_t size = 0; size < block.size(); ++size) {
    auto r = SeriesBlockReader::open(std::string_view(block).substr(0, size));
    ASSERT_FALSE(r.ok()) << size;
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
  }
  EXPECT_FALSE(SeriesBlockReader::open(block + '\0').ok()) << "trailing garbage";
}

TEST(SeriesCodec, RefusesEveryFlippedBit) {
  const std::string block = encode(regular(300, kCodecJan2024, kCodecMinute, [](std::size_t i) { return i % 7 * 0.3; }));
  for (std::size_t bit = 0; bit < block.size() * 8; ++bit) {
    std::string bad = block;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    auto r = SeriesBlockReader::open(bad);
    ASSERT_FALSE(r.ok()) << "bit " << bit;
    EXPECT_NE(r.problem().detail.find("checksum"), std::string::npos);
  }
}

TEST(SeriesCodec, RefusesInconsistentHeadersEvenWithAValidChecksum) {
  const std::string good = encode({{1000, 1}, {2000, 2}, {3000, 3}});
  auto forged = [&](std::size_t at, std::string_view bytes) {
    std::string bad = good;
    bad.replace(at, bytes.size(), bytes);
    reseal_block(bad);
    return SeriesBlockReader::open(bad);
  };
  EXPECT_FALSE(forged(4, "\x02").ok()) << "version";
  EXPECT_FALSE(forged(5, "\x10").ok()) << "scale 16";
  EXPECT_FALSE(forged(6, "\x01").ok()) << "reserved";
  EXPECT_FALSE(forged(8, std::string("\xff\xff\x00\x00", 4)).ok()) << "count beyond the payload";
  EXPECT_FALSE(forged(8, std::string("\x00\x00\x00\x01", 4)).ok()) << "count beyond the limit";
  EXPECT_FALSE(forged(8, std::string("\x00\x00\x00\x00", 4)).ok()) << "empty with contents";
  EXPECT_FALSE(forged(12, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8)).ok()) << "first after last";
  EXPECT_FALSE(forged(28, std::string("\x00\x00\x00\x00\x00\x00\x24\x40", 8)).ok()) << "min 10 > max 3";
  EXPECT_FALSE(forged(36, std::string("\x01\x00\x00\x00\x00\x00\xf8\x7f", 8)).ok()) << "max NaN";
  EXPECT_TRUE(forged(0, "").ok());

  // Decoding checks the points against the header.
  auto decode_forged = [&](std::size_t at, std::string_view bytes) {
    std::string bad = good;
    bad.replace(at, bytes.size(), bytes);
    reseal_block(bad);
    return decode_block(bad);
  };
  EXPECT_FALSE(decode_forged(20, std::string("\xb9\x0b\x00\x00\x00\x00\x00\x00", 8)).ok()) << "last time 3001";
  EXPECT_FALSE(decode_forged(20, std::string("\xcf\x07\x00\x00\x00\x00\x00\x00", 8)).ok()) << "last time 1999";
  EXPECT_FALSE(decode_forged(36, std::string("\x00\x00\x00\x00\x00\x00\x00\x40", 8)).ok()) << "max 2 < 3";
}

// A forged block (valid checksum, random contents) must open and decode without crashing or
// reading out of bounds: run this under the sanitizers.
TEST(SeriesCodec, SurvivesForgedBitStreams) {
  std::mt19937_64 rng(99);
  std::vector<SeriesPoint> points;
  Timestamp t = 0;
  for (int i = 0; i < 64; ++i) points.push_back({t += static_cast<Timestamp>(rng() % 5000), (rng() % 2000) / 10.0});
  const std::string good = encode(points);
  const std::string plain = encode(points, ValueScaling::Off);
  int opened = 0, refused_while_decoding = 0;
  for (int trial = 0; trial < 20'000; ++trial) {
    std::string bad = trial % 2 ? good : plain;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      // Mostly the bit stream, sometimes the summary fields the decoder checks against.
      const std::size_t at = rng() % 4 == 0 ? 12 + rng() % (kBlockHeaderSize - 12)
                                            : kBlockHeaderSize + rng() % (bad.size() - kBlockHeaderSize);
      bad[at] = static_cast<char>(rng());
    }
    if (rng() % 8 == 0) bad.resize(kBlockHeaderSize + rng() % (bad.size() - kBlockHeaderSize + 1));
    reseal_block(bad);
    auto reader = SeriesBlockReader::open(bad);
    if (!reader) continue;
    ++opened;
    Timestamp time, previous = std::numeric_limits<Timestamp>::min();
    double value;
    std::uint32_t n = 0;
    while (reader->next(time, value)) {
      ASSERT_GE(time, previous);
      ASSERT_GE(value, reader->summary().min);
      ASSERT_LE(value, reader->summary().max);
      previous = time;
      ++n;
    }
    if (!reader->status().ok()) {
      ++refused_while_decoding;
      EXPECT_EQ(reader->status().problem().kind, ProblemKind::BadRequestData);
    } else {
      EXPECT_EQ(n, reader->summary().count);
    }
    EXPECT_FALSE(reader->next(time, value)) << "stays at the end";
  }
  EXPECT_GT(opened, 1000);
  EXPECT_GT(refused_while_decoding, 1000);
}

}  // namespace ct::history
