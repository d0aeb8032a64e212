#pragma once
// A resolved JSON-LD @context, reduced to what NGSI-LD needs: expanding the short names of
// entity types and attributes to IRIs on the way in, and compacting IRIs back on the way out.
// Built once per distinct @context and shared (immutable) between requests.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/json.hpp"

namespace ct::jsonld {

class Context {
 public:
  // Adds the term definitions of one context object ({"term": "iri" | {"@id": …}, "@vocab": …}).
  // Later definitions override earlier ones, as in JSON-LD.
  void add_definitions(const json::object& definitions);
  // Re-applies `protected_terms` on top (the NGSI-LD core context cannot be overridden), then
  // resolves compact IRIs and builds the reverse map. Call once after the last add_definitions.
  void seal(const Context* protected_terms);

  // Short name → IRI: a defined term, a compact IRI (prefix:suffix), an absolute IRI, or @vocab + name.
  std::string expand(std::string_view name) const;
  // IRI → the short name this context gives it, else the IRI itself.
  std::string compact(std::string_view iri) const;

  std::string_view vocab() const { return vocab_; }

 private:
  std::string expand_raw(std::string_view value, int depth) const;

  // Looked up by string_view without building a std::string (C++20 heterogeneous lookup).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>()(text); }
  };
  using TextMap = std::unordered_map<std::string, std::string, TextHash, std::equal_to<>>;
  TextMap terms_;  // term → IRI (compact IRIs resolved on seal)
  TextMap iri_to_term_;
  std::string vocab_;
};

using ContextPtr = std::shared_ptr<const Context>;

}  // namespace ct::jsonld
