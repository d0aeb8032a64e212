#include "ingest/conversion.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/text.hpp"
#include "json_printer.hpp"

namespace ct::ingest {
namespace {

using namespace std::string_view_literals;

MeasureValue text(std::string_view t) { return MeasureValue(std::in_place_type<std::string_view>, t); }
MeasureValue raw(std::string_view json_text) { return MeasureValue(json::parse(json_text)); }

json::value converted(const MeasureValue& value, ValueType type) {
  auto r = convert(value, type, "k");
  EXPECT_TRUE(r.ok()) << describe(value) << " as " << value_type_name(type) << ": "
                      << (r ? "" : r.problem().detail);
  return r ? std::move(r).value() : json::value();
}

std::string conversion_refusal(const MeasureValue& value, ValueType type) {
  auto r = convert(value, type, "k");
  if (r) {
    ADD_FAILURE() << describe(value) << " converted to " << to_text(*r);
    return {};
  }
  EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
  return r.problem().detail;
}

TEST(ValueTypes, NamesMatchIgnoringCase) {
  EXPECT_EQ(value_type_from_name("Number"), ValueType::Number);
  EXPECT_EQ(value_type_from_name("float"), ValueType::Number);
  EXPECT_EQ(value_type_from_name("INTEGER"), ValueType::Integer);
  EXPECT_EQ(value_type_from_name("Boolean"), ValueType::Boolean);
  EXPECT_EQ(value_type_from_name("Text"), ValueType::Text);
  EXPECT_EQ(value_type_from_name("String"), ValueType::Text);
  EXPECT_EQ(value_type_from_name("TextUnrestricted"), ValueType::Text);
  EXPECT_EQ(value_type_from_name("DateTime"), ValueType::DateTime);
  EXPECT_EQ(value_type_from_name("geo:point"), ValueType::GeoPoint);
  EXPECT_EQ(value_type_from_name("Point"), ValueType::GeoPoint);
  EXPECT_EQ(value_type_from_name("geo:json"), ValueType::GeoJson);
  EXPECT_EQ(value_type_from_name("GeoProperty"), ValueType::GeoJson);
  for (const char* other : {"", "Numbers", "StructuredValue", "Relationship", "Property", "geo:line"})
    EXPECT_EQ(value_type_from_name(other), ValueType::AsIs) << other;
}

TEST(Conversion, Number) {
  EXPECT_EQ(converted(23.5, ValueType::Number), json::value(23.5));
  EXPECT_EQ(converted(std::int64_t{40}, ValueType::Number), json::value(40.0));
  EXPECT_TRUE(converted(std::int64_t{40}, ValueType::Number).is_double());
  EXPECT_EQ(converted(text("23.5"), ValueType::Number), json::value(23.5));
  EXPECT_EQ(converted(text(" -1e3 \r\n"), ValueType::Number), json::value(-1000.0));
  EXPECT_EQ(converted(text("+5"), ValueType::Number), json::value(5.0));
  EXPECT_EQ(converted(text(".5"), ValueType::Number), json::value(0.5));
  for (const char* bad :
       {"", " ", "abc", "23.5abc", "nan", "inf", "-inf", "infinity", "0x10", "1,5", "+-1", "--1", "1e400", "-"})
    EXPECT_NE(conversion_refusal(text(bad), ValueType::Number).find("is not a Number"), std::string::npos) << bad;
  conversion_refusal(true, ValueType::Number);
  conversion_refusal(raw("[1]"), ValueType::Number);
}

TEST(Conversion, IntegerRefusesFractionsInsteadOfRounding) {
  EXPECT_EQ(converted(std::int64_t{40}, ValueType::Integer), json::value(std::int64_t{40}));
  EXPECT_EQ(converted(23.0, ValueType::Integer), json::value(std::int64_t{23}));
  EXPECT_EQ(converted(text("40"), ValueType::Integer), json::value(std::int64_t{40}));
  EXPECT_EQ(converted(text(" -40 "), ValueType::Integer), json::value(std::int64_t{-40}));
  EXPECT_EQ(converted(text("+40"), ValueType::Integer), json::value(std::int64_t{40}));
  EXPECT_EQ(converted(text("40.0"), ValueType::Integer), json::value(std::int64_t{40}));
  EXPECT_EQ(converted(text("4e1"), ValueType::Integer), json::value(std::int64_t{40}));
  EXPECT_EQ(converted(text("9223372036854775807"), ValueType::Integer), json::value(INT64_MAX));
  EXPECT_EQ(converted(-9223372036854775808.0, ValueType::Integer), json::value(INT64_MIN));

  EXPECT_NE(conversion_refusal(23.5, ValueType::Integer).find("value 23.5 is not an Integer (it has a fraction)"),
            std::string::npos);
  EXPECT_NE(conversion_refusal(text("23.5"), ValueType::Integer).find("(it has a fraction)"), std::string::npos);
  EXPECT_NE(conversion_refusal(9223372036854775808.0, ValueType::Integer).find("out of the int64 range"), std::string::npos);
  EXPECT_NE(conversion_refusal(text("99999999999999999999"), ValueType::Integer).find("out of the int64 range"),
            std::string::npos);
  for (const char* bad : {"", "abc", "1_000", "++1", "nan"}) conversion_refusal(text(bad), ValueType::Integer);
  conversion_refusal(false, ValueType::Integer);
}

TEST(Conversion, Boolean) {
  EXPECT_EQ(converted(true, ValueType::Boolean), json::value(true));
  EXPECT_EQ(converted(std::int64_t{1}, ValueType::Boolean), json::value(true));
  EXPECT_EQ(converted(std::int64_t{0}, ValueType::Boolean), json::value(false));
  EXPECT_EQ(converted(1.0, ValueType::Boolean), json::value(true));
  for (const char* yes : {"true", "TRUE", "True", " true ", "1"})
    EXPECT_EQ(converted(text(yes), ValueType::Boolean), json::value(true)) << yes;
  for (const char* no : {"false", "False", "0"})
    EXPECT_EQ(converted(text(no), ValueType::Boolean), json::value(false)) << no;
  for (const char* bad : {"yes", "", "2", "truee"}) conversion_refusal(text(bad), ValueType::Boolean);
  EXPECT_NE(conversion_refusal(std::int64_t{2}, ValueType::Boolean).find("value 2 is not a Boolean"), std::string::npos);
  conversion_refusal(0.5, ValueType::Boolean);
}

TEST(Conversion, TextGivesEveryValueAsText) {
  EXPECT_EQ(converted(text("abc"), ValueType::Text), json::value("abc"));
  EXPECT_EQ(converted(text(""), ValueType::Text), json::value(""));
  EXPECT_EQ(converted(23.5, ValueType::Text), json::value("23.5"));
  EXPECT_EQ(converted(0.1, ValueType::Text), json::value("0.1"));
  EXPECT_EQ(converted(std::int64_t{-40}, ValueType::Text), json::value("-40"));
  EXPECT_EQ(converted(true, ValueType::Text), json::value("true"));
  EXPECT_EQ(converted(raw(R"({"a":[1,2]})"), ValueType::Text), json::value(R"({"a":[1,2]})"));
}

TEST(Conversion, DateTimeIsNormalized) {
  EXPECT_EQ(converted(text("2024-01-01T09:00:00+01:00"), ValueType::DateTime), json::value("2024-01-01T08:00:00.000Z"));
  EXPECT_EQ(converted(text(" 2024-01-01T08:00:00.5Z "), ValueType::DateTime), json::value("2024-01-01T08:00:00.500Z"));
  EXPECT_NE(conversion_refusal(text("yesterday"), ValueType::DateTime).find("is not a DateTime (expected ISO 8601"),
            std::string::npos);
  conversion_refusal(text("2024-02-30T00:00:00Z"), ValueType::DateTime);
  EXPECT_EQ(converted(text("0000-01-01T00:00:00Z"), ValueType::DateTime), json::value("0000-01-01T00:00:00.000Z"));
  EXPECT_EQ(converted(text("9999-12-31T23:59:59.999Z"), ValueType::DateTime), json::value("9999-12-31T23:59:59.999Z"));
  conversion_refusal(text("9999-12-31T23:30:00-01:00"), ValueType::DateTime);  // year 10000 in UTC
  conversion_refusal(text("0000-01-01T00:00:00+01:00"), ValueType::DateTime);  // year -1
  conversion_refusal(std::int64_t{1704096000000}, ValueType::DateTime);
}

TEST(Conversion, GeoPointFromLatitudeCommaLongitude) {
  const json::value madrid = json::parse(R"({"type":"Point","coordinates":[-3.7,40.4]})");
  EXPECT_EQ(converted(text("40.4,-3.7"), ValueType::GeoPoint), madrid);
  EXPECT_EQ(converted(text(" 40.4 , -3.7 "), ValueType::GeoPoint), madrid);
  EXPECT_EQ(converted(raw(R"({"type":"Point","coordinates":[-3.7,40.4]})"), ValueType::GeoPoint), madrid);
  EXPECT_NE(conversion_refusal(text("91,0"), ValueType::GeoPoint).find("latitude"), std::string::npos);
  EXPECT_NE(conversion_refusal(text("0,181"), ValueType::GeoPoint).find("longitude"), std::string::npos);
  EXPECT_NE(conversion_refusal(text("40.4"), ValueType::GeoPoint).find("is not a geo:point (expected \"latitude,longitude\")"),
            std::string::npos);
  for (const char* bad : {"a,b", "40.4,", ",3", "40.4,-3.7,5", "40.4;-3.7"}) conversion_refusal(text(bad), ValueType::GeoPoint);
  conversion_refusal(raw(R"({"type":"LineString","coordinates":[[0,0],[1,1]]})"), ValueType::GeoPoint);
  conversion_refusal(raw(R"([40.4,-3.7])"), ValueType::GeoPoint);
  conversion_refusal(40.4, ValueType::GeoPoint);
}

TEST(Conversion, GeoJsonTakesValidGeometries) {
  const char* polygon = R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]})";
  EXPECT_EQ(converted(raw(polygon), ValueType::GeoJson), json::parse(polygon));
  EXPECT_EQ(converted(text(polygon), ValueType::GeoJson), json::parse(polygon));
  EXPECT_EQ(converted(text("40.4,-3.7"), ValueType::GeoJson),
            json::parse(R"({"type":"Point","coordinates":[-3.7,40.4]})"));
  const char* circle = R"({"type":"Circle","coordinates":[1,2]})";
  EXPECT_NE(conversion_refusal(raw(circle), ValueType::GeoJson).find("not a GeoJSON geometry type"), std::string::npos);
  const char* open_ring = R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})";
  EXPECT_NE(conversion_refusal(raw(open_ring), ValueType::GeoJson).find("closed"), std::string::npos);
  EXPECT_NE(conversion_refusal(text(R"({"type":"Point",)"), ValueType::GeoJson).find("malformed JSON"), std::string::npos);
  conversion_refusal(true, ValueType::GeoJson);
}

