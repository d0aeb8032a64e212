// The change stream (twin/change_stream.hpp) on a real twin and store: what a consumer is promised.
#include "twin/change_stream.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "jsonld/context_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace ct::twin {
namespace {

using namespace std::chrono_literals;

// What a consumer saw of one change.
struct Seen {
  ChangeEvent::Kind kind;
  Origin origin;
  std::string id;
  std::uint64_t revision;
  storage::Sequence sequence;
};

// A new consumer: one class...
class Recorder : public ChangeConsumer {
 public:
  std::string_view name() const override { return "recorder"; }
  QueueLimits queue_limits() const override { return limits; }
  void consume(std::span<const ChangeEvent> events) override {
    std::unique_lock lock(mutex);
    gate_cv.wait(lock, [&] { return open; });
    for (const auto& e : events) seen.push_back({e.kind, e.origin, e.entity->id, e.entity->revision, e.sequence});
  }
  void close_gate() {
    std::lock_guard lock(mutex);
    open = false;
  }
  void open_gate() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    gate_cv.notify_all();
  }
  std::vector<Seen> snapshot() {
    std::lock_guard lock(mutex);
    return seen;
  }

  QueueLimits limits;
  std::mutex mutex;
  std::condition_variable gate_cv;
  bool open = true;
  std::vector<Seen> seen;
};

class ChangeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-stream-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_, /*sync=*/false}).value());
    twin_ = std::make_unique<Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
  }
  void TearDown() override {
    twin_.reset();  // detaches the recorders, declared before it
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  jsonld::DecodedEntity entity(const std::string& id, int value) {
    json::object body{{"id", id}, {"type", "Sensor"}, {"level", json::object{{"type", "Property"}, {"value", value}}}};
    return jsonld::decode_entity(body, *contexts_.core(), {}).value();
  }
  jsonld::DecodedEntity fragment(int value) {
    auto e = entity("urn:x", value);
    e.header = {};
    return e;
  }
  bool consumed_all(ChangeConsumer& consumer) {
    return twin_->changes().wait_consumed(consumer, twin_->changes().published(), 20s);
  }

  Recorder recorder_, other_;  // before the twin, which detaches them when it goes
  std::filesystem::path dir_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Twin> twin_;
};

TEST_F(ChangeStreamTest, ANewConsumerSeesEveryChangeOnceInOrderWithItsOrigin) {
  twin_->changes().attach(recorder_);  // ...and one line.
  ASSERT_TRUE(twin_->create("", entity("urn:a", 1)).ok());
  ASSERT_TRUE(twin_->merge("", "urn:a", fragment(2), {Origin::Device, {}}).ok());
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(entity("urn:b", 1));
  batch.push_back(entity("urn:a", 3));
  (void)twin_->batch_upsert("", std::move(batch), UpsertMode::Update, {Origin::RuleAction, {}});
  ASSERT_TRUE(twin_->remove("", "urn:b", {Origin::TemporalBackfill, {}}).ok());
  ASSERT_TRUE(consumed_all(recorder_));

  const auto seen = recorder_.snapshot();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].kind, ChangeEvent::Kind::Created);
  EXPECT_EQ(seen[0].origin, Origin::ClientRequest);  // the default
  EXPECT_EQ(seen[1].origin, Origin::Device);
  EXPECT_EQ(seen[1].revision, 2u);
  EXPECT_EQ(seen[2].id, "urn:b");
  EXPECT_EQ(seen[2].origin, Origin::RuleAction);
  EXPECT_EQ(seen[3].id, "urn:a");
  EXPECT_EQ(seen[3].revision, 3u);
  EXPECT_EQ(seen[2].sequence, seen[3].sequence) << "one batch, one store group";
  EXPECT_EQ(seen[4].kind, ChangeEvent::Kind::Deleted);
  EXPECT_EQ(seen[4].origin, Origin::TemporalBackfill);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_LE(seen[i - 1].sequence, seen[i].sequence);
  EXPECT_EQ(twin_->changes().stats(recorder_).events_consumed, 5u);
}

// Many writers on a few entities, a queue far smaller than the load: each consumer sees each entity's
// revisions exactly once and in order, and the writers were held back rather than changes dropped.
TEST_F(ChangeStreamTest, AFullQueueLosesNoChangeAndKeepsEachEntitysOrder) {
  recorder_.limits.capacity = 4;
  twin_->changes().attach(recorder_);
  twin_->changes().attach(other_);
  constexpr int kEntities = 5, kWrites = 200, kThreads = 4;
  for (int e = 0; e < kEntities; ++e) ASSERT_TRUE(twin_->create("", entity("urn:e" + std::to_string(e), 0)).ok());
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) (void)twin_->merge("", "urn:e" + std::to_string((i + t) % kEntities), fragment(i));
    });
  for (auto& w : writers) w.join();
  for (auto* consumer : {&recorder_, &other_}) {
    ASSERT_TRUE(consumed_all(*consumer));
    std::map<std::string, std::uint64_t> last;
    for (const auto& s : consumer->snapshot()) {
      EXPECT_EQ(s.revision, last[s.id] + 1) << s.id;
      last[s.id] = s.revision;
    }
    std::uint64_t total = 0;
    for (const auto& [id, revision] : last) total += revision;
    EXPECT_EQ(total, static_cast<std::uint64_t>(kEntities + kThreads * kWrites));
  }
}

