#include "jsonld/entity_codec.hpp"

#include <array>

#include "model/geometry.hpp"
#include "model/names.hpp"

namespace ct::jsonld {
namespace {

using model::Attribute;
using model::AttributeKind;
using model::Term;

constexpr std::string_view kNgsiLdPrefix = "https://uri.etsi.org/ngsi-ld/";

// Members of an attribute object that are not sub-attributes.
constexpr std::array<std::string_view, 16> kAttributeKeywords = {
    "type", "value", "object", "languageMap", "vocab", "json", "valueList", "objectList", "observedAt", "unitCode",
    "datasetId", "createdAt", "modifiedAt", "instanceId", "previousValue", "objectType"};

bool is_attribute_keyword(std::string_view key) {
  for (auto k : kAttributeKeywords)
    if (k == key) return true;
  return !key.empty() && key[0] == '@';
}

bool is_entity_keyword(std::string_view key) {
  return key == "id" || key == "type" || key == "scope" || key == "createdAt" || key == "modifiedAt" ||
         key == "deletedAt" || (!key.empty() && key[0] == '@');
}

bool is_null_marker(const json::value& v) {
  return v.is_null() || (v.is_string() && v.get_string() == kNgsiLdNull);
}

// The attribute kind a "type" member names, in short or expanded form.
bool attribute_kind_of(std::string_view type, const Context& ctx, AttributeKind& kind) {
  if (model::kind_from_name(type, kind)) return true;
  const std::string expanded = ctx.expand(type);
  if (expanded.rfind(kNgsiLdPrefix, 0) == 0) return model::kind_from_name(expanded.substr(kNgsiLdPrefix.size()), kind);
  return false;
}

Result<Term> expand_name(std::string_view name, const Context& ctx, std::string_view what, const DecodeOptions& options) {
  if (options.names)
    if (const Term* known = options.names->find(ctx, name)) return *known;
  if (!options.trusted && !model::is_valid_term(name))
    return bad_request(std::string(what) + " name \"" + std::string(name.substr(0, 80)) + "\" is not a valid name");
  const Term expanded = Term::intern(ctx.expand(name));
  if (options.names) options.names->remember(name, expanded);
  return expanded;
}

Status check_value(const Attribute& a, std::string_view name) {
  const json::value& v = a.value;
  auto fail = [&](std::string_view why) { return bad_request("attribute " + std::string(name) + ": " + std::string(why)); };
  switch (a.kind) {
    case AttributeKind::Property:
      if (v.is_null()) return fail("a Property value cannot be null");
      return {};
    case AttributeKind::GeoProperty:
      if (auto st = model::validate_geometry(v); !st) return fail(st.problem().detail);
      return {};
    case AttributeKind::Relationship:
      if (v.is_string() && model::is_uri(v.get_string())) return {};
      if (v.is_array() && !v.get_array().empty()) {
        for (const auto& o : v.get_array())
          if (!o.is_string() || !model::is_uri(o.get_string())) return fail("a Relationship object must be a URI");
        return {};
      }
      return fail("a Relationship object must be a URI");
    case AttributeKind::LanguageProperty:
      if (!v.is_object() || v.get_object().empty()) return fail("a languageMap must be a non-empty object");
      for (const auto& [lang, text] : v.get_object())
        if (!text.is_string() && !text.is_array()) return fail("languageMap values must be strings");
      return {};
    case AttributeKind::VocabProperty:
      if (!v.is_string() && !v.is_array()) return fail("a vocab must be a string or an array of strings");
      return {};
    case AttributeKind::JsonProperty:
      return {};
    case AttributeKind::ListProperty:
    case AttributeKind::ListRelationship:
      if (!v.is_array()) return fail("a list attribute needs an array");
      return {};
  }
  return {};
}

Result<Attribute> decode_instance(Term name, const json::value& value, const Context& ctx, const DecodeOptions& options);

Status decode_attribute_members(Attribute& a, const json::object& o, const Context& ctx, const DecodeOptions& options) {
  for (const auto& [key, member] : o) {
    if (key == "observedAt") {
      if (!member.is_string()) return bad_request("observedAt must be a date-time string");
      auto t = parse_datetime(member.get_string());
      if (!t) return bad_request("observedAt \"" + std::string(member.get_string()) + "\" is not an ISO 8601 date-time");
      a.observed_at = *t;
    } else if (key == "unitCode") {
      if (!member.is_string() || member.get_string().empty()) return bad_request("unitCode must be a non-empty string");
      a.unit_code = Term::intern(member.get_string());
    } else if (key == "datasetId") {
      if (!member.is_string() || !model::is_uri(member.get_string())) return bad_request("datasetId must be a URI");
      a.dataset_id = Term::intern(member.get_string());
    } else if (key == "createdAt" || key == "modifiedAt") {
      if (!options.trusted || !member.is_string()) continue;
      if (auto t = parse_datetime(member.get_string())) (key == "createdAt" ? a.created_at : a.modified_at) = *t;
    } else if (!is_attribute_keyword(key)) {
      auto sub_name = expand_name(key, ctx, "sub-attribute", options);
      if (!sub_name) return sub_name.problem();
      if (options.allow_null_values && is_null_marker(member)) {
        Attribute marker;
        marker.name = *sub_name;
        marker.value = nullptr;  // a null Property marks "delete this sub-attribute" for merge-patch
        a.sub_attributes.push_back(std::move(marker));
        continue;
      }
      auto sub = decode_instance(*sub_name, member, ctx, options);
      if (!sub) return sub.problem();
      a.sub_attributes.push_back(std::move(sub).value());
    }
  }
  return {};
}

// The kind a simplified-form value stands for: a geometry is a GeoProperty, an object with a lone
// languageMap/vocab/json/valueList/objectList member is that kind, anything else a Property.
AttributeKind simplified_kind(const json::value& value, const json::value*& payload) {
  payload = &value;
  if (model::looks_like_geometry(value)) return AttributeKind::GeoProperty;
  if (value.is_object() && value.get_object().size() == 1) {
    for (auto k : {AttributeKind::LanguageProperty, AttributeKind::VocabProperty, AttributeKind::JsonProperty,
                   AttributeKind::ListProperty, AttributeKind::ListRelationship}) {
      if (const auto* member = value.get_object().if_contains(model::kind_value_member(k))) {
        payload = member;
        return k;
      }
    }
  }
  return AttributeKind::Property;
}

Result<Attribute> decode_instance(Term name, const json::value& value, const Context& ctx, const DecodeOptions& options) {
  Attribute a;
  a.name = name;
  const std::string_view shown = name.str();
  auto finish = [&]() -> Result<Attribute> {
    if (!options.trusted)
      if (auto st = check_value(a, shown); !st) return st.problem();
    return std::move(a);
  };
  if (options.simplified) {
    const json::value* payload = nullptr;
    a.kind = simplified_kind(value, payload);
    a.value = *payload;
    return finish();
  }
  if (!value.is_object() || model::looks_like_geometry(value)) {
    a.kind = value.is_object() ? AttributeKind::GeoProperty : AttributeKind::Property;  // concise: a bare value
    a.value = value;
    return finish();
  }
  const auto& o = value.get_object();
  const auto* type = o.if_contains("type");
  if (type && !type->is_string()) return bad_request("attribute " + std::string(shown) + ": \"type\" must be a string");
  AttributeKind kind = AttributeKind::Property;
  const bool normalized = type && attribute_kind_of(type->get_string(), ctx, kind);
  const json::value* member = nullptr;
  if (normalized) {
    member = o.if_contains(model::kind_value_member(kind));
    if (!member && !options.partial)
      return bad_request("attribute " + std::string(shown) + " of type " + std::string(type->get_string()) +
                         " has no \"" + std::string(model::kind_value_member(kind)) + "\" member");
  } else {
    // concise: the member present tells the kind
    for (auto k : {AttributeKind::Relationship, AttributeKind::LanguageProperty, AttributeKind::VocabProperty,
                   AttributeKind::JsonProperty, AttributeKind::ListProperty, AttributeKind::ListRelationship,
                   AttributeKind::Property}) {
      if ((member = o.if_contains(model::kind_value_member(k)))) {
        kind = k;
        break;
      }
    }
    if (member && type)  // a value member beside a "type" that names no attribute type: a typo
      return bad_request("attribute " + std::string(shown) + ": unknown attribute type \"" +
                         std::string(type->get_string()) + "\"");
    if (!member && !options.partial) {
      a.kind = AttributeKind::Property;  // an object with none of them is a compound value
      a.value = value;
      return finish();
    }
  }
  if (!member) {  // a partial update that leaves the value as it is
    a.kind = AttributeKind::Property;
    a.value = nullptr;
    if (auto st = decode_attribute_members(a, o, ctx, options); !st) return st.problem();
    return a;
  }
  a.kind = kind;
  a.value = *member;
  if (!normalized && kind == AttributeKind::Property && model::looks_like_geometry(a.value)) a.kind = AttributeKind::GeoProperty;
  if (auto st = decode_attribute_members(a, o, ctx, options); !st) return st.problem();
  return finish();
}

Result<std::vector<std::string>> string_or_strings(const json::value& v, std::string_view what) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.emplace_back(v.get_string());
  } else if (v.is_array() && !v.get_array().empty()) {
    for (const auto& item : v.get_array()) {
      if (!item.is_string()) return bad_request(std::string(what) + " must be a string or an array of strings");
      out.emplace_back(item.get_string());
    }
  } else {
    return bad_request(std::string(what) + " must be a string or an array of strings");
  }
  return out;
}

}  // namespace

