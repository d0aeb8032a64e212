#pragma once
// The change stream: the one way every consumer of the twin's changes (notifications, rules,
// ingest's commands, smart applications) receives them.
//
// What is promised to a consumer:
//   - Only durable changes: an event reaches consume() once the store group that holds it is
//     durable AND succeeded. A group that fails is never delivered (its events are discarded).
//   - Per-entity order: the changes of one entity arrive in the order the twin applied them.
//     (Changes of different tenants may interleave in any order.)
//   - Every change once: nothing is dropped and nothing repeated while the consumer is attached.
//     Changes made before attach() or after detach() are not delivered; nothing survives a restart
//     (a consumer rebuilds its state from the twin, the store or the history at start).
//   - Bounded queue with back-pressure: when more than `capacity` events wait for a consumer, a
//     writer waits after its write (Twin::after_write, outside every twin lock) until there is room,
//     at most `full_wait` per write call; the queue is never cut short. Writes made on a delivery
//     thread (a rule's alert, an application's derived entity) never wait: a consumer must not wait
//     for a queue only it drains.
//
// Threads:
//   - publish() is called by the twin's writer under the tenant's write lock; wants() runs there.
//   - Each attached consumer has ONE delivery thread of its own ("citytwin-<name>", cut to 15
//     characters) which calls tick()
//     once at start, then consume() and tick() as events, wake-ups and the tick's deadline come.
//     A consumer's state touched only from consume() and tick() needs no lock.
//   - attach(), detach(), release(), wake(), wait_consumed() and stats() may be called from any
//     thread except a delivery thread (which must not detach or wait for itself).
//
// Adding a consumer is one class (derive from ChangeConsumer) and one line where the program is
// wired (src/app/serve.cpp): twin.changes().attach(my_consumer).
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "storage/store.hpp"
#include "twin/change_event.hpp"

namespace ct::twin {

struct QueueLimits {
  std::size_t capacity = 100'000;          // events waiting before writers wait
  std::chrono::milliseconds full_wait{1000};  // the longest one write call waits for room
};

class ChangeConsumer {
 public:
  virtual ~ChangeConsumer() = default;
  // Names the delivery thread, the logs and the metrics. Constant.
  virtual std::string_view name() const = 0;
  // Read once, at attach().
  virtual QueueLimits queue_limits() const { return {}; }
  // On the writer's thread under the tenant's lock: false leaves the event out of this consumer's
  // queue (a consumer with nothing to do for it). Must be quick and thread-safe; must not call the twin.
  virtual bool wants(const ChangeEvent& event) const {
    (void)event;
    return true;
  }
  // On the delivery thread: the next durable changes (those wants() accepted), in order.
  virtual void consume(std::span<const ChangeEvent> events) = 0;
  // On the delivery thread, once at start and after each consume() or wake(): the consumer's own
  // timed work. Returns when it wants to be called again (epoch ms), kNoTimestamp for never.
  virtual Timestamp tick(Timestamp now) {
    (void)now;
    return kNoTimestamp;
  }
};

struct ConsumerStats {
  std::uint64_t events_queued = 0;     // accepted by wants()
  std::uint64_t events_consumed = 0;   // handed to consume()
  std::uint64_t events_discarded = 0;  // of store groups that failed
  std::uint64_t writer_waits = 0;      // write calls that waited because the queue was full
  std::size_t waiting = 0;             // queued now
};

class ChangeStream {
 public:
  explicit ChangeStream(storage::Store& store);
  ~ChangeStream();  // detaches every consumer still attached
  ChangeStream(const ChangeStream&) = delete;
  ChangeStream& operator=(const ChangeStream&) = delete;

  enum class Delivery { Now, Held };
  // From now on, the changes `consumer` wants are queued for it; its delivery thread starts.
  // Held: queued but not delivered, and no writer waits for it, until release() (tests, start-up).
  // The stream does not own the consumer: detach() it before destroying it.
  void attach(ChangeConsumer& consumer, Delivery delivery = Delivery::Now);
  void release(ChangeConsumer& consumer);
  // Stops and joins its delivery thread (after the consume() under way); queued changes are dropped.
  void detach(ChangeConsumer& consumer);
  // Has tick() called on the delivery thread soon (new work of the consumer's own: a timer to set).
  void wake(ChangeConsumer& consumer);
  // Blocks until `consumer` has been handed (or was not to be handed) every change published with a
  // sequence up to `sequence`, or `timeout` passed (false). For tests: "processed N, then assert".
  bool wait_consumed(ChangeConsumer& consumer, storage::Sequence sequence, std::chrono::milliseconds timeout);
  ConsumerStats stats(const ChangeConsumer& consumer) const;
  // The highest sequence published so far.
  storage::Sequence published() const;
  // Whether any consumer is attached (the twin makes no events for nobody).
  bool has_consumers() const { return attached_.load(std::memory_order_relaxed) != 0; }

  // --- for the twin ------------------------------------------------------------------------------
  // The events of one store group, `sequence` just returned by Store::enqueue. Under the tenant's lock.
  void publish(storage::Sequence sequence, std::vector<ChangeEvent>&& events);
  // After a write call, outside the twin's locks: waits while a queue is over its capacity (see above).
  void after_write();

 private:
  struct Lane;
  struct Group;
  static constexpr std::size_t kMaxConsumers = 32;
  Lane* find(const ChangeConsumer& consumer) const;
  void settle(const std::shared_ptr<Group>& group, const Status& status);

  storage::Store& store_;
  // Writers read `active_` without a lock (a lane is freed only with the stream, so a writer that
  // read a lane as it was detached still holds a valid one); attach and detach take the mutex.
  mutable std::mutex lanes_mutex_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::array<std::atomic<Lane*>, kMaxConsumers> active_{};
  std::atomic<std::size_t> attached_{0};
  std::atomic<storage::Sequence> published_{0};
  std::atomic<std::int64_t> in_flight_{0};  // groups whose store callback has not returned yet
};

}  // namespace ct::twin
