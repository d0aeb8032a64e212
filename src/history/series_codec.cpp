#include "history/series_codec.hpp"

#include <array>
#include <bit>
#include <cmath>

#include "history/checksum.hpp"

namespace ct::history {
namespace {

constexpr std::uint8_t kFormatVersion = 1;
constexpr unsigned kMaxScale = 15;
// Integers up to 2^53 are exact doubles, so n / 10^k is one correctly rounded division.
constexpr double kMaxScaledMagnitude = 9007199254740992.0;

constexpr std::array<double, kMaxScale + 1> kPowersOfTen = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                            1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

// Header field offsets (see the layout in series_codec.hpp).
constexpr std::size_t kVersionAt = 4, kScaleAt = 5, kReservedAt = 6, kCountAt = 8, kFirstAt = 12, kLastAt = 20,
                      kMinAt = 28, kMaxAt = 36, kSumAt = 44, kSumSquaresAt = 52, kDeviationsAt = 60;

void put_u64(std::string& out, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = static_cast<char>(v >> (8 * i));
}
void put_u32(std::string& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>(v >> (8 * i));
}
std::uint64_t get_u64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}
std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

// The value `v` is exactly n / 10^k for an integer n of at most 2^53: returns n as a double.
bool scaled_exactly(double v, unsigned k, double& n) {
  n = std::nearbyint(v * kPowersOfTen[k]);
  return std::fabs(n) <= kMaxScaledMagnitude && std::bit_cast<std::uint64_t>(n / kPowersOfTen[k]) ==
                                                    std::bit_cast<std::uint64_t>(v);
}

// The smallest scale k at which every value is a decimal n / 10^k, filling `scaled` with the n;
// 0 (values stored as they are) when there is none.
unsigned choose_scale(const std::vector<double>& values, std::vector<double>& scaled) {
  unsigned k = 0;
  double n;
  for (double v : values) {
    while (!scaled_exactly(v, k, n)) {
      if (++k > kMaxScale) return 0;
    }
  }
  if (k == 0) return 0;
  // A value found exact at a smaller scale is almost always exact at k too, but check: near 2^53
  // the product v * 10^k can round away from the integer.
  scaled.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!scaled_exactly(values[i], k, scaled[i])) return 0;
  return k;
}

void write_time_delta_of_delta(BitWriter& out, std::uint64_t dod_bits) {
  const auto dod = static_cast<std::int64_t>(dod_bits);
  if (dod == 0) {
    out.write(0b0, 1);
  } else if (dod >= -64 && dod <= 63) {
    out.write(0b10, 2);
    out.write(dod_bits, 7);
  } else if (dod >= -256 && dod <= 255) {
    out.write(0b110, 3);
    out.write(dod_bits, 9);
  } else if (dod >= -2048 && dod <= 2047) {
    out.write(0b1110, 4);
    out.write(dod_bits, 12);
  } else if (dod >= INT32_MIN && dod <= INT32_MAX) {
    out.write(0b11110, 5);
    out.write(dod_bits, 32);
  } else {
    out.write(0b11111, 5);
    out.write(dod_bits, 64);
  }
}

// Sign-extends the low `width` bits of `bits`, as a 64-bit pattern.
std::uint64_t sign_extend(std::uint64_t bits, unsigned width) {
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  return (bits ^ sign) - sign;
}

struct ValueWindow {
  unsigned leading = 0;
  unsigned trailing = 0;
  bool valid = false;
};

void write_value_xor(BitWriter& out, std::uint64_t x, ValueWindow& window) {
  if (x == 0) {
    out.write(0b0, 1);
    return;
  }
  unsigned leading = static_cast<unsigned>(std::countl_zero(x));
  const auto trailing = static_cast<unsigned>(std::countr_zero(x));
  if (leading > 31) leading = 31;  // 5 bits
  if (window.valid && leading >= window.leading && trailing >= window.trailing) {
    out.write(0b10, 2);
    out.write(x >> window.trailing, 64 - window.leading - window.trailing);
    return;
  }
  const unsigned length = 64 - leading - trailing;
  out.write(0b11, 2);
  out.write(leading, 5);
  out.write(length == 64 ? 0 : length, 6);
  out.write(x >> trailing, length);
  window = {leading, trailing, true};
}

}  // namespace

