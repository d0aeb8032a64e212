#pragma once
// Converts between the JSON a client sends or receives and the expanded model: term expansion
// on the way in, compaction on the way out, in the three NGSI-LD representations.
//
// Input: the normalized form and the concise form are read by one decoder (concise is normalized
// with the inferable members left out); the simplified (keyValues) form is read when asked for.
// Output: normalized, concise or simplified, with optional system attributes and attribute filter.
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context.hpp"
#include "model/entity.hpp"

namespace ct::jsonld {

enum class Form { Normalized, Concise, Simplified };

// The expanded names of one request, remembered across its entities: a batch repeats the same few
// attribute names thousands of times, and expanding one costs a context lookup, an IRI built and
// interned. Holds names of one context at a time (another clears it). One request, one thread.
// The entities of a batch usually list their members in the same order, so the name remembered
// after the last one found is tried first, with one comparison, before the hash lookup.
class NameCache {
 public:
  // The expanded term of `name` under `ctx`, if seen (and accepted) before.
  const model::Term* find(const Context& ctx, std::string_view name);
  void remember(std::string_view name, model::Term expanded);

 private:
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>()(text); }
  };
  struct Known {
    model::Term term;
    std::size_t position;  // in order_
  };
  using Names = std::unordered_map<std::string, Known, TextHash, std::equal_to<>>;
  const Context* context_ = nullptr;
  Names names_;
  std::vector<Names::value_type*> order_;  // in the order first remembered (map nodes do not move)
  std::size_t next_ = 0;                   // the position after the last name found or remembered
};

struct DecodeOptions {
  bool simplified = false;               // the body is in the simplified (keyValues) form
  // A document this process wrote (reloading the store): keep createdAt/modifiedAt, and skip the
  // validation it passed when it was first accepted.
  bool trusted = false;
  bool allow_null_values = false;        // merge-patch: "urn:ngsi-ld:null" / null mean "delete this"
  // A partial attribute update may leave out the value: the attribute then comes back with a null
  // value, meaning "keep the current one".
  bool partial = false;
  NameCache* names = nullptr;  // optional: expansions shared by the entities of one request
};

// The null that merge-patch uses to delete an attribute or sub-attribute.
inline constexpr std::string_view kNgsiLdNull = "urn:ngsi-ld:null";

// The members of an entity body other than its attributes.
struct EntityHeader {
  std::string id;                     // empty when the body had none
  std::vector<model::Term> types;     // expanded
  std::vector<std::string> scopes;
  bool has_scope = false;
  Timestamp created_at = kNoTimestamp;   // read only with trusted
  Timestamp modified_at = kNoTimestamp;
};

struct DecodedEntity {
  EntityHeader header;
  std::vector<model::Attribute> attributes;
  std::vector<model::Term> deleted;  // attributes set to null in a merge-patch
};

// Decodes an entity or an entity fragment. `@context` members are skipped (the caller resolved them).
Result<DecodedEntity> decode_entity(const json::object& body, const Context& ctx, const DecodeOptions& options);

// Decodes the value of one attribute named `name` (already expanded): an instance, or an array of
// instances with different datasetIds.
Result<std::vector<model::Attribute>> decode_attribute(model::Term name, const json::value& value, const Context& ctx,
                                                       const DecodeOptions& options);

struct EncodeOptions {
  Form form = Form::Normalized;
  bool sys_attrs = false;
  // When set, only attributes whose expanded name is in the set are rendered.
  const std::unordered_set<model::Term>* pick = nullptr;
  const std::unordered_set<model::Term>* omit = nullptr;
  bool omit_id = false, omit_type = false, omit_scope = false;
  std::string lang;  // for LanguageProperty: render the value in this language
};

// The entity as a tree, for callers that edit or embed it; to print it, use EntityWriter
// (entity_writer.hpp), which gives the same JSON without building the tree.
json::object encode_entity(const model::Entity& entity, const Context& ctx, const EncodeOptions& options);

}  // namespace ct::jsonld
