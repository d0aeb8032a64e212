#include "model/entity.hpp"

#include <algorithm>

namespace ct::model {
namespace {

struct KindInfo {
  AttributeKind kind;
  std::string_view name;
  std::string_view member;
};

constexpr KindInfo kKinds[] = {
    {AttributeKind::Property, "Property", "value"},
    {AttributeKind::Relationship, "Relationship", "object"},
    {AttributeKind::GeoProperty, "GeoProperty", "value"},
    {AttributeKind::LanguageProperty, "LanguageProperty", "languageMap"},
    {AttributeKind::VocabProperty, "VocabProperty", "vocab"},
    {AttributeKind::JsonProperty, "JsonProperty", "json"},
    {AttributeKind::ListProperty, "ListProperty", "valueList"},
    {AttributeKind::ListRelationship, "ListRelationship", "objectList"},
};

const KindInfo& info(AttributeKind kind) { return kKinds[static_cast<std::size_t>(kind)]; }

}  // namespace

std::string_view kind_name(AttributeKind kind) { return info(kind).name; }
std::string_view kind_value_member(AttributeKind kind) { return info(kind).member; }

bool kind_from_name(std::string_view name, AttributeKind& out) {
  for (const auto& k : kKinds) {
    if (k.name == name) {
      out = k.kind;
      return true;
    }
  }
  return false;
}

const Attribute* Attribute::find_sub(Term sub_name) const {
  for (const auto& s : sub_attributes)
    if (s.name == sub_name) return &s;
  return nullptr;
}

Attribute* Entity::find(Term name, Term dataset_id) {
  for (auto& a : attributes)
    if (a.name == name && a.dataset_id == dataset_id) return &a;
  return nullptr;
}

const Attribute* Entity::find(Term name, Term dataset_id) const {
  return const_cast<Entity*>(this)->find(name, dataset_id);
}

bool Entity::has_attribute(Term name) const {
  return std::any_of(attributes.begin(), attributes.end(), [&](const Attribute& a) { return a.name == name; });
}

bool Entity::has_type(Term type) const { return std::find(types.begin(), types.end(), type) != types.end(); }

std::size_t Entity::remove(Term name, Term dataset_id, bool all_instances) {
  const auto before = attributes.size();
  std::erase_if(attributes, [&](const Attribute& a) {
    return a.name == name && (all_instances || a.dataset_id == dataset_id);
  });
  return before - attributes.size();
}

void stamp_write(Attribute& incoming, const Attribute* replaced, const WriteStamp& stamp) {
  incoming.created_at = replaced ? replaced->created_at : stamp.at;
  incoming.modified_at = stamp.at;
  incoming.revision = stamp.revision;
  for (auto& sub : incoming.sub_attributes)
    stamp_write(sub, replaced ? replaced->find_sub(sub.name) : nullptr, stamp);
}

void put_instance(Entity& entity, Attribute&& incoming, const WriteStamp& stamp) {
  Attribute* existing = entity.find(incoming.name, incoming.dataset_id);
  stamp_write(incoming, existing, stamp);
  if (existing)
    *existing = std::move(incoming);
  else
    entity.attributes.push_back(std::move(incoming));
}

}  // namespace ct::model
