#include "notify/subscription.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"
#include "notify/endpoint.hpp"
#include "notify_fixture.hpp"

namespace ct::notify {
namespace {

using testing::NotifyTest;
using SubscriptionTest = NotifyTest;

constexpr const char* kFull = R"({
  "id": "urn:ngsi-ld:Subscription:full", "type": "Subscription",
  "subscriptionName": "hot rooms", "description": "every field",
  "entities": [{"type": "Room", "idPattern": "^urn:ngsi-ld:Room:"}, {"type": "Sensor", "id": "urn:ngsi-ld:Sensor:1"}],
  "watchedAttributes": ["temperature", "humidity"],
  "notificationTrigger": ["attributeUpdated", "entityDeleted"],
  "q": "temperature>20;humidity<90",
  "geoQ": {"geometry": "Point", "coordinates": [116.4, 39.9], "georel": "near;maxDistance==2000"},
  "scopeQ": "/Beijing/#",
  "lang": "en",
  "notification": {"attributes": ["temperature"], "format": "concise", "showChanges": true, "sysAttrs": true,
                   "endpoint": {"uri": "http://127.0.0.1:9000/notify?x=1", "accept": "application/ld+json",
                                "receiverInfo": [{"key": "X-Token", "value": "s3cret"}],
                                "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}]}},
  "throttling": 2.5,
  "expiresAt": "2100-01-01T00:00:00Z",
  "isActive": false
})";

TEST_F(SubscriptionTest, ParsesEveryMember) {
  Subscription s = subscription(kFull);
  EXPECT_EQ(s.id, "urn:ngsi-ld:Subscription:full");
  EXPECT_EQ(s.name, "hot rooms");
  ASSERT_EQ(s.entities.size(), 2u);
  EXPECT_EQ(s.entities[0].type, "https://uri.etsi.org/ngsi-ld/default-context/Room");
  EXPECT_EQ(s.query.selectors.size(), 2u);
  EXPECT_EQ(s.watched_attributes.size(), 2u);
  EXPECT_TRUE(s.watched_set.contains(model::Term::intern("https://uri.etsi.org/ngsi-ld/default-context/temperature")));
  EXPECT_EQ(s.triggers, bit(Trigger::AttributeUpdated) | bit(Trigger::EntityDeleted));
  EXPECT_TRUE(s.query.q && s.query.geo && s.query.scope);
  EXPECT_EQ(s.format, jsonld::Form::Concise);
  EXPECT_TRUE(s.show_changes);
  EXPECT_TRUE(s.sys_attrs);
  EXPECT_EQ(s.endpoint.accept, "application/ld+json");
  EXPECT_EQ(s.address.scheme, "http");
  EXPECT_EQ(s.address.target, "/notify?x=1");
  EXPECT_EQ(s.throttling, 2.5);
  EXPECT_EQ(s.expires_at, parse_datetime("2100-01-01T00:00:00Z"));
  EXPECT_FALSE(s.is_active);
  EXPECT_EQ(s.status(now_ms()), "paused");
}

TEST_F(SubscriptionTest, DefaultsFollowTheSpecification) {
  Subscription s = subscription(R"({"type":"Subscription","entities":[{"type":"Room"}],
    "notification":{"endpoint":{"uri":"http://localhost/n"}}})");
  EXPECT_EQ(s.id.rfind(std::string(kSubscriptionIdPrefix), 0), 0u) << s.id;
  EXPECT_GT(s.id.size(), kSubscriptionIdPrefix.size() + 30);
  EXPECT_EQ(s.triggers, bit(Trigger::AttributeCreated) | bit(Trigger::AttributeUpdated));
  EXPECT_EQ(s.format, jsonld::Form::Normalized);
  EXPECT_EQ(s.endpoint.accept, "application/json");
  EXPECT_TRUE(s.is_active);
  EXPECT_EQ(s.status(now_ms()), "active");
  EXPECT_NE(subscription(R"({"type":"Subscription","entities":[{"type":"Room"}],
    "notification":{"endpoint":{"uri":"http://localhost/n"}}})").id, s.id) << "generated ids differ";
}

TEST_F(SubscriptionTest, RefusalsNameTheMember) {
  const std::string endpoint = R"("notification":{"endpoint":{"uri":"http://localhost/n"}})";
  auto body = [&](const std::string& members) {
    static std::string text;
    text = R"({"type":"Subscription","entities":[{"type":"Room"}],)" + members + "}";
    return text.c_str();
  };
  struct Case {
    std::string members, member;
  };
  const std::vector<Case> cases = {
      {R"("notification":{"endpoint":{"uri":"not a uri"}})", "notification.endpoint.uri"},
      {R"("notification":{"endpoint":{"uri":"ftp://host/x"}})", "notification.endpoint.uri"},
      {R"("notification":{"endpoint":{"uri":"http:/nohost"}})", "notification.endpoint.uri"},
      {R"("notification":{"endpoint":{"uri":"mqtt://broker:1883"}})", "notification.endpoint.uri"},
      {R"("notification":{"endpoint":{}})", "notification.endpoint.uri"},
      {R"("notification":{"endpoint":{"uri":"http://h/n","accept":"text/plain"}})", "notification.endpoint.accept"},
      {R"("notification":{"endpoint":{"uri":"http://h/n","receiverInfo":[{"key":"Bad Header","value":"x"}]}})",
       "notification.endpoint.receiverInfo"},
      {R"("notification":{"endpoint":{"uri":"http://h/n","receiverInfo":[{"key":"X","value":"a\r\nb"}]}})",
       "notification.endpoint.receiverInfo"},
      {R"("notification":{"format":"xml","endpoint":{"uri":"http://h/n"}})", "notification.format"},
      {R"("notification":{"attributes":[],"endpoint":{"uri":"http://h/n"}})", "notification.attributes"},
      {"\"q\":\"temperature>\"," + endpoint, "q"},
      {"\"q\":42," + endpoint, "q"},
      {"\"geoQ\":{\"geometry\":\"Point\",\"coordinates\":[1],\"georel\":\"near;maxDistance==10\"}," + endpoint, "geoQ"},
      {"\"geoQ\":{\"geometry\":\"Point\",\"coordinates\":[1,2],\"georel\":\"nearby\"}," + endpoint, "geoQ"},
      {"\"scopeQ\":\"Beijing\"," + endpoint, "scopeQ"},
      {"\"throttling\":-1," + endpoint, "throttling"},
      {"\"throttling\":\"5\"," + endpoint, "throttling"},
      {"\"timeInterval\":0," + endpoint, "timeInterval"},
      {"\"timeInterval\":10,\"watchedAttributes\":[\"temperature\"]," + endpoint, "timeInterval"},
      {"\"timeInterval\":10,\"throttling\":5," + endpoint, "timeInterval"},
      {"\"notificationTrigger\":[\"entityTeleported\"]," + endpoint, "notificationTrigger"},
      {"\"notificationTrigger\":[]," + endpoint, "notificationTrigger"},
      {"\"expiresAt\":\"tomorrow\"," + endpoint, "expiresAt"},
      {"\"expiresAt\":\"2001-01-01T00:00:00Z\"," + endpoint, "expiresAt"},
      {"\"isActive\":\"yes\"," + endpoint, "isActive"},
      {"\"watchedAttributes\":[\"a b\"]," + endpoint, "watchedAttributes"},
      {"\"jsonldContext\":\"not a url\"," + endpoint, "jsonldContext"},
  };
  for (const auto& c : cases) {
    const std::string detail = refusal(body(c.members));
    EXPECT_EQ(detail.rfind(c.member, 0), 0u) << c.members << " -> " << detail;
  }
  EXPECT_EQ(refusal(R"({"type":"Subscription","notification":{"endpoint":{"uri":"http://h/n"}}})"),
            "a subscription needs entities or watchedAttributes (or both)");
  EXPECT_EQ(refusal(R"({"type":"Subscription","entities":[{"id":"urn:x:1"}],"notification":{"endpoint":{"uri":"http://h/n"}}})")
                .rfind("entities[0].type", 0),
            0u);
  EXPECT_EQ(refusal(R"({"type":"Subscription","entities":[{"type":"A","idPattern":"(("}],"notification":{"endpoint":{"uri":"http://h/n"}}})")
                .rfind("entities[0].idPattern", 0),
            0u);
  EXPECT_EQ(refusal(R"({"type":"Sub","entities":[{"type":"A"}],"notification":{"endpoint":{"uri":"http://h/n"}}})").rfind("type", 0), 0u);
  EXPECT_EQ(refusal(R"({"id":"nope","type":"Subscription","entities":[{"type":"A"}],"notification":{"endpoint":{"uri":"http://h/n"}}})")
                .rfind("id", 0),
            0u);
  EXPECT_EQ(refusal(R"({"type":"Subscription","entities":[{"type":"A"}]})").rfind("notification", 0), 0u);
}

TEST_F(SubscriptionTest, EndpointSchemes) {
  auto http = parse_endpoint_uri("http://[::1]:8080/a/b?c=d");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->host, "::1");
  EXPECT_EQ(http->port, 8080);
  EXPECT_EQ(http->target, "/a/b?c=d");
  auto https = parse_endpoint_uri("https://example.org");
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->target, "/");
  auto mqtt = parse_endpoint_uri("mqtt://user:pw@broker/city/notifications");
  ASSERT_TRUE(mqtt.ok());
  EXPECT_EQ(mqtt->scheme, "mqtt");
  EXPECT_EQ(mqtt->port, 1883);
  EXPECT_EQ(mqtt->target, "city/notifications");
  EXPECT_EQ(mqtt->user, "user");
  EXPECT_EQ(mqtt->password, "pw");
  EXPECT_TRUE(parse_endpoint_uri("urn:citytwin:websocket")->websocket_only());
  EXPECT_FALSE(parse_endpoint_uri("http://h:99999/").ok());
  EXPECT_FALSE(parse_endpoint_uri("mqtt://h/a/#").ok());
  EXPECT_FALSE(parse_endpoint_uri("urn:other:thing").ok());
  EXPECT_EQ(parse_endpoint_uri("http://a/x")->key, parse_endpoint_uri("http://a:80/y")->key) << "one endpoint per host and port";
}

TEST_F(SubscriptionTest, PatchMergesNotificationMembersAndNullRestoresDefaults) {
  Subscription s = subscription(kFull);
  auto patched = patch_subscription(s, json::parse(R"({"isActive": true, "q": null, "throttling": null,
      "notification": {"format": "keyValues"}, "notificationTrigger": null})").as_object(), core(), contexts_, now_ms());
  ASSERT_TRUE(patched.ok()) << patched.problem().detail;
  EXPECT_TRUE(patched->is_active);
  EXPECT_TRUE(patched->q.empty());
  EXPECT_FALSE(patched->query.q.has_value());
  EXPECT_EQ(patched->throttling, 0);
  EXPECT_EQ(patched->triggers, kDefaultTriggers);
  EXPECT_EQ(patched->format, jsonld::Form::Simplified);
  EXPECT_TRUE(patched->show_changes) << "notification members not named are kept";
  EXPECT_EQ(patched->endpoint.uri, s.endpoint.uri);
  EXPECT_EQ(patched->id, s.id);

  auto bad = patch_subscription(s, json::parse(R"({"throttling": -3})").as_object(), core(), contexts_, now_ms());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.problem().detail.rfind("throttling", 0), 0u);
  EXPECT_FALSE(patch_subscription(s, json::parse(R"({"id": "urn:x:other"})").as_object(), core(), contexts_, now_ms()).ok());
  EXPECT_FALSE(patch_subscription(s, json::parse(R"({"timeInterval": 5})").as_object(), core(), contexts_, now_ms()).ok())
      << "still watching attributes and throttled";
}

TEST_F(SubscriptionTest, RendersWithTheReadersContext) {
  auto sdm = contexts_.resolve(json::value("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"));
  ASSERT_TRUE(sdm.ok()) << sdm.problem().detail;
  ContextRef ctx{json::value("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"), *sdm};
  Subscription s = subscription(R"({"type":"Subscription","entities":[{"type":"AirQualityObserved"}],
    "watchedAttributes":["pm25"],"notification":{"attributes":["pm25","no2"],"endpoint":{"uri":"http://h/n"}}})", &ctx);
  ASSERT_FALSE(s.entities.empty());
  EXPECT_NE(s.entities[0].type, "AirQualityObserved") << "kept expanded";
  const auto same = render_subscription(s, {}, **sdm, now_ms(), false);
  EXPECT_EQ(same.at("entities").at(0).at("type"), "AirQualityObserved");
  EXPECT_EQ(same.at("watchedAttributes").at(0), "pm25");
  EXPECT_EQ(same.at("jsonldContext"), "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld");
  const auto core_view = render_subscription(s, {}, *contexts_.core(), now_ms(), false);
  EXPECT_EQ(core_view.at("entities").at(0).at("type"), json::value(s.entities[0].type)) << "the core context has no short name for it";

  DeliveryReport report;
  report.times_sent = 3;
  report.times_failed = 1;
  report.failing = true;
  report.last_failure = 1000;
  const auto with_status = render_subscription(s, report, **sdm, now_ms(), true);
  const auto& n = with_status.at("notification").as_object();
  EXPECT_EQ(n.at("status"), "failed");
  EXPECT_EQ(n.at("timesSent"), 3);
  EXPECT_EQ(n.at("timesFailed"), 1);
  EXPECT_EQ(n.at("lastFailure"), "1970-01-01T00:00:01.000Z");
  EXPECT_FALSE(n.contains("lastSuccess"));
  EXPECT_TRUE(with_status.contains("createdAt"));
  EXPECT_EQ(with_status.at("status"), "active");
}

TEST_F(SubscriptionTest, StoredDocumentReadsBackTheSame) {
  auto sdm = contexts_.resolve(json::value("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"));
  ASSERT_TRUE(sdm.ok());
  ContextRef ctx{json::value("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"), *sdm};
  Subscription s = subscription(kFull, &ctx);
  auto back = decode_document(encode_document(s), contexts_);
  ASSERT_TRUE(back.ok()) << back.problem().detail;
  const Timestamp now = now_ms();
  EXPECT_EQ(render_subscription(*back, {}, **sdm, now, true), render_subscription(s, {}, **sdm, now, true));
  EXPECT_TRUE(back->query.q && back->query.geo && back->query.scope);
  EXPECT_EQ(back->watched_set, s.watched_set);
  EXPECT_EQ(back->attribute_set, s.attribute_set);
  EXPECT_EQ(back->address.key, s.address.key);

  // A q patched in with another @context keeps that context.
  auto patched = patch_subscription(s, json::parse(R"({"q": "temperature>30"})").as_object(), core(), contexts_, now);
  ASSERT_TRUE(patched.ok());
  auto patched_back = decode_document(encode_document(*patched), contexts_);
  ASSERT_TRUE(patched_back.ok());
  EXPECT_EQ(patched_back->query.q->attributes(), patched->query.q->attributes());
  EXPECT_EQ(patched_back->context.value, ctx.value) << "notifications keep the subscription's context";
}

}  // namespace
}  // namespace ct::notify
