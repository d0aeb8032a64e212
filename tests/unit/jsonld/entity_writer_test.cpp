// The entity writer must print exactly what the tree encoder it replaced printed: that encoder is
// kept below, as it was, as the oracle.
#include "jsonld/entity_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "json_printer.hpp"

#include "jsonld/context_store.hpp"
#include "model/names.hpp"

namespace ct::jsonld {
namespace {

using model::Attribute;
using model::AttributeKind;
using model::Term;

namespace reference {  // the tree encoder before the writer, unchanged

std::string_view chosen_language(const Attribute& a, const std::string& wanted) {
  const auto& map = a.value.get_object();
  if (map.contains(wanted)) return wanted;
  if (map.contains("@none")) return "@none";
  return map.empty() ? std::string_view() : std::string_view(map.begin()->key());
}

bool renders_one_language(const Attribute& a, const EncodeOptions& options) {
  return a.kind == AttributeKind::LanguageProperty && !options.lang.empty() && a.value.is_object() &&
         !a.value.get_object().empty();
}

json::value encode_value(const Attribute& a, const EncodeOptions& options) {
  if (renders_one_language(a, options)) return a.value.get_object().at(chosen_language(a, options.lang));
  switch (a.kind) {
    case AttributeKind::Property:
    case AttributeKind::GeoProperty:
    case AttributeKind::Relationship: return a.value;
    default: return json::object{{model::kind_value_member(a.kind), a.value}};
  }
}

bool is_bare_in_concise(const Attribute& a, const EncodeOptions& options) {
  if (!a.sub_attributes.empty() || a.observed_at != kNoTimestamp || !a.unit_code.empty() || !a.dataset_id.empty() ||
      options.sys_attrs)
    return false;
  if (a.kind == AttributeKind::GeoProperty) return true;
  return a.kind == AttributeKind::Property && !a.value.is_object() && !a.value.is_array();
}

json::value encode_instance(const Attribute& a, const Context& ctx, const EncodeOptions& options, bool alone = true) {
  if (options.form == Form::Simplified) return encode_value(a, options);
  if (options.form == Form::Concise && alone && is_bare_in_concise(a, options)) return a.value;
  json::object o;
  if (options.form == Form::Normalized) o["type"] = model::kind_name(a.kind);
  if (renders_one_language(a, options)) {
    if (options.form == Form::Normalized) o["type"] = "Property";
    const auto language = chosen_language(a, options.lang);
    o["value"] = a.value.get_object().at(language);
    o["lang"] = language;
  } else {
    o[model::kind_value_member(a.kind)] = a.value;
  }
  if (a.observed_at != kNoTimestamp) o["observedAt"] = format_datetime(a.observed_at);
  if (!a.unit_code.empty()) o["unitCode"] = a.unit_code.str();
  if (!a.dataset_id.empty()) o["datasetId"] = a.dataset_id.str();
  if (options.sys_attrs) {
    if (a.created_at != kNoTimestamp) o["createdAt"] = format_datetime(a.created_at);
    if (a.modified_at != kNoTimestamp) o["modifiedAt"] = format_datetime(a.modified_at);
  }
  for (const auto& sub : a.sub_attributes) o[ctx.compact(sub.name.str())] = encode_instance(sub, ctx, options);
  return o;
}

bool selected(Term name, const EncodeOptions& options) {
  if (options.pick && !options.pick->contains(name)) return false;
  if (options.omit && options.omit->contains(name)) return false;
  return true;
}

void encode_attributes(json::object& out, const model::Entity& entity, const Context& ctx, const EncodeOptions& options) {
  std::vector<Term> done;
  for (std::size_t i = 0; i < entity.attributes.size(); ++i) {
    const Term name = entity.attributes[i].name;
    if (!selected(name, options) || std::find(done.begin(), done.end(), name) != done.end()) continue;
    done.push_back(name);
    std::size_t count = 0;
    for (std::size_t j = i; j < entity.attributes.size(); ++j) count += entity.attributes[j].name == name;
    const std::string key = ctx.compact(name.str());
    if (count == 1) {
      out[key] = encode_instance(entity.attributes[i], ctx, options);
      continue;
    }
    json::array instances;
    for (std::size_t j = i; j < entity.attributes.size(); ++j)
      if (entity.attributes[j].name == name)
        instances.push_back(encode_instance(entity.attributes[j], ctx, options, /*alone=*/false));
    out[key] = std::move(instances);
  }
}

json::value encode_types(const model::Entity& entity, const Context& ctx) {
  if (entity.types.size() == 1) return json::value(ctx.compact(entity.types.front().str()));
  json::array types;
  for (Term t : entity.types) types.push_back(json::value(ctx.compact(t.str())));
  return types;
}

json::object encode_entity(const model::Entity& entity, const Context& ctx, const EncodeOptions& options) {
  json::object out;
  if (!options.omit_id) out["id"] = entity.id;
  if (!options.omit_type) out["type"] = encode_types(entity, ctx);
  if (!entity.scopes.empty() && !options.omit_scope) {
    if (entity.scopes.size() == 1) {
      out["scope"] = entity.scopes.front();
    } else {
      json::array scopes;
      for (const auto& s : entity.scopes) scopes.push_back(json::value(s));
      out["scope"] = std::move(scopes);
    }
  }
  if (options.sys_attrs && options.form != Form::Simplified) {
    if (entity.created_at != kNoTimestamp) out["createdAt"] = format_datetime(entity.created_at);
    if (entity.modified_at != kNoTimestamp) out["modifiedAt"] = format_datetime(entity.modified_at);
  }
  encode_attributes(out, entity, ctx, options);
  return out;
}

json::object encode_feature(const model::Entity& entity, const Context& ctx, const EncodeOptions& options,
                            Term geometry_property) {
  json::object feature;
  feature["id"] = entity.id;
  feature["type"] = "Feature";
  const Attribute* geometry = nullptr;
  for (const auto& a : entity.attributes)
    if (a.name == geometry_property && a.kind == AttributeKind::GeoProperty) {
      geometry = &a;
      break;
    }
  feature["geometry"] = geometry ? geometry->value : json::value(nullptr);
  json::object properties;
  properties["type"] = encode_types(entity, ctx);
  encode_attributes(properties, entity, ctx, options);
  feature["properties"] = std::move(properties);
  return feature;
}

}  // namespace reference

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every representation option, in every combination that changes the output.
std::vector<EncodeOptions> option_variants(const std::unordered_set<Term>& some_names) {
  std::vector<EncodeOptions> out;
  for (Form form : {Form::Normalized, Form::Concise, Form::Simplified})
    for (bool sys_attrs : {false, true})
      for (int filter = 0; filter < 3; ++filter)
        for (const char* lang : {"", "en", "xx"})
          for (bool omit_members : {false, true}) {
            EncodeOptions o;
            o.form = form;
            o.sys_attrs = sys_attrs;
            if (filter == 1) o.pick = &some_names;
            if (filter == 2) o.omit = &some_names;
            o.lang = lang;
            o.omit_id = o.omit_type = o.omit_scope = omit_members;
            out.push_back(o);
          }
  return out;
}

class EntityWriterTest : public ::testing::Test {
 protected:
  ContextStore store;
  ContextPtr core = store.core();
  Term location = Term::intern("https://uri.etsi.org/ngsi-ld/location");