TEST(Conversion, OtherTypesKeepTheValueAsIs) {
  EXPECT_EQ(converted(text("23.5"), ValueType::AsIs), json::value("23.5"));
  EXPECT_EQ(converted(23.5, ValueType::AsIs), json::value(23.5));
  EXPECT_EQ(converted(std::int64_t{7}, ValueType::AsIs), json::value(std::int64_t{7}));
  EXPECT_EQ(converted(false, ValueType::AsIs), json::value(false));
  EXPECT_EQ(converted(raw(R"({"a":1})"), ValueType::AsIs), json::parse(R"({"a":1})"));
  auto r = convert(text("x"), "StructuredValue");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json::value("x"));
}

TEST(Conversion, NullStaysNullWhateverTheType) {
  for (auto type : {ValueType::Number, ValueType::Integer, ValueType::Boolean, ValueType::Text, ValueType::DateTime,
                    ValueType::GeoPoint, ValueType::GeoJson, ValueType::AsIs})
    EXPECT_TRUE(converted(Null{}, type).is_null()) << value_type_name(type);
}

TEST(Conversion, DeclaredTypeByName) {
  auto r = convert(text("23.5"), "number", "t");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json::value(23.5));
  auto bad = convert(text("warm"), "Number", "t");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.problem().detail, R"(measure "t": value "warm" is not a Number)");
}

