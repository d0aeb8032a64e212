#include "notify/websocket.hpp"

#include <gtest/gtest.h>

namespace ct::notify {
namespace {

class CountingListener : public Listener {
 public:
  void deliver(std::shared_ptr<const std::string> message) override { received.push_back(*message); }
  void close() override { ++closed; }
  std::vector<std::string> received;
  int closed = 0;
};

TEST(ListenerHub, BroadcastsToEveryLiveListenerEveryTime) {
  ListenerHub hub;
  auto a = std::make_shared<CountingListener>();
  auto b = std::make_shared<CountingListener>();
  auto other = std::make_shared<CountingListener>();
  hub.add("t\x1fs1", a);
  hub.add("t\x1fs1", b);
  hub.add("t\x1fs2", other);
  EXPECT_TRUE(hub.has_listeners("t\x1fs1"));
  EXPECT_FALSE(hub.has_listeners("t\x1fs3"));
  EXPECT_EQ(hub.broadcast("t\x1fs1", std::make_shared<const std::string>("one")), 2u);
  EXPECT_EQ(hub.broadcast("t\x1fs1", std::make_shared<const std::string>("two")), 2u) << "listeners stay registered";
  EXPECT_EQ(a->received, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(b->received, a->received);
  EXPECT_TRUE(other->received.empty());

  b.reset();  // its connection ended
  EXPECT_EQ(hub.broadcast("t\x1fs1", std::make_shared<const std::string>("three")), 1u);
  a.reset();
  EXPECT_EQ(hub.broadcast("t\x1fs1", std::make_shared<const std::string>("four")), 0u);
  EXPECT_FALSE(hub.has_listeners("t\x1fs1"));

  hub.close_all("t\x1fs2");
  EXPECT_EQ(other->closed, 1);
  EXPECT_EQ(hub.broadcast("t\x1fs2", std::make_shared<const std::string>("five")), 0u) << "forgotten once closed";
}

}  // namespace
}  // namespace ct::notify
