#include "twin/entity_record.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "json_printer.hpp"

namespace ct::twin {
namespace {

using model::Attribute;
using model::AttributeKind;
using model::Entity;
using model::Term;

const std::string kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
Term name(const std::string& short_name) { return Term::intern(kVocab + short_name); }

// Equal in kind, bits and member order: what json::value's == does not tell (1 == 1.0, 0.0 == -0.0).
::testing::AssertionResult same_json(const json::value& a, const json::value& b) {
  if (a.kind() != b.kind()) return ::testing::AssertionFailure() << to_text(a) << " vs " << to_text(b) << ": kinds differ";
  if (a.is_double() && std::bit_cast<std::uint64_t>(a.get_double()) != std::bit_cast<std::uint64_t>(b.get_double()))
    return ::testing::AssertionFailure() << to_text(a) << " vs " << to_text(b) << ": bits differ";
  if (a.is_array()) {
    if (a.get_array().size() != b.get_array().size()) return ::testing::AssertionFailure() << "array sizes differ";
    for (std::size_t i = 0; i < a.get_array().size(); ++i)
      if (auto r = same_json(a.get_array()[i], b.get_array()[i]); !r) return r;
  }
  if (a.is_object()) {
    if (a.get_object().size() != b.get_object().size()) return ::testing::AssertionFailure() << "object sizes differ";
    for (auto x = a.get_object().begin(), y = b.get_object().begin(); x != a.get_object().end(); ++x, ++y) {
      if (x->key() != y->key()) return ::testing::AssertionFailure() << x->key() << " vs " << y->key();
      if (auto r = same_json(x->value(), y->value()); !r) return r;
    }
  }
  if (!a.is_structured() && !a.is_double() && a != b) return ::testing::AssertionFailure() << to_text(a) << " vs " << to_text(b);
  return ::testing::AssertionSuccess();
}

void expect_same(const Attribute& a, const Attribute& b) {
  SCOPED_TRACE(std::string(a.name.str()));
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.dataset_id, b.dataset_id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_TRUE(same_json(a.value, b.value));
  EXPECT_EQ(a.observed_at, b.observed_at);
  EXPECT_EQ(a.unit_code, b.unit_code);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.modified_at, b.modified_at);
  ASSERT_EQ(a.sub_attributes.size(), b.sub_attributes.size());
  for (std::size_t i = 0; i < a.sub_attributes.size(); ++i) expect_same(a.sub_attributes[i], b.sub_attributes[i]);
}

void expect_same(const Entity& a, const Entity& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.types, b.types);
  EXPECT_EQ(a.scopes, b.scopes);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.modified_at, b.modified_at);
  ASSERT_EQ(a.attributes.size(), b.attributes.size());
  for (std::size_t i = 0; i < a.attributes.size(); ++i) expect_same(a.attributes[i], b.attributes[i]);
}

std::string record_of(const Entity& e) {
  std::string out;
  append_entity_record(out, e);
  return out;
}

Entity read_back(const Entity& e) {
  auto back = read_entity_record(record_of(e));
  EXPECT_TRUE(back.ok()) << back.problem().detail;
  return back.ok() ? std::move(back).value() : Entity{};
}

Attribute attribute(const std::string& short_name, json::value value, AttributeKind kind = AttributeKind::Property) {
  Attribute a;
  a.name = name(short_name);
  a.kind = kind;
  a.value = std::move(value);
  a.created_at = 1795939200000;
  a.modified_at = 1795942800123;
  return a;
}

json::object point(json::array coordinates) { return json::object{{"type", "Point"}, {"coordinates", std::move(coordinates)}}; }

