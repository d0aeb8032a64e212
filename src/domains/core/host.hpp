#pragma once
// The host of the applications: the one place where they receive the twin's changes.
//
// - It observes the twin (ChangeObserver). on_change(), under the twin's write lock, only appends
//   the event to one bounded queue, and only when some application consumes one of the entity's
//   types. No change is dropped: beyond queue_capacity events, a writer waits in after_write()
//   (after the twin released its lock, at most queue_full_wait per write call) for the applications
//   thread to catch up: back-pressure instead of loss. That thread's own write-backs never wait for
//   the queue it alone drains.
// - One applications thread takes the events in batches, waits until they are durable, and hands
//   each to every application that consumes one of the entity's types, in order; then ticks them.
// - Every application shares this queue and thread; when the twin offers a change stream
//   (issue #14), it replaces this queue here and nowhere else.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "domains/core/application.hpp"
#include "twin/change_event.hpp"

namespace ct::domains {

struct HostOptions {
  std::size_t queue_capacity = 100'000;            // events queued before writers wait
  std::chrono::milliseconds queue_full_wait{1000};  // the longest one write call waits
  std::chrono::milliseconds tick{1000};             // how often on_tick runs when idle
};

struct HostStats {
  std::uint64_t events_queued = 0, events_delivered = 0, writer_waits = 0;
  std::size_t queue_length = 0;
};

class Host final : public twin::ChangeObserver {
 public:
  explicit Host(AppServices services, HostOptions options = {});
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  AppServices& services() { return services_; }

  // Before start(): adds an application (the host owns it).
  void add(std::unique_ptr<Application> application);

  // Starts every application, then the applications thread. Changes made before start() are not
  // delivered: applications read the state they start from in their own start().
  Status start();
  // Stops the thread (events still queued are not delivered), then every application.
  void stop();

  // The application registered under `name`, or nullptr. Valid until the host is destroyed.
  Application* find(std::string_view name) const;
  HostStats stats() const;
  // The host's and every application's counters, for /metrics.
  void counters(std::vector<AppCounter>& out) const;

  void on_change(const twin::ChangeEvent& event) override;
  void after_write() override;

 private:
  struct Impl;
  AppServices services_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ct::domains