Status SeriesBlockBuilder::append(Timestamp time, double value) {
  if (std::isnan(value)) return bad_request("a series value must be a number, not NaN");
  if (!times_.empty() && time < times_.back())
    return bad_request("series points must come in time order: " + std::to_string(time) + " is earlier than " +
                       std::to_string(times_.back()));
  if (times_.size() >= kMaxBlockPoints)
    return bad_request("a series block holds at most " + std::to_string(kMaxBlockPoints) + " points");
  times_.push_back(time);
  values_.push_back(value);
  return {};
}

std::string SeriesBlockBuilder::finish() {
  const std::size_t count = times_.size();
  BlockSummary s;
  s.count = static_cast<std::uint32_t>(count);
  if (count > 0) {
    s.first_time = times_.front();
    s.last_time = times_.back();
    s.min = s.max = values_.front();
    for (double v : values_) {
      s.sum += v;
      s.sum_squares += v * v;
      if (v < s.min) s.min = v;
      if (v > s.max) s.max = v;
    }
    const double mean = s.sum / static_cast<double>(count);
    for (double v : values_) s.squared_deviations += (v - mean) * (v - mean);
  }

  const unsigned scale = scaling_ == ValueScaling::Auto && count > 0 ? choose_scale(values_, scaled_) : 0;
  const std::vector<double>& stored = scale > 0 ? scaled_ : values_;

  BitWriter bits;
  if (count > 0) {
    bits.write(std::bit_cast<std::uint64_t>(stored[0]), 64);
    std::uint64_t previous_delta = 0;
    ValueWindow window;
    for (std::size_t i = 1; i < count; ++i) {
      // Modulo 2^64: the difference of two int64 times always fits an uint64, and the decoder
      // undoes the same wrapping additions.
      const std::uint64_t delta = static_cast<std::uint64_t>(times_[i]) - static_cast<std::uint64_t>(times_[i - 1]);
      write_time_delta_of_delta(bits, delta - previous_delta);
      previous_delta = delta;
      write_value_xor(bits,
                      std::bit_cast<std::uint64_t>(stored[i]) ^ std::bit_cast<std::uint64_t>(stored[i - 1]), window);
    }
  }
  const std::string payload = bits.finish();

  std::string block(kBlockHeaderSize, '\0');
  block[kVersionAt] = static_cast<char>(kFormatVersion);
  block[kScaleAt] = static_cast<char>(scale);
  put_u32(block, kCountAt, s.count);
  put_u64(block, kFirstAt, static_cast<std::uint64_t>(s.first_time));
  put_u64(block, kLastAt, static_cast<std::uint64_t>(s.last_time));
  put_u64(block, kMinAt, std::bit_cast<std::uint64_t>(s.min));
  put_u64(block, kMaxAt, std::bit_cast<std::uint64_t>(s.max));
  put_u64(block, kSumAt, std::bit_cast<std::uint64_t>(s.sum));
  put_u64(block, kSumSquaresAt, std::bit_cast<std::uint64_t>(s.sum_squares));
  put_u64(block, kDeviationsAt, std::bit_cast<std::uint64_t>(s.squared_deviations));
  block += payload;
  put_u32(block, 0, crc32c(std::string_view(block).substr(4)));

  times_.clear();
  values_.clear();
  return block;
}

Result<SeriesBlockReader> SeriesBlockReader::open(std::string_view block) {
  if (block.size() < kBlockHeaderSize)
    return bad_request("series block truncated: " + std::to_string(block.size()) + " bytes, less than its header");
  if (get_u32(block, 0) != crc32c(block.substr(4)))
    return bad_request("series block corrupt: checksum mismatch");
  if (static_cast<std::uint8_t>(block[kVersionAt]) != kFormatVersion)
    return bad_request("series block of unknown format version " +
                       std::to_string(static_cast<std::uint8_t>(block[kVersionAt])));
  const auto scale = static_cast<std::uint8_t>(block[kScaleAt]);
  if (scale > kMaxScale || block[kReservedAt] != 0 || block[kReservedAt + 1] != 0)
    return bad_request("series block corrupt: invalid header flags");

  SeriesBlockReader r;
  BlockSummary& s = r.summary_;
  s.count = get_u32(block, kCountAt);
  s.first_time = static_cast<Timestamp>(get_u64(block, kFirstAt));
  s.last_time = static_cast<Timestamp>(get_u64(block, kLastAt));
  s.min = std::bit_cast<double>(get_u64(block, kMinAt));
  s.max = std::bit_cast<double>(get_u64(block, kMaxAt));
  s.sum = std::bit_cast<double>(get_u64(block, kSumAt));
  s.sum_squares = std::bit_cast<double>(get_u64(block, kSumSquaresAt));
  s.squared_deviations = std::bit_cast<double>(get_u64(block, kDeviationsAt));

  const std::string_view payload = block.substr(kBlockHeaderSize);
  const std::size_t payload_bits = payload.size() * 8;
  if (s.count == 0) {
    if (!payload.empty() || block.substr(kFirstAt, kBlockHeaderSize - kFirstAt).find_first_not_of('\0') !=
                                std::string_view::npos)
      return bad_request("series block corrupt: an empty block with contents");
  } else {
    // Point 0 takes 64 bits, every later point at least 2 (one for its time, one for its value).
    if (s.count > kMaxBlockPoints || payload_bits < 64 || (payload_bits - 64) / 2 < s.count - 1)
      return bad_request("series block corrupt: " + std::to_string(s.count) + " points cannot fit in " +
                         std::to_string(payload.size()) + " bytes");
    if (s.first_time > s.last_time || (s.count == 1 && s.first_time != s.last_time))
      return bad_request("series block corrupt: inconsistent time range");
    if (!(s.min <= s.max)) return bad_request("series block corrupt: inconsistent value range");
  }
  r.scale_ = scale;
  r.divisor_ = kPowersOfTen[scale];
  r.bits_ = BitReader(payload);
  return r;
}

