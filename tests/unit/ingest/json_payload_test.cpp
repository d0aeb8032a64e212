#include "ingest/json_payload.hpp"

#include <gtest/gtest.h>

#include <string>

#include "json_printer.hpp"

namespace ct::ingest {
namespace {

constexpr Timestamp kEight = 1704096000000;  // 2024-01-01T08:00:00Z

DecodedPayload decode(std::string_view payload) {
  auto decoded = decode_json(payload);
  EXPECT_TRUE(decoded.ok()) << payload << ": " << (decoded ? "" : decoded.problem().detail);
  return decoded ? std::move(decoded).value() : DecodedPayload{};
}

std::string refusal(std::string_view payload) {
  auto decoded = decode_json(payload);
  if (decoded) {
    ADD_FAILURE() << "accepted: " << payload;
    return {};
  }
  EXPECT_EQ(decoded.problem().kind, ProblemKind::BadRequestData) << payload.substr(0, 200);
  return decoded.problem().detail;
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonPayload, DecodesAnObjectAsOneReadingKeepingJsonTypes) {
  const auto d = decode(R"({"t":23.5,"h":40,"s":"ok","b":true,"n":null,"TimeInstant":"2024-01-01T08:00:00Z"})");
  ASSERT_EQ(d.readings.size(), 1u);
  const auto& r = d.readings[0];
  EXPECT_EQ(r.observed_at, kEight);
  ASSERT_EQ(r.measures.size(), 5u);
  EXPECT_EQ(r.measures[0].key, "t");
  EXPECT_EQ(std::get<double>(r.measures[0].value), 23.5);
  EXPECT_EQ(r.measures[1].key, "h");
  EXPECT_EQ(std::get<std::int64_t>(r.measures[1].value), 40);
  EXPECT_EQ(std::get<std::string_view>(r.measures[2].value), "ok");
  EXPECT_EQ(std::get<bool>(r.measures[3].value), true);
  EXPECT_TRUE(std::holds_alternative<Null>(r.measures[4].value));
}

TEST(JsonPayload, NumbersBeyondInt64AndWithExponentsAreDoubles) {
  const auto d =
      decode(R"({"a":9223372036854775807,"b":-9223372036854775808,"c":18446744073709551615,"d":1e3,"e":-0.0})");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(std::get<std::int64_t>(m[0].value), INT64_MAX);
  EXPECT_EQ(std::get<std::int64_t>(m[1].value), INT64_MIN);
  EXPECT_EQ(std::get<double>(m[2].value), 18446744073709551615.0);
  EXPECT_EQ(std::get<double>(m[3].value), 1000.0);
  EXPECT_EQ(std::get<double>(m[4].value), 0.0);
}

TEST(JsonPayload, KeepsNestedValuesWhole) {
  const auto d = decode(R"({"loc":{"type":"Point","coordinates":[-3.7,40.4]},"list":[1,"a",{"b":null}]})");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(std::get<json::value>(m[0].value), json::parse(R"({"type":"Point","coordinates":[-3.7,40.4]})"));
  EXPECT_EQ(std::get<json::value>(m[1].value), json::parse(R"([1,"a",{"b":null}])"));
  const auto big = decode(R"({"n":{"big":18446744073709551615}})");
  EXPECT_EQ(std::get<json::value>(big.readings.at(0).measures.at(0).value).at("big"), json::value(UINT64_MAX));
}

TEST(JsonPayload, NestedDuplicateKeysKeepTheLast) {
  const auto d = decode(R"({"o":{"a":1,"a":2}})");
  const auto& m = d.readings.at(0).measures;
  EXPECT_EQ(std::get<json::value>(m.at(0).value), json::parse(R"({"a":2})"));
}

TEST(JsonPayload, RepeatedTopLevelKeysAreKeptInOrder) {
  const auto d = decode(R"({"t":1,"t":2})");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(m[1].value), 2);
}

TEST(JsonPayload, ArrayOfObjectsIsOneReadingEach) {
  const auto d = decode(R"([{"t":23.5,"TimeInstant":"2024-01-01T08:00:00Z"},{"t":24.1},{}])");
  ASSERT_EQ(d.readings.size(), 3u);
  EXPECT_EQ(d.readings[0].observed_at, kEight);
  EXPECT_FALSE(d.readings[1].observed_at);
  EXPECT_EQ(std::get<double>(d.readings[1].measures.at(0).value), 24.1);
  EXPECT_TRUE(d.readings[2].measures.empty());
  EXPECT_EQ(d.measure_count(), 2u);
}

TEST(JsonPayload, EmptyArrayIsNoReadingAndEmptyObjectAReadingWithoutMeasures) {
  EXPECT_TRUE(decode("[]").readings.empty());
  const auto d = decode(" {} \n");
  ASSERT_EQ(d.readings.size(), 1u);
  EXPECT_TRUE(d.readings[0].measures.empty());
}

TEST(JsonPayload, UnescapesKeysAndStrings) {
  const auto d = decode(R"({"k\u00e9y":"a\"b\\c\n\ud83d\ude00","plain":"x"})");
  const auto& m = d.readings.at(0).measures;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].key, "kéy");
  EXPECT_EQ(std::get<std::string_view>(m[0].value), "a\"b\\c\n😀");
  EXPECT_EQ(std::get<std::string_view>(m[1].value), "x");
}

