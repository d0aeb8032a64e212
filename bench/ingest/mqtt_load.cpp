// MQTT load for the ingest benchmark (bench/ingest/run.sh), with libmosquitto:
//   mqtt_load publish   --port P --messages N --devices D --format ul|json --apikey K [--bare]
//     publishes N messages of 5 measures each on /K/<device>/attrs (K/<device>/attrs with --bare), QoS 1,
//     as fast as the broker acknowledges them, and prints the rate and `start_ns <t>`, the steady
//     clock (CLOCK_MONOTONIC, shared by every process) at its first publish;
//   mqtt_load subscribe --port P --messages N --apikey K [--bare]
//     counts messages on /K/+/attrs (K/+/attrs with --bare) until N arrived and prints `last_ns <t>`, the steady clock at
//     the last one: with the publisher's start_ns, what mosquitto routes to one consumer on this
//     machine, timed as CityTwin's ingest is (from the first publish to the last message consumed).
// The benchmark's mosquitto-alone rounds use --bare topics, which CityTwin (subscribed to /+/+/attrs)
// does not see, one byte shorter.
#include <mosquitto.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Counter {
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::int64_t> first_ns{0}, last_ns{0};
};

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

std::string payload(const std::string& format, std::uint64_t i) {
  char text[160];
  const double t = 15 + static_cast<double>(i % 100) / 10, h = 40 + static_cast<double>(i % 30);
  const auto pm = static_cast<int>(i % 500), no2 = static_cast<int>(i % 90);
  const double ws = static_cast<double>(i % 70) / 10;
  if (format == "json")
    std::snprintf(text, sizeof text, R"({"t":%.1f,"h":%.0f,"pm":%d,"no2":%d,"ws":%.1f})", t, h, pm, no2, ws);
  else
    std::snprintf(text, sizeof text, "t|%.1f|h|%.0f|pm|%d|no2|%d|ws|%.1f", t, h, pm, no2, ws);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MQTT load for the CityTwin ingest benchmark"};
  int port = 1883;
  std::uint64_t messages = 100000, devices = 1000;
  std::string format = "ul", apikey = "bench";
  bool bare = false;
  app.require_subcommand(1);
  auto* publish = app.add_subcommand("publish");
  auto* subscribe = app.add_subcommand("subscribe");
  for (auto* cmd : {publish, subscribe}) {
    cmd->add_option("--port", port);
    cmd->add_option("--messages", messages);
    cmd->add_option("--apikey", apikey);
    cmd->add_flag("--bare", bare, "topics without the leading /");
  }
  publish->add_option("--devices", devices);
  publish->add_option("--format", format)->check(CLI::IsMember({"ul", "json"}));
  CLI11_PARSE(app, argc, argv);

  const std::string root = bare ? "" : "/";
  mosquitto_lib_init();
  Counter counter;
  struct mosquitto* client = mosquitto_new(nullptr, true, &counter);
  if (!client || mosquitto_connect(client, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "cannot connect to 127.0.0.1:%d\n", port);
    return 1;
  }
  if (subscribe->parsed()) {
    mosquitto_message_callback_set(client, [](struct mosquitto*, void* self, const struct mosquitto_message*) {
      auto* c = static_cast<Counter*>(self);
      const auto t = now_ns();
      std::int64_t zero = 0;
      c->first_ns.compare_exchange_strong(zero, t);
      c->last_ns.store(t);
      c->count.fetch_add(1);
    });
    const std::string topic = root + apikey + "/+/attrs";
    mosquitto_subscribe(client, nullptr, topic.c_str(), 0);
    mosquitto_loop_start(client);
    std::printf("subscribed\n");
    std::fflush(stdout);
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (counter.count.load() < messages && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } else {
    mosquitto_publish_callback_set(client, [](struct mosquitto*, void* self, int) {
      static_cast<Counter*>(self)->count.fetch_add(1);
    });
    mosquitto_max_inflight_messages_set(client, 1000);
    mosquitto_loop_start(client);
    counter.first_ns = now_ns();
    for (std::uint64_t i = 0; i < messages; ++i) {
      const std::string topic = root + apikey + "/d" + std::to_string(i % devices) + "/attrs";
      const std::string body = payload(format, i);
      mosquitto_publish(client, nullptr, topic.c_str(), static_cast<int>(body.size()), body.data(), 1, false);
    }
    while (counter.count.load() < messages) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    counter.last_ns = now_ns();
  }
  const double seconds = static_cast<double>(counter.last_ns - counter.first_ns) / 1e9;
  std::printf("%s %llu messages in %.3f s: %.0f messages/s\n", subscribe->parsed() ? "received" : "published",
              static_cast<unsigned long long>(counter.count.load()), seconds,
              seconds > 0 ? static_cast<double>(counter.count.load()) / seconds : 0.0);
  mosquitto_disconnect(client);
  mosquitto_loop_stop(client, false);
  mosquitto_destroy(client);
  mosquitto_lib_cleanup();
  std::printf("%s %lld\n", subscribe->parsed() ? "last_ns" : "start_ns",
              static_cast<long long>(subscribe->parsed() ? counter.last_ns.load() : counter.first_ns.load()));
  return counter.count.load() >= messages ? 0 : 1;
}
