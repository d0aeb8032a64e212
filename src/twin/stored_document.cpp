#include "twin/stored_document.hpp"

#include <algorithm>

#include "jsonld/entity_codec.hpp"

namespace ct::twin {
namespace {

using model::Attribute;
using model::Entity;
using model::Term;

// The members of an entity and of an attribute instance that the document writes besides names.
// An expanded name is an IRI and has a colon; these keywords have none, so only a name without a
// colon could collide with one (and would then be written as the tree encoder writes it).
bool could_collide(Term name) { return name.str().find(':') == std::string_view::npos; }

// Writes "YYYY-MM-DDTHH:MM:SS.sssZ"; a document's times are mostly one or two instants (the
// write's and the creation's), so the last two are remembered.
class Times {
 public:
  void append(std::string& out, Timestamp at) {
    for (auto& slot : slots_)
      if (slot.at == at) {
        append_json_string(out, slot.text);
        return;
      }
    auto& slot = slots_[next_];
    next_ ^= 1;
    slot.at = at;
    slot.text = format_datetime(at);
    append_json_string(out, slot.text);
  }

 private:
  struct Slot {
    Timestamp at = kNoTimestamp;
    std::string text;
  };
  Slot slots_[2];
  unsigned next_ = 0;
};

void append_key(std::string& out, std::string_view key) {
  append_json_string(out, key);
  out.push_back(':');
}

void append_instance(std::string& out, const Attribute& a, Times& times) {
  out += "{\"type\":";
  append_json_string(out, model::kind_name(a.kind));
  out.push_back(',');
  append_key(out, model::kind_value_member(a.kind));
  append_text(out, a.value);
  if (a.observed_at != kNoTimestamp) {
    out += ",\"observedAt\":";
    times.append(out, a.observed_at);
  }
  if (!a.unit_code.empty()) {
    out += ",\"unitCode\":";
    append_json_string(out, a.unit_code.str());
  }
  if (!a.dataset_id.empty()) {
    out += ",\"datasetId\":";
    append_json_string(out, a.dataset_id.str());
  }
  if (a.created_at != kNoTimestamp) {
    out += ",\"createdAt\":";
    times.append(out, a.created_at);
  }
  if (a.modified_at != kNoTimestamp) {
    out += ",\"modifiedAt\":";
    times.append(out, a.modified_at);
  }
  for (const auto& sub : a.sub_attributes) {
    out.push_back(',');
    append_key(out, sub.name.str());
    append_instance(out, sub, times);
  }
  out.push_back('}');
}

// Whether the direct writer prints this entity as the tree encoder would. It does unless a name
// could collide with a keyword or a sub-attribute name repeats (a JSON object keeps one member per
// key): rare shapes, left to the tree encoder.
bool writes_plainly(const Attribute& a) {
  for (std::size_t i = 0; i < a.sub_attributes.size(); ++i) {
    const Attribute& sub = a.sub_attributes[i];
    if (could_collide(sub.name) || !writes_plainly(sub)) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (a.sub_attributes[j].name == sub.name) return false;
  }
  return true;
}

bool writes_plainly(const Entity& entity) {
  return std::all_of(entity.attributes.begin(), entity.attributes.end(),
                     [](const Attribute& a) { return !could_collide(a.name) && writes_plainly(a); });
}

void append_strings(std::string& out, const auto& items, auto text_of) {
  if (items.size() == 1) {
    append_json_string(out, text_of(items.front()));
    return;
  }
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, text_of(items[i]));
  }
  out.push_back(']');
}

}  // namespace

void append_stored_document(std::string& out, const Entity& entity) {
  if (!writes_plainly(entity)) {
    static const jsonld::Context no_terms = [] {
      jsonld::Context c;
      c.seal(nullptr);
      return c;
    }();
    jsonld::EncodeOptions options;
    options.sys_attrs = true;
    append_text(out, jsonld::encode_entity(entity, no_terms, options));
    return;
  }
  Times times;
  out += "{\"id\":";
  append_json_string(out, entity.id);
  out += ",\"type\":";
  append_strings(out, entity.types, [](Term t) { return t.str(); });
  if (!entity.scopes.empty()) {
    out += ",\"scope\":";
    append_strings(out, entity.scopes, [](const std::string& s) { return std::string_view(s); });
  }
  if (entity.created_at != kNoTimestamp) {
    out += ",\"createdAt\":";
    times.append(out, entity.created_at);
  }
  if (entity.modified_at != kNoTimestamp) {
    out += ",\"modifiedAt\":";
    times.append(out, entity.modified_at);
  }
  // Instances of one attribute together (an array when there are several), in the order the
  // attribute first appears.
  const auto& attributes = entity.attributes;
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    const Term name = attributes[i].name;
    bool seen = false;
    for (std::size_t j = 0; j < i && !seen; ++j) seen = attributes[j].name == name;
    if (seen) continue;
    std::size_t count = 0;
    for (std::size_t j = i; j < attributes.size(); ++j) count += attributes[j].name == name;
    out.push_back(',');
    append_key(out, name.str());
    if (count == 1) {
      append_instance(out, attributes[i], times);
      continue;
    }
    out.push_back('[');
    bool first = true;
    for (std::size_t j = i; j < attributes.size(); ++j) {
      if (attributes[j].name != name) continue;
      if (!first) out.push_back(',');
      first = false;
      append_instance(out, attributes[j], times);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace ct::twin
