#include "twin/stored_document.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "jsonld/context_store.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::twin {
namespace {

// The stored document must be what the tree encoder gives (normalized, expanded names, system
// attributes), and must read back as the same entity.
class StoredDocument : public ::testing::Test {
 protected:
  jsonld::ContextStore contexts;
  jsonld::Context no_terms = [] {
    jsonld::Context c;
    c.seal(nullptr);
    return c;
  }();

  model::Entity entity_of(const std::string& text, const jsonld::Context& ctx) {
    auto decoded = jsonld::decode_entity(json::parse(text).as_object(), ctx, {});
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.problem().detail);
    model::Entity e;
    if (!decoded.ok()) return e;
    e.id = decoded->header.id;
    e.types = decoded->header.types;
    e.scopes = decoded->header.scopes;
    e.created_at = 1700000000123;
    e.modified_at = 1700000500456;
    const model::WriteStamp stamp{1700000500456, 2};
    for (auto& a : decoded->attributes) {
      model::stamp_write(a, nullptr, stamp);
      a.created_at = 1700000000123;
      e.attributes.push_back(std::move(a));
    }
    return e;
  }

  void expect_as_encoder(const model::Entity& e, bool reads_back = true) {
    std::string direct;
    append_stored_document(direct, e);
    jsonld::EncodeOptions options;
    options.sys_attrs = true;
    // Compared as printed JSON (member order aside): a double such as 1.0 prints as 1 either way.
    const json::value tree = json::parse(to_text(jsonld::encode_entity(e, no_terms, options)));
    auto parsed = parse_json(direct, 2 * kMaxJsonDepth);
    ASSERT_TRUE(parsed.ok()) << direct;
    EXPECT_EQ(*parsed, tree) << direct;
    if (!reads_back) return;

    jsonld::DecodeOptions trusted;
    trusted.trusted = true;
    auto back = jsonld::decode_entity(parsed->as_object(), no_terms, trusted);
    ASSERT_TRUE(back.ok()) << back.problem().detail;
    model::Entity reread;
    reread.id = back->header.id;
    reread.types = back->header.types;
    reread.scopes = back->header.scopes;
    reread.created_at = back->header.created_at;
    reread.modified_at = back->header.modified_at;
    reread.attributes = std::move(back->attributes);
    EXPECT_EQ(json::parse(to_text(jsonld::encode_entity(reread, no_terms, options))), tree);
  }
};

TEST_F(StoredDocument, EveryAttributeKindAsTheEncoderWritesIt) {
  expect_as_encoder(entity_of(R"({
    "id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": ["AirQualityObserved", "Station"], "scope": "/Beijing/Dongcheng",
    "pm25": {"type": "Property", "value": 75.5, "unitCode": "GQ", "observedAt": "2024-01-01T08:00:00Z"},
    "count": {"type": "Property", "value": 12}, "big": {"type": "Property", "value": 18446744073709551615},
    "note": {"type": "Property", "value": "a \"quoted\"\nline \u0001 东四"},
    "name": {"type": "LanguageProperty", "languageMap": {"zh": "东四", "en": "Dongsi"}},
    "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:d1", "objectType": "Device"},
    "refs": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Device:d2"}]},
    "category": {"type": "VocabProperty", "vocab": ["urban", "traffic"]},
    "raw": {"type": "JsonProperty", "json": {"any": [1, null, true]}},
    "series": {"type": "ListProperty", "valueList": [1, 2.5, "x"]},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.417, 39.929]}},
    "address": {"type": "Property", "value": {"streetAddress": "Dongsi", "type": "PostalAddress"},
                "verified": {"type": "Property", "value": true,
                             "by": {"type": "Relationship", "object": "urn:ngsi-ld:Person:p1"}}},
    "speed": [{"type": "Property", "value": 10, "datasetId": "urn:ngsi-ld:Dataset:a"},
              {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:b", "observedAt": "2024-01-01T08:00:00.5Z"}]
  })", *contexts.core()));
}

TEST_F(StoredDocument, SeveralScopesAndInstancesApart) {
  auto e = entity_of(R"({"id": "urn:ngsi-ld:X:1", "type": "X", "scope": ["/a", "/b/c"],
                         "a": {"type": "Property", "value": 1}, "b": {"type": "Property", "value": 2}})",
                     *contexts.core());
  // instances of one attribute need not be next to each other in the model
  model::Attribute second = e.attributes.front();
  second.dataset_id = model::Term::intern("urn:ngsi-ld:Dataset:2");
  e.attributes.push_back(second);
  expect_as_encoder(e);
}

TEST_F(StoredDocument, NamesThatCouldCollideWithKeywordsAsTheEncoderWritesThem) {
  // With no @vocab, names stay as written: "createdAt" as an attribute name and a repeated
  // sub-attribute are written as the tree encoder writes them (one member per key).
  auto e = entity_of(R"({"id": "urn:ngsi-ld:X:1", "type": "X", "plain": {"type": "Property", "value": 1}})", no_terms);
  model::Attribute shadow = e.attributes.front();
  shadow.name = model::Term::intern("modifiedAt");
  e.attributes.push_back(shadow);
  model::Attribute sub = e.attributes.front();
  e.attributes.front().sub_attributes = {sub, sub};
  e.attributes.front().sub_attributes[1].value = 2;
  expect_as_encoder(e, /*reads_back=*/false);  // such an entity cannot be written faithfully by either
}

TEST_F(StoredDocument, SmartDataModelExamplesAsTheEncoderWritesThem) {
  const std::filesystem::path root = std::filesystem::path(CITYTWIN_SOURCE_DIR) / "tests/fixtures/sdm";
  int count = 0;
  for (const auto& dir : std::filesystem::directory_iterator(root)) {
    const auto file = dir.path() / "example-normalized.jsonld";
    if (!std::filesystem::exists(file)) continue;
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    json::value body = json::parse(text.str());
    body.as_object().erase("@context");
    SCOPED_TRACE(file.string());
    expect_as_encoder(entity_of(json::serialize(body), *contexts.core()));
    ++count;
  }
  EXPECT_GE(count, 5);
}

}  // namespace
}  // namespace ct::twin