// One attribute of every kind, every JSON value type, metadata and nesting the model holds.
Entity everything() {
  Entity e;
  e.id = "urn:ngsi-ld:AirQualityObserved:东四-1";
  e.types = {name("AirQualityObserved"), Term::intern("https://smartdatamodels.org/dataModel.Device/Device")};
  e.scopes = {"/Beijing/Dongcheng/Dongsi", "/Sensors", "/城市"};
  e.created_at = 1795939200000;
  e.modified_at = 1795942800123;

  Attribute pm25 = attribute("pm25", 75.5);
  pm25.unit_code = Term::intern("GQ");
  pm25.observed_at = 1795942700000;
  Attribute reliability = attribute("reliability", 0.9);
  Attribute source = attribute("source", "sensor");
  source.observed_at = -86400000;  // before 1970
  reliability.sub_attributes.push_back(source);
  pm25.sub_attributes.push_back(reliability);
  pm25.sub_attributes.push_back(attribute("providedBy", "urn:ngsi-ld:Device:d1", AttributeKind::Relationship));
  e.attributes.push_back(pm25);

  for (auto [short_name, number] : std::initializer_list<std::pair<const char*, json::value>>{
           {"zero", std::int64_t{0}},
           {"negative", std::int64_t{-5}},
           {"int64Min", std::numeric_limits<std::int64_t>::min()},
           {"int64Max", std::numeric_limits<std::int64_t>::max()},
           {"uint64Max", std::numeric_limits<std::uint64_t>::max()},
           {"minusZero", -0.0},
           {"huge", 1e300},
           {"tiny", 4.9e-324},
           {"tenth", 0.1 + 0.2},
           {"negativeDouble", -123456789.125},
           {"integralDouble", 3.0},
       })
    e.attributes.push_back(attribute(short_name, number));

  e.attributes.push_back(attribute("active", true));
  e.attributes.push_back(attribute("broken", false));
  e.attributes.push_back(attribute("empty", ""));
  e.attributes.push_back(attribute("unicode", "东四 — Ünïcödé ☃ 🚦 \"quoted\" \\ \n\t\x01"));
  e.attributes.push_back(attribute("nothing", nullptr, AttributeKind::JsonProperty));
  e.attributes.push_back(attribute(
      "address", json::object{{"streetAddress", "Dongsi"},
                              {"city", json::object{{"name", "北京"}, {"codes", json::array{1, -2, 3.5, nullptr, true}}}},
                              {"", json::object{}},
                              {"list", json::array{}}}));
  e.attributes.push_back(attribute("tags", json::array{"a", "b", 3, nullptr, json::object{{"x", 1}}, json::array{json::array{1}}}));

  // Several instances of one attribute: the default one and two datasetIds.
  for (auto [value, dataset] : {std::pair<int, const char*>{20, ""}, {-5, "urn:ngsi-ld:Dataset:outdoor"}, {21, "urn:ngsi-ld:Dataset:indoor"}}) {
    Attribute t = attribute("temperature", value);
    if (*dataset) t.dataset_id = Term::intern(dataset);
    t.unit_code = Term::intern("CEL");
    e.attributes.push_back(t);
  }
  e.attributes.push_back(attribute("name", json::object{{"zh", "东四"}, {"en", "Dongsi"}, {"many", json::array{"a", "b"}}},
                                   AttributeKind::LanguageProperty));
  e.attributes.push_back(attribute("refDevice", "urn:ngsi-ld:Device:d1", AttributeKind::Relationship));
  e.attributes.push_back(attribute("refDevices", json::array{"urn:ngsi-ld:Device:d1", "urn:ngsi-ld:Device:d2"}, AttributeKind::Relationship));
  e.attributes.push_back(attribute("category", json::array{"urban", "traffic"}, AttributeKind::VocabProperty));
  e.attributes.push_back(attribute("config", json::object{{"type", "Point"}, {"deep", json::array{json::object{}}}},
                                   AttributeKind::JsonProperty));
  e.attributes.push_back(attribute("readings", json::array{1.5, 2.5, json::object{{"value", 3}}}, AttributeKind::ListProperty));
  e.attributes.push_back(attribute("devices", json::array{json::object{{"object", "urn:ngsi-ld:Device:d2"}}},
                                   AttributeKind::ListRelationship));

  // Points as the short form takes them, and geometries it must leave as they are.
  Attribute location = attribute("location", point({116.417, 39.929}), AttributeKind::GeoProperty);
  location.observed_at = 1795942700000;
  e.attributes.push_back(location);
  e.attributes.push_back(attribute("p2", point({-0.0, -90.0}), AttributeKind::GeoProperty));
  e.attributes.push_back(attribute("integerPoint", point({std::int64_t{116}, 39.9}), AttributeKind::GeoProperty));
  e.attributes.push_back(attribute("point3d", point({-0.5, 51.25, 12.125}), AttributeKind::GeoProperty));
  e.attributes.push_back(attribute(
      "reversedPoint", json::object{{"coordinates", json::array{1.5, 2.5}}, {"type", "Point"}}, AttributeKind::GeoProperty));
  e.attributes.push_back(attribute("pointWithMore", json::object{{"type", "Point"}, {"coordinates", json::array{1.5, 2.5}}, {"bbox", 1}},
                                   AttributeKind::GeoProperty));
  e.attributes.push_back(attribute(
      "road", json::object{{"type", "LineString"}, {"coordinates", json::array{json::array{1.5, 2.5}, json::array{3.5, 4.5}}}},
      AttributeKind::GeoProperty));

  // Missing times, and times far from the entity's.
  Attribute bare = attribute("bare", 1);
  bare.created_at = bare.modified_at = kNoTimestamp;
  e.attributes.push_back(bare);
  Attribute far = attribute("far", 1);
  far.created_at = std::numeric_limits<Timestamp>::min() + 1;
  far.modified_at = std::numeric_limits<Timestamp>::max();
  far.observed_at = -62135596800000;  // 0001-01-01
  e.attributes.push_back(far);
  // A name that shares nothing with the one before it, then one that is a prefix of it.
  e.attributes.push_back(attribute("x", 1));
  Attribute prefix = attribute("x", 2);
  prefix.name = Term::intern("urn:x");
  e.attributes.push_back(prefix);
  Attribute shorter = attribute("x", 3);
  shorter.name = Term::intern("urn:");
  e.attributes.push_back(shorter);
  return e;
}

