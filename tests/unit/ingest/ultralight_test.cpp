#include "ingest/ultralight.hpp"

#include <gtest/gtest.h>

#include <string>

#include "json_printer.hpp"

namespace ct::ingest {
namespace {

constexpr Timestamp kEightUl = 1704096000000;  // 2024-01-01T08:00:00Z

DecodedPayload decode_ul(std::string_view payload) {
  auto decoded = decode_ultralight(payload);
  EXPECT_TRUE(decoded.ok()) << payload << ": " << (decoded ? "" : decoded.problem().detail);
  return decoded ? std::move(decoded).value() : DecodedPayload{};
}

std::string text_of(const Measure& m) { return std::string(std::get<std::string_view>(m.value)); }

// The problem detail for a payload that must be refused with BadRequestData.
std::string ul_refusal(std::string_view payload) {
  auto decoded = decode_ultralight(payload);
  if (decoded) {
    ADD_FAILURE() << "accepted: " << payload;
    return {};
  }
  EXPECT_EQ(decoded.problem().kind, ProblemKind::BadRequestData) << payload;
  return decoded.problem().detail;
}

TEST(UltraLight, DecodesKeyValuePairsAsText) {
  const auto d = decode_ul("t|23.5|h|40");
  ASSERT_EQ(d.readings.size(), 1u);
  const auto& m = d.readings[0].measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].key, "t");
  EXPECT_EQ(text_of(m[0]), "23.5");
  EXPECT_EQ(m[1].key, "h");
  EXPECT_EQ(text_of(m[1]), "40");
  EXPECT_FALSE(d.readings[0].observed_at);
  EXPECT_EQ(d.measure_count(), 2u);
}

TEST(UltraLight, GroupsAreReadings) {
  const auto d = decode_ul("t|23.5#t|24.1|h|40");
  ASSERT_EQ(d.readings.size(), 2u);
  ASSERT_EQ(d.readings[0].measures.size(), 1u);
  EXPECT_EQ(text_of(d.readings[0].measures[0]), "23.5");
  ASSERT_EQ(d.readings[1].measures.size(), 2u);
  EXPECT_EQ(text_of(d.readings[1].measures[0]), "24.1");
  EXPECT_EQ(d.measure_count(), 3u);
}

TEST(UltraLight, BlankGroupsAreSkipped) {
  EXPECT_EQ(decode_ul("t|1#").readings.size(), 1u);
  EXPECT_EQ(decode_ul("t|1#\r\n").readings.size(), 1u);
  EXPECT_EQ(decode_ul("#t|1## #t|2#").readings.size(), 2u);
}

TEST(UltraLight, LeadingTimestampIsTheTimeOfObservation) {
  const auto d = decode_ul("2024-01-01T08:00:00Z|t|23.5#2024-01-01T09:00:00+01:00|t|24");
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].observed_at, kEightUl);
  EXPECT_EQ(d.readings[1].observed_at, kEightUl);
  ASSERT_EQ(d.readings[0].measures.size(), 1u);
  EXPECT_EQ(d.readings[0].measures[0].key, "t");
}

TEST(UltraLight, TimeInstantPairIsTheTimeOfObservationNotAMeasure) {
  for (const char* payload : {"TimeInstant|2024-01-01T08:00:00Z|t|23.5", "t|23.5|TimeInstant|2024-01-01T08:00:00.000Z",
                              " TimeInstant | 2024-01-01T08:00:00Z |t|23.5"}) {
    const auto d = decode_ul(payload);
    ASSERT_EQ(d.readings.size(), 1u) << payload;
    EXPECT_EQ(d.readings[0].observed_at, kEightUl) << payload;
    ASSERT_EQ(d.readings[0].measures.size(), 1u) << payload;
    EXPECT_EQ(d.readings[0].measures[0].key, "t");
  }
}

TEST(UltraLight, TimestampAloneIsAReadingWithoutMeasures) {
  const auto d = decode_ul("2024-01-01T08:00:00Z");
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_TRUE(d.readings[0].measures.empty());
  EXPECT_EQ(d.readings[0].observed_at, kEightUl);
}

