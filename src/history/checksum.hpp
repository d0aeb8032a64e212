#pragma once
// CRC-32C (Castagnoli), the checksum that seals every encoded series block: blocks are read back
// from disk after crashes, and a torn or flipped block must be refused rather than decoded into
// plausible wrong numbers.
#include <cstdint>
#include <string_view>

namespace ct::history {

// CRC-32C of `bytes` (reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF), so
// crc32c("123456789") == 0xE3069283. Continue a running checksum by passing the previous result.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t previous = 0);

}  // namespace ct::history
