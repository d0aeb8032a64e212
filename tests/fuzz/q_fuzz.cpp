// libFuzzer target for the query languages: the input is parsed as q, as scopeQ and as a type
// expression; whatever parses is evaluated against a fixed entity that has one attribute of each
// kind, sub-attributes, metadata, a compound value and several dataset instances.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jsonld/context_store.hpp"
#include "jsonld/entity_codec.hpp"
#include "query/q.hpp"
#include "query/scope.hpp"
#include "query/type_expression.hpp"

namespace {

constexpr const char* kEntity = R"({
  "id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": ["AirQualityObserved", "Device"],
  "scope": ["/Beijing/Dongcheng/Dongsi", "/Sensors"],
  "pm25": {"type": "Property", "value": 75.5, "unitCode": "GQ", "observedAt": "2024-01-01T08:00:00Z",
           "reliability": {"type": "Property", "value": 0.9, "source": {"type": "Property", "value": "sensor"}}},
  "count": {"type": "Property", "value": 42, "createdAt": "2023-06-01T00:00:00Z"},
  "big": {"type": "Property", "value": 18446744073709551615},
  "status": {"type": "Property", "value": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"},
  "active": {"type": "Property", "value": true},
  "name": {"type": "LanguageProperty", "languageMap": {"zh": "东四", "en": "Dongsi"}},
  "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:d1"},
  "devices": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Device:d2"}]},
  "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.417, 39.929]}},
  "address": {"type": "Property", "value": {"streetAddress": "Dongsi", "city": {"name": "Beijing"}}},
  "dateObserved": {"type": "Property", "value": "2024-01-01T08:00:00Z"},
  "dayObserved": {"type": "Property", "value": "2024-01-01"},
  "openingTime": {"type": "Property", "value": "08:30:00"},
  "tags": {"type": "Property", "value": ["a", "b", 3, null, {"x": 1}, [1]]},
  "temperature": [{"type": "Property", "value": 20, "datasetId": "urn:ngsi-ld:dataset:indoor"},
                  {"type": "Property", "value": -5, "datasetId": "urn:ngsi-ld:dataset:outdoor"}]
})";

struct Fixture {
  ct::jsonld::ContextStore store;
  ct::jsonld::ContextPtr ctx = store.core();
  ct::model::Entity entity;

  Fixture() {
    ct::jsonld::DecodeOptions options;
    options.trusted = true;
    auto decoded = ct::jsonld::decode_entity(ct::json::parse(kEntity).as_object(), *ctx, options);
    if (!decoded.ok()) __builtin_trap();  // the fixture itself is wrong
    entity.id = decoded->header.id;
    entity.types = decoded->header.types;
    entity.scopes = decoded->header.scopes;
    entity.attributes = std::move(decoded->attributes);
  }
};

const Fixture& fixture() {
  static const Fixture* instance = new Fixture();  // never destroyed, like the term pool
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& f = fixture();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto q = ct::query::parse_q(text, *f.ctx); q.ok()) {
    volatile bool matched = q->matches(f.entity);
    (void)matched;
    volatile std::size_t count = q->required_terms().size() + q->attributes().size();
    (void)count;
  } else if (q.problem().detail.empty() || q.problem().kind != ct::ProblemKind::BadRequestData) {
    __builtin_trap();  // every rejection must say why, as a 400
  }

  if (auto scope = ct::query::parse_scope_q(text); scope.ok()) {
    volatile bool matched = scope->matches(f.entity.scopes);
    (void)matched;
  } else if (scope.problem().kind != ct::ProblemKind::BadRequestData) {
    __builtin_trap();
  }

  if (auto types = ct::query::parse_type_expression(text, *f.ctx); types.ok()) {
    volatile bool matched = types->matches(f.entity.types);
    (void)matched;
    if (auto any = types->any_of()) {
      volatile std::size_t count = any->size();
      (void)count;
    }
  } else if (types.problem().kind != ct::ProblemKind::BadRequestData) {
    __builtin_trap();
  }
  return 0;
}