const Term* NameCache::find(const Context& ctx, std::string_view name) {
  if (context_ != &ctx) {
    names_.clear();
    order_.clear();
    next_ = 0;
    context_ = &ctx;
    return nullptr;
  }
  if (next_ < order_.size() && order_[next_]->first == name) return &order_[next_++]->second.term;
  auto it = names_.find(name);
  if (it == names_.end()) return nullptr;
  next_ = it->second.position + 1;
  return &it->second.term;
}

void NameCache::remember(std::string_view name, Term expanded) {
  auto [it, added] = names_.try_emplace(std::string(name), Known{expanded, order_.size()});
  if (added) order_.push_back(&*it);
  next_ = it->second.position + 1;
}

namespace {

// Appends the instances of attribute `name` (one, or an array of them with different datasetIds) to
// `into`, which may already hold other attributes' instances.
Status append_instances(Term name, const json::value& value, const Context& ctx, const DecodeOptions& options,
                        std::vector<Attribute>& into) {
  const bool several = !options.simplified && value.is_array() && !value.get_array().empty() &&
                       std::all_of(value.get_array().begin(), value.get_array().end(),
                                   [](const json::value& v) { return v.is_object(); });
  if (!several) {
    auto a = decode_instance(name, value, ctx, options);
    if (!a) return a.problem();
    into.push_back(std::move(a).value());
    return {};
  }
  const std::size_t first = into.size();
  for (const auto& item : value.get_array()) {
    auto a = decode_instance(name, item, ctx, options);
    if (!a) return a.problem();
    for (std::size_t i = first; i < into.size(); ++i)
      if (into[i].dataset_id == a->dataset_id)
        return bad_request("attribute " + std::string(name.str()) + " has two instances with the same datasetId");
    into.push_back(std::move(a).value());
  }
  return {};
}

}  // namespace

