#include "history/checksum.hpp"

#include <boost/crc.hpp>

namespace ct::history {
namespace {

std::uint32_t reflect32(std::uint32_t v) {
  std::uint32_t out = 0;
  for (int i = 0; i < 32; ++i, v >>= 1) out = (out << 1) | (v & 1u);
  return out;
}

}  // namespace

// CRC-32C (Castagnoli): polynomial 0x1EDC6F41, reflected, initial and final XOR 0xFFFFFFFF.
// `previous` continues a checksum over several pieces: Boost takes the initial remainder in
// unreflected form, and the running remainder of a reflected CRC is the checksum's XOR, reflected.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t previous) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc(reflect32(previous ^ 0xFFFFFFFFu));
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

}  // namespace ct::history
