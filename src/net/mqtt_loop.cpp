#include "net/mqtt_loop.hpp"

#include <mosquitto.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

namespace ct::net {

Status MqttLoop::start(struct mosquitto* client, MqttLoopHooks hooks) {
  if (thread_.joinable()) return {};
  client_ = client;
  hooks_ = std::move(hooks);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Problem{ProblemKind::InternalError, "cannot create an eventfd for the MQTT network thread"};
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
  return {};
}

void MqttLoop::stop() {
  if (thread_.joinable()) {
    stopping_.store(true);
    wake();
    thread_.join();
  }
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

void MqttLoop::wake() {
  const std::uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void MqttLoop::sleep_for(std::chrono::microseconds duration) {
  pollfd fd{wake_fd_, POLLIN, 0};
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
  const timespec timeout{static_cast<std::time_t>(seconds.count()),
                         static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(duration - seconds).count())};
  (void)::ppoll(&fd, 1, &timeout, nullptr);
}

bool MqttLoop::drain() {
  for (std::size_t i = 0; i < hooks_.max_drain; ++i) {
    // libmosquitto reads one packet per call and tells an empty socket only by errno (EAGAIN
    // after a successful call). A stray EAGAIN from a callback only ends this drain early.
    errno = 0;
    if (mosquitto_loop_read(client_, 1) != MOSQ_ERR_SUCCESS || mosquitto_socket(client_) < 0) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
  }
  return true;
}

void MqttLoop::after_read() {
  if (hooks_.after_read) (void)hooks_.after_read();
}

void MqttLoop::run() {
  while (!stopping_.load()) {
    const int socket = mosquitto_socket(client_);
    if (socket < 0) {
      after_read();
      sleep_for(backoff_.next());
      if (stopping_.load()) break;
      if (const int rc = mosquitto_reconnect_async(client_); rc != MOSQ_ERR_SUCCESS)
        spdlog::debug("{}: reconnecting failed: {}", name_, mosquitto_strerror(rc));
      continue;
    }
    std::array<pollfd, 2> fds{pollfd{socket, static_cast<short>(POLLIN | (mosquitto_want_write(client_) ? POLLOUT : 0)), 0},
                              pollfd{wake_fd_, POLLIN, 0}};
    // Wakes for the keep-alive at least once a second (mosquitto_loop_misc sends the pings).
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) {
      spdlog::error("{}: poll failed: {}", name_, std::strerror(errno));
      sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (fds[1].revents & POLLIN) {
      std::uint64_t count = 0;
      (void)!::read(wake_fd_, &count, sizeof count);
    }
    bool handled = false;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const bool alive = drain();
      handled = hooks_.after_read && hooks_.after_read();
      if (!alive) continue;  // libmosquitto closed the socket and called the disconnect callback
    }
    if (mosquitto_want_write(client_) && mosquitto_loop_write(client_, 1) != MOSQ_ERR_SUCCESS) continue;
    if (mosquitto_socket(client_) >= 0) (void)mosquitto_loop_misc(client_);
    if (handled && hooks_.linger.count() > 0) sleep_for(hooks_.linger);
  }
  // Stopping: say goodbye to the broker, best effort.
  after_read();
  if (mosquitto_socket(client_) >= 0) {
    mosquitto_disconnect(client_);
    (void)mosquitto_loop_write(client_, 1);
  }
}

}  // namespace ct::net