Result<std::vector<Attribute>> decode_attribute(Term name, const json::value& value, const Context& ctx,
                                                const DecodeOptions& options) {
  std::vector<Attribute> instances;
  if (auto st = append_instances(name, value, ctx, options, instances); !st) return st.problem();
  return instances;
}

Result<DecodedEntity> decode_entity(const json::object& body, const Context& ctx, const DecodeOptions& options) {
  DecodedEntity out;
  out.attributes.reserve(body.size());
  for (const auto& [key, value] : body) {
    if (key == "id" || key == "@id") {
      if (!value.is_string() || (!options.trusted && !model::is_uri(value.get_string())))
        return bad_request("entity id must be a URI, got " + to_text(value).substr(0, 120));
      out.header.id = std::string(value.get_string());
    } else if (key == "type" || key == "@type") {
      auto names = string_or_strings(value, "entity type");
      if (!names) return names.problem();
      for (const auto& n : *names) {
        auto t = expand_name(n, ctx, "entity type", options);
        if (!t) return t.problem();
        out.header.types.push_back(*t);
      }
    } else if (key == "scope") {
      auto scopes = string_or_strings(value, "scope");
      if (!scopes) return scopes.problem();
      out.header.scopes = std::move(scopes).value();
      out.header.has_scope = true;
    } else if (key == "createdAt" || key == "modifiedAt") {
      if (!options.trusted || !value.is_string()) continue;
      if (auto t = parse_datetime(value.get_string()))
        (key == "createdAt" ? out.header.created_at : out.header.modified_at) = *t;
    } else if (is_entity_keyword(key)) {
      continue;
    } else {
      auto name = expand_name(key, ctx, "attribute", options);
      if (!name) return name.problem();
      if (options.allow_null_values && is_null_marker(value)) {
        out.deleted.push_back(*name);
        continue;
      }
      if (auto st = append_instances(*name, value, ctx, options, out.attributes); !st) return st.problem();
    }
  }
  return out;
}

}  // namespace ct::jsonld
