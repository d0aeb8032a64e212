#include "common/json.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "json_printer.hpp"

namespace ct {

TEST(Json, WritesNumbersInShortestDecimalForm) {
  EXPECT_EQ(to_text(json::parse(R"({"a":0.54,"b":12.2,"c":500,"d":-3.712247222222222,"e":1e300})")),
            R"({"a":0.54,"b":12.2,"c":500,"d":-3.712247222222222,"e":1e+300})");
}

namespace {
std::string via_to_chars(double d) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
}
std::string via_append_double(double d) {
  std::string out;
  append_double(out, d);
  return out;
}
}  // namespace

TEST(Json, WritesDoublesExactlyAsToCharsDoes) {
  std::vector<double> values = {0.001, 0.0009999, 0.00099999999999999, 0.001000000001, 9999.9999999, 9999.99999999,
                                10000, 9999, 1000, 100, 0.5, -0.5, 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 116.397128,
                                39.916527, -73.9857, 1e-3 * 7, 0.0049, 123.4, 21.5, 1e-7, 5e-324, 1e300, -0.0,
                                0.0, 4.35, 1.005, 2.675, 0.1, 0.7, 1234.5678, 0.0012345, -9999.5, 8.0000001};
  std::mt19937_64 rng(20261124);
  std::uniform_int_distribution<int> digits(0, 9);
  for (int i = 0; i < 200000; ++i) {
    // Short decimals of every magnitude the fast path covers, and just around it.
    const int integer_digits = static_cast<int>(rng() % 7), fraction_digits = static_cast<int>(rng() % 10);
    std::string text = "0";
    for (int j = 0; j < integer_digits; ++j) text.push_back(static_cast<char>('0' + digits(rng)));
    text.push_back('.');
    for (int j = 0; j < fraction_digits; ++j) text.push_back(static_cast<char>('0' + digits(rng)));
    text.push_back('1');
    values.push_back((rng() & 1 ? -1 : 1) * std::strtod(text.c_str(), nullptr));
    // Arbitrary finite doubles, from their bits.
    double any;
    const std::uint64_t bits = rng();
    std::memcpy(&any, &bits, sizeof any);
    if (std::isfinite(any)) values.push_back(any);
    values.push_back(std::ldexp(static_cast<double>(rng() % 100000), -static_cast<int>(rng() % 20)));
  }
  for (const double d : values) ASSERT_EQ(via_append_double(d), via_to_chars(d)) << "bits of the value differ at " << d;
}

TEST(Json, EscapesStrings) {
  json::value v = json::string("quote\" backslash\\ newline\n tab\t bell\x07 é");
  EXPECT_EQ(to_text(v), "\"quote\\\" backslash\\\\ newline\\n tab\\t bell\\u0007 é\"");
  EXPECT_EQ(json::parse(to_text(v)), v);
}

TEST(Json, RejectsMalformedInputWithAProblem) {
  auto r = parse_json("{\"a\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
  EXPECT_FALSE(parse_json("{\"a\": \"\xff\xfe\"}").ok()) << "invalid UTF-8";
  EXPECT_FALSE(parse_json("").ok());
}

TEST(Json, LimitsNesting) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_TRUE(parse_json(ok).ok());
  auto r = parse_json(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problem().detail.find("deeper"), std::string::npos);
}

TEST(Problem, EveryKindHasAName) {
  for (int i = 0; i < kProblemKindCount; ++i) EXPECT_FALSE(kind_name(static_cast<ProblemKind>(i)).empty());
  EXPECT_EQ(kind_name(ProblemKind::Conflict), "Conflict");
}

}  // namespace ct
