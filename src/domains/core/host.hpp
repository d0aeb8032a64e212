#pragma once
// The host of the applications: the one place where they receive the twin's changes.
//
// - It is one consumer of the twin's change stream (twin/change_stream.hpp): attach it once, after
//   start(), with `twin.changes().attach(host)`. The stream hands it only durable changes, in
//   per-entity order, through a bounded queue that holds writers back instead of dropping; the
//   applications' own write-backs (made on the delivery thread) never wait for it.
// - wants() keeps only changes of an entity whose type some application consumes.
// - The applications' enrichers (twin/enricher.hpp) are added to the twin by start() and removed by
//   stop(), before the applications stop.
// - On the stream's delivery thread, each change goes to every application that consumes one of the
//   entity's types, in order, and on_tick runs every `tick`.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "domains/core/application.hpp"
#include "twin/change_stream.hpp"

namespace ct::domains {

struct HostOptions {
  std::size_t queue_capacity = 100'000;            // events queued before writers wait
  std::chrono::milliseconds queue_full_wait{1000};  // the longest one write call waits
  std::chrono::milliseconds tick{1000};             // how often on_tick runs
};

struct HostStats {
  std::uint64_t events_queued = 0, events_delivered = 0, writer_waits = 0;
  std::size_t queue_length = 0;
};

class Host final : public twin::ChangeConsumer {
 public:
  explicit Host(AppServices services, HostOptions options = {});
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  AppServices& services() { return services_; }

  // Before start(): adds an application (the host owns it).
  void add(std::unique_ptr<Application> application);

  // Starts every application and fixes which types each consumes. Attach the host to the change
  // stream after this: changes made before are not delivered (applications read the state they
  // start from in their own start()).
  Status start();
  // Detaches the host from the stream (changes still queued are not delivered), then stops every
  // application. Not from the delivery thread.
  void stop();

  // The application registered under `name`, or nullptr. Valid until the host is destroyed.
  Application* find(std::string_view name) const;
  HostStats stats() const;
  // The host's and every application's counters, for /metrics.
  void counters(std::vector<AppCounter>& out) const;

  // twin::ChangeConsumer
  std::string_view name() const override { return "applications"; }
  twin::QueueLimits queue_limits() const override;
  bool wants(const twin::ChangeEvent& event) const override;
  void consume(std::span<const twin::ChangeEvent> events) override;
  Timestamp tick(Timestamp now) override;

 private:
  void deliver(const twin::ChangeEvent& event);

  AppServices services_;
  HostOptions options_;
  std::vector<std::unique_ptr<Application>> applications_;
  // Which applications consume each type; fixed by start(), read by writers in wants().
  std::unordered_map<model::Term, std::vector<Application*>> consumers_;
  bool started_ = false;
  Timestamp next_tick_ = kNoTimestamp;
};

}  // namespace ct::domains
