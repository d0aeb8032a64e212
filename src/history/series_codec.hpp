#pragma once
// The block codec of the history store: one numeric series (time in ms, double value) packed into
// self-contained, checksummed blocks of typically 1 day or a few thousand points.
//
// Compression follows Gorilla (Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series
// Database", VLDB 2015): timestamps as delta-of-delta in variable-length bit buckets (a regular
// series costs 1 bit per point), values as the XOR with the previous value, of which only the
// window of bits between the leading and trailing zeros is stored.
//
// One addition: NGSI-LD values arrive as JSON decimals ("21.3"), whose binary doubles have long,
// noisy mantissas that XOR badly. When every value of a block is exactly n / 10^k for integers n
// (k <= 15, |n| <= 2^53), the block stores the XOR stream of n (as doubles) instead and records k;
// the decoder divides by 10^k, which IEEE 754 rounds to exactly the original double. The encoder
// checks that bit for bit before choosing it, so the round trip is exact either way.
//
// Contract:
// - Round trips are bit-exact, -0.0, infinities and subnormals included. NaN is refused at
//   append(): JSON cannot carry it, and it would make the block's min/max meaningless.
// - Timestamps must not decrease; equal timestamps are kept (in append order).
// - A block carries its summary (count, first/last time, min, max, sum, sum of squares, and the
//   sum of squared deviations from its mean), so aggregations can use whole blocks undecoded.
// - Blocks are read back from disk after crashes: open() refuses a torn or corrupt block with a
//   Problem (its CRC-32C catches every error burst of up to 32 bits, any other error but for odds
//   of 2^-32). Whatever the bytes, even forged ones with a matching checksum, open() and next()
//   never read outside them and never invoke undefined behaviour; next() checks each point against
//   the header (time order, time and value ranges, count), but a forged summary whose points are
//   never decoded is believed.
//
// Block layout (integers little-endian, doubles as their IEEE 754 bits):
//   [0,4)   CRC-32C of bytes [4, end)          [4]  format version (1)
//   [5]     value scale k (0..15)              [6,8) reserved, zero
//   [8,12)  point count                        [12,20) first time   [20,28) last time
//   [28,36) min  [36,44) max  [44,52) sum  [52,60) sum of squares  [60,68) squared deviations
//   [68,..) bit stream, most significant bit first, zero-padded to a byte:
//     point 0: its value, 64 bits (its time is the first time)
//     point i: delta-of-delta of its time (previous delta starts at 0), then its value's XOR code
//       time: '0' = 0 | '10' + 7 bits | '110' + 9 bits | '1110' + 12 bits | '11110' + 32 bits
//             (two's complement) | '11111' + 64 bits (the raw 64-bit difference, modulo 2^64)
//       value: '0' = same as previous | '10' + the bits inside the previous window
//              | '11' + 5 bits leading zeros (capped at 31) + 6 bits length (64 as 0) + the bits
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "history/bit_stream.hpp"

namespace ct::history {

inline constexpr std::size_t kBlockHeaderSize = 68;
// A block holds at most this many points (a day of 1-second readings fits); more is refused, so
// that a corrupt count can never make a reader allocate or loop without bound.
inline constexpr std::uint32_t kMaxBlockPoints = 1u << 20;

struct SeriesPoint {
  Timestamp time = 0;
  double value = 0;
  friend bool operator==(const SeriesPoint&, const SeriesPoint&) = default;
};

// What a block's header says about its points. With count == 0 every other field is 0.
struct BlockSummary {
  std::uint32_t count = 0;
  Timestamp first_time = 0;  // the earliest time (points are in time order)
  Timestamp last_time = 0;   // the latest time
  double min = 0;
  double max = 0;
  double sum = 0;
  double sum_squares = 0;
  // Sum of squared deviations from the block mean. Kept besides sum_squares because deriving a
  // variance from sum and sum_squares cancels catastrophically for series with a large mean and
  // small spread (20.0 +- 0.1); merging (count, mean, m2) per block (Chan et al.) stays exact.
  double squared_deviations = 0;
};

// Whether values may be stored scaled by a power of ten (see the file comment). Off gives plain
// Gorilla, for comparison or for series known to be non-decimal.
enum class ValueScaling : std::uint8_t { Auto, Off };

// Collects the points of one block, then encodes them. Reusable: finish() empties it.
class SeriesBlockBuilder {
 public:
  explicit SeriesBlockBuilder(ValueScaling scaling = ValueScaling::Auto) : scaling_(scaling) {}

  // BadRequestData if `value` is NaN, `time` is earlier than the previous point's, or the block
  // already holds kMaxBlockPoints; the builder is then unchanged.
  Status append(Timestamp time, double value);

  std::size_t size() const { return times_.size(); }
  bool empty() const { return times_.empty(); }

  // The sealed block of every point appended since the last finish(); an empty builder yields a
  // valid block of 0 points.
  std::string finish();

 private:
  ValueScaling scaling_;
  std::vector<Timestamp> times_;
  std::vector<double> values_;
  std::vector<double> scaled_;  // scratch for finish()
};

// Decodes one block, point by point. It views the block's bytes, which must outlive it.
class SeriesBlockReader {
 public:
  // Checks the checksum, the version and the header's consistency. BadRequestData (naming the
  // fault) for anything else than a block made by SeriesBlockBuilder.
  static Result<SeriesBlockReader> open(std::string_view block);

  const BlockSummary& summary() const { return summary_; }
  // The value scale k of the block (values stored as value * 10^k); 0 for plain Gorilla.
  unsigned value_scale() const { return scale_; }

  // The next point, in time order. False at the end of the block, or when the bit stream turns out
  // corrupt (possible only for a forged block whose checksum matches); status() tells which.
  bool next(Timestamp& time, double& value);
  // Ok, unless next() met corruption.
  const Status& status() const { return status_; }

 private:
  SeriesBlockReader() = default;
  bool fail(std::string detail);

  BlockSummary summary_;
  unsigned scale_ = 0;
  double divisor_ = 1;  // 10^scale_
  BitReader bits_;
  std::uint32_t decoded_ = 0;
  Timestamp time_ = 0;
  std::uint64_t delta_ = 0;        // previous time delta, modulo 2^64
  std::uint64_t stored_bits_ = 0;  // previous stored value (scaled), as bits
  unsigned leading_ = 0;           // the current XOR window
  unsigned trailing_ = 0;
  bool has_window_ = false;
  Status status_;
};

// Every point of a block; the Problem of open() or of the first corruption met.
Result<std::vector<SeriesPoint>> decode_block(std::string_view block);

}  // namespace ct::history
