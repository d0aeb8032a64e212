#include "ingest/measure.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ct::ingest {
namespace {

TEST(PayloadText, KeepsCopiesThatStayPutWhenMoved) {
  PayloadText text(8);
  const std::string_view a = text.keep("abc");
  const std::string_view b = text.keep("defgh");
  const std::string_view beyond = text.keep("more than the capacity");
  EXPECT_EQ(text.keep(""), "");
  PayloadText moved = std::move(text);
  EXPECT_EQ(a, "abc");
  EXPECT_EQ(b, "defgh");
  EXPECT_EQ(beyond, "more than the capacity");
  EXPECT_EQ(b.data(), a.data() + 3);  // one buffer while it lasts
  EXPECT_EQ(text.keep("after the move"), "after the move");  // the moved-from one still works
  EXPECT_EQ(moved.keep("x"), "x");
}

TEST(PayloadText, EmptyTextNeedsNoBuffer) {
  PayloadText none;
  EXPECT_EQ(none.keep(""), "");
  EXPECT_EQ(none.keep("a"), "a");
}

TEST(Describe, RendersEveryKindOfValueShortly) {
  EXPECT_EQ(describe(Null{}), "null");
  EXPECT_EQ(describe(23.5), "23.5");
  EXPECT_EQ(describe(std::int64_t{-40}), "-40");
  EXPECT_EQ(describe(true), "true");
  EXPECT_EQ(describe(MeasureValue(std::in_place_type<std::string_view>, "a\"b")), R"("a\"b")");
  EXPECT_EQ(describe(json::value(json::array{1, 2})), "[1,2]");
  EXPECT_EQ(describe(json::value(json::string(std::string(100, 'x'))), 10), "\"xxxxxxxxx…");
  EXPECT_EQ(describe_text(std::string(100, 'y'), 4), "\"yyyy\"…");
}

TEST(Describe, CutsBetweenCharactersAndReplacesInvalidUtf8) {
  EXPECT_EQ(describe_text("ééé", 3), "\"é\"…");  // not inside the second é
  EXPECT_EQ(describe_text("a\xff", 10), "\"a?\"");
}

TEST(ParseInstant, OnlyTheYearsIso8601Writes) {
  EXPECT_EQ(parse_instant("1970-01-01T00:00:00Z"), 0);
  EXPECT_TRUE(parse_instant("0000-01-01T00:00:00Z"));
  EXPECT_TRUE(parse_instant("9999-12-31T23:59:59.999Z"));
  EXPECT_FALSE(parse_instant("0000-01-01T00:59:59+01:00"));
  EXPECT_FALSE(parse_instant("9999-12-31T23:00:00-01:00"));
  EXPECT_FALSE(parse_instant("yesterday"));
}

}  // namespace
}  // namespace ct::ingest
