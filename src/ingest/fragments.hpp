#pragma once
// Small builders shared by the files of the ingestor (not an interface of the module): the entity
// fragments it writes, and what those writes say they are.
#include <string>

#include "ingest/conversion.hpp"
#include "jsonld/entity_codec.hpp"
#include "model/entity.hpp"
#include "twin/twin.hpp"

namespace ct::ingest {

// What the ingestor's writes say they are: a device's messages, or its own bookkeeping
// (provisioning, liveness, command status). Neither is taken for a command sent through NGSI-LD.
inline const twin::WriteOrigin kDeviceOrigin{twin::Origin::Device, {}};
inline const twin::WriteOrigin kSystemOrigin{twin::Origin::System, {}};

inline model::Attribute property(model::Term name, json::value value,
                                 model::AttributeKind kind = model::AttributeKind::Property) {
  model::Attribute a;
  a.name = name;
  a.kind = kind;
  a.value = std::move(value);
  return a;
}

// Geometries are GeoProperties; every other value type a Property.
inline model::AttributeKind attribute_kind_for(ValueType type) {
  return type == ValueType::GeoPoint || type == ValueType::GeoJson ? model::AttributeKind::GeoProperty
                                                                   : model::AttributeKind::Property;
}

inline jsonld::DecodedEntity fragment_of(const std::string& id, model::Term type) {
  jsonld::DecodedEntity e;
  e.header.id = id;
  e.header.types.push_back(type);
  return e;
}

}  // namespace ct::ingest
