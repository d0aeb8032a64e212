#include "net/mqtt_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <csignal>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ct::net {
namespace {

TEST(MqttUrl, HostPortAndCredentials) {
  auto plain = parse_mqtt_url("mqtt://broker.example", "--mqtt");
  ASSERT_TRUE(plain) << plain.problem().detail;
  EXPECT_EQ(plain->host, "broker.example");
  EXPECT_EQ(plain->port, 1883);
  EXPECT_TRUE(plain->user.empty());

  auto full = parse_mqtt_url("mqtt://city:s3cret@127.0.0.1:1884", "--mqtt");
  ASSERT_TRUE(full) << full.problem().detail;
  EXPECT_EQ(full->host, "127.0.0.1");
  EXPECT_EQ(full->port, 1884);
  EXPECT_EQ(full->user, "city");
  EXPECT_EQ(full->password, "s3cret");
}

TEST(MqttUrl, RefusesOtherSchemesAndBadPortsNamingTheSetting) {
  for (const char* url : {"http://broker:1883", "mqtt://", "broker:1883", "mqtt://broker:0"}) {
    auto parsed = parse_mqtt_url(url, "--mqtt");
    ASSERT_FALSE(parsed) << url;
    EXPECT_NE(parsed.problem().detail.find("--mqtt"), std::string::npos) << parsed.problem().detail;
  }
}

// A free loopback port (bound, read, released: the broker takes it right after).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// A mosquitto broker on a free loopback port, for the life of the test.
class Broker {
 public:
  Broker() : port_(free_port()), dir_(std::filesystem::temp_directory_path() / ("citytwin-mqtt-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    const auto config = (dir_ / "mosquitto.conf").string();
    std::ofstream(config) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n";
    const auto log = (dir_ / "mosquitto.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>("mosquitto"), const_cast<char*>("-c"), const_cast<char*>(config.c_str()), nullptr};
    if (posix_spawnp(&pid_, "mosquitto", &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Broker() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  bool running() const { return pid_ > 0 && port_ != 0; }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

// Polls `done` until it holds or 10 s pass.
template <typename Condition>
bool eventually(Condition done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

MqttClientOptions options_for(const Broker& broker, std::string name) {
  MqttClientOptions options;
  options.name = std::move(name);
  options.broker.host = "127.0.0.1";
  options.broker.port = broker.port();
  return options;
}

// One client subscribes (from its on_connect), another publishes from this thread: every message
// arrives once, in order, and every QoS 1 publish is acknowledged. Under TSan this checks the hand-over
// between the publishing thread and the clients' network threads.
TEST(MqttClientTest, PublishesFromAnyThreadAndReceivesOnTheLoopThread) {
  Broker broker;
  if (!broker.running()) GTEST_SKIP() << "mosquitto is not installed";

  std::mutex mutex;
  std::vector<std::string> received;
  std::atomic<bool> subscribed{false};
  MqttClient* subscriber_ptr = nullptr;
  MqttCallbacks subscriber_callbacks;
  subscriber_callbacks.on_connect = [&] { subscribed.store(subscriber_ptr->subscribe("/test/#", 1)); };
  subscriber_callbacks.on_message = [&](std::string_view topic, std::string_view payload) {
    std::lock_guard lock(mutex);
    received.push_back(std::string(topic) + "=" + std::string(payload));
  };
  MqttClient subscriber(options_for(broker, "test subscriber"), subscriber_callbacks);
  subscriber_ptr = &subscriber;
  ASSERT_TRUE(subscriber.start());

  std::atomic<int> acknowledged{0};
  MqttCallbacks publisher_callbacks;
  publisher_callbacks.on_published = [&] { acknowledged.fetch_add(1); };
  MqttClient publisher(options_for(broker, "test publisher"), publisher_callbacks);
  ASSERT_TRUE(publisher.start());

  ASSERT_TRUE(eventually([&] { return subscriber.connected() && subscribed.load() && publisher.connected(); }));
  // The SUBACK is not observable here: publish a probe until the subscriber sees one.
  ASSERT_TRUE(eventually([&] {
    (void)publisher.publish("/test/probe", "", 1);
    std::lock_guard lock(mutex);
    return !received.empty();
  }));
  const int probes = acknowledged.load();
  {
    std::lock_guard lock(mutex);
    received.clear();
  }

  constexpr int kMessages = 50;
  int published = 0;
  for (int i = 0; i < kMessages; ++i)
    if (publisher.publish("/test/n", std::to_string(i), 1)) ++published;
  ASSERT_EQ(published, kMessages);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    std::size_t numbered = 0;
    for (const auto& r : received) numbered += r.starts_with("/test/n=") ? 1 : 0;
    return numbered == kMessages && acknowledged.load() >= probes + kMessages;
  }));
  publisher.stop();
  subscriber.stop();
  EXPECT_FALSE(publisher.connected());

  std::vector<std::string> numbered;
  for (const auto& r : received)
    if (r.starts_with("/test/n=")) numbered.push_back(r);
  ASSERT_EQ(numbered.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(numbered[static_cast<std::size_t>(i)], "/test/n=" + std::to_string(i));
}

TEST(MqttClientTest, PublishingBeforeTheConnectionIsRefusedNotLost) {
  MqttClientOptions options;
  options.name = "test nowhere";
  options.broker.host = "127.0.0.1";
  options.broker.port = free_port();  // nobody listens
  MqttClient client(options, {});
  ASSERT_TRUE(client.start());
  EXPECT_FALSE(client.connected());
  EXPECT_FALSE(client.publish("/test", "x", 1));
  client.stop();
  EXPECT_FALSE(client.ever_connected());
}

}  // namespace
}  // namespace ct::net