TEST(EntityRecord, RoundTripsEveryKindValueTypeAndMember) {
  const Entity e = everything();
  const Entity back = read_back(e);
  expect_same(e, back);
  EXPECT_TRUE(std::signbit(back.find(name("minusZero"))->value.get_double()));
  EXPECT_EQ(back.find(name("temperature"), Term::intern("urn:ngsi-ld:Dataset:outdoor"))->value, -5);
  EXPECT_EQ(back.revision, 0u) << "revisions count writes of one process";
}

TEST(EntityRecord, KeepsMissingTimesMissing) {
  Entity e;
  e.id = "urn:x:1";
  e.types = {name("T")};
  Attribute a = attribute("a", 1);
  a.created_at = a.modified_at = kNoTimestamp;
  Attribute b = attribute("b", 2);  // times but no entity time to measure them from
  b.sub_attributes.push_back(attribute("c", 3));
  b.sub_attributes.back().modified_at = kNoTimestamp;
  e.attributes = {a, b};
  expect_same(e, read_back(e));

  e.created_at = 5;  // created but never modified, and the other way round
  expect_same(e, read_back(e));
  e.created_at = kNoTimestamp;
  e.modified_at = -5;
  expect_same(e, read_back(e));
  e.attributes.clear();
  e.types.clear();
  expect_same(e, read_back(e));
}

TEST(EntityRecord, IsAQuarterOfTheJsonDocumentForASensor) {
  Entity e;
  e.id = "urn:ngsi-ld:Sensor:123456";
  e.types = {name("Sensor")};
  e.created_at = 1795939200000;
  e.modified_at = 1795942800123;
  for (const char* n : {"speed", "flow", "occupancy", "temperature", "humidity", "pm25", "pm10", "no2"})
    e.attributes.push_back(attribute(n, 123.4));
  e.attributes.push_back(attribute("status", "ok"));
  e.attributes.push_back(attribute("location", point({116.417, 39.929}), AttributeKind::GeoProperty));
  // The same sensor's JSON document (expanded names, system attributes) is about 1,200 bytes.
  EXPECT_LT(record_of(e).size(), 300u);
}

