#include "twin/change_stream.hpp"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <thread>

#include <spdlog/spdlog.h>

namespace ct::twin {

namespace {

constexpr int kPending = 0, kSucceeded = 1, kFailed = 2;
// At most this many events are taken per turn of a delivery thread, so that writers waiting for
// room are let go while a long queue is worked through.
constexpr std::size_t kEventsPerTurn = 4096;

}  // namespace

std::string_view origin_name(Origin origin) {
  switch (origin) {
    case Origin::ClientRequest: return "client request";
    case Origin::Device: return "device";
    case Origin::RuleAction: return "rule action";
    case Origin::TemporalBackfill: return "temporal back-fill";
    case Origin::Application: return "application";
    case Origin::System: return "system";
  }
  return "unknown";
}

// The events of one store group, shared by every lane that queued some of them.
struct ChangeStream::Group {
  std::vector<ChangeEvent> events;
  storage::Sequence sequence = 0;
  std::uint32_t lanes = 0;  // bit i: the lane in active_[i] queued it (to wake it when settled)
  std::atomic<int> state{kPending};
};

// One consumer's queue and delivery thread.
struct ChangeStream::Lane {
  struct Entry {
    std::shared_ptr<Group> group;
    std::vector<std::uint32_t> only;  // the indexes of the events wanted; empty: all of them
    std::size_t count = 0;
  };

  ChangeConsumer* consumer = nullptr;
  std::size_t slot = 0;
  QueueLimits limits;

  std::mutex mutex;
  std::condition_variable wake_cv;   // the delivery thread: a group settled, wake(), release, stop
  std::condition_variable space_cv;  // writers waiting for room, wait_consumed()
  std::deque<Entry> queue;
  storage::Sequence consuming_low = 0;  // the lowest sequence being consumed now (0: none)
  bool held = false, woken = false, stopping = false;
  std::size_t space_waiters = 0;
  std::atomic<bool> sleeping{false};    // the delivery thread waits (read by settle(), see there)
  std::atomic<std::size_t> waiting{0};  // events queued or being consumed (read by writers unlocked)
  std::atomic<std::uint64_t> queued{0}, consumed{0}, discarded{0}, writer_waits{0};
  std::thread thread;
  std::atomic<std::thread::id> thread_id{};

  bool head_settled() const { return !held && !queue.empty() && queue.front().group->state.load() != kPending; }

