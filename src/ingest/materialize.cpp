// The provisioning writes of the Ingestor (ingestor.hpp): what a (re)provisioned device shows in
// the twin, and the removal of its Device entity.
#include <algorithm>

#include "ingest/fragments.hpp"
#include "ingest/ingestor.hpp"
#include "model/names.hpp"

namespace ct::ingest {
namespace {

using model::AttributeKind;
using model::Term;

}  // namespace

Result<storage::Sequence> Ingestor::materialize(const ProvisionedDevice& d, const ProvisionedDevice* before) {
  auto entity = fragment_of(d.entity_id, d.entity_type);
  for (const auto& s : d.device.mapping.static_attributes) {
    const Term name = Term::intern(names_->expand(s.name));
    if (s.type == "Relationship") {
      if (!s.value.is_string() || !model::is_uri(s.value.as_string()))
        return bad_request("static attribute " + s.name + ": a Relationship needs a URI value");
      entity.attributes.push_back(property(name, s.value, AttributeKind::Relationship));
      continue;
    }
    // As the IoT Agents do, a static value is written as given; only geometries are checked and
    // normalized (a "lat,lon" text becomes a GeoJSON Point).
    const ValueType type = value_type_from_name(s.type);
    if (type != ValueType::GeoPoint && type != ValueType::GeoJson) {
      entity.attributes.push_back(property(name, s.value));
      continue;
    }
    MeasureValue raw = s.value;
    if (s.value.is_string()) raw = std::string_view(s.value.as_string());
    auto value = convert(raw, type, s.name);
    if (!value) return value.problem();
    if (value->is_null()) continue;
    entity.attributes.push_back(property(name, std::move(*value), attribute_kind_for(type)));
  }
  for (const auto& c : d.commands) {
    if (before && before->command(c.name)) continue;  // keeps its last value and status
    entity.attributes.push_back(property(c.attribute, ""));
    entity.attributes.push_back(property(c.status, "UNKNOWN"));
    entity.attributes.push_back(property(c.info, ""));
  }
  auto device = fragment_of(device_entity_id(d.device.device_id), device_type_);
  device.attributes.push_back(property(controlled_asset_, json::value(d.entity_id), AttributeKind::Relationship));
  device.attributes.push_back(property(device_name_, json::value(d.device.device_id)));
  device.attributes.push_back(
      property(device_state_, json::value(state_name(static_cast<DeviceState>(d.liveness->state.load())))));
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(std::move(entity));
  if (device_entity_id(d.device.device_id) != d.entity_id) batch.push_back(std::move(device));
  auto outcome = twin_.batch_upsert(d.device.tenant, std::move(batch), twin::UpsertMode::Update, kSystemOrigin);
  for (const auto& item : outcome.items)
    if (item.error) return *item.error;
  return outcome.sequence;
}

Result<storage::Sequence> Ingestor::materialize(const GroupChange& change) {
  // Only what an entity shows: a change of mapping alone writes nothing (and wakes no rule).
  auto same_on_entity = [](const ProvisionedDevice& a, const ProvisionedDevice& b) {
    const auto& x = a.device.mapping.static_attributes;
    const auto& y = b.device.mapping.static_attributes;
    return a.device.mapping.commands.size() == b.device.mapping.commands.size() &&
           std::all_of(a.commands.begin(), a.commands.end(), [&](const ResolvedCommand& c) { return b.command(c.name); }) &&
           std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const StaticAttribute& l, const StaticAttribute& r) {
             return l.name == r.name && l.type == r.type && l.value == r.value;
           });
  };
  storage::Sequence last = change.sequence;
  for (const auto& [before, after] : change.devices) {
    if (same_on_entity(*before, *after)) continue;
    auto written = materialize(*after, before.get());
    if (!written) return written.problem();
    last = std::max(last, *written);
  }
  return last;
}

Result<storage::Sequence> Ingestor::forget(const ProvisionedDevice& d) {
  auto removed = twin_.remove(d.device.tenant, device_entity_id(d.device.device_id), kSystemOrigin);
  if (!removed) return storage::Sequence{0};  // already gone
  return removed->sequence;
}

}  // namespace ct::ingest
