#include "ingest/expression.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace ct::ingest {
namespace {

double at(std::string_view source, double value) {
  auto e = compile_expression(source);
  EXPECT_TRUE(e.ok()) << source << ": " << (e ? "" : e.problem().detail);
  return e ? e->apply(value) : std::nan("");
}

std::string expression_refusal(std::string_view source) {
  auto e = compile_expression(source);
  if (e) {
    ADD_FAILURE() << "compiled: " << source;
    return {};
  }
  EXPECT_EQ(e.problem().kind, ProblemKind::BadRequestData);
  return e.problem().detail;
}

TEST(Expression, TheUsualUnitConversions) {
  EXPECT_DOUBLE_EQ(at("${@value * 0.1}", 235), 23.5);
  EXPECT_DOUBLE_EQ(at("${@value / 1000}", 1500), 1.5);
  EXPECT_DOUBLE_EQ(at("${@value + 273.15}", 20), 293.15);
  EXPECT_DOUBLE_EQ(at("${(@value - 32) * 5 / 9}", 212), 100);
  EXPECT_DOUBLE_EQ(at("${(@value - 32) * 5 / 9}", -40), -40);
}

TEST(Expression, PrecedenceAndAssociativity) {
  EXPECT_DOUBLE_EQ(at("1 + 2 * @value", 3), 7);
  EXPECT_DOUBLE_EQ(at("(1 + 2) * @value", 3), 9);
  EXPECT_DOUBLE_EQ(at("@value - 1 - 1", 10), 8);
  EXPECT_DOUBLE_EQ(at("@value / 2 / 5", 100), 10);
  EXPECT_DOUBLE_EQ(at("2 * @value / 4 * 3", 2), 3);
}

TEST(Expression, UnaryMinusAndPlus) {
  EXPECT_DOUBLE_EQ(at("-@value", 3), -3);
  EXPECT_DOUBLE_EQ(at("--@value", 3), 3);
  EXPECT_DOUBLE_EQ(at("-(@value - 1)", 3), -2);
  EXPECT_DOUBLE_EQ(at("2 * -@value", 3), -6);
  EXPECT_DOUBLE_EQ(at("+@value", 3), 3);
  EXPECT_DOUBLE_EQ(at("@value - -1", 3), 4);
}

TEST(Expression, NumbersAndBlanks) {
  EXPECT_DOUBLE_EQ(at(".5*@value", 3), 1.5);
  EXPECT_DOUBLE_EQ(at("1e3*@value", 3), 3000);
  EXPECT_DOUBLE_EQ(at("2.5E-1 * @value", 4), 1);
  EXPECT_DOUBLE_EQ(at("  ${ \t@value*2 }  ", 3), 6);
  EXPECT_DOUBLE_EQ(at("${@value}", 3), 3);
  EXPECT_DOUBLE_EQ(at("42", 3), 42);
}

TEST(Expression, DefaultIsTheValueItself) {
  const Expression identity;
  EXPECT_EQ(identity.apply(23.5), 23.5);
  EXPECT_EQ(identity.source(), "@value");
}

TEST(Expression, KeepsItsSourceWithoutTheBraces) {
  auto e = compile_expression(" ${ @value * 0.1 } ");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->source(), " @value * 0.1 ");
}

TEST(Expression, DivisionByZeroAtRunTimeIsIeee) {
  EXPECT_TRUE(std::isinf(at("1 / @value", 0)));
  EXPECT_TRUE(std::isnan(at("@value / @value", 0)));
}

TEST(Expression, ErrorsNameWhatAndWhere) {
  struct Case {
    const char* source;
    const char* says;
  } cases[] = {
      {"", "expected a number, @value or '(' but the expression ends at offset 0"},
      {"${}", "but the expression ends at offset 2"},
      {"${@value *}", "but the expression ends at offset 10"},
      {"@value + ", "but the expression ends at offset 8"},
      {"(@value", "'(' is not closed at offset 0"},
      {"((@value) * 2", "'(' is not closed at offset 0"},
      {"@value)", "unexpected \")\" at offset 6"},
      {"@valu", "found \"@\" at offset 0"},
      {"@values", "found \"@\" at offset 0"},
      {"value * 2", "found \"v\" at offset 0"},
      {"2 ** 3", "found \"*\" at offset 3"},
      {"@value % 2", "unexpected \"%\" at offset 7"},
      {"abs(@value)", "found \"a\" at offset 0"},
      {"@value 2", "unexpected \"2\" at offset 7"},
      {"1..2", "unexpected \".\" at offset 2"},
      {"1e999 * @value", "number out of range at offset 0"},
      {".e1", "malformed number at offset 0"},
      {"@value / 0", "division by zero at offset 7"},
      {"@value / (0.0)", "division by zero at offset 7"},
      {"${@value * 2", "'${' is not closed by '}'"},
      {"${", "'${' is not closed by '}'"},
      {"@value * 2}", "unexpected \"}\" at offset 10"},
      {"$@value", "found \"$\" at offset 0"},
      {"@value + \"1\"", "found \"\\\"\" at offset 9"},
  };
  for (const auto& c : cases) {
    const std::string detail = expression_refusal(c.source);
    EXPECT_NE(detail.find(c.says), std::string::npos) << c.source << " → " << detail;
  }
}

TEST(Expression, Limits) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + "@value" + std::string(depth, ')');
  };
  EXPECT_EQ(at(nested(kMaxExpressionNesting), 3), 3);
  EXPECT_NE(expression_refusal(nested(kMaxExpressionNesting + 1)).find("nesting deeper than 16"), std::string::npos);
  EXPECT_NE(expression_refusal(std::string(kMaxExpressionNesting + 1, '-') + "@value").find("nesting deeper than 16"),
            std::string::npos);

  // Each level of 1+2*(…) leaves two operands pending: 15 levels need 31 stack slots, 16 need 33.
  const auto pending = [](std::size_t levels) {
    std::string source = "@value";
    for (std::size_t i = 0; i < levels; ++i) source = "1+2*(" + source + ")";
    return source;
  };
  EXPECT_DOUBLE_EQ(at(pending(15), 0), 32767);  // 1 + 2 * (1 + 2 * (… @value)): 2^15 - 1 at 0
  EXPECT_NE(expression_refusal(pending(16)).find("too complex"), std::string::npos);
  std::string too_long(kMaxExpressionLength + 1, ' ');
  too_long.replace(0, 6, "@value");
  EXPECT_NE(expression_refusal(too_long).find("longer than the limit of 256"), std::string::npos);
}

TEST(Expression, ProblemQuotesTheSourceSafely) {
  const std::string detail = expression_refusal("@value + \xff");
  EXPECT_NE(detail.find("expression \"@value + ?\""), std::string::npos) << detail;
}

}  // namespace
}  // namespace ct::ingest
