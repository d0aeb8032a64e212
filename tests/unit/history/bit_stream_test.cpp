#include "history/bit_stream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "history/checksum.hpp"

namespace ct::history {

TEST(BitStream, RoundTripsFieldsOfEveryWidth) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::uint64_t, unsigned>> fields;
  BitWriter writer;
  for (int i = 0; i < 5000; ++i) {
    const auto width = static_cast<unsigned>(rng() % 65);
    const std::uint64_t bits = width == 64 ? rng() : rng() & ((std::uint64_t{1} << width) - 1);
    fields.emplace_back(bits, width);
    writer.write(bits | (width < 64 ? ~std::uint64_t{0} << width : 0), width);  // high garbage is ignored
  }
  const std::size_t bit_count = writer.bit_count();
  const std::string bytes = writer.finish();
  EXPECT_EQ(bytes.size(), (bit_count + 7) / 8);

  BitReader reader(bytes);
  for (const auto& [bits, width] : fields) ASSERT_EQ(reader.read(width), bits) << "width " << width;
  EXPECT_FALSE(reader.overrun());
  EXPECT_EQ(reader.bit_position(), bit_count);
}

TEST(BitStream, PacksMostSignificantBitFirstAndPadsWithZeros) {
  BitWriter writer;
  writer.write(0b101, 3);
  writer.write_bit(true);
  writer.write(0xABC, 12);
  writer.write(1, 1);
  EXPECT_EQ(writer.finish(), std::string("\xBA\xBC\x80", 3));
}

TEST(BitStream, ReadingPastTheEndReturnsZerosAndStaysOverrun) {
  const std::string bytes("\xFF\xFF", 2);
  BitReader reader(bytes);
  EXPECT_EQ(reader.read(12), 0xFFFu);
  EXPECT_FALSE(reader.overrun());
  EXPECT_EQ(reader.read(5), 0u) << "only 4 bits remain";
  EXPECT_TRUE(reader.overrun());
  EXPECT_EQ(reader.read(1), 0u);
  EXPECT_TRUE(reader.overrun());

  BitReader empty;
  EXPECT_EQ(empty.read(64), 0u);
  EXPECT_TRUE(empty.overrun());
}

TEST(Crc32c, IsCrc32c) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over, for good measure.";
  for (std::size_t cut = 0; cut <= text.size(); ++cut)
    EXPECT_EQ(crc32c(std::string_view(text).substr(cut), crc32c(std::string_view(text).substr(0, cut))), crc32c(text));
}

}  // namespace ct::history