TEST(UltraLight, EmptyValuesAreEmptyText) {
  const auto d = decode_ul("t||h|40|s|");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(text_of(m[0]), "");
  EXPECT_EQ(text_of(m[1]), "40");
  EXPECT_EQ(text_of(m[2]), "");
}

TEST(UltraLight, BlanksAroundKeysAndValuesAreTrimmed) {
  const auto d = decode_ul(" t | 23.5 |\th\t|40\r\n");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].key, "t");
  EXPECT_EQ(text_of(m[0]), "23.5");
  EXPECT_EQ(m[1].key, "h");
  EXPECT_EQ(text_of(m[1]), "40");
  EXPECT_EQ(text_of(decode_ul("s|hello world").readings.at(0).measures.at(0)), "hello world");
}

TEST(UltraLight, OneLeadingBarIsIgnoredAsTheIoTAgentDoes) {
  const auto d = decode_ul("|t|23.5#|h|40");
  ASSERT_EQ(d.readings.size(), 2u);
  EXPECT_EQ(d.readings[0].measures.at(0).key, "t");
  EXPECT_EQ(d.readings[1].measures.at(0).key, "h");
}

TEST(UltraLight, NoEscapingBarsAndHashesAlwaysSeparate) {
  const auto d = decode_ul("a|b\\|c|d");  // the backslash is text, the bar still separates
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(text_of(m[0]), "b\\");
  EXPECT_EQ(m[1].key, "c");
}

TEST(UltraLight, KeepsUtf8Text) {
  EXPECT_EQ(text_of(decode_ul("name|Café ☕").readings.at(0).measures.at(0)), "Café ☕");
}

TEST(UltraLight, RepeatedKeysAreKeptInOrder) {
  const auto d = decode_ul("t|1|t|2");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(text_of(m[0]), "1");
  EXPECT_EQ(text_of(m[1]), "2");
}

TEST(UltraLight, ViewsOutliveThePayloadAndSurviveMoves) {
  std::string payload = "temperature|23.5|humidity|40";
  DecodedPayload d = decode_ul(payload);
  payload.assign(payload.size(), 'x');
  payload.shrink_to_fit();
  DecodedPayload moved = std::move(d);
  const auto& m = moved.readings.at(0).measures;
  EXPECT_EQ(m.at(0).key, "temperature");
  EXPECT_EQ(text_of(m.at(1)), "40");
}

TEST(UltraLight, OddFieldCountNamesTheFieldWithoutValue) {
  const auto detail = ul_refusal("t|23.5|h");
  EXPECT_NE(detail.find("UltraLight group 1 has 3 fields"), std::string::npos) << detail;
  EXPECT_NE(detail.find("\"h\" at byte 7 has no value"), std::string::npos) << detail;
}

TEST(UltraLight, ErrorsNameTheGroupAndTheOffsetInThePayload) {
  const auto detail = ul_refusal("t|1#t|2|  h");
  EXPECT_NE(detail.find("group 2"), std::string::npos) << detail;
  EXPECT_NE(detail.find("byte 10"), std::string::npos) << detail;
}

TEST(UltraLight, SingleFieldIsNeitherPairNorTimestamp) {
  const auto detail = ul_refusal("hello");
  EXPECT_NE(detail.find("\"hello\" at byte 0 is neither a key|value pair nor a timestamp"), std::string::npos)
      << detail;
}

TEST(UltraLight, RefusesEmptyKeys) {
  const auto detail = ul_refusal("t|1||2");
  EXPECT_NE(detail.find("empty key at byte 4"), std::string::npos) << detail;
  EXPECT_NE(ul_refusal("t|1| \t|2").find("empty key at byte 6"), std::string::npos);
}

TEST(UltraLight, RefusesTimeInstantThatIsNotADateTime) {
  const auto detail = ul_refusal("TimeInstant|yesterday|t|1");
  EXPECT_NE(detail.find("TimeInstant \"yesterday\" at byte 12 is not an ISO 8601 date-time"), std::string::npos)
      << detail;
  EXPECT_NE(ul_refusal("TimeInstant||t|1").find("TimeInstant \"\""), std::string::npos);
}

