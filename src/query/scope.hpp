#pragma once
// scopeQ (ETSI GS CIM 009 v1.8, clauses 4.18 and 4.19): entities carry hierarchical scopes such as
// /Beijing/Chaoyang; a scope query selects entities by them.
//
//   scopeQ = term *( ("," / ";") term ), ";" (AND) binding tighter than "," (OR), "(" scopeQ ")"
//   term   = 1*( "/" level ) [ "/#" ] / "/#"
//   level  = a name (no / # + , ; ( ) or whitespace), or "+" for exactly one level of any name
//
// /Beijing matches the scope /Beijing only; /Beijing/# matches /Beijing and every scope below it;
// /Beijing/+/Station matches /Beijing/X/Station for any one level X; /# matches any scope. A term
// matches an entity when any of its scopes matches; an entity without scopes matches no term.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace ct::query {

// A scope as an entity may carry it: "/" followed by levels separated by "/", none empty and
// none holding # + , ; ( ) or whitespace.
bool is_valid_scope(std::string_view scope);

namespace detail {
struct ScopeProgram;
}

class ScopeQuery {
 public:
  ScopeQuery() = default;  // the empty query: matches every entity

  // Thread-safe; allocates nothing.
  bool matches(const std::vector<std::string>& entity_scopes) const;

 private:
  friend Result<ScopeQuery> parse_scope_q(std::string_view text);
  std::shared_ptr<const detail::ScopeProgram> program_;
};

// Errors are BadRequestData naming the byte position: scopeQ: expected '/' at position 0 in "Beijing".
Result<ScopeQuery> parse_scope_q(std::string_view text);

}  // namespace ct::query
