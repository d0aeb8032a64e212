#include "ingest/provisioning.hpp"

#include <gtest/gtest.h>

#include "ingest/mqtt_adapter.hpp"

namespace ct::ingest {
namespace {

json::object body(const char* text) { return json::parse(text).as_object(); }

TEST(Provisioning, ReadsADeviceAsTheIotAgentDescribesIt) {
  auto d = parse_device(body(R"({"device_id":"s1","entity_name":"urn:ngsi-ld:Air:s1","entity_type":"Air",
      "protocol":"PDI-IoTA-UltraLight","transport":"MQTT","timeout":30,
      "attributes":[{"object_id":"t","name":"temperature","type":"Number","expression":"${@value / 10}","unitCode":"CEL"}],
      "commands":[{"name":"reset","type":"command"}],
      "static_attributes":[{"name":"category","type":"Text","value":"sensor"}],"timezone":"Asia/Shanghai"})"),
                        "haidian", "/air");
  ASSERT_TRUE(d.ok()) << d.problem().detail;
  EXPECT_EQ(d->tenant, "haidian");
  EXPECT_EQ(d->service_path, "/air");
  EXPECT_EQ(d->entity_name, "urn:ngsi-ld:Air:s1");
  ASSERT_EQ(d->mapping.attributes.size(), 1u);
  const auto& t = d->mapping.attributes[0];
  EXPECT_EQ(t.object_id, "t");
  EXPECT_EQ(t.value_type, ValueType::Number);
  ASSERT_TRUE(t.expression.has_value());
  EXPECT_DOUBLE_EQ(t.expression->apply(235), 23.5);
  EXPECT_EQ(t.unit_code, "CEL");
  EXPECT_EQ(d->mapping.timeout_seconds, 30);
  ASSERT_EQ(d->mapping.commands.size(), 1u);
  EXPECT_TRUE(speaks_ultralight(*d));
  EXPECT_TRUE(d->original.contains("timezone"));  // kept for reads
}

TEST(Provisioning, RefusesWhatCannotBeServed) {
  for (const char* text : {R"({})", R"({"device_id":""})", R"({"device_id":"a/b"})", R"({"device_id":"a+"})",
                           R"({"device_id":7})", R"({"device_id":"x","entity_name":"no uri"})",
                           R"({"device_id":"x","attributes":{}})", R"({"device_id":"x","attributes":[{"object_id":"t"}]})",
                           R"({"device_id":"x","attributes":[{"name":"bad name"}]})",
                           R"({"device_id":"x","attributes":[{"name":"t","expression":"${@value; rm -rf}"}]})",
                           R"({"device_id":"x","timeout":-1})", R"({"device_id":"x","static_attributes":[{"name":"a"}]})"}) {
    auto d = parse_device(body(text), "", "/");
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.problem().kind, ProblemKind::BadRequestData) << text;
  }
  EXPECT_FALSE(parse_service_group(body(R"({"entity_type":"X"})"), "", "/").ok());
  EXPECT_FALSE(parse_service_group(body(R"({"apikey":"k","autoprovision":"yes"})"), "", "/").ok());
}

TEST(Provisioning, ADeviceInheritsWhatItLeavesOutFromItsGroup) {
  auto g = parse_service_group(body(R"({"apikey":"k","entity_type":"Air","timeout":60,
      "attributes":[{"object_id":"t","name":"temperature","type":"Number"},{"object_id":"h","name":"humidity","type":"Number"}],
      "commands":[{"name":"reset"}]})"), "", "/");
  ASSERT_TRUE(g.ok()) << g.problem().detail;
  EXPECT_EQ(g->resource, "/iot/d");
  auto d = parse_device(body(R"({"device_id":"s1","attributes":[{"object_id":"t","name":"temp","type":"Integer"}]})"), "", "/");
  ASSERT_TRUE(d.ok());
  inherit(*d, *g);
  EXPECT_EQ(d->apikey, "k");
  EXPECT_EQ(d->mapping.entity_type, "Air");
  EXPECT_EQ(d->mapping.timeout_seconds, 60);
  ASSERT_EQ(d->mapping.attributes.size(), 2u);
  EXPECT_EQ(d->mapping.attributes[0].name, "temp");  // the device's own mapping wins
  EXPECT_EQ(d->mapping.attributes[1].name, "humidity");
  EXPECT_EQ(d->mapping.commands.size(), 1u);
  EXPECT_EQ(default_entity_name("Air", "s1"), "urn:ngsi-ld:Air:s1");
}

