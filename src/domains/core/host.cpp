#include "domains/core/host.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

namespace ct::domains {

struct Host::Impl {
  HostOptions options;
  std::vector<std::unique_ptr<Application>> applications;
  // Which applications consume each type; fixed at start().
  std::unordered_map<model::Term, std::vector<Application*>> consumers;

  std::mutex mutex;
  std::condition_variable wake, space;
  std::deque<twin::ChangeEvent> events;
  bool stopping = false;
  int writers_waiting = 0;
  std::thread thread;
  std::atomic<std::thread::id> thread_id{};
  std::atomic<std::uint64_t> queued{0}, delivered{0}, writer_waits{0};
  std::atomic<std::size_t> queue_length{0};

  void run(storage::Store& store) {
    thread_id = std::this_thread::get_id();
    std::vector<twin::ChangeEvent> batch;
    auto next_tick = std::chrono::steady_clock::now();
    for (;;) {
      {
        std::unique_lock lock(mutex);
        wake.wait_until(lock, next_tick, [&] { return stopping || !events.empty(); });
        if (stopping) return;
        constexpr std::size_t kBatch = 4096;
        while (!events.empty() && batch.size() < kBatch) {
          batch.push_back(std::move(events.front()));
          events.pop_front();
        }
        queue_length = events.size();
        if (writers_waiting > 0 && events.size() < options.queue_capacity) space.notify_all();
      }
      if (!batch.empty()) {
        storage::Sequence last = 0;
        for (const auto& e : batch) last = std::max(last, e.sequence);
        if (auto st = store.wait_durable(last); !st)
          spdlog::warn("applications: changes up to {} did not become durable: {}", last, st.problem().detail);
        for (const auto& event : batch) deliver(event);
        delivered += batch.size();
        batch.clear();
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_tick) {
        const Timestamp wall = now_ms();
        for (auto& application : applications) application->on_tick(wall);
        next_tick = now + options.tick;
      }
    }
  }

  void deliver(const twin::ChangeEvent& event) {
    if (!event.entity) return;
    // An entity with two consumed types reaches an application once.
    if (event.entity->types.size() == 1) {  // the usual case
      if (auto it = consumers.find(event.entity->types.front()); it != consumers.end())
        for (auto* application : it->second) application->on_change(event);
      return;
    }
    std::vector<Application*> seen;
    for (auto type : event.entity->types) {
      auto it = consumers.find(type);
      if (it == consumers.end()) continue;
      for (auto* application : it->second) {
        if (std::find(seen.begin(), seen.end(), application) != seen.end()) continue;
        seen.push_back(application);
        application->on_change(event);
      }
    }
  }
};

Host::Host(AppServices services, HostOptions options) : services_(services), impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

Host::~Host() { stop(); }

void Host::add(std::unique_ptr<Application> application) { impl_->applications.push_back(std::move(application)); }

Status Host::start() {
  for (auto& application : impl_->applications) {
    if (auto st = application->start(); !st) return st;
    std::lock_guard lock(impl_->mutex);
    for (auto type : application->consumes()) impl_->consumers[type].push_back(application.get());
  }
  std::lock_guard lock(impl_->mutex);
  impl_->stopping = false;
  impl_->thread = std::thread([this] { impl_->run(services_.store); });
  return {};
}

void Host::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->thread.joinable()) return;
    impl_->stopping = true;
    impl_->wake.notify_all();
    impl_->space.notify_all();
  }
  impl_->thread.join();
  for (auto& application : impl_->applications) application->stop();
}

Application* Host::find(std::string_view name) const {
  for (const auto& application : impl_->applications)
    if (application->name() == name) return application.get();
  return nullptr;
}

HostStats Host::stats() const {
  return {impl_->queued.load(), impl_->delivered.load(), impl_->writer_waits.load(), impl_->queue_length.load()};
}

void Host::counters(std::vector<AppCounter>& out) const {
  const auto s = stats();
  out.push_back({"host_events_queued", "changes queued for the applications", "", s.events_queued});
  out.push_back({"host_events_delivered", "changes handed to the applications", "", s.events_delivered});
  out.push_back({"host_writer_waits", "write calls that waited for the applications to catch up", "", s.writer_waits});
  for (const auto& application : impl_->applications) application->counters(out);
}

void Host::on_change(const twin::ChangeEvent& event) {
  if (!event.entity) return;
  std::lock_guard lock(impl_->mutex);
  bool consumed = false;
  for (auto type : event.entity->types) consumed = consumed || impl_->consumers.count(type) > 0;
  if (!consumed) return;
  impl_->events.push_back(event);
  ++impl_->queued;
  impl_->queue_length = impl_->events.size();
  // The thread drains the whole queue when it wakes: only the first event needs a wake-up.
  if (impl_->events.size() == 1) impl_->wake.notify_one();
}

void Host::after_write() {
  // Back-pressure only: the applications thread's own write-backs must not wait for the queue it
  // alone drains (this says nothing about which events are write-backs; see Application::on_change).
  const auto own = impl_->thread_id.load(std::memory_order_relaxed);
  if (own == std::thread::id{} || std::this_thread::get_id() == own) return;
  std::unique_lock lock(impl_->mutex);
  const auto capacity = impl_->options.queue_capacity;
  if (impl_->events.size() < capacity || impl_->stopping) return;
  ++impl_->writer_waits;
  ++impl_->writers_waiting;
  impl_->space.wait_for(lock, impl_->options.queue_full_wait,
                        [&] { return impl_->stopping || impl_->events.size() < capacity; });
  --impl_->writers_waiting;
}

}  // namespace ct::domains
