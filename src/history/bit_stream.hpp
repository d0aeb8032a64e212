#pragma once
// Bit-granular writer and reader for the series codec. Bits are packed most significant first, so
// a stream reads left to right in a hex dump; the last byte is padded with zero bits.
//
// The reader never reads past its buffer: a read beyond the end returns zeros and marks the
// reader overrun, which stays set. Decoders check overrun() (cheaply, once per point) instead of
// each read, and treat it as corruption.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ct::history {

class BitWriter {
 public:
  // Appends the low `count` bits of `bits`, most significant first. 0 <= count <= 64; the bits above
  // `count` are ignored.
  void write(std::uint64_t bits, unsigned count) {
    if (count == 0) return;
    if (count < 64) bits &= (std::uint64_t{1} << count) - 1;
    const unsigned room = 64 - pending_bits_;
    if (count < room) {
      pending_ = (pending_ << count) | bits;
      pending_bits_ += count;
      return;
    }
    // Fill the accumulator to exactly 64 bits, flush it, and keep the rest.
    const unsigned rest = count - room;
    pending_ = room == 64 ? bits >> rest : (pending_ << room) | (bits >> rest);
    flush_word();
    pending_ = rest == 0 ? 0 : bits & ((std::uint64_t{1} << rest) - 1);
    pending_bits_ = rest;
  }
  void write_bit(bool bit) { write(bit ? 1 : 0, 1); }

  std::size_t bit_count() const { return out_.size() * 8 + pending_bits_; }

  // Pads the last byte with zero bits and returns the bytes; the writer is then empty.
  std::string finish() {
    while (pending_bits_ >= 8) {
      pending_bits_ -= 8;
      out_.push_back(static_cast<char>(pending_ >> pending_bits_));
    }
    if (pending_bits_ > 0) out_.push_back(static_cast<char>(pending_ << (8 - pending_bits_)));
    pending_ = 0;
    pending_bits_ = 0;
    std::string done;
    done.swap(out_);
    return done;
  }

 private:
  void flush_word() {
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(pending_ >> (56 - 8 * i));
    out_.append(bytes, 8);
    pending_bits_ = 0;
  }

  std::string out_;
  std::uint64_t pending_ = 0;  // the last pending_bits_ bits written, right-aligned
  unsigned pending_bits_ = 0;  // < 64 between calls
};

class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view bytes)
      : data_(reinterpret_cast<const unsigned char*>(bytes.data())), size_(bytes.size()) {}

  // The next `count` bits as an unsigned number; 0 <= count <= 64.
  std::uint64_t read(unsigned count) {
    if (count <= kFastBits) return read_short(count);
    const std::uint64_t high = read_short(count - 32);
    return (high << 32) | read_short(32);
  }
  bool read_bit() { return read_short(1) != 0; }

  bool overrun() const { return overrun_; }
  std::size_t bit_position() const { return position_; }
  std::size_t bit_size() const { return size_ * 8; }

 private:
  // A single unaligned 8-byte load serves any read of up to 57 bits (the bit offset within the
  // first byte is at most 7).
  static constexpr unsigned kFastBits = 57;

  std::uint64_t read_short(unsigned count) {
    if (count == 0) return 0;
    if (count > size_ * 8 - position_) {
      overrun_ = true;
      position_ = size_ * 8;
      return 0;
    }
    const std::size_t byte = position_ >> 3;
    const unsigned shift = static_cast<unsigned>(position_ & 7);
    std::uint64_t word = 0;
    if (byte + 8 <= size_) {
      std::memcpy(&word, data_ + byte, 8);
      if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
    } else {
      for (std::size_t i = 0; i < 8; ++i) word = (word << 8) | (byte + i < size_ ? data_[byte + i] : 0u);
    }
    position_ += count;
    return (word << shift) >> (64 - count);
  }

  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t position_ = 0;  // in bits
  bool overrun_ = false;
};

}  // namespace ct::history