TEST(Conversion, ProblemNamesKeyValueAndTypeAndCutsLongValues) {
  const std::string long_text = std::string(30, 'a') + "é" + std::string(100, 'b');
  auto r = convert(text(long_text), ValueType::Number, "temperature");
  ASSERT_FALSE(r);
  const std::string& detail = r.problem().detail;
  EXPECT_EQ(detail.rfind("measure \"temperature\": value \"aaaa", 0), 0u) << detail;
  EXPECT_NE(detail.find("bbb\"… is not a Number"), std::string::npos) << detail;
  EXPECT_LT(detail.size(), 120u);
  // Without a key, the value and type alone.
  auto unnamed = convert(text("x"), ValueType::Integer);
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.problem().detail, R"(value "x" is not an Integer)");
}

TEST(Conversion, ProblemsAreValidUtf8EvenWhenCutInsideACharacter) {
  const std::string accents(200, 'x');
  std::string mixed;
  for (int i = 0; i < 60; ++i) mixed += "é";
  for (const std::string& value : {accents, mixed}) {
    auto r = convert(text(value), ValueType::Number, "k");
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_valid_utf8(r.problem().detail));
    EXPECT_EQ(r.problem().detail.find('?'), std::string::npos) << r.problem().detail;
  }
}

TEST(ConversionWithExpression, ScalesNumbersAndNumericText) {
  const auto tenth = compile_expression("${@value * 0.1}");
  ASSERT_TRUE(tenth);
  auto r = convert(text("235"), ValueType::Number, *tenth, "t");
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->as_double(), 23.5);
  auto kelvin = convert(23.5, ValueType::Number, *compile_expression("${@value + 273.15}"), "t");
  ASSERT_TRUE(kelvin);
  EXPECT_DOUBLE_EQ(kelvin->as_double(), 296.65);
  auto as_text = convert(std::int64_t{1500}, ValueType::Text, *compile_expression("${@value / 1000}"));
  ASSERT_TRUE(as_text);
  EXPECT_EQ(*as_text, json::value("1.5"));
}

