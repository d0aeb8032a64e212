#pragma once
// The regular expressions of the q operators ~= and !~=: a subset of ECMAScript syntax, matched
// in time linear in the input (a Pike virtual machine, no backtracking). std::regex backtracks:
// a hostile pattern such as (a*)*b takes exponential time, and long inputs overflow its recursion.
//
// Supported: literals, ., character classes ([a-z], [^...], \d \D \w \W \s \S), anchors ^ $,
// word boundaries \b \B, groups (...) (?:...) (?<name>...), alternation |, quantifiers * + ? {n}
// {n,} {n,m} (a trailing ? for laziness is accepted and makes no difference to whether a string
// matches), escapes \n \r \t \f \v \0 \xHH \uHHHH \u{H...} \cX, and a leading (?i) for
// ASCII-case-insensitive matching. Back-references and look-arounds are rejected.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ct::query::detail {

inline constexpr std::size_t kMaxRegexLength = 256;         // bytes of pattern
inline constexpr std::size_t kMaxRegexSubjectLength = 4096;  // longer strings never match

struct RegexError {
  std::size_t offset = 0;  // byte offset in the pattern
  std::string what;
};

class Regex {
 public:
  // Compiles `pattern`; on failure returns false and fills `error`.
  bool compile(std::string_view pattern, RegexError& error);

  // Whether some substring of `text` matches. False for texts longer than kMaxRegexSubjectLength.
  // Thread-safe; allocates only the first time a thread meets a larger program.
  bool search(std::string_view text) const;

  enum class Op : std::uint8_t { Char, Any, Class, Split, Jump, Match, Begin, End, WordBoundary, NotWordBoundary };
  struct Instruction {
    Op op;
    std::uint32_t x = 0;  // Class: index into classes_; Split/Jump: target
    std::uint32_t y = 0;  // Split: second target
    char32_t c = 0;       // Char
  };
  struct Range {
    char32_t low, high;
  };

 private:
  bool class_contains(std::uint32_t index, char32_t c) const;
  bool step_matches(const Instruction& inst, char32_t c) const;

  std::vector<Instruction> program_;
  std::vector<std::vector<Range>> classes_;  // sorted, disjoint ranges
  bool ignore_case_ = false;
  // A pattern with no operators is searched for with string_view::find.
  bool literal_ = false;
  bool literal_at_start_ = false, literal_at_end_ = false;
  std::string literal_text_;
};

}  // namespace ct::query::detail