bool SeriesBlockReader::fail(std::string detail) {
  if (status_.ok()) status_ = bad_request("series block corrupt: " + std::move(detail));
  decoded_ = summary_.count;  // nothing more to read
  return false;
}

bool SeriesBlockReader::next(Timestamp& time, double& value) {
  if (decoded_ >= summary_.count) return false;
  if (decoded_ == 0) {
    time_ = summary_.first_time;
    stored_bits_ = bits_.read(64);
  } else {
    // Time: the delta-of-delta bucket is the number of leading 1 bits (at most 4) of its code.
    unsigned ones = 0;
    while (ones < 5 && bits_.read_bit()) ++ones;
    std::uint64_t dod = 0;
    switch (ones) {
      case 0: break;
      case 1: dod = sign_extend(bits_.read(7), 7); break;
      case 2: dod = sign_extend(bits_.read(9), 9); break;
      case 3: dod = sign_extend(bits_.read(12), 12); break;
      case 4: dod = sign_extend(bits_.read(32), 32); break;
      default: dod = bits_.read(64); break;
    }
    delta_ += dod;
    const auto t = static_cast<Timestamp>(static_cast<std::uint64_t>(time_) + delta_);
    // A forged delta can wrap around; a decreasing time or one past the header's is corruption.
    if (t < time_ || t > summary_.last_time)
      return fail("time out of order");
    time_ = t;

    // Value.
    if (bits_.read_bit()) {
      if (bits_.read_bit()) {
        leading_ = static_cast<unsigned>(bits_.read(5));
        unsigned length = static_cast<unsigned>(bits_.read(6));
        if (length == 0) length = 64;
        if (leading_ + length > 64) return fail("invalid value window");
        trailing_ = 64 - leading_ - length;
        has_window_ = true;
      } else if (!has_window_) {
        return fail("value window used before it is defined");
      }
      const unsigned length = 64 - leading_ - trailing_;
      stored_bits_ ^= bits_.read(length) << trailing_;
    }
  }
  if (bits_.overrun()) return fail("bit stream truncated");

  const double stored = std::bit_cast<double>(stored_bits_);
  const double v = scale_ == 0 ? stored : stored / divisor_;
  if (!(v >= summary_.min && v <= summary_.max)) return fail("value outside the block's range");
  ++decoded_;
  if (decoded_ == summary_.count) {
    if (time_ != summary_.last_time) return fail("last time differs from the header's");
    // What remains is the padding of the last byte, and it is zero.
    const std::size_t rest = bits_.bit_size() - bits_.bit_position();
    if (rest >= 8 || bits_.read(static_cast<unsigned>(rest)) != 0) return fail("trailing bits after the last point");
  }
  time = time_;
  value = v;
  return true;
}

Result<std::vector<SeriesPoint>> decode_block(std::string_view block) {
  auto reader = SeriesBlockReader::open(block);
  if (!reader) return std::move(reader).problem();
  std::vector<SeriesPoint> points;
  points.reserve(reader->summary().count);
  SeriesPoint p;
  while (reader->next(p.time, p.value)) points.push_back(p);
  if (!reader->status().ok()) return reader->status().problem();
  return points;
}

}  // namespace ct::history
