// A notification scheme added by this file alone (notify/scheme.hpp): test:// endpoints whose
// notifications land in an in-memory inbox. Nothing else in the tree knows the scheme.
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "notify/scheme.hpp"
#include "notify/subscriptions.hpp"
#include "notify_fixture.hpp"

namespace ct::notify {
namespace {

using testing::NotifyTest;

struct Received {
  std::string target, content_type, tenant, body;
};

class Inbox {
 public:
  void put(Received received) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(received));
    arrived_.notify_all();
  }
  void clear() {
    std::lock_guard lock(mutex_);
    items_.clear();
  }
  // What arrived once `count` notifications did, or after 10 s whatever did.
  std::vector<Received> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, std::chrono::seconds(10), [&] { return items_.size() >= count; });
    return items_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Received> items_;
};

Inbox& inbox() {
  static Inbox instance;
  return instance;
}

class InboxConnection final : public Connection {
 public:
  InboxConnection(boost::asio::io_context& io, std::string target) : io_(io), target_(std::move(target)) {}
  void transmit(const Outgoing& n, Done done) override {
    // Never done from inside transmit; and put in the inbox only once done, so that a test seeing the
    // notification also sees it counted as delivered.
    boost::asio::post(io_, [received = Received{target_, n.content_type, n.registration->tenant, n.body},
                            done = std::move(done)]() mutable {
      done(Attempt::Delivered, "");
      inbox().put(std::move(received));
    });
  }

 private:
  boost::asio::io_context& io_;
  std::string target_;
};

class InboxChannel final : public Channel {
 public:
  InboxChannel(boost::asio::io_context& io, std::string target) : io_(io), target_(std::move(target)) {}
  std::unique_ptr<Connection> connect() override { return std::make_unique<InboxConnection>(io_, target_); }

 private:
  boost::asio::io_context& io_;
  std::string target_;
};

class InboxScheme final : public NotificationScheme {
 public:
  Status complete(boost::urls::url_view uri, EndpointAddress& address) const override {
    if (uri.path().empty() || uri.path() == "/") return refused_endpoint("a test URI needs a box: test://host/box");
    address.target = uri.path();
    return {};
  }
  std::unique_ptr<Channel> open(const EndpointAddress& address, const ChannelContext& context) const override {
    return std::make_unique<InboxChannel>(context.io, address.target);
  }
};

class CustomSchemeTest : public NotifyTest {
 public:
  void SetUp() override {
    NotifyTest::SetUp();
    register_notification_scheme("test", [] { return std::make_unique<InboxScheme>(); });
    inbox().clear();
  }
  Result<Subscriptions::Created> subscribe(Subscriptions& subscriptions, const std::string& uri) {
    return subscriptions.create("", json::parse(R"({"type":"Subscription","entities":[{"type":"Station"}],
        "notification":{"format":"keyValues","endpoint":{"uri":")" + uri + R"("}}})").as_object(), core());
  }
};

TEST_F(CustomSchemeTest, ARegisteredSchemeReceivesTheNotificationsOfItsEndpoints) {
  Subscriptions subscriptions(*twin_, *store_, contexts_);
  twin_->changes().attach(subscriptions, twin::ChangeStream::Delivery::Held);
  auto created = subscribe(subscriptions, "TEST://inbox/alerts");
  ASSERT_TRUE(created.ok()) << created.problem().detail;
  subscriptions.start();
  create(R"({"id":"urn:ngsi-ld:Station:dongsi","type":"Station","pm25":{"type":"Property","value":40}})");
  merge("urn:ngsi-ld:Station:dongsi", R"({"pm25":{"type":"Property","value":75}})");
  const auto received = inbox().wait_for(2);
  subscriptions.stop();
  ASSERT_EQ(received.size(), 2u);
  for (const auto& r : received) {
    EXPECT_EQ(r.target, "/alerts");
    EXPECT_EQ(r.content_type, "application/json");
    const auto body = json::parse(r.body).as_object();
    EXPECT_EQ(std::string(body.at("subscriptionId").as_string()), created->id);
    EXPECT_EQ(std::string(body.at("data").as_array().at(0).as_object().at("id").as_string()), "urn:ngsi-ld:Station:dongsi");
  }
  auto pm25 = [](const Received& r) {
    return json::parse(r.body).as_object().at("data").as_array().at(0).as_object().at("pm25").as_int64();
  };
  EXPECT_EQ(pm25(received[0]), 40);
  EXPECT_EQ(pm25(received[1]), 75);
  EXPECT_EQ(subscriptions.stats().delivery.delivered, 2u);
}

TEST_F(CustomSchemeTest, TheSchemeRefusesItsOwnBadUrisAndUnknownSchemesStayRefused) {
  Subscriptions subscriptions(*twin_, *store_, contexts_);
  auto no_box = subscribe(subscriptions, "test://inbox");
  ASSERT_FALSE(no_box.ok());
  EXPECT_EQ(no_box.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(no_box.problem().detail.find("needs a box"), std::string::npos) << no_box.problem().detail;
  auto unknown = subscribe(subscriptions, "gopher://inbox/alerts");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(unknown.problem().detail.find("\"gopher\" is not supported (http, https, mqtt, test, or urn:citytwin:websocket)"),
            std::string::npos)
      << unknown.problem().detail;
}

}  // namespace
}  // namespace ct::notify
