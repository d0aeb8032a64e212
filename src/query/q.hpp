#pragma once
// The NGSI-LD query language `q` (ETSI GS CIM 009 v1.8, clause 4.9): parsed once against the
// request's @context, then evaluated against many entities.
//
//   q        = term *( (";" / "|") term ), ";" (AND) binding tighter than "|" (OR), "(" q ")" nesting
//   term     = path op value / path "~=" regex / path "!~=" regex / path (exists) / "!" path (absent)
//   op       = "==" / "!=" / ">" / ">=" / "<" / "<="
//   path     = attr *( "." subattr ) [ "." metadata ] / attr *( "." subattr ) 1*( "[" key *( "." key ) "]" )
//   metadata = observedAt / unitCode / createdAt / modifiedAt / datasetId
//   value    = number / "quoted string" / true / false / date / date-time / time / URI
//              / value ".." value (a range; == and != only) / value 1*( "," value ) (a list; == and != only)
//   regex    = an ECMAScript pattern up to the next top-level ";" "|" ")" (or "quoted" to contain them)
//
// Semantics (how matches() reads an entity):
// - Attribute and sub-attribute names are short names expanded with the @context; compound keys
//   (inside [...]) are JSON member names and are not expanded.
// - The value compared is the attribute's value, the object of a Relationship, any string of a
//   LanguageProperty's languageMap, any element of an array (a list, several objects, a multi-valued
//   Property). An attribute with several instances (datasetIds) matches when any instance matches.
// - No coercion: a number never equals a string. Unquoted dates, date-times and times compare with
//   strings in those formats as points in time: a date-time as an instant, a date as a UTC day
//   (2024-01-01 equals any instant of that day), a time as a time of day. observedAt, createdAt and
//   modifiedAt compare with date-times, dates, or quoted strings holding a date-time.
// - A comparison (including != and !~=) is false when the target is absent or not comparable;
//   "!=" holds when a comparable value exists and none equals the query value(s).
// - A regex is tried on strings of at most 4 KB (longer ones never match, nor do they satisfy !~=).
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context.hpp"
#include "model/entity.hpp"
#include "model/term.hpp"

namespace ct::query {

inline constexpr int kMaxQNesting = 32;  // parentheses deeper than this are a 400

// A comparison every matching entity satisfies, for choosing an index. It reads the value of a
// top-level attribute (no sub-attribute, compound key or metadata), with the semantics above:
// any instance, any element of an array, the object of a Relationship, any languageMap string.
struct IndexableTerm {
  enum Op { Equal, Greater, GreaterEqual, Less, LessEqual, Range, OneOf };
  // How the query wrote a constant: dates, date-times and times are json strings in their
  // original text, distinguished here from quoted strings (which compare as plain strings).
  enum class Kind : std::uint8_t { Number, String, Boolean, Date, DateTime, Time };

  model::Term attribute;
  Op op = Equal;
  json::value value;               // Equal, Greater..LessEqual, and the lower bound of Range
  json::value upper;               // Range (inclusive, like the lower bound)
  std::vector<json::value> values; // OneOf
  Kind kind = Kind::Number;        // of value and upper (the two bounds of a range have one kind)
  std::vector<Kind> kinds;         // OneOf: the kind of each of `values`
  // Date/DateTime: the instant (a date: its first millisecond, UTC); Time: milliseconds since
  // midnight. kNoTimestamp otherwise.
  Timestamp ms = kNoTimestamp, upper_ms = kNoTimestamp;
};

namespace detail {
struct QProgram;
}

class QExpression {
 public:
  QExpression() = default;  // the empty query: matches every entity

  // Thread-safe; no allocation on the way (a regex needs scratch memory once per thread).
  bool matches(const model::Entity& entity) const;

  // The comparisons that every match must satisfy: the direct children of a top-level AND (or the
  // root itself) that qualify as IndexableTerm. Empty when there are none (e.g. a top-level OR).
  std::vector<IndexableTerm> required_terms() const;

  // Every top-level attribute the expression reads (expanded), each once, in order of appearance.
  std::vector<model::Term> attributes() const;

 private:
  friend Result<QExpression> parse_q(std::string_view text, const jsonld::Context& ctx);
  std::shared_ptr<const detail::QProgram> program_;  // immutable, shared by copies
};

// Parses `text` (already URL-decoded). Errors are BadRequestData naming the byte position and what
// was expected there: q: expected a value at position 6 in "temp==".
Result<QExpression> parse_q(std::string_view text, const jsonld::Context& ctx);

}  // namespace ct::query
