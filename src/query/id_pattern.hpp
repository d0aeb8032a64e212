#pragma once
// idPattern: a regular expression over entity ids (see regex.hpp for why RE2).
#include <string_view>

#include "common/result.hpp"
#include "query/regex.hpp"

namespace ct::query {

class IdPattern {
 public:
  // BadRequestData naming the fault when `pattern` is not a valid regular expression (or too long).
  static Result<IdPattern> parse(std::string_view pattern);
  // True when the pattern matches somewhere in the id (anchor it with ^…$ to match the whole id).
  bool matches(std::string_view id) const { return regex_.search(id); }

 private:
  Regex regex_;
};

}  // namespace ct::query