  // `trusted`: as when reloading the store, so that ids no client could send can be tried.
  model::Entity decode(const json::object& body, const Context& ctx, bool simplified = false, bool trusted = false) {
    DecodeOptions options;
    options.simplified = simplified;
    options.trusted = trusted;
    auto d = decode_entity(body, ctx, options);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.problem().detail);
    model::Entity e;
    if (!d) return e;
    e.id = d->header.id;
    e.types = d->header.types;
    e.scopes = d->header.scopes;
    e.attributes = std::move(d->attributes);
    e.created_at = 1'700'000'000'123;
    e.modified_at = 1'700'000'100'456;
    for (auto& a : e.attributes) {
      a.created_at = e.created_at;
      a.modified_at = e.modified_at;
    }
    return e;
  }

  // The writer's text against the oracle's tree printed, for every option; and encode_entity's tree.
  void expect_same_everywhere(const model::Entity& e, const Context& ctx) {
    std::unordered_set<Term> some_names;
    for (std::size_t i = 0; i < e.attributes.size(); i += 2) some_names.insert(e.attributes[i].name);
    for (const auto& options : option_variants(some_names)) {
      for (const std::string embedded : {"", "https://example.org/ctx.jsonld"}) {
        json::object expected = reference::encode_entity(e, ctx, options);
        if (!embedded.empty()) expected["@context"] = embedded;
        std::string text;
        EntityWriter(ctx, options, embedded).entity(text, e);
        ASSERT_EQ(text, to_text(expected)) << "form " << static_cast<int>(options.form) << " sysAttrs "
                                           << options.sys_attrs << " lang " << options.lang;
      }
      EXPECT_EQ(to_text(encode_entity(e, ctx, options)), to_text(reference::encode_entity(e, ctx, options)));
      std::string feature;
      EntityWriter(ctx, options).feature(feature, e, location);
      ASSERT_EQ(feature, to_text(reference::encode_feature(e, ctx, options, location)));
    }
  }
};

TEST_F(EntityWriterTest, SmartDataModelFixturesPrintAsTheTreeEncoderDid) {
  int checked = 0;
  for (const auto& dir : std::filesystem::directory_iterator(std::filesystem::path(CITYTWIN_SOURCE_DIR) / "tests/fixtures/sdm")) {
    for (const auto& [file, simplified] : {std::pair{"example-normalized.jsonld", false}, {"example.jsonld", true}}) {
      const auto path = dir.path() / file;
      if (!std::filesystem::exists(path)) continue;
      json::object body = json::parse(read_file(path)).as_object();
      ContextPtr ctx = core;
      if (const auto* member = body.if_contains("@context")) {
        // Some examples also name a URL that is not shipped (offline): keep the ones that resolve.
        json::array usable;
        for (const auto& item : member->is_array() ? member->get_array() : json::array{*member})
          if (store.resolve(item).ok()) usable.push_back(item);
        auto resolved = store.resolve(usable);
        ASSERT_TRUE(resolved.ok()) << path;
        ctx = *resolved;
      }
      const model::Entity e = decode(body, *ctx, simplified);
      ASSERT_FALSE(e.attributes.empty()) << path;
      expect_same_everywhere(e, *ctx);   // compacted with the fixture's own context
      expect_same_everywhere(e, *core);  // and with the core context alone (IRIs stay long)
      ++checked;
    }
  }
  EXPECT_GE(checked, 9);
}

TEST_F(EntityWriterTest, HostileStringsAndNumbersPrintAsTheTreeEncoderDid) {
  const char* body = R"({
    "id": "urn:ngsi-ld:X:\"quoted\"\\back\\slash\u0001\u001f\u007f/é東\ud83d\ude00",
    "type": ["Thing", "https://example.org/Other\u0000Type"],
    "scope": ["/a/\"b\"", "/c\td"],
    "text": {"type": "Property", "value": "line\nbreak\ttab\r\b\f\u0000 \u2028 \"q\" \\ </script>"},
    "numbers": {"type": "Property", "value": [0.1, 0.54, 1e300, -0.0, 5e-324, 2.2250738585072014e-308,
      1.7976931348623157e308, 123456789012345678, -9223372036854775808, 18446744073709551615, 3.0, 1e21, 1e-7,
      0.30000000000000004, 100, -1.5e-10]},
    "compound": {"type": "Property", "value": {"k\"ey": {"nested\n": [null, true, false, {}, []]}, "": "empty key"}},
    "temperature": [
      {"type": "Property", "value": 21.5, "datasetId": "urn:ngsi-ld:Dataset:a", "observedAt": "2024-05-01T10:00:00.5Z",
       "unitCode": "CEL", "accuracy": {"type": "Property", "value": 0.25}},
      {"type": "Property", "value": 22, "datasetId": "urn:ngsi-ld:Dataset:b"}],
    "name": {"type": "LanguageProperty", "languageMap": {"zh": "东四", "en": "Dongsi \"E\"", "@none": "x"}},
    "label": {"type": "LanguageProperty", "languageMap": {"fr": "Pont"}},
    "category": {"type": "VocabProperty", "vocab": ["residential", "commercial"]},
    "raw": {"type": "JsonProperty", "json": {"type": "NotAGeometry", "value": 1}},
    "steps": {"type": "ListProperty", "valueList": [1, "two", {"three": 3}]},
    "refs": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:A:1"}]},
    "owner": {"type": "Relationship", "object": ["urn:ngsi-ld:P:1", "urn:ngsi-ld:P:2"],
              "since": {"type": "Property", "value": "2020"}},
    "location": {"type": "GeoProperty", "value": {"type": "Polygon",
      "coordinates": [[[116.1, 39.9], [116.2, 39.9], [116.2, 40.0], [116.1, 39.9]]]}},
    "https://example.org/long/name": {"type": "Property", "value": "kept long"},
    "emptyString": {"type": "Property", "value": ""}
  })";
  const model::Entity e = decode(json::parse(body).as_object(), *core, false, /*trusted=*/true);
  ASSERT_GE(e.attributes.size(), 14u);
  expect_same_everywhere(e, *core);
}

