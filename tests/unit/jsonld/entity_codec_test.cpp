#include "jsonld/entity_codec.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"

#include "jsonld/context_store.hpp"
#include "jsonld/entity_writer.hpp"

namespace ct::jsonld {
namespace {

class EntityCodec : public ::testing::Test {
 protected:
  ContextStore store;
  ContextPtr ctx = store.core();

  DecodedEntity decode(const char* text, DecodeOptions options = {}) {
    auto r = decode_entity(json::parse(text).as_object(), *ctx, options);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.problem().detail);
    return r.ok() ? std::move(r).value() : DecodedEntity{};
  }
  Problem decode_error(const char* text, DecodeOptions options = {}) {
    auto r = decode_entity(json::parse(text).as_object(), *ctx, options);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? Problem{} : r.problem();
  }
  model::Entity entity_of(DecodedEntity d) {
    model::Entity e;
    e.id = d.header.id;
    e.types = d.header.types;
    e.attributes = std::move(d.attributes);
    return e;
  }
  json::object encode(const char* text, Form form) {
    EncodeOptions options;
    options.form = form;
    return encode_entity(entity_of(decode(text)), *ctx, options);
  }
};

constexpr const char* kStation = R"({
  "id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
  "pm25": {"type": "Property", "value": 75.5, "unitCode": "GQ", "observedAt": "2024-01-01T08:00:00Z"},
  "name": {"type": "LanguageProperty", "languageMap": {"zh": "东四", "en": "Dongsi"}},
  "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:d1"},
  "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.417, 39.929]}},
  "address": {"type": "Property", "value": {"streetAddress": "Dongsi", "type": "PostalAddress"},
              "verified": {"type": "Property", "value": true}}
})";

// A NameCache shared by the entities of a batch gives the same names as decoding each alone, whatever
// order their members come in, and forgets them when the context changes.
TEST_F(EntityCodec, NameCacheGivesTheSameNamesInAnyMemberOrder) {
  NameCache names;
  DecodeOptions cached;
  cached.names = &names;
  const char* bodies[] = {
      R"({"id":"urn:a:1","type":"Sensor","speed":{"type":"Property","value":1},"flow":2,"occupancy":3})",
      R"({"id":"urn:a:2","type":"Sensor","speed":{"type":"Property","value":1},"flow":2,"occupancy":3})",
      R"({"id":"urn:a:3","type":"Road","occupancy":3,"speed":1,"extra":{"type":"Property","value":4,"accuracy":0.5}})",
      R"({"id":"urn:a:4","type":["Sensor","Road"],"flow":2,"extra":4,"speed":1})",
  };
  auto names_of = [](const DecodedEntity& d) {
    std::vector<model::Term> out = d.header.types;
    for (const auto& a : d.attributes) {
      out.push_back(a.name);
      for (const auto& sub : a.sub_attributes) out.push_back(sub.name);
    }
    return out;
  };
  for (int round = 0; round < 2; ++round)
    for (const char* body : bodies) EXPECT_EQ(names_of(decode(body, cached)), names_of(decode(body))) << body;
  ContextStore other_store;
  auto other = other_store.resolve(json::parse(R"({"speed":"https://example.org/speed"})"));
  ASSERT_TRUE(other.ok());
  auto r = decode_entity(json::parse(bodies[0]).as_object(), **other, cached);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attributes[0].name.str(), "https://example.org/speed");
  EXPECT_EQ(decode(bodies[0], cached).attributes[0].name.str(), "https://uri.etsi.org/ngsi-ld/default-context/speed");
}

}  // namespace

TEST_F(EntityCodec, NormalizedRoundTrips) {
  json::object out = encode(kStation, Form::Normalized);
  json::object expected = json::parse(kStation).as_object();
  expected["pm25"].as_object()["observedAt"] = "2024-01-01T08:00:00.000Z";
  EXPECT_EQ(out, expected);
}

TEST_F(EntityCodec, SimplifiedDropsEverythingButValues) {
  EXPECT_EQ(encode(kStation, Form::Simplified), json::parse(R"({
    "id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved", "pm25": 75.5,
    "name": {"languageMap": {"zh": "东四", "en": "Dongsi"}}, "refDevice": "urn:ngsi-ld:Device:d1",
    "location": {"type": "Point", "coordinates": [116.417, 39.929]},
    "address": {"streetAddress": "Dongsi", "type": "PostalAddress"}})"));
}

