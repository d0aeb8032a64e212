#include "ingest/expression.hpp"

#include <charconv>
#include <string>
#include <system_error>

#include "ingest/measure.hpp"

namespace ct::ingest {
namespace {

bool is_expression_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_expression_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_expression_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

constexpr std::string_view kValueToken = "@value";

}  // namespace

// Recursive descent over text[pos_, end_), emitting postfix instructions as it goes:
//   expression := term { ('+' | '-') term }
//   term       := unary { ('*' | '/') unary }
//   unary      := ('-' | '+') unary | primary
//   primary    := number | @value | '(' expression ')'
class ExpressionCompiler {
 public:
  ExpressionCompiler(std::string_view text, std::size_t begin, std::size_t end,
                     std::vector<Expression::Instruction>& out)
      : text_(text), pos_(begin), end_(end), out_(out) {}

  Status compile() {
    if (auto st = expression(); !st) return st;
    skip_blanks();
    if (pos_ != end_) return fail("unexpected " + describe_text(text_.substr(pos_, 1)));
    return {};
  }

 private:
  using Op = Expression::Op;

  Status expression() {
    if (auto st = term(); !st) return st;
    for (skip_blanks(); pos_ < end_ && (text_[pos_] == '+' || text_[pos_] == '-'); skip_blanks()) {
      const Op op = text_[pos_++] == '+' ? Op::Add : Op::Subtract;
      if (auto st = term(); !st) return st;
      emit(op);
    }
    return {};
  }

  Status term() {
    if (auto st = unary(); !st) return st;
    for (skip_blanks(); pos_ < end_ && (text_[pos_] == '*' || text_[pos_] == '/'); skip_blanks()) {
      const std::size_t at = pos_;
      const Op op = text_[pos_++] == '*' ? Op::Multiply : Op::Divide;
      if (auto st = unary(); !st) return st;
      if (op == Op::Divide && out_.back().op == Op::Constant && out_.back().constant == 0)
        return fail_at(at, "division by zero");
      emit(op);
    }
    return {};
  }

  Status unary() {
    skip_blanks();
    if (pos_ < end_ && (text_[pos_] == '-' || text_[pos_] == '+')) {
      const bool negate = text_[pos_++] == '-';
      if (++nesting_ > kMaxExpressionNesting) return too_deep();
      if (auto st = unary(); !st) return st;
      --nesting_;
      if (negate) emit(Op::Negate);
      return {};
    }
    return primary();
  }

  Status primary() {
    if (pos_ == end_) return fail("expected a number, @value or '(' but the expression ends");
    const char c = text_[pos_];
    if (c == '(') {
      const std::size_t open = pos_++;
      if (++nesting_ > kMaxExpressionNesting) return too_deep();
      if (auto st = expression(); !st) return st;
      --nesting_;
      skip_blanks();
      if (pos_ == end_ || text_[pos_] != ')') return fail_at(open, "'(' is not closed");
      ++pos_;
      return {};
    }
    if (is_expression_digit(c) || c == '.') return number();
    if (text_.substr(pos_, kValueToken.size()) == kValueToken &&
        (pos_ + kValueToken.size() == end_ || !is_name_char(text_[pos_ + kValueToken.size()]))) {
      pos_ += kValueToken.size();
      return push(Op::Value);
    }
    return fail("expected a number, @value or '(' but found " + describe_text(text_.substr(pos_, 1)));
  }

  Status number() {
    double value = 0;
    const char* first = text_.data() + pos_;
    const auto [last, ec] = std::from_chars(first, text_.data() + end_, value, std::chars_format::general);
    if (ec == std::errc::result_out_of_range) return fail("number out of range");
    if (ec != std::errc()) return fail("malformed number");
    pos_ += static_cast<std::size_t>(last - first);
    return push(Op::Constant, value);
  }

  // Constants and @value push onto the evaluation stack, whose depth is bounded.
  Status push(Op op, double constant = 0) {
    if (++depth_ > kMaxExpressionStack) return fail("too complex");
    out_.push_back({op, constant});
    return {};
  }

  // Operators pop their operands and push the result: binary ones shrink the stack by one.
  void emit(Op op) {
    if (op != Op::Negate) --depth_;
    out_.push_back({op, 0});
  }

  void skip_blanks() {
    while (pos_ < end_ && is_expression_blank(text_[pos_])) ++pos_;
  }

  Problem fail(const std::string& what) const { return fail_at(pos_, what); }
  Problem too_deep() const { return fail("nesting deeper than " + std::to_string(kMaxExpressionNesting)); }
  Problem fail_at(std::size_t at, const std::string& what) const {
    return bad_request("expression " + describe_text(text_, 64) + ": " + what + " at offset " + std::to_string(at));
  }

  std::string_view text_;
  std::size_t pos_;
  std::size_t end_;
  std::vector<Expression::Instruction>& out_;
  std::size_t nesting_ = 0;
  std::size_t depth_ = 0;  // of the evaluation stack after the instructions emitted so far
};

Result<Expression> compile_expression(std::string_view text) {
  if (text.size() > kMaxExpressionLength)
    return bad_request("expression of " + std::to_string(text.size()) + " bytes is longer than the limit of " +
                       std::to_string(kMaxExpressionLength));
  std::size_t begin = 0, end = text.size();
  while (begin < end && is_expression_blank(text[begin])) ++begin;
  while (end > begin && is_expression_blank(text[end - 1])) --end;
  if (text.substr(begin, 2) == "${") {
    if (text[end - 1] != '}' || end - begin < 3)
      return bad_request("expression " + describe_text(text, 64) + ": '${' is not closed by '}'");
    begin += 2;
    --end;
  }
  Expression compiled;
  ExpressionCompiler compiler(text, begin, end, compiled.program_);
  if (auto st = compiler.compile(); !st) return st.problem();
  compiled.source_ = std::string(text.substr(begin, end - begin));
  return compiled;
}

double Expression::apply(double value) const {
  if (program_.empty()) return value;
  double stack[kMaxExpressionStack];  // compile_expression proves the program never needs more
  std::size_t top = 0;
  for (const Instruction& step : program_) {
    switch (step.op) {
      case Op::Constant: stack[top++] = step.constant; break;
      case Op::Value: stack[top++] = value; break;
      case Op::Negate: stack[top - 1] = -stack[top - 1]; break;
      case Op::Add: --top; stack[top - 1] += stack[top]; break;
      case Op::Subtract: --top; stack[top - 1] -= stack[top]; break;
      case Op::Multiply: --top; stack[top - 1] *= stack[top]; break;
      case Op::Divide: --top; stack[top - 1] /= stack[top]; break;
    }
  }
  return stack[0];
}

}  // namespace ct::ingest
