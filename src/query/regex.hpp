#pragma once
// The regular expressions of the query languages (q's ~= and !~=, idPattern): RE2, which matches in
// time linear in the input with bounded memory, so that no pattern a client writes can make a query
// slow or exhaust the stack (std::regex backtracks: (a*)*b takes exponential time).
// Syntax: RE2's, which covers the usual ECMAScript constructs (classes, \d \w \s \b, anchors,
// groups, {n,m}, lazy quantifiers, (?i)); back-references and look-arounds are refused.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace ct::query {

inline constexpr std::size_t kMaxRegexLength = 1024;        // bytes of pattern
inline constexpr std::size_t kMaxRegexSubjectLength = 4096;  // longer strings never match

class Regex {
 public:
  // Compiles `pattern`; on failure returns false and sets `error` to RE2's explanation.
  bool compile(std::string_view pattern, std::string& error);
  // Whether some substring of `text` matches. False for texts longer than kMaxRegexSubjectLength.
  bool search(std::string_view text) const;

 private:
  std::shared_ptr<const re2::RE2> program_;  // immutable once compiled; shared by copies and threads
};

}  // namespace ct::query