TEST(Provisioning, TheEffectiveConfigurationIsTheDevicesOwnOverItsGroupAsItIsNow) {
  auto own = parse_device(body(R"({"device_id":"s1","apikey":"k","timeout":10,
      "attributes":[{"object_id":"t","name":"temp","type":"Integer"}]})"), "", "/");
  ASSERT_TRUE(own.ok());
  auto before = parse_service_group(body(R"({"apikey":"k","timeout":60,
      "attributes":[{"object_id":"t","name":"temperature"},{"object_id":"h","name":"humidity"}]})"), "", "/");
  auto after = parse_service_group(body(R"({"apikey":"k","attributes":[{"object_id":"w","name":"wind"}],
      "static_attributes":[{"name":"district","value":"Haidian"}]})"), "", "/");
  ASSERT_TRUE(before.ok() && after.ok());
  auto a = effective(*own, &*before);
  ASSERT_EQ(a.mapping.attributes.size(), 2u);
  EXPECT_EQ(a.mapping.attributes[0].name, "temp");
  EXPECT_EQ(a.mapping.timeout_seconds, 10) << "the device's own timeout wins";
  auto b = effective(*own, &*after);
  ASSERT_EQ(b.mapping.attributes.size(), 2u);
  EXPECT_EQ(b.mapping.attributes[1].name, "wind") << "what the group has now, not what it had";
  EXPECT_EQ(b.mapping.static_attributes.size(), 1u);
  auto c = effective(*own, nullptr);
  EXPECT_EQ(c.mapping.attributes.size(), 1u) << "without a group: the device's own only";
  EXPECT_EQ(own->mapping.attributes.size(), 1u) << "the device's own configuration is untouched";
}

TEST(Provisioning, AnEndpointIsAnHttpUrl) {
  auto d = parse_device(body(R"({"device_id":"s1","transport":"HTTP","endpoint":"http://10.0.0.7:8080/cmd"})"), "", "/");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->endpoint, "http://10.0.0.7:8080/cmd");
  EXPECT_TRUE(speaks_http(*d));
  for (const char* endpoint : {"ftp://x/", "not a url", "https://device.example/", "http:///nohost"}) {
    const std::string text = std::string(R"({"device_id":"s1","endpoint":")") + endpoint + R"("})";
    EXPECT_FALSE(parse_device(body(text.c_str()), "", "/").ok()) << endpoint;
  }
}

TEST(MqttTopics, OnlyTheIotAgentSchemeIsIngested) {
  IngestTopic t;
  ASSERT_TRUE(parse_ingest_topic("/k/d/attrs", t));
  EXPECT_EQ(t.apikey, "k");
  EXPECT_EQ(t.device_id, "d");
  EXPECT_TRUE(t.object_id.empty());
  EXPECT_FALSE(t.command_result);
  ASSERT_TRUE(parse_ingest_topic("/k/d/attrs/t", t));
  EXPECT_EQ(t.object_id, "t");
  ASSERT_TRUE(parse_ingest_topic("/k/d/cmdexe", t));
  EXPECT_TRUE(t.command_result);
  for (const char* bad : {"", "/", "k/d/attrs", "//d/attrs", "/k//attrs", "/k/d/attrs/", "/k/d/cmd", "/k/d/attrs/t/u",
                          "/k/d", "/k/d/cmdexe/x"})
    EXPECT_FALSE(parse_ingest_topic(bad, t)) << bad;
}

}  // namespace
}  // namespace ct::ingest