TEST_F(EntityWriterTest, SubAttributeGivenTwiceIsOneMemberAsBefore) {
  // "accuracy" and its IRI, side by side: one member where the first stood, with the last value.
  const model::Entity e = decode(json::parse(R"({"id": "urn:ngsi-ld:X:1", "type": "T",
    "speed": {"type": "Property", "value": 1, "accuracy": {"type": "Property", "value": 2},
              "unit": {"type": "Property", "value": "kmh"},
              "https://uri.etsi.org/ngsi-ld/default-context/accuracy": {"type": "Property", "value": 3}}})")
                                     .as_object(),
                                 *core);
  ASSERT_EQ(e.attributes.at(0).sub_attributes.size(), 3u);
  expect_same_everywhere(e, *core);
}

TEST_F(EntityWriterTest, NameThatCompactsToAMemberKeepsItsIriInsteadOfOverwritingIt) {
  // The tree encoder let a sub-attribute named by the IRI of "value" overwrite the value itself.
  const model::Entity e = decode(json::parse(R"({"id": "urn:ngsi-ld:X:1", "type": "T",
    "speed": {"type": "Property", "value": 1,
              "https://uri.etsi.org/ngsi-ld/hasValue": {"type": "Property", "value": 2}}})")
                                     .as_object(),
                                 *core);
  std::string text;
  EntityWriter(*core, EncodeOptions{}).entity(text, e);
  EXPECT_EQ(text,
            R"({"id":"urn:ngsi-ld:X:1","type":"T","speed":{"type":"Property","value":1,)"
            R"("https://uri.etsi.org/ngsi-ld/hasValue":{"type":"Property","value":2}}})");
  EXPECT_EQ(json::value(encode_entity(e, *core, EncodeOptions{})), json::parse(text));
}