TEST(UltraLight, RefusesTimesOutsideTheYearsIso8601Writes) {
  EXPECT_NE(ul_refusal("0000-01-01T00:00:00+01:00|t|1").find("has 3 fields"), std::string::npos);
  EXPECT_NE(ul_refusal("TimeInstant|9999-12-31T23:30:00-01:00|t|1").find("is not an ISO 8601 date-time"),
            std::string::npos);
  EXPECT_TRUE(decode_ultralight("0000-01-01T00:00:00Z|t|1#9999-12-31T23:59:59.999Z|t|2"));
}

TEST(UltraLight, RefusesPayloadsWithoutMeasures) {
  for (const char* payload : {"", "   ", "#", "\r\n#\n"})
    EXPECT_NE(ul_refusal(payload).find("no measures"), std::string::npos) << payload;
}

TEST(UltraLight, RefusesInvalidUtf8) {
  EXPECT_NE(ul_refusal("t|\xff\xfe").find("UTF-8"), std::string::npos);
  EXPECT_NE(ul_refusal("t|\xc3").find("UTF-8"), std::string::npos);
}

TEST(UltraLight, RefusesPayloadsOverTheLimit) {
  const std::string payload = "t|" + std::string(100, '1');
  auto decoded = decode_ultralight(payload, 64);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.problem().kind, ProblemKind::PayloadTooLarge);
  EXPECT_NE(decoded.problem().detail.find("102 bytes exceeds the limit of 64"), std::string::npos);
  EXPECT_TRUE(decode_ultralight(payload, payload.size()));
}

TEST(UltraLight, ProblemsQuoteHostileTextSafely) {
  const auto detail = ul_refusal("t|1|\"}\n" + std::string(200, 'k'));
  EXPECT_NE(detail.find("\"\\\"}"), std::string::npos) << detail;  // JSON-quoted
  EXPECT_NE(detail.find("…"), std::string::npos) << detail;        // and cut short
  EXPECT_LT(detail.size(), 200u);
}

TEST(UltraLightCommand, DecodesDeviceCommandAndResult) {
  auto r = decode_ultralight_command_result("dev01@ping|pong");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->device, "dev01");
  EXPECT_EQ(r->command, "ping");
  EXPECT_EQ(r->result, json::value("pong"));
}

TEST(UltraLightCommand, ResultIsEverythingAfterTheFirstBar) {
  auto r = decode_ultralight_command_result("dev01@config|a=1|b=2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result, json::value("a=1|b=2"));
}

TEST(UltraLightCommand, ResultMayBeMissingOrEmpty) {
  for (const char* payload : {"dev01@reset", "dev01@reset|", "dev01@reset| \r\n"}) {
    auto r = decode_ultralight_command_result(payload);
    ASSERT_TRUE(r) << payload;
    EXPECT_EQ(r->command, "reset");
    EXPECT_EQ(r->result, json::value("")) << payload;
  }
}

TEST(UltraLightCommand, TrimsBlanks) {
  auto r = decode_ultralight_command_result(" dev01 @ ping | OK \n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->device, "dev01");
  EXPECT_EQ(r->command, "ping");
  EXPECT_EQ(r->result, json::value("OK"));
}

TEST(UltraLightCommand, RefusesMalformedAnswers) {
  struct Case {
    const char* payload;
    const char* says;
  } cases[] = {
      {"ping|OK", "has no '@'"},          {"", "has no '@'"},
      {"dev01|x@y", "has no '@'"},        {"@ping|OK", "names no device"},
      {"dev01@|OK", "names no command"},  {" dev01 @ |OK", "names no command"},
      {"dev01@ping|\xff", "not valid UTF-8"},
  };
  for (const auto& c : cases) {
    auto r = decode_ultralight_command_result(c.payload);
    ASSERT_FALSE(r) << c.payload;
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
    EXPECT_NE(r.problem().detail.find(c.says), std::string::npos) << r.problem().detail;
  }
  auto big = decode_ultralight_command_result("dev@cmd|" + std::string(100, 'x'), 50);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.problem().kind, ProblemKind::PayloadTooLarge);
}

}  // namespace
}  // namespace ct::ingest