TEST(JsonPayload, ViewsOutliveThePayloadAndTheNextDecode) {
  std::string payload = R"({"temperature":"warm","TimeInstant":"2024-01-01T08:00:00Z"})";
  DecodedPayload first = decode(payload);
  payload.assign(payload.size(), ' ');
  // The next decode on this thread reuses the parser's buffers.
  const DecodedPayload second = decode(R"({"other":"xxxxxxxxxxxxxxxxxxxxxxxxxx"})");
  const DecodedPayload moved = std::move(first);
  const auto& m = moved.readings.at(0).measures;
  EXPECT_EQ(m.at(0).key, "temperature");
  EXPECT_EQ(std::get<std::string_view>(m.at(0).value), "warm");
  EXPECT_EQ(second.readings.at(0).measures.at(0).key, "other");
}

TEST(JsonPayload, DepthLimitCountsEveryLevel) {
  // The outer object (or array and object) counts.
  EXPECT_TRUE(decode_json(R"({"a":)" + nested(kMaxJsonPayloadDepth - 1) + "}").ok());
  EXPECT_TRUE(decode_json(R"([{"a":)" + nested(kMaxJsonPayloadDepth - 2) + "}]").ok());
  EXPECT_NE(refusal(R"({"a":)" + nested(kMaxJsonPayloadDepth) + "}").find("nests deeper than 32 levels"),
            std::string::npos);
  EXPECT_NE(refusal(R"([{"a":)" + nested(kMaxJsonPayloadDepth - 1) + "}]").find("deeper than 32"), std::string::npos);
  EXPECT_NE(refusal(nested(30000)).find("deeper than 32"), std::string::npos);  // no recursion to exhaust
}

TEST(JsonPayload, RefusesWhatIsNotJson) {
  for (const char* payload : {"t|23.5", R"({"t":23.5)", R"({"t":23.5,})", R"({"t":23.5} x)", R"({"t":23.5}})",
                              R"({"t":23.5}{"h":1})", R"({"t":tru})", R"({"t":01})", R"({'t':1})", R"({"t":"a\qb"})",
                              "{\"t\":\"tab\tinside\"}", R"({"t":"\ud800"})"})
    EXPECT_NE(refusal(payload).find("JSON payload"), std::string::npos) << payload;
  EXPECT_NE(refusal("").find("empty JSON payload"), std::string::npos);
  EXPECT_NE(refusal("   ").find("empty JSON payload"), std::string::npos);
}

TEST(JsonPayload, RefusesNumbersOutOfRange) {
  EXPECT_NE(refusal(R"({"t":1e400})").find("out-of-range number"), std::string::npos);
  EXPECT_NE(refusal(R"({"t":-1e400})").find("out-of-range number"), std::string::npos);
}