TEST_F(EntityWriterTest, OneWriterPrintsManyEntitiesWithItsNameCache) {
  const model::Entity a = decode(json::parse(R"({"id":"urn:a","type":"T","x":{"type":"Property","value":1}})").as_object(), *core);
  const model::Entity b = decode(json::parse(R"({"id":"urn:b","type":"U","x":{"type":"Property","value":2},"y":{"type":"Property","value":"s"}})").as_object(), *core);
  EncodeOptions options;
  options.form = Form::Simplified;
  EntityWriter writer(*core, options);
  std::string text;
  writer.entity(text, a);
  writer.entity(text, b);
  writer.entity(text, a);
  EXPECT_EQ(text, R"({"id":"urn:a","type":"T","x":1}{"id":"urn:b","type":"U","x":2,"y":"s"}{"id":"urn:a","type":"T","x":1})");
}

TEST_F(EntityWriterTest, WritersOnOneThreadShareCompactedNamesPerContextOnly) {
  // Writers built from a ContextPtr keep compacted names for the thread, per context: a name one
  // context shortens must stay an IRI under another, whichever was printed first.
  auto own = store.resolve(json::parse(R"({"speed": "https://example.org/speed", "type": "@type"})"));
  ASSERT_TRUE(own.ok());
  const ContextPtr with_speed = *own;
  const model::Entity e = decode(json::parse(R"({"id": "urn:ngsi-ld:X:1", "type": "T",
    "https://example.org/speed": {"type": "Property", "value": 1.5}})").as_object(), *core);
  const std::string as_iri = R"({"id":"urn:ngsi-ld:X:1","type":"T","https://example.org/speed":{"type":"Property","value":1.5}})";
  const std::string as_term = R"({"id":"urn:ngsi-ld:X:1","type":"T","speed":{"type":"Property","value":1.5}})";
  for (int round = 0; round < 2; ++round) {
    std::string text;
    EntityWriter(core, EncodeOptions{}).entity(text, e);
    EXPECT_EQ(text, as_iri);
    text.clear();
    EntityWriter(with_speed, EncodeOptions{}).entity(text, e);
    EXPECT_EQ(text, as_term);
  }
  // The shared names print exactly what a writer of its own prints, in every form.
  for (const auto form : {Form::Normalized, Form::Concise, Form::Simplified}) {
    EncodeOptions options;
    options.form = form;
    std::string own_names, shared_names;
    EntityWriter(*with_speed, options).entity(own_names, e);
    EntityWriter(with_speed, options).entity(shared_names, e);
    EXPECT_EQ(shared_names, own_names);
  }
}

}  // namespace
}  // namespace ct::jsonld
