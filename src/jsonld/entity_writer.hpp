#pragma once
// Prints entities as JSON text straight into a response body, in any of the representations
// encode_entity gives as a tree (the two share one set of rendering rules, and give the same JSON).
// One writer serves a whole response.
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jsonld/context.hpp"
#include "jsonld/entity_codec.hpp"
#include "model/entity.hpp"

namespace ct::jsonld {

// The compacted form of names, and whether a name would clash with a member the encoder writes
// itself ("type", "value", "@context", …): a name that clashes is written as its IRI, so that no
// member is written twice. Each name is compacted once: for the life of this object, or, built
// from a ContextPtr, for the calling thread and that context across objects (one per request).
class CompactNames {
 public:
  struct Name {
    std::string text;
    std::string quoted;  // text as a JSON string literal, for writers that print it often
    bool clashes_with_entity_member = false;
    bool clashes_with_attribute_member = false;
    // `"name":{"type":"Property","value":` and the like, per attribute kind, as the normalized
    // form opens an instance: built on first use, printed in one piece.
    mutable std::array<std::string, 8> normalized_heads;
    const std::string& normalized_head(model::AttributeKind kind) const;
  };
  explicit CompactNames(const Context& ctx);
  // The thread keeps the names of its few most recent contexts (and so those contexts) alive.
  explicit CompactNames(const ContextPtr& ctx);
  const Name& of(model::Term iri);
  // The name an attribute (or, with `sub_attribute`, a sub-attribute) named `iri` is written under;
  // nullptr when it is written as its IRI.
  const Name* key_of(model::Term iri, bool sub_attribute);

  struct Table;  // Term → Name, bounded; references stay valid

 private:
  const Context& ctx_;
  // The thread's table, shared with other objects on the same context; once it is full (a client
  // naming thousands of attributes), names go to this object's own table, then uncached.
  std::shared_ptr<Table> shared_, own_;
  // An answer names a handful of attributes: a linear search of these beats hashing.
  std::vector<std::pair<model::Term, const Name*>> recent_;
  Name uncached_;
};

class EntityWriter {
 public:
  // With `embedded_context` (application/ld+json), each entity ends with "@context": that URL.
  EntityWriter(const Context& ctx, const EncodeOptions& options, std::string embedded_context = {});
  // Compacted names are kept per thread and context, from one writer (one request) to the next.
  EntityWriter(const ContextPtr& ctx, const EncodeOptions& options, std::string embedded_context = {});

  // Appends one entity object to `out`.
  void entity(std::string& out, const model::Entity& entity);
  // Appends one GeoJSON Feature: the geometry from the GeoProperty `geometry_property` (expanded),
  // the type and attributes as properties.
  void feature(std::string& out, const model::Entity& entity, model::Term geometry_property);

 private:
  EncodeOptions options_;
  std::string embedded_context_;
  CompactNames names_;
  std::vector<model::Term> scratch_;  // the attribute names of the entity being printed
};

}  // namespace ct::jsonld
