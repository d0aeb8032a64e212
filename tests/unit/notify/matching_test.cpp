#include "notify/matching.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"
#include "notify_fixture.hpp"

namespace ct::notify {
namespace {

using testing::NotifyTest;
using MatchingTest = NotifyTest;

constexpr const char* kRoom = R"({"id":"urn:ngsi-ld:Room:1","type":"Room",
  "temperature":{"type":"Property","value":21},"humidity":{"type":"Property","value":40},
  "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[116.4,39.9]}}})";

std::string with_endpoint(const std::string& members) {
  return R"({"type":"Subscription",)" + members + R"(,"notification":{"endpoint":{"uri":"http://h/n"}}})";
}

TEST_F(MatchingTest, DefaultTriggersAreAttributeCreatedAndUpdated) {
  Subscription s = subscription(with_endpoint(R"("entities":[{"type":"Room"}])").c_str());
  EXPECT_EQ(fired_triggers(s, create(kRoom)), bit(Trigger::AttributeCreated));
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":22}})")),
            bit(Trigger::AttributeUpdated));
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"co2":{"type":"Property","value":400}})")),
            bit(Trigger::AttributeCreated));
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"co2":"urn:ngsi-ld:null"})")), 0) << "deletion not asked for";
  EXPECT_EQ(fired_triggers(s, remove("urn:ngsi-ld:Room:1")), 0);
}

TEST_F(MatchingTest, EveryTrigger) {
  Subscription s = subscription(with_endpoint(R"("entities":[{"type":"Room"}],"notificationTrigger":["entityCreated",
    "entityUpdated","entityDeleted","attributeCreated","attributeUpdated","attributeDeleted"])").c_str());
  EXPECT_EQ(fired_triggers(s, create(kRoom)), bit(Trigger::EntityCreated) | bit(Trigger::AttributeCreated));
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":22}})")),
            bit(Trigger::EntityUpdated) | bit(Trigger::AttributeUpdated));
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"humidity":"urn:ngsi-ld:null"})")),
            bit(Trigger::EntityUpdated) | bit(Trigger::AttributeDeleted));
  EXPECT_EQ(fired_triggers(s, remove("urn:ngsi-ld:Room:1")), bit(Trigger::EntityDeleted));

  Subscription only_deleted = subscription(with_endpoint(R"("entities":[{"type":"Room"}],"notificationTrigger":["entityDeleted"])").c_str());
  EXPECT_EQ(fired_triggers(only_deleted, create(kRoom)), 0);
  EXPECT_EQ(fired_triggers(only_deleted, remove("urn:ngsi-ld:Room:1")), bit(Trigger::EntityDeleted));
}

TEST_F(MatchingTest, WatchedAttributesMustBeTouched) {
  Subscription s = subscription(with_endpoint(R"("watchedAttributes":["temperature"],
    "notificationTrigger":["attributeUpdated","entityUpdated","entityDeleted"])").c_str());
  create(kRoom);
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"humidity":{"type":"Property","value":41}})")), 0);
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":23}})")),
            bit(Trigger::AttributeUpdated) | bit(Trigger::EntityUpdated));
  EXPECT_EQ(fired_triggers(s, remove("urn:ngsi-ld:Room:1")), bit(Trigger::EntityDeleted)) << "it had a temperature";
}

