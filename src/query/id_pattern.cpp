#include "query/id_pattern.hpp"

#include <re2/re2.h>

namespace ct::query {

Result<IdPattern> IdPattern::parse(std::string_view pattern) {
  if (pattern.empty()) return bad_request("idPattern is empty");
  if (pattern.size() > 1024) return bad_request("idPattern is longer than 1024 characters");
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // bounds the compiled program: a pattern too large is refused, not run
  auto regex = std::make_shared<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!regex->ok()) return bad_request("idPattern is not a valid regular expression: " + regex->error());
  IdPattern out;
  out.regex_ = std::move(regex);
  return out;
}

bool IdPattern::matches(std::string_view id) const {
  return RE2::PartialMatch(re2::StringPiece(id.data(), id.size()), *regex_);
}

}  // namespace ct::query