  void run() {
    thread_id = std::this_thread::get_id();
    std::string name = "citytwin-" + std::string(consumer->name());
    name.resize(std::min<std::size_t>(name.size(), 15));  // the kernel's limit
    pthread_setname_np(pthread_self(), name.c_str());
    Timestamp due = consumer->tick(now_ms());
    std::vector<Entry> batch;
    std::vector<ChangeEvent> subset;
    for (;;) {
      std::size_t taken = 0;
      {
        std::unique_lock lock(mutex);
        for (;;) {
          if (stopping) return;
          if (head_settled() || woken || (due != kNoTimestamp && now_ms() >= due)) break;
          // Announce the sleep before the last look at the head: settle() stores the state, then
          // reads `sleeping`; one of the two sees the other's write (both sequentially consistent).
          sleeping.store(true);
          if (head_settled()) {
            sleeping.store(false);
            break;
          }
          if (due == kNoTimestamp) wake_cv.wait(lock);
          else wake_cv.wait_until(lock, std::chrono::system_clock::time_point(std::chrono::milliseconds(due)));
          sleeping.store(false);
        }
        woken = false;
        while (head_settled() && taken < kEventsPerTurn) {
          taken += queue.front().count;
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        consuming_low = 0;
        for (const auto& e : batch)
          if (consuming_low == 0 || e.group->sequence < consuming_low) consuming_low = e.group->sequence;
      }
      for (auto& e : batch) {
        const auto& events = e.group->events;
        if (e.group->state.load() == kFailed) {
          discarded.fetch_add(e.count, std::memory_order_relaxed);
          continue;
        }
        if (e.only.empty()) {
          consumer->consume(std::span<const ChangeEvent>(events));
        } else {
          subset.clear();
          for (auto i : e.only) subset.push_back(events[i]);
          consumer->consume(std::span<const ChangeEvent>(subset));
        }
        consumed.fetch_add(e.count, std::memory_order_relaxed);
      }
      batch.clear();
      subset.clear();
      due = consumer->tick(now_ms());
      std::lock_guard lock(mutex);
      waiting.fetch_sub(taken);
      consuming_low = 0;
      space_cv.notify_all();
    }
  }
};

ChangeStream::ChangeStream(storage::Store& store) : store_(store) {}

ChangeStream::~ChangeStream() {
  std::vector<ChangeConsumer*> attached;
  {
    std::lock_guard lock(lanes_mutex_);
    for (auto& slot : active_)
      if (Lane* lane = slot.load()) attached.push_back(lane->consumer);
  }
  for (auto* consumer : attached) detach(*consumer);
  // Store callbacks of groups still in flight reach settle(): let them finish first.
  (void)store_.wait_durable(published_.load());
  while (in_flight_.load() != 0) std::this_thread::yield();
}

ChangeStream::Lane* ChangeStream::find(const ChangeConsumer& consumer) const {
  for (const auto& slot : active_)
    if (Lane* lane = slot.load(); lane && lane->consumer == &consumer) return lane;
  return nullptr;
}

void ChangeStream::attach(ChangeConsumer& consumer, Delivery delivery) {
  std::lock_guard lock(lanes_mutex_);
  if (find(consumer)) return;
  auto lane = std::make_unique<Lane>();
  lane->consumer = &consumer;
  lane->limits = consumer.queue_limits();
  lane->held = delivery == Delivery::Held;
  auto free = std::find_if(active_.begin(), active_.end(), [](const auto& slot) { return slot.load() == nullptr; });
  if (free == active_.end()) {
    spdlog::critical("change stream: more than {} consumers; {} not attached", kMaxConsumers, consumer.name());
    return;
  }
  lane->slot = static_cast<std::size_t>(free - active_.begin());
  Lane* raw = lane.get();
  lanes_.push_back(std::move(lane));
  raw->thread = std::thread([raw] { raw->run(); });
  free->store(raw);
  attached_.fetch_add(1);
}

void ChangeStream::release(ChangeConsumer& consumer) {
  Lane* lane = find(consumer);
  if (!lane) return;
  std::lock_guard lock(lane->mutex);
  lane->held = false;
  lane->wake_cv.notify_one();
}

void ChangeStream::detach(ChangeConsumer& consumer) {
  Lane* lane = nullptr;
  {
    std::lock_guard lock(lanes_mutex_);
    lane = find(consumer);
    if (!lane) return;
    active_[lane->slot].store(nullptr);
    attached_.fetch_sub(1);
  }
  {
    std::lock_guard lock(lane->mutex);
    lane->stopping = true;
    lane->wake_cv.notify_one();
    lane->space_cv.notify_all();
  }
  if (lane->thread.joinable()) lane->thread.join();
  std::lock_guard lock(lane->mutex);
  lane->queue.clear();
}

void ChangeStream::wake(ChangeConsumer& consumer) {
  Lane* lane = find(consumer);
  if (!lane) return;
  std::lock_guard lock(lane->mutex);
  lane->woken = true;
  lane->wake_cv.notify_one();
}

bool ChangeStream::wait_consumed(ChangeConsumer& consumer, storage::Sequence sequence,
                                 std::chrono::milliseconds timeout) {
  Lane* lane = find(consumer);
  if (!lane) return false;
  std::unique_lock lock(lane->mutex);
  return lane->space_cv.wait_for(lock, timeout, [&] {
    if (lane->stopping) return false;
    if (lane->consuming_low != 0 && lane->consuming_low <= sequence) return false;
    return std::none_of(lane->queue.begin(), lane->queue.end(),
                        [&](const Lane::Entry& e) { return e.group->sequence <= sequence; });
  });
}

ConsumerStats ChangeStream::stats(const ChangeConsumer& consumer) const {
  ConsumerStats out;
  Lane* lane = find(consumer);
  if (!lane) return out;
  out.events_queued = lane->queued.load(std::memory_order_relaxed);
  out.events_consumed = lane->consumed.load(std::memory_order_relaxed);
  out.events_discarded = lane->discarded.load(std::memory_order_relaxed);
  out.writer_waits = lane->writer_waits.load(std::memory_order_relaxed);
  out.waiting = lane->waiting.load(std::memory_order_relaxed);
  return out;
}

storage::Sequence ChangeStream::published() const { return published_.load(); }

void ChangeStream::publish(storage::Sequence sequence, std::vector<ChangeEvent>&& events) {
  for (auto seen = published_.load(std::memory_order_relaxed);
       seen < sequence && !published_.compare_exchange_weak(seen, sequence);) {
  }
  if (events.empty() || attached_.load(std::memory_order_relaxed) == 0) return;
  for (auto& e : events) e.sequence = sequence;
  // Which lanes want which events: decided before the events move into the shared group.
  struct Wanted {
    Lane* lane;
    std::vector<std::uint32_t> only;
    std::size_t count;
  };
  std::array<Wanted, kMaxConsumers> wanted;
  std::size_t lanes = 0;
  for (auto& slot : active_) {
    Lane* lane = slot.load(std::memory_order_acquire);
    if (!lane) continue;
    Wanted w{lane, {}, 0};
    for (std::uint32_t i = 0; i < events.size(); ++i) {
      if (lane->consumer->wants(events[i])) {
        if (w.count != i) w.only.push_back(i);  // an earlier one was left out: list them
        ++w.count;
      } else if (w.count == i) {
        for (std::uint32_t j = 0; j < i; ++j) w.only.push_back(j);  // the first left out: list those before
      }
    }
    if (w.count == 0) continue;
    wanted[lanes++] = std::move(w);
  }
  if (lanes == 0) return;
  auto group = std::make_shared<Group>();
  group->events = std::move(events);
  group->sequence = sequence;
  for (std::size_t i = 0; i < lanes; ++i) group->lanes |= 1u << wanted[i].lane->slot;
  for (std::size_t i = 0; i < lanes; ++i) {
    Lane& lane = *wanted[i].lane;
    std::lock_guard lock(lane.mutex);
    lane.queue.push_back(Lane::Entry{group, std::move(wanted[i].only), wanted[i].count});
    lane.waiting.fetch_add(wanted[i].count, std::memory_order_relaxed);
    lane.queued.fetch_add(wanted[i].count, std::memory_order_relaxed);
  }
  // No wake-up here: the group is not durable yet. settle() wakes the lanes once it is.
  in_flight_.fetch_add(1);
  store_.when_durable(sequence, [this, group](const Status& status) { settle(group, status); });
}

void ChangeStream::settle(const std::shared_ptr<Group>& group, const Status& status) {
  if (!status) spdlog::warn("change stream: a store group failed; its changes are not delivered: {}", status.problem().detail);
  group->state.store(status ? kSucceeded : kFailed);
  for (std::size_t i = 0; i < kMaxConsumers; ++i) {
    if (!(group->lanes & (1u << i))) continue;
    Lane* lane = active_[i].load();
    if (!lane || !lane->sleeping.load()) continue;
    std::lock_guard lock(lane->mutex);  // the delivery thread is in wait() or about to check again
    lane->wake_cv.notify_one();
  }
  in_flight_.fetch_sub(1);  // the last use of `this`
}

void ChangeStream::after_write() {
  for (auto& slot : active_) {
    Lane* lane = slot.load(std::memory_order_acquire);
    if (!lane || lane->waiting.load(std::memory_order_relaxed) < lane->limits.capacity) continue;
    // A delivery thread never waits: it may be the one that drains this queue, or wait for one
    // whose consumer waits for it.
    const auto self = std::this_thread::get_id();
    for (auto& other : active_)
      if (Lane* l = other.load(); l && l->thread_id.load() == self) return;
    std::unique_lock lock(lane->mutex);
    if (lane->held || lane->stopping) continue;
    const auto room = [&] { return lane->stopping || lane->held || lane->waiting.load() < lane->limits.capacity; };
    if (room()) continue;
    lane->writer_waits.fetch_add(1, std::memory_order_relaxed);
    lane->space_cv.wait_for(lock, lane->limits.full_wait, room);
  }
}

}  // namespace ct::twin