TEST_F(MatchingTest, QueriesHoldOnTheNewStateAndDeletionsOnTheOld) {
  Subscription s = subscription(with_endpoint(R"("entities":[{"type":"Room"}],"q":"temperature>25",
    "notificationTrigger":["attributeUpdated","entityDeleted"])").c_str());
  create(kRoom);
  EXPECT_EQ(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":24}})")), 0);
  EXPECT_NE(fired_triggers(s, merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":26}})")), 0);
  EXPECT_NE(fired_triggers(s, remove("urn:ngsi-ld:Room:1")), 0) << "it was at 26";

  Subscription near = subscription(with_endpoint(R"("entities":[{"type":"Room"}],
    "geoQ":{"geometry":"Point","coordinates":[116.4,39.9],"georel":"near;maxDistance==500"})").c_str());
  Subscription far = subscription(with_endpoint(R"("entities":[{"type":"Room"}],
    "geoQ":{"geometry":"Point","coordinates":[2.35,48.85],"georel":"near;maxDistance==500"})").c_str());
  Subscription scoped = subscription(with_endpoint(R"("entities":[{"type":"Room"}],"scopeQ":"/Beijing/#")").c_str());
  Subscription by_id = subscription(with_endpoint(R"("entities":[{"type":"Room","id":"urn:ngsi-ld:Room:2"}])").c_str());
  Subscription by_pattern = subscription(with_endpoint(R"("entities":[{"type":"Room","idPattern":":Room:1$"}])").c_str());
  Subscription other_type = subscription(with_endpoint(R"("entities":[{"type":"Office"}])").c_str());
  const auto& created = create(kRoom);
  EXPECT_NE(fired_triggers(near, created), 0);
  EXPECT_EQ(fired_triggers(far, created), 0);
  EXPECT_EQ(fired_triggers(scoped, created), 0);
  EXPECT_EQ(fired_triggers(by_id, created), 0);
  EXPECT_NE(fired_triggers(by_pattern, created), 0);
  EXPECT_EQ(fired_triggers(other_type, created), 0);
}

std::shared_ptr<const Registration> registered(Subscription s) {
  auto r = std::make_shared<Registration>();
  r->subscription = std::make_shared<const Subscription>(std::move(s));
  r->status = std::make_shared<DeliveryStatus>();
  return r;
}

TEST_F(MatchingTest, IndexFindsOnlyWhatCanMatch) {
  SubscriptionIndex index;
  auto add = [&](const std::string& id, const std::string& members) {
    Subscription s = subscription(with_endpoint(R"("id":")" + id + "\"," + members).c_str());
    index.put(registered(std::move(s)));
  };
  for (int i = 0; i < 10'000; ++i)
    add("urn:ngsi-ld:Subscription:room" + std::to_string(i),
        R"("entities":[{"type":"Room","id":"urn:ngsi-ld:Room:)" + std::to_string(i) + "\"}]");
  add("urn:ngsi-ld:Subscription:type", R"("entities":[{"type":"Room"}])");
  add("urn:ngsi-ld:Subscription:office", R"("entities":[{"type":"Office"}])");
  add("urn:ngsi-ld:Subscription:attr", R"("watchedAttributes":["humidity"])");
  add("urn:ngsi-ld:Subscription:co2", R"("watchedAttributes":["co2"])");
  add("urn:ngsi-ld:Subscription:near", R"("entities":[{"type":"Room"}],
    "geoQ":{"geometry":"Point","coordinates":[116.4,39.9],"georel":"near;maxDistance==500"})");
  add("urn:ngsi-ld:Subscription:far", R"("entities":[{"type":"Room"}],
    "geoQ":{"geometry":"Point","coordinates":[2.35,48.85],"georel":"near;maxDistance==500"})");
  add("urn:ngsi-ld:Subscription:any", R"("entities":[{"type":"Room;Office"}])");
  EXPECT_EQ(index.size(), 10'007u);

  std::vector<const Registration*> found;
  index.candidates(create(kRoom), found);
  std::vector<std::string> ids;
  for (const auto* r : found) ids.push_back(r->subscription->id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"urn:ngsi-ld:Subscription:any", "urn:ngsi-ld:Subscription:attr",
                                           "urn:ngsi-ld:Subscription:near", "urn:ngsi-ld:Subscription:room1",
                                           "urn:ngsi-ld:Subscription:type"}));

  index.remove("urn:ngsi-ld:Subscription:room1");
  index.remove("urn:ngsi-ld:Subscription:near");
  index.remove("urn:ngsi-ld:Subscription:attr");
  found.clear();
  index.candidates(merge("urn:ngsi-ld:Room:1", R"({"temperature":{"type":"Property","value":30}})"), found);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(index.size(), 10'004u);
  EXPECT_EQ(index.find("urn:ngsi-ld:Subscription:near"), nullptr);
  ASSERT_NE(index.find("urn:ngsi-ld:Subscription:far"), nullptr);

  // Replacing a subscription files it anew.
  index.put(registered(subscription(with_endpoint(R"("id":"urn:ngsi-ld:Subscription:office","entities":[{"type":"Room"}])").c_str())));
  found.clear();
  index.candidates(last_event(), found);
  EXPECT_EQ(found.size(), 3u);
  EXPECT_EQ(index.size(), 10'004u);
}

}  // namespace
}  // namespace ct::notify