TEST(ConversionWithExpression, IntegerResultsTolerateFloatingPointNoiseOnly) {
  const auto tenth = compile_expression("${@value * 0.1}");
  ASSERT_TRUE(tenth);
  auto r = convert(std::int64_t{230}, ValueType::Integer, *tenth);  // 23.000000000000004
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json::value(std::int64_t{23}));
  auto fraction = convert(std::int64_t{235}, ValueType::Integer, *tenth);
  ASSERT_FALSE(fraction);
  EXPECT_NE(fraction.problem().detail.find("it has a fraction"), std::string::npos);
}

TEST(ConversionWithExpression, RefusesNonNumbersAndNonFiniteResults) {
  const auto inverse = compile_expression("${1 / (@value - 1)}");
  ASSERT_TRUE(inverse);
  auto infinite = convert(std::int64_t{1}, ValueType::Number, *inverse, "t");
  ASSERT_FALSE(infinite);
  EXPECT_EQ(infinite.problem().detail, R"x(measure "t": expression "1 / (@value - 1)" gives inf for 1)x");
  auto word = convert(text("warm"), ValueType::Number, *inverse, "t");
  ASSERT_FALSE(word);
  const char* says = R"x(value "warm" is not a Number (the expression "1 / (@value - 1)" needs one))x";
  EXPECT_NE(word.problem().detail.find(says), std::string::npos)
      << word.problem().detail;
  EXPECT_FALSE(convert(true, ValueType::Number, *inverse));
  EXPECT_FALSE(convert(raw("[1]"), ValueType::Number, *inverse));
  auto null = convert(Null{}, ValueType::Number, *inverse);
  ASSERT_TRUE(null);
  EXPECT_TRUE(null->is_null());
}

}  // namespace
}  // namespace ct::ingest
