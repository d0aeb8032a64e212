#include "notify/notification.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"
#include "notify_fixture.hpp"

namespace ct::notify {
namespace {

using testing::NotifyTest;
using NotificationTest = NotifyTest;

constexpr const char* kRoomEntity = R"({"id":"urn:ngsi-ld:Room:1","type":"Room",
  "temperature":{"type":"Property","value":21,"unitCode":"CEL"},"humidity":{"type":"Property","value":40},
  "owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:1"}})";

Subscription make(NotifyTest& t, const std::string& notification) {
  return t.subscription((R"({"type":"Subscription","entities":[{"type":"Room"}],"notification":)" + notification + "}").c_str());
}

TEST_F(NotificationTest, FormatsAndAttributes) {
  const auto& created = create(kRoomEntity);
  EXPECT_EQ(notified_entity(make(*this, R"({"format":"keyValues","endpoint":{"uri":"http://h/n"}})"), created),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","temperature":21,"humidity":40,"owner":"urn:ngsi-ld:Person:1"})"));
  EXPECT_EQ(notified_entity(make(*this, R"({"attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), created),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","humidity":{"type":"Property","value":40}})"));
  EXPECT_EQ(notified_entity(make(*this, R"({"attributes":["humidity"],"format":"concise","endpoint":{"uri":"http://h/n"}})"), created),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","humidity":40})"));
  const auto with_sys = notified_entity(make(*this, R"({"sysAttrs":true,"attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), created);
  EXPECT_TRUE(with_sys.contains("createdAt"));
  EXPECT_TRUE(with_sys.at("humidity").as_object().contains("modifiedAt"));
}

TEST_F(NotificationTest, ShowChangesAddsThePreviousValues) {
  create(kRoomEntity);
  const auto& changed = merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":23,"unitCode":"CEL"},
    "owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:2"}})");
  EXPECT_EQ(notified_entity(make(*this, R"({"showChanges":true,"attributes":["temperature","owner"],"endpoint":{"uri":"http://h/n"}})"), changed),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room",
              "temperature":{"type":"Property","value":23,"unitCode":"CEL","previousValue":21},
              "owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:2","previousObject":"urn:ngsi-ld:Person:1"}})"));
  const auto& again = merge("urn:ngsi-ld:Room:1", R"({"humidity":{"type":"Property","value":45}})");
  EXPECT_EQ(notified_entity(make(*this, R"({"showChanges":true,"format":"concise","attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), again),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","humidity":{"value":45,"previousValue":40}})"))
      << "a bare concise value becomes an object to carry it";
  EXPECT_EQ(notified_entity(make(*this, R"({"showChanges":true,"format":"keyValues","attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), again),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","humidity":45})"))
      << "keyValues has no place for it";
  EXPECT_EQ(notified_entity(make(*this, R"({"attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), again),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","humidity":{"type":"Property","value":45}})"))
      << "only with showChanges";
}

TEST_F(NotificationTest, DeletedAttributesAndEntities) {
  create(kRoomEntity);
  const auto& deleted_attribute = merge("urn:ngsi-ld:Room:1", R"({"humidity":"urn:ngsi-ld:null"})");
  EXPECT_EQ(notified_entity(make(*this, R"({"showChanges":true,"attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), deleted_attribute),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room",
              "humidity":{"type":"Property","value":"urn:ngsi-ld:null","previousValue":40}})"));
  EXPECT_EQ(notified_entity(make(*this, R"({"format":"keyValues","attributes":["humidity"],"endpoint":{"uri":"http://h/n"}})"), deleted_attribute),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","humidity":"urn:ngsi-ld:null"})"));
  const auto& deleted = remove("urn:ngsi-ld:Room:1");
  EXPECT_EQ(notified_entity(make(*this, R"({"endpoint":{"uri":"http://h/n"}})"), deleted),
            json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room"})"));
}

TEST_F(NotificationTest, NotificationObject) {
  json::array data;
  data.push_back(json::object{{"id", "urn:ngsi-ld:Room:1"}, {"type", "Room"}});
  const auto n = make_notification("urn:ngsi-ld:Subscription:1", data, 0);
  EXPECT_EQ(n.at("type"), "Notification");
  EXPECT_EQ(n.at("subscriptionId"), "urn:ngsi-ld:Subscription:1");
  EXPECT_EQ(n.at("notifiedAt"), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(n.at("data"), json::value(data));
  EXPECT_EQ(std::string(n.at("id").as_string()).rfind(std::string(kNotificationIdPrefix), 0), 0u);
  EXPECT_NE(n.at("id"), make_notification("urn:ngsi-ld:Subscription:1", data, 0).at("id"));
}

}  // namespace
}  // namespace ct::notify
