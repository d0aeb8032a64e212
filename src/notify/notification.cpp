#include "notify/notification.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "jsonld/entity_codec.hpp"

namespace ct::notify {
namespace {

using model::Attribute;
using model::Term;

jsonld::EncodeOptions encode_options(const Subscription& s) {
  jsonld::EncodeOptions options;
  options.form = s.format;
  options.sys_attrs = s.sys_attrs;
  if (!s.attribute_set.empty()) options.pick = &s.attribute_set;
  options.lang = s.lang;
  return options;
}

bool selected(const Subscription& s, Term name) { return s.attribute_set.empty() || s.attribute_set.contains(name); }

// "previousValue" for "value", "previousObject" for "object", ...
std::string previous_member(model::AttributeKind kind) {
  std::string member(model::kind_value_member(kind));
  member[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(member[0])));
  return "previous" + member;
}

bool same_dataset(const json::object& instance, Term dataset_id) {
  const auto* member = instance.if_contains("datasetId");
  if (dataset_id.empty()) return member == nullptr;
  return member && member->is_string() && member->get_string() == dataset_id.str();
}

// The rendered instance of `attribute` inside the rendered value of its attribute (an instance or an
// array of them), as an object: a bare concise value is turned into {"value": …} first.
json::object* rendered_instance(json::value& rendered, const Attribute& attribute, jsonld::Form form) {
  if (rendered.is_array()) {
    for (auto& item : rendered.as_array())
      if (item.is_object() && same_dataset(item.as_object(), attribute.dataset_id)) return &item.as_object();
    return nullptr;
  }
  const bool bare = form == jsonld::Form::Concise &&
                    (!rendered.is_object() ||
                     (attribute.kind == model::AttributeKind::GeoProperty && !rendered.as_object().contains("value")));
  if (bare) rendered = json::object{{"value", rendered}};
  if (!rendered.is_object() || !same_dataset(rendered.as_object(), attribute.dataset_id)) return nullptr;
  return &rendered.as_object();
}

// Adds an instance rendered apart to the attribute `key` of `out` (making an array if needed).
void add_instance(json::object& out, const std::string& key, json::value instance) {
  auto* current = out.if_contains(key);
  if (!current) {
    out[key] = std::move(instance);
  } else if (current->is_array()) {
    current->as_array().push_back(std::move(instance));
  } else {
    json::array both;
    both.push_back(std::move(*current));
    both.push_back(std::move(instance));
    *current = std::move(both);
  }
}

json::value deleted_instance(const Attribute& before, jsonld::Form form, bool show_changes) {
  if (form == jsonld::Form::Simplified) return json::value(jsonld::kNgsiLdNull);
  json::object o;
  if (form == jsonld::Form::Normalized) o["type"] = model::kind_name(before.kind);
  o[model::kind_value_member(before.kind)] = jsonld::kNgsiLdNull;
  if (!before.dataset_id.empty()) o["datasetId"] = before.dataset_id.str();
  if (show_changes) o[previous_member(before.kind)] = before.value;
  return o;
}

json::value types_json(const model::Entity& entity, const jsonld::Context& ctx) {
  if (entity.types.size() == 1) return json::value(ctx.compact(entity.types.front().str()));
  json::array types;
  for (Term t : entity.types) types.push_back(json::value(ctx.compact(t.str())));
  return types;
}

}  // namespace

json::object notified_entity(const Subscription& s, const model::Entity& entity) {
  const auto options = encode_options(s);
  return jsonld::encode_entity(entity, *s.context.resolved, options);
}

json::object notified_entity(const Subscription& s, const twin::ChangeEvent& event) {
  const jsonld::Context& ctx = *s.context.resolved;
  const model::Entity& entity = *event.entity;
  if (event.kind == twin::ChangeEvent::Kind::Deleted) {
    json::object out;
    out["id"] = entity.id;
    out["type"] = types_json(entity, ctx);
    if (s.sys_attrs && s.format != jsonld::Form::Simplified) out["deletedAt"] = format_datetime(event.at);
    return out;
  }
  json::object out = notified_entity(s, entity);
  if (event.kind != twin::ChangeEvent::Kind::Updated || !event.previous) return out;
  const model::Entity& previous = *event.previous;
  const bool show_changes = s.show_changes && s.format != jsonld::Form::Simplified;
  if (show_changes)
    for (const auto& [name, dataset_id] : event.written) {
      if (!selected(s, name)) continue;
      const Attribute* before = previous.find(name, dataset_id);
      const Attribute* now = entity.find(name, dataset_id);
      if (!before || !now) continue;
      auto* rendered = out.if_contains(ctx.compact(name.str()));
      if (!rendered) continue;
      if (json::object* instance = rendered_instance(*rendered, *now, s.format))
        (*instance)[previous_member(before->kind)] = before->value;
    }
  for (const auto& [name, dataset_id] : event.removed) {
    if (!selected(s, name)) continue;
    if (const Attribute* before = previous.find(name, dataset_id))
      add_instance(out, ctx.compact(name.str()), deleted_instance(*before, s.format, show_changes));
  }
  return out;
}

json::object make_notification(const std::string& subscription_id, json::array data, Timestamp notified_at) {
  thread_local boost::uuids::random_generator generate;
  json::object n;
  n["id"] = std::string(kNotificationIdPrefix) + boost::uuids::to_string(generate());
  n["type"] = "Notification";
  n["subscriptionId"] = subscription_id;
  n["notifiedAt"] = format_datetime(notified_at);
  n["data"] = std::move(data);
  return n;
}

}  // namespace ct::notify
