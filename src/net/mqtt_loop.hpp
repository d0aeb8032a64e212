#pragma once
// The network loop of one libmosquitto client, on a thread of its own rather than libmosquitto's
// (mosquitto_loop_start), shared by MQTT ingest and MQTT notifications:
// - libmosquitto 2.0.11 waits in pselect() before every QoS 0 message it reads, and its own loop
//   reconnects after whole seconds (1 s at best). This loop waits in poll() on the socket and an
//   eventfd, reads every packet already in the socket (up to max_drain) at once, writes what other
//   threads queued (they call wake() after mosquitto_publish), and sends the keep-alive pings.
// - A lost or refused connection is retried after ReconnectBackoff's delays: 100 ms, doubling, at
//   most 1 s. A broker that comes back is reconnected to within a second.
//
// The client must be created with mosquitto_threaded_set(client, true) (packets published from other
// threads are then queued for this thread) and its first mosquitto_connect_async called (successful
// or not) before start(). Its callbacks (connect, message, ...) run on the loop thread; the connect
// callback should call connected().
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/result.hpp"

struct mosquitto;

namespace ct::net {

// Delays between reconnection attempts: 100 ms, 200 ms, 400 ms, ... at most 1 s; from the start again
// after a successful connection.
class ReconnectBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMax{1000};
  std::chrono::milliseconds next() {
    const auto delay = delay_;
    delay_ = std::min(kMax, delay_ * 2);
    return delay;
  }
  void reset() { delay_ = kFirst; }

 private:
  std::chrono::milliseconds delay_ = kFirst;
};

struct MqttLoopHooks {
  // On the loop thread after a drain of the socket (the message callbacks have run), and before
  // each wait for a reconnection. Returns true when it handled messages: the loop then sleeps
  // `linger` before it looks again, so that under load one wake-up serves many messages.
  std::function<bool()> after_read;
  std::chrono::microseconds linger{0};
  std::size_t max_drain = 1024;  // packets read in one go at most
};

class MqttLoop {
 public:
  explicit MqttLoop(std::string name) : name_(std::move(name)) {}  // the name is for the log
  ~MqttLoop() { stop(); }
  MqttLoop(const MqttLoop&) = delete;
  MqttLoop& operator=(const MqttLoop&) = delete;

  Status start(struct mosquitto* client, MqttLoopHooks hooks = {});
  // Says goodbye to the broker (best effort) and joins the thread. The client stays the caller's.
  void stop();
  // From any thread: the loop looks at the client now (a packet was queued).
  void wake();
  // From the connect callback (the loop thread): the next lost connection starts the backoff anew.
  void connected() { backoff_.reset(); }

 private:
  void run();
  bool drain();  // false once the connection is lost
  void sleep_for(std::chrono::microseconds duration);  // or until wake()
  void after_read();

  std::string name_;
  struct mosquitto* client_ = nullptr;
  MqttLoopHooks hooks_;
  ReconnectBackoff backoff_;
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;
  std::thread thread_;
};

}  // namespace ct::net
