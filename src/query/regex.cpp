#include "query/regex.hpp"

#include <re2/re2.h>

namespace ct::query {

bool Regex::compile(std::string_view pattern, std::string& error) {
  if (pattern.size() > kMaxRegexLength) {
    error = "longer than " + std::to_string(kMaxRegexLength) + " bytes";
    return false;
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // bounds the compiled program: a pattern too large is refused, not run
  auto program = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!program->ok()) {
    error = program->error();
    return false;
  }
  program_ = std::move(program);
  return true;
}

bool Regex::search(std::string_view text) const {
  if (!program_ || text.size() > kMaxRegexSubjectLength) return false;
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *program_);
}

}  // namespace ct::query
