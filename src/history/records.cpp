#include "history/records.hpp"

#include <cmath>

#include "jsonld/entity_codec.hpp"

namespace ct::history {
namespace {

constexpr char kBlockFormat = 1;
constexpr char kRolledUpFormat = 2;

bool is_plain(const model::Attribute& instance) {
  const bool scalar = instance.value.is_number() || instance.value.is_string() || instance.value.is_bool();
  return instance.kind == model::AttributeKind::Property && instance.sub_attributes.empty() && scalar;
}

}  // namespace

const jsonld::Context& identity_context() {
  static const jsonld::Context context = [] {
    jsonld::Context c;
    c.seal(nullptr);
    return c;
  }();
  return context;
}

std::optional<double> number_of(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

std::optional<RawRecord> parse_raw(std::string_view value) {
  auto parsed = parse_json(value);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const auto& o = parsed->get_object();
  RawRecord r;
  if (const auto* c = o.if_contains("c"); c && c->is_int64()) r.changed_at = c->get_int64();
  if (const auto* d = o.if_contains("d"); d && d->is_bool()) r.deleted = d->get_bool();
  if (const auto* a = o.if_contains("a"); a && a->is_object()) r.attribute = a->get_object();
  return r;
}

std::string plain_raw_value(const json::value& value, Timestamp observed_at, std::string_view unit_code,
                            std::string_view dataset_id, Timestamp created_at, Timestamp changed_at) {
  std::string record = "{\"c\":" + std::to_string(changed_at) + ",\"a\":{\"value\":";
  append_text(record, value);
  if (observed_at != kNoTimestamp) record += ",\"observedAt\":\"" + format_datetime(observed_at) + '"';
  if (!unit_code.empty()) {
    record += ",\"unitCode\":";
    append_text(record, json::value(unit_code));
  }
  if (!dataset_id.empty()) {
    record += ",\"datasetId\":";
    append_text(record, json::value(dataset_id));
  }
  if (created_at != kNoTimestamp && created_at != changed_at)
    record += ",\"createdAt\":\"" + format_datetime(created_at) + '"';
  record += "}}";
  return record;
}

std::string raw_value(const std::string& entity_id, const model::Attribute& instance, Timestamp changed_at) {
  if (is_plain(instance))
    return plain_raw_value(instance.value, instance.observed_at, instance.unit_code.str(), instance.dataset_id.str(),
                           instance.created_at, changed_at);
  std::string record = "{\"c\":" + std::to_string(changed_at) + ",\"a\":";
  model::Entity wrapper;
  wrapper.id = entity_id;
  wrapper.attributes.push_back(instance);
  jsonld::EncodeOptions options;
  options.sys_attrs = true;
  auto encoded = jsonld::encode_entity(wrapper, identity_context(), options);
  const json::value* a = encoded.if_contains(instance.name.str());
  if (a && a->is_array() && !a->get_array().empty()) a = &a->get_array().front();
  append_text(record, a ? *a : json::value(json::object()));
  record += '}';
  return record;
}

std::string point_raw_value(const double* xyz, std::size_t count, Timestamp observed_at, std::string_view unit_code,
                            std::string_view dataset_id, Timestamp created_at, Timestamp changed_at) {
  json::array coordinates;
  for (std::size_t i = 0; i < count; ++i) coordinates.push_back(xyz[i]);
  json::object a{{"type", "GeoProperty"}, {"value", json::object{{"type", "Point"}, {"coordinates", std::move(coordinates)}}}};
  if (observed_at != kNoTimestamp) a["observedAt"] = format_datetime(observed_at);
  if (!unit_code.empty()) a["unitCode"] = unit_code;
  if (!dataset_id.empty()) a["datasetId"] = dataset_id;
  if (created_at != kNoTimestamp) a["createdAt"] = format_datetime(created_at);
  std::string record = "{\"c\":" + std::to_string(changed_at) + ",\"a\":";
  append_text(record, a);
  record += '}';
  return record;
}

std::string deleted_raw_value(Timestamp changed_at) { return "{\"c\":" + std::to_string(changed_at) + ",\"d\":true}"; }

std::optional<Compactable> compactable(const RawRecord& r) {
  if (r.deleted) return std::nullopt;
  Compactable out;
  bool has_value = false;
  for (const auto& [key, member] : r.attribute) {
    if (key == "type") {
      if (!member.is_string() || member.get_string() != "Property") return std::nullopt;
    } else if (key == "value") {
      auto n = number_of(member);
      if (!n || std::isnan(*n)) return std::nullopt;
      out.value = *n;
      has_value = true;
    } else if (key == "unitCode") {
      if (!member.is_string() || member.get_string().size() > 255) return std::nullopt;
      out.unit = std::string(member.get_string());
    } else if (key != "observedAt" && key != "datasetId" && key != "createdAt" && key != "modifiedAt") {
      return std::nullopt;  // a sub-attribute
    }
  }
  if (!has_value) return std::nullopt;
  return out;
}

std::string block_value(const std::string& unit, std::string_view block, bool rolled_up) {
  std::string out;
  out.push_back(rolled_up ? kRolledUpFormat : kBlockFormat);
  out.push_back(static_cast<char>(unit.size()));
  out.append(unit);
  out.append(block);
  return out;
}

bool split_block_value(std::string_view value, std::string_view& unit, std::string_view& block, bool* rolled_up) {
  if (value.size() < 2 || (value[0] != kBlockFormat && value[0] != kRolledUpFormat)) return false;
  const auto unit_size = static_cast<unsigned char>(value[1]);
  if (value.size() < 2u + unit_size) return false;
  unit = value.substr(2, unit_size);
  block = value.substr(2 + unit_size);
  if (rolled_up) *rolled_up = value[0] == kRolledUpFormat;
  return true;
}

}  // namespace ct::history
