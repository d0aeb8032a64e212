#pragma once
// The NGSI-LD information model held by the twin: entities and their attributes, with every
// name already expanded to its IRI. Nothing here knows about @context, HTTP or storage.
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"
#include "model/term.hpp"

namespace ct::model {

enum class AttributeKind : std::uint8_t {
  Property,          // value
  Relationship,      // object
  GeoProperty,       // value (a GeoJSON geometry)
  LanguageProperty,  // languageMap
  VocabProperty,     // vocab
  JsonProperty,      // json
  ListProperty,      // valueList
  ListRelationship,  // objectList
};

std::string_view kind_name(AttributeKind kind);            // "Property", ...
bool kind_from_name(std::string_view name, AttributeKind& out);
std::string_view kind_value_member(AttributeKind kind);    // "value", "object", "languageMap", ...

// One attribute instance. Instances of one attribute differ by datasetId (empty: the default
// instance); an entity keeps them as separate entries with the same name.
struct Attribute {
  Term name;
  Term dataset_id;
  AttributeKind kind = AttributeKind::Property;
  std::uint32_t revision = 0;  // the entity revision of the write that last touched this instance
  json::value value;  // the member named by kind_value_member(kind)
  Timestamp observed_at = kNoTimestamp;
  Term unit_code;
  Timestamp created_at = kNoTimestamp;
  Timestamp modified_at = kNoTimestamp;
  std::vector<Attribute> sub_attributes;

  const Attribute* find_sub(Term sub_name) const;
};

struct Entity {
  std::string id;
  std::uint32_t revision = 0;  // counts writes in this process; tells which instances a write touched
  std::vector<Term> types;
  std::vector<std::string> scopes;
  Timestamp created_at = kNoTimestamp;
  Timestamp modified_at = kNoTimestamp;
  std::vector<Attribute> attributes;

  // The instance with this name and datasetId, or nullptr.
  Attribute* find(Term name, Term dataset_id = {});
  const Attribute* find(Term name, Term dataset_id = {}) const;
  bool has_attribute(Term name) const;
  bool has_type(Term type) const;
  // Removes instances of `name`: the one with `dataset_id`, or all of them. Returns how many.
  std::size_t remove(Term name, Term dataset_id, bool all_instances);
};

// One write to an entity: when it happened and the entity revision it makes.
struct WriteStamp {
  Timestamp at = kNoTimestamp;
  std::uint32_t revision = 0;
};

// Stamps createdAt/modifiedAt and the revision on `incoming` as written by `stamp`, keeping the
// creation time of the instance it replaces, if any (sub-attributes included).
void stamp_write(Attribute& incoming, const Attribute* replaced, const WriteStamp& stamp);
// Puts `incoming` in place of the instance of `entity` with its name and datasetId, or adds it, stamped
// as written by `stamp`.
void put_instance(Entity& entity, Attribute&& incoming, const WriteStamp& stamp);

}  // namespace ct::model