TEST(JsonPayload, RefusesInvalidUtf8) {
  EXPECT_NE(refusal("{\"t\":\"\xff\"}").find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(refusal("{\"\xc3\":1}").find("not valid UTF-8"), std::string::npos);
}

TEST(JsonPayload, RefusesWhatIsNotAnObjectOrArrayOfObjects) {
  EXPECT_NE(refusal("42").find("object or an array of objects, not a number"), std::string::npos);
  EXPECT_NE(refusal(R"("t|1")").find("not a string"), std::string::npos);
  EXPECT_NE(refusal("null").find("not null"), std::string::npos);
  EXPECT_NE(refusal(R"([{"t":1},2])").find("element 1 of the JSON measure array is a number, not an object"),
            std::string::npos);
  EXPECT_NE(refusal(R"([[{"t":1}]])").find("element 0"), std::string::npos);
}

TEST(JsonPayload, RefusesTimeInstantThatIsNotADateTime) {
  EXPECT_NE(refusal(R"({"TimeInstant":"yesterday","t":1})").find(R"(TimeInstant "yesterday" is not an ISO 8601)"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"TimeInstant":1704096000000})").find("TimeInstant a number is not"), std::string::npos);
  EXPECT_NE(refusal(R"([{"t":1},{"TimeInstant":null}])").find("TimeInstant null"), std::string::npos);
  EXPECT_NE(refusal(R"({"TimeInstant":"0000-01-01T00:00:00+01:00"})").find("is not an ISO 8601"), std::string::npos);
  // A later bad TimeInstant is not excused by an earlier good one.
  refusal(R"({"TimeInstant":"2024-01-01T08:00:00Z","TimeInstant":false})");
}

TEST(JsonPayload, RefusesPayloadsOverTheLimit) {
  const std::string payload = R"({"t":")" + std::string(100, 'x') + R"("})";
  auto decoded = decode_json(payload, 64);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.problem().kind, ProblemKind::PayloadTooLarge);
  EXPECT_TRUE(decode_json(payload, payload.size()));
}

TEST(JsonPayload, LargePayloadsGrowTheParser) {
  std::string payload = "[";
  for (int i = 0; i < 2000; ++i) payload += std::string(i ? "," : "") + R"({"t":)" + std::to_string(i) + "}";
  payload += "]";
  auto decoded = decode_json(payload, payload.size());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->readings.size(), 2000u);
  EXPECT_EQ(std::get<std::int64_t>(decoded->readings[1999].measures.at(0).value), 1999);
  EXPECT_TRUE(decode_json(R"({"t":1})"));  // and small ones still work after
}

TEST(JsonCommand, DecodesOneResultPerMember) {
  auto r = decode_json_command_results(R"({"ping":"pong","reset":{"status":"ok"}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].device, "");
  EXPECT_EQ((*r)[0].command, "ping");
  EXPECT_EQ((*r)[0].result, json::value("pong"));
  EXPECT_EQ((*r)[1].command, "reset");
  EXPECT_EQ((*r)[1].result, json::parse(R"({"status":"ok"})"));
}

TEST(JsonCommand, RefusesWhatIsNotACommandAnswer) {
  for (const char* payload : {"{}", "[]", R"("pong")", R"([{"ping":"pong"}])"}) {
    auto r = decode_json_command_results(payload);
    ASSERT_FALSE(r) << payload;
    EXPECT_NE(r.problem().detail.find("a member per command"), std::string::npos) << r.problem().detail;
  }
  auto empty_name = decode_json_command_results(R"({"":"pong"})");
  ASSERT_FALSE(empty_name);
  EXPECT_NE(empty_name.problem().detail.find("empty command"), std::string::npos);
  auto malformed = decode_json_command_results(R"({"ping":)");
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.problem().detail.find("malformed JSON command result"), std::string::npos);
  auto big = decode_json_command_results(R"({"ping":"pong"})", 4);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.problem().kind, ProblemKind::PayloadTooLarge);
}

}  // namespace
}  // namespace ct::ingest
