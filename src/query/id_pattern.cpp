#include "query/id_pattern.hpp"

namespace ct::query {

Result<IdPattern> IdPattern::parse(std::string_view pattern) {
  if (pattern.empty()) return bad_request("idPattern is empty");
  IdPattern out;
  std::string error;
  if (!out.regex_.compile(pattern, error)) return bad_request("idPattern is not a valid regular expression: " + error);
  return out;
}

}  // namespace ct::query
