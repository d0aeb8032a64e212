#pragma once
// The `type` parameter of a query (ETSI GS CIM 009 v1.8, clause 4.17): a comma-separated list of
// entity types (A,B: either), or the selection language of NGSI-LD 1.5+:
//
//   types = term *( ("," / "|" / ";") term ), ";" (AND) binding tighter than "," and "|" (OR)
//   term  = type name / "(" types ")"
//
// (A;B)|C selects entities that have both types A and B, or type C. Type names are short names
// (or IRIs) expanded with the request's @context.
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "jsonld/context.hpp"
#include "model/term.hpp"

namespace ct::query {

namespace detail {
struct TypeProgram;
}

class TypeExpression {
 public:
  TypeExpression() = default;  // the empty expression: matches every entity

  // Thread-safe; allocates nothing.
  bool matches(const std::vector<model::Term>& entity_types) const;

  // The types, each once, when the expression is a plain OR of types (A / A,B / A|(B,C)): an entity
  // matches exactly when it has one of them, so the type index answers the whole expression.
  // nullopt when the expression involves ';' (or is the empty expression).
  std::optional<std::vector<model::Term>> any_of() const;

 private:
  friend Result<TypeExpression> parse_type_expression(std::string_view text, const jsonld::Context& ctx);
  std::shared_ptr<const detail::TypeProgram> program_;
};

// Errors are BadRequestData naming the byte position: type: expected a type name at position 2 in "A,".
Result<TypeExpression> parse_type_expression(std::string_view text, const jsonld::Context& ctx);

}  // namespace ct::query
