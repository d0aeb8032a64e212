#pragma once
// idPattern: a regular expression over entity ids, matched in linear time (RE2), so that no pattern
// can make a query slow however it is written.
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace re2 {
class RE2;
}

namespace ct::query {

class IdPattern {
 public:
  // BadRequestData naming the fault when `pattern` is not a valid regular expression (or too long).
  static Result<IdPattern> parse(std::string_view pattern);
  // True when the pattern matches somewhere in the id (anchor it with ^…$ to match the whole id).
  bool matches(std::string_view id) const;

 private:
  std::shared_ptr<const re2::RE2> regex_;
};

}  // namespace ct::query