TEST_F(EntityCodec, ConciseLeavesOutWhatCanBeInferredAndReadsBackTheSame) {
  json::object concise = encode(kStation, Form::Concise);
  EXPECT_EQ(concise.at("location"), json::parse(R"({"type":"Point","coordinates":[116.417,39.929]})"));
  EXPECT_EQ(concise.at("refDevice"), json::parse(R"({"object":"urn:ngsi-ld:Device:d1"})"));
  EXPECT_FALSE(concise.at("pm25").as_object().contains("type"));
  // Concise input decodes to the same entity as the normalized original.
  const std::string text = to_text(concise);
  EncodeOptions normalized;
  EXPECT_EQ(encode_entity(entity_of(decode(text.c_str())), *ctx, normalized), encode(kStation, Form::Normalized));
}

TEST_F(EntityCodec, SimplifiedInputMakesPropertiesAndGeoProperties) {
  DecodeOptions options;
  options.simplified = true;
  auto d = decode(R"({"id":"urn:x:1","type":"T","speed":42,"location":{"type":"Point","coordinates":[1,2]},
                     "tags":["a","b"]})", options);
  ASSERT_EQ(d.attributes.size(), 3u);
  EXPECT_EQ(d.attributes[0].kind, model::AttributeKind::Property);
  EXPECT_EQ(d.attributes[1].kind, model::AttributeKind::GeoProperty);
  EXPECT_TRUE(d.attributes[2].value.is_array());
}

TEST_F(EntityCodec, DatasetIdsMakeSeveralInstances) {
  auto d = decode(R"({"id":"urn:x:1","type":"T","speed":[
      {"type":"Property","value":40,"datasetId":"urn:ngsi-ld:Dataset:radar"},
      {"type":"Property","value":42}]})");
  ASSERT_EQ(d.attributes.size(), 2u);
  EXPECT_EQ(d.attributes[0].dataset_id.str(), "urn:ngsi-ld:Dataset:radar");
  EXPECT_TRUE(d.attributes[1].dataset_id.empty());
  EXPECT_EQ(decode_error(R"({"id":"urn:x:1","type":"T","speed":[{"type":"Property","value":1},
                                                                 {"type":"Property","value":2}]})").detail.find("same datasetId") != std::string::npos, true);
}

TEST_F(EntityCodec, LanguageFilterPicksOneLanguage) {
  EncodeOptions options;
  options.form = Form::Simplified;
  options.lang = "en";
  EXPECT_EQ(encode_entity(entity_of(decode(kStation)), *ctx, options).at("name"), "Dongsi");
}

TEST_F(EntityCodec, RejectsBadInputNamingTheFault) {
  EXPECT_NE(decode_error(R"({"id":"not a uri","type":"T"})").detail.find("URI"), std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"bad type"})").detail.find("not a valid name"), std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"T","a=b":1})").detail.find("not a valid name"), std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"T","location":{"type":"GeoProperty","value":"here"}})").detail.find("geometry"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"T","p":{"type":"Property"}})").detail.find("no \"value\""), std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"T","r":{"type":"Relationship","object":"nope"}})").detail.find("URI"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"T","p":{"type":"Property","value":1,"observedAt":"noon"}})").detail.find("date-time"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"id":"urn:x:1","type":"T","p":{"type":"Property","value":null}})").detail.find("null"),
            std::string::npos);
}

TEST_F(EntityCodec, MergePatchNullDeletes) {
  DecodeOptions options;
  options.allow_null_values = true;
  auto d = decode(R"({"a":"urn:ngsi-ld:null","b":{"type":"Property","value":1,"sub":"urn:ngsi-ld:null"}})", options);
  ASSERT_EQ(d.deleted.size(), 1u);
  ASSERT_EQ(d.attributes.size(), 1u);
  ASSERT_EQ(d.attributes[0].sub_attributes.size(), 1u);
  EXPECT_TRUE(d.attributes[0].sub_attributes[0].value.is_null());
}

TEST_F(EntityCodec, GeoJsonFeatureUsesTheChosenGeometry) {
  EncodeOptions options;
  options.form = Form::Simplified;
  std::string text;
  EntityWriter(*ctx, options).feature(text, entity_of(decode(kStation)), model::Term::intern("https://uri.etsi.org/ngsi-ld/location"));
  const json::object feature = json::parse(text).as_object();
  EXPECT_EQ(feature.at("type"), "Feature");
  EXPECT_EQ(feature.at("geometry"), json::parse(R"({"type":"Point","coordinates":[116.417,39.929]})"));
  EXPECT_EQ(feature.at("properties").as_object().at("pm25"), 75.5);
}

}  // namespace ct::jsonld