TEST(EntityRecord, TellsRecordsFromJsonDocuments) {
  EXPECT_TRUE(is_entity_record(record_of(everything())));
  EXPECT_FALSE(is_entity_record(R"({"id":"urn:x:1","type":"T"})"));
  EXPECT_FALSE(is_entity_record(""));
}

TEST(EntityRecord, RefusesEveryTruncation) {
  const std::string record = record_of(everything());
  for (std::size_t size = 0; size < record.size(); ++size) {
    auto back = read_entity_record(std::string_view(record).substr(0, size));
    ASSERT_FALSE(back.ok()) << "a record cut at " << size << " of " << record.size() << " bytes was accepted";
    EXPECT_FALSE(back.problem().detail.empty());
  }
  EXPECT_FALSE(read_entity_record(record + '\0').ok()) << "trailing bytes";
}

TEST(EntityRecord, RefusesUnknownVersionsKindsAndTags) {
  std::string record = record_of(everything());
  record[0] = 2;
  auto back = read_entity_record(record);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.problem().detail.find("version"), std::string::npos) << back.problem().detail;

  Entity e;
  e.id = "urn:x:1";
  e.attributes.push_back(attribute("a", 1));
  e.attributes.back().created_at = e.attributes.back().modified_at = kNoTimestamp;
  record = record_of(e);
  // version, flags, id (1 + 7), no types, no scopes, 1 attribute, then its kind; its value is last.
  const std::size_t kind_at = 13;
  ASSERT_EQ(record[kind_at], 0) << "the layout moved: update this test";
  ASSERT_EQ(record.substr(record.size() - 2), std::string({3, 2})) << "the layout moved: update this test";
  record[kind_at] = 8;
  EXPECT_FALSE(read_entity_record(record).ok());
  record[kind_at] = 0;
  record[record.size() - 2] = 42;  // the value's tag
  EXPECT_FALSE(read_entity_record(record).ok());
}

TEST(EntityRecord, HostileCountsAndNestingAreRefusedCheaply) {
  // A count of 2^62 types in a record of a dozen bytes.
  std::string huge = {1, 0, 1, 'x'};
  for (int i = 0; i < 8; ++i) huge.push_back(static_cast<char>(0xff));
  huge.push_back(0x3f);
  EXPECT_FALSE(read_entity_record(huge).ok());
  // A varint that never ends.
  EXPECT_FALSE(read_entity_record(std::string{1, 0} + std::string(20, static_cast<char>(0x80))).ok());
  // An array nested a million deep: refused, without exhausting the stack.
  std::string deep = {1, 0, 1, 'x', 0, 0, 1, 0, 0, 0, 1, 'a'};
  for (int i = 0; i < 1000000; ++i) deep += {7, 1};
  deep.push_back(0);
  EXPECT_FALSE(read_entity_record(deep).ok());
  // A name that claims more of the previous name than there is.
  EXPECT_FALSE(read_entity_record(std::string{1, 0, 1, 'x', 1, 5, 1, 'a', 0, 0}).ok());
}

TEST(EntityRecord, SurvivesEveryFlippedByteAndRandomBytes) {
  const std::string record = record_of(everything());
  std::mt19937 rng(7);
  std::size_t accepted = 0;
  for (std::size_t at = 0; at < record.size(); ++at) {
    for (int round = 0; round < 4; ++round) {
      std::string damaged = record;
      damaged[at] = static_cast<char>(round == 0 ? damaged[at] ^ 0x80 : rng());
      auto back = read_entity_record(damaged);
      if (back.ok()) {  // damage that still reads is a different entity, which must write and read back alike
        ++accepted;
        expect_same(*back, read_back(*back));
      }
    }
  }
  for (int round = 0; round < 2000; ++round) {
    std::string noise(rng() % 64, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    noise[0] = 1;
    (void)read_entity_record(noise);
  }
  SUCCEED() << accepted << " damaged records still read";
}

}  // namespace
}  // namespace ct::twin