// A writer waits while a queue is over its capacity, and goes on once the consumer catches up.
TEST_F(ChangeStreamTest, AWriterWaitsForRoomInsteadOfDroppingAChange) {
  recorder_.limits = {2, std::chrono::milliseconds(60'000)};
  twin_->changes().attach(recorder_);
  recorder_.close_gate();
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 6; ++i) {
      (void)twin_->create("", entity("urn:w" + std::to_string(i), i));
      ++written;
    }
  });
  for (int i = 0; i < 2000 && twin_->changes().stats(recorder_).writer_waits == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_GE(twin_->changes().stats(recorder_).writer_waits, 1u);
  EXPECT_LT(written.load(), 6) << "the writer went on while the queue was full";
  recorder_.open_gate();
  writer.join();
  ASSERT_TRUE(consumed_all(recorder_));
  EXPECT_EQ(recorder_.snapshot().size(), 6u);
}

// A consumer that writes to the twin from consume() (a rule's alert, an application's derived
// entity) is never held back by its own full queue.
class Deriver : public ChangeConsumer {
 public:
  explicit Deriver(Twin& twin, jsonld::ContextStore& contexts) : twin_(twin), contexts_(contexts) {}
  std::string_view name() const override { return "deriver"; }
  QueueLimits queue_limits() const override { return {1, std::chrono::milliseconds(60'000)}; }
  void consume(std::span<const ChangeEvent> events) override {
    for (const auto& e : events) {
      if (e.origin == Origin::Application) continue;  // its own
      json::object body{{"id", "urn:derived:" + e.entity->id}, {"type", "Derived"}};
      auto decoded = jsonld::decode_entity(body, *contexts_.core(), {}).value();
      (void)twin_.batch_upsert("", {std::move(decoded)}, UpsertMode::Update, {Origin::Application, {}});
      ++derived;
    }
  }
  std::atomic<int> derived{0};

 private:
  Twin& twin_;
  jsonld::ContextStore& contexts_;
};

TEST_F(ChangeStreamTest, AConsumerNeverWaitsForItsOwnQueue) {
  Deriver deriver(*twin_, contexts_);
  twin_->changes().attach(deriver);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(twin_->create("", entity("urn:d" + std::to_string(i), i)).ok());
  ASSERT_TRUE(consumed_all(deriver));
  EXPECT_EQ(deriver.derived.load(), 20);
  twin_->changes().detach(deriver);
}

// Held: changes are queued but not delivered (and hold no writer back) until release().
TEST_F(ChangeStreamTest, AHeldConsumerGetsWhatWasQueuedOnceReleased) {
  recorder_.limits.capacity = 1;
  twin_->changes().attach(recorder_, ChangeStream::Delivery::Held);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(twin_->create("", entity("urn:h" + std::to_string(i), i)).ok());
  EXPECT_EQ(twin_->changes().stats(recorder_).writer_waits, 0u);
  EXPECT_FALSE(twin_->changes().wait_consumed(recorder_, twin_->changes().published(), 0ms));
  EXPECT_TRUE(recorder_.snapshot().empty());
  twin_->changes().release(recorder_);
  ASSERT_TRUE(consumed_all(recorder_));
  EXPECT_EQ(recorder_.snapshot().size(), 5u);
}

// A change whose store group fails never reaches a consumer (here: the store was closed).
TEST_F(ChangeStreamTest, AChangeOfAFailedGroupIsNeverDelivered) {
  twin_->changes().attach(recorder_);
  ASSERT_TRUE(twin_->create("", entity("urn:f", 1)).ok());
  ASSERT_TRUE(consumed_all(recorder_));
  store_->close();
  auto refused = twin_->merge("", "urn:f", fragment(2));
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(store_->wait_durable(refused->sequence).ok());
  ASSERT_TRUE(consumed_all(recorder_));
  EXPECT_EQ(recorder_.snapshot().size(), 1u);
  EXPECT_EQ(twin_->changes().stats(recorder_).events_discarded, 1u);
}

}  // namespace
}  // namespace ct::twin
