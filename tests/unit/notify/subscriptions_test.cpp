// The registry and matcher together (subscriptions.hpp), against a real twin and store.
#include "notify/subscriptions.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "notify_fixture.hpp"

namespace ct::notify {
namespace {

using testing::NotifyTest;

// Waits up to two seconds for the matcher to have produced `count` notifications.
bool notifications_reach(const Subscriptions& subscriptions, std::uint64_t count) {
  for (int i = 0; i < 200; ++i) {
    if (subscriptions.stats().notifications >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// A change queued before a subscription existed is not notified to it, even when the matcher only
// gets to the change after the subscription was created (the matcher is held back here).
TEST_F(NotifyTest, SubscriptionIsNotNotifiedOfChangesOlderThanItself) {
  Subscriptions subscriptions(*twin_, *store_, contexts_);
  twin_->changes().attach(subscriptions, twin::ChangeStream::Delivery::Held);  // until start()
  // Another subscription, so that change events are queued at all.
  ASSERT_TRUE(subscriptions
                  .create("", json::parse(R"({"type":"Subscription","entities":[{"type":"Other"}],
                            "notification":{"endpoint":{"uri":"http://127.0.0.1:9/"}}})").as_object(), core())
                  .ok());
  create(R"({"id":"urn:ngsi-ld:Station:dongsi","type":"Station","pm25":{"type":"Property","value":40}})");
  ASSERT_TRUE(subscriptions
                  .create("", json::parse(R"({"type":"Subscription","entities":[{"type":"Station"}],
                            "notification":{"endpoint":{"uri":"http://127.0.0.1:9/"}}})").as_object(), core())
                  .ok());

  subscriptions.start();
  merge("urn:ngsi-ld:Station:dongsi", R"({"pm25":{"type":"Property","value":75}})");
  EXPECT_TRUE(notifications_reach(subscriptions, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(subscriptions.stats().notifications, 1u) << "the creation of dongsi was notified too";
  subscriptions.stop();
}

// A change is notified by the subscription as it was when the change was queued: a change made
// while it was paused is not notified after it resumes, and one made before the pause still is.
TEST_F(NotifyTest, DeactivatingAndReactivatingApplyToChangesQueuedMeanwhile) {
  Subscriptions subscriptions(*twin_, *store_, contexts_);
  twin_->changes().attach(subscriptions, twin::ChangeStream::Delivery::Held);  // until start()
  auto created = subscriptions.create("", json::parse(R"({"type":"Subscription","entities":[{"type":"Station"}],
                            "notification":{"endpoint":{"uri":"http://127.0.0.1:9/"}}})").as_object(), core());
  ASSERT_TRUE(created.ok());
  auto set_active = [&](bool active) {
    json::object fragment;
    fragment["isActive"] = active;
    ASSERT_TRUE(subscriptions.update("", created->id, fragment, core()).ok());
  };
  create(R"({"id":"urn:ngsi-ld:Station:dongsi","type":"Station","pm25":{"type":"Property","value":40}})");
  set_active(false);
  merge("urn:ngsi-ld:Station:dongsi", R"({"pm25":{"type":"Property","value":75}})");  // while paused
  set_active(true);

  subscriptions.start();  // the matcher sees all three changes only now
  EXPECT_TRUE(notifications_reach(subscriptions, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(subscriptions.stats().notifications, 1u) << "only the creation, made before the pause";
  merge("urn:ngsi-ld:Station:dongsi", R"({"pm25":{"type":"Property","value":80}})");  // after the resume
  EXPECT_TRUE(notifications_reach(subscriptions, 2));
  subscriptions.stop();
}

// A full queue holds the writers back instead of losing changes: every change is notified, both
// those queued before the matcher started and those written while it runs.
TEST_F(NotifyTest, AFullQueueLosesNoChange) {
  NotifierOptions options;
  options.event_queue_capacity = 4;
  Subscriptions subscriptions(*twin_, *store_, contexts_, options);
  twin_->changes().attach(subscriptions, twin::ChangeStream::Delivery::Held);  // until start()
  ASSERT_TRUE(subscriptions
                  .create("", json::parse(R"({"type":"Subscription","entities":[{"type":"Station"}],
                            "notification":{"endpoint":{"uri":"http://127.0.0.1:9/"}}})").as_object(), core())
                  .ok());
  constexpr int kChanges = 200;
  const auto write = [&](int i) {
    const std::string text = R"({"id":"urn:ngsi-ld:Station:s)" + std::to_string(i) +
                             R"(","type":"Station","pm25":{"type":"Property","value":)" + std::to_string(i) + "}}";
    ASSERT_TRUE(twin_->create("", decode(text.c_str())).ok());
  };
  for (int i = 0; i < kChanges; ++i) write(i);  // queued while no matcher runs
  subscriptions.start();
  for (int i = kChanges; i < 2 * kChanges; ++i) write(i);
  for (int i = 0; i < 10 && !notifications_reach(subscriptions, 2 * kChanges); ++i) {
  }
  EXPECT_EQ(subscriptions.stats().notifications, 2u * kChanges);
  subscriptions.stop();
}

}  // namespace
}  // namespace ct::notify
