#pragma once
// Unit conversions attached to a provisioned attribute, in the IoT Agents' legacy syntax:
//   ${@value * 0.1}   ${@value / 1000}   ${@value + 273.15}   ${(@value - 32) * 5 / 9}
// The language is deliberately tiny: decimal numbers, @value (the measure), + - * /, unary minus
// and parentheses, with the usual precedence. Nothing else: no names, calls, loops or strings, so a
// provisioning request cannot make ingestion do anything but arithmetic. The ${ } around it is
// optional.
//
// An expression is compiled once, at provisioning, into a few stack-machine instructions; applying
// it per measure is a short loop that allocates nothing.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace ct::ingest {

class ExpressionCompiler;

class Expression {
 public:
  Expression() = default;  // @value itself

  // The expression at `value`. IEEE arithmetic: a division by zero gives an infinity or NaN, which
  // conversion refuses (convert() with an expression).
  double apply(double value) const;

  std::string_view source() const { return source_; }

 private:
  friend Result<Expression> compile_expression(std::string_view text);
  friend class ExpressionCompiler;

  enum class Op : std::uint8_t { Constant, Value, Add, Subtract, Multiply, Divide, Negate };
  struct Instruction {
    Op op;
    double constant;  // for Op::Constant
  };

  std::vector<Instruction> program_;  // postfix; empty: @value
  std::string source_ = "@value";
};

// Limits that keep a compiled expression small and its evaluation stack fixed.
inline constexpr std::size_t kMaxExpressionLength = 256;
inline constexpr std::size_t kMaxExpressionNesting = 16;  // parentheses and unary minus
inline constexpr std::size_t kMaxExpressionStack = 32;

// Compiles `text`. Fails with BadRequestData naming the offset of the fault (an unexpected character,
// a missing operand or parenthesis, a number out of range, a literal division by zero) or a limit.
Result<Expression> compile_expression(std::string_view text);

}  // namespace ct::ingest
