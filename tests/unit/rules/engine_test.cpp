// The engine on a real twin and store: windows rebuilt through a HistorySource at start, `for`
// timers and the clearFor hysteresis. Time is a ManualClock: a test advances it and waits for the
// engine to have caught up (sync(), or the change stream's wait_consumed()) before asserting, so
// that nothing depends on how fast the machine is.
#include "rules/engine.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/clock.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::rules {
namespace {

class FakeHistory final : public HistorySource {
 public:
  Status numeric_points(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                        Timestamp from, Timestamp to, const std::function<void(Timestamp, double)>& visit) const override {
    ++calls;
    if (!tenant.empty() || entity_id != "urn:ngsi-ld:Sensor:s1" || attribute.find("level") == std::string::npos) return {};
    for (auto [ago_ms, value] : {std::pair{600'000, 9.0}, std::pair{300'000, 8.0}})
      if (to - ago_ms >= from) visit(to - ago_ms, value);
    return {};
  }
  mutable int calls = 0;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-rules-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    incidents_ = std::make_unique<Incidents>(*twin_, contexts_.core(), roads_);
  }
  void TearDown() override {
    engine_.reset();
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void make_engine(const HistorySource* history, EngineOptions options = {}) {
    options.clock = &clock_;
    engine_ = std::make_unique<RulesEngine>(*twin_, *store_, contexts_, *incidents_, history, std::move(options));
    twin_->changes().attach(*engine_, twin::ChangeStream::Delivery::Held);  // until start()
  }
  // Creates or merges the entity; returns the store sequence of the write.
  storage::Sequence write(const std::string& text) {
    auto decoded = jsonld::decode_entity(json::parse(text).as_object(), *contexts_.core(), {});
    EXPECT_TRUE(decoded.ok());
    const auto id = decoded->header.id;
    auto done = twin_->create("", decoded.value());
    if (!done) {
      decoded->header = {};
      done = twin_->merge("", id, std::move(decoded).value());
    }
    EXPECT_TRUE(done.ok());
    return done ? done->sequence : 0;
  }
  // Writes, and waits until the engine has evaluated the change.
  void write_and_wait(const std::string& text) {
    const auto sequence = write(text);
    ASSERT_TRUE(twin_->changes().wait_consumed(*engine_, sequence, std::chrono::seconds(10)));
  }
  // Moves time on, and waits until the engine has run what fell due.
  void advance(std::chrono::milliseconds by) {
    clock_.advance(by);
    ASSERT_TRUE(engine_->sync());
  }
  // Sensor s1 with `level`, observed now by the test's clock (windows keep observedAt).
  std::string observed(int level) {
    return R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":)" + std::to_string(level) +
           R"(,"observedAt":")" + format_datetime(clock_.now()) + R"("}})";
  }
  void rule(const char* text) {
    auto created = engine_->create("", json::parse(text).as_object(), "");
    ASSERT_TRUE(created.ok()) << created.problem().detail;
  }
  // The status member of the alerts of the tenant, in id order.
  std::vector<std::string> alerts() {
    std::vector<std::string> out;
    auto ctx = contexts_.resolve(json::value(kAlertContextUrl)).value();
    const auto type = model::Term::intern(ctx->expand("Alert"));
    const auto status = model::Term::intern(ctx->expand("status"));
    (void)twin_->scan("", [&](const model::Entity& e) {
      if (!e.has_type(type)) return;
      const auto* s = e.find(status);
      out.emplace_back(s && s->value.is_string() ? std::string(s->value.get_string()) : "?");
    });
    return out;
  }
  bool wait_for(const std::vector<std::string>& expected, int ms = 3000) {
    for (int waited = 0; waited < ms; waited += 20) {
      if (alerts() == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return alerts() == expected;
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  jsonld::ContextStore contexts_;
  RoadGraphs roads_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  std::unique_ptr<Incidents> incidents_;
  std::unique_ptr<RulesEngine> engine_;
};

constexpr const char* kWindowRule =
    R"({"id":"w","watch":{"type":"Sensor"},"when":"avg(level,PT1H) > 5","actions":[{"alert":{"category":"test"}}]})";

TEST_F(EngineTest, WindowsAreRebuiltFromHistoryAtStart) {
  FakeHistory history;
  make_engine(&history);
  write(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":1}})");
  rule(kWindowRule);
  engine_->start();  // as after a restart: the stored rule is seeded, its window read from history
  EXPECT_TRUE(wait_for({"active"}));
  EXPECT_GT(history.calls, 0);
}

TEST_F(EngineTest, WithoutHistoryTheWindowStartsFromTheCurrentValue) {
  make_engine(nullptr);
  write(observed(1));
  rule(kWindowRule);
  engine_->start();
  ASSERT_TRUE(engine_->sync());  // seeded
  EXPECT_EQ(alerts(), std::vector<std::string>{});
  clock_.advance(std::chrono::milliseconds(10));
  write_and_wait(observed(7));
  EXPECT_EQ(alerts(), std::vector<std::string>{});  // avg(1, 7) = 4: the current value counted
  clock_.advance(std::chrono::milliseconds(10));
  write_and_wait(observed(11));
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"});  // avg(1, 7, 11) > 5
}

TEST_F(EngineTest, ForDelaysFiringAndClearForDelaysClearing) {
  make_engine(nullptr);
  engine_->start();
  rule(R"({"id":"f","watch":{"type":"Sensor"},"when":"level>5","for":"PT10M","clearFor":"PT5M",
           "actions":[{"alert":{"category":"test"}}]})");
  ASSERT_TRUE(engine_->sync());
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":9}})");
  advance(std::chrono::minutes(10) - std::chrono::milliseconds(1));
  EXPECT_EQ(alerts(), std::vector<std::string>{}) << "`for` has not run out";
  advance(std::chrono::milliseconds(1));
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"}) << "`for` ran out";
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":1}})");
  advance(std::chrono::minutes(5) - std::chrono::milliseconds(1));
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"}) << "clearFor has not run out";
  advance(std::chrono::milliseconds(1));
  EXPECT_EQ(alerts(), std::vector<std::string>{"cleared"});
  // Fired and cleared once; a new episode raises a new alert.
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":9}})");
  advance(std::chrono::minutes(10));
  auto raised = alerts();
  std::sort(raised.begin(), raised.end());
  EXPECT_EQ(raised, (std::vector<std::string>{"active", "cleared"}));
  auto view = engine_->get("", "f");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->health.fired, 2u);
  EXPECT_EQ(view->health.cleared, 1u);
}

// A condition that stops holding before `for` runs out starts the wait afresh.
TEST_F(EngineTest, AnInterruptedForStartsAgain) {
  make_engine(nullptr);
  engine_->start();
  rule(R"({"id":"g","watch":{"type":"Sensor"},"when":"level>5","for":"PT1M","actions":[{"alert":{"category":"test"}}]})");
  ASSERT_TRUE(engine_->sync());
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":9}})");
  advance(std::chrono::seconds(40));
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":1}})");
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":9}})");
  advance(std::chrono::seconds(40));  // 80 s since the first value, 40 s since it holds again
  EXPECT_EQ(alerts(), std::vector<std::string>{});
  advance(std::chrono::seconds(20));
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"});
}

// A value leaving its window changes the aggregate without any update: the timer set for that
// moment clears the alert.
TEST_F(EngineTest, AValueLeavingItsWindowIsEvaluatedWithoutAnUpdate) {
  make_engine(nullptr);
  engine_->start();
  rule(R"({"id":"c","watch":{"type":"Sensor"},"when":"count(level,PT1M) >= 2","actions":[{"alert":{"category":"test"}}]})");
  ASSERT_TRUE(engine_->sync());
  write_and_wait(observed(1));
  write_and_wait(observed(2));
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"});
  advance(std::chrono::seconds(30));
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"}) << "both values still in the window";
  advance(std::chrono::seconds(31));
  EXPECT_EQ(alerts(), std::vector<std::string>{"cleared"}) << "the values left the window";
}

TEST_F(EngineTest, ClearWhenGivesValueHysteresis) {
  make_engine(nullptr);
  engine_->start();
  rule(R"({"id":"h","watch":{"type":"Sensor"},"when":"level>50","clearWhen":"level<40",
           "actions":[{"alert":{"category":"test"}}]})");
  write(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":60}})");
  ASSERT_TRUE(wait_for({"active"}));
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":45}})");
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"});  // between the two thresholds: still raised
  write_and_wait(R"({"id":"urn:ngsi-ld:Sensor:s1","type":"Sensor","level":{"type":"Property","value":30}})");
  EXPECT_EQ(alerts(), std::vector<std::string>{"cleared"});
}

}  // namespace
// More timers falling due at once than the engine runs per turn of its loop (it takes queued
// changes between slices): all of them still run; and timers of a rule disabled before they fall
// due are dropped (the re-enabled rule raises one alert per entity, not two).
TEST_F(EngineTest, ManyTimersDueAtOnceAllRunAndDisabledRulesLeaveNone) {
  make_engine(nullptr);
  engine_->start();
  constexpr int kSensors = 3000;
  std::vector<jsonld::DecodedEntity> batch;
  for (int i = 0; i < kSensors; ++i) {
    json::object body{{"id", "urn:ngsi-ld:Sensor:m" + std::to_string(i)},
                      {"type", "Sensor"},
                      {"level", json::object{{"type", "Property"}, {"value", 9}}}};
    batch.push_back(jsonld::decode_entity(body, *contexts_.core(), {}).value());
  }
  const auto written = twin_->batch_upsert("", std::move(batch), twin::UpsertMode::Replace);
  ASSERT_EQ(written.items.size(), static_cast<std::size_t>(kSensors));
  ASSERT_TRUE(store_->wait_durable(written.sequence).ok());
  rule(R"({"id":"many","watch":{"type":"Sensor"},"when":"level>5","for":"PT10S","actions":[{"alert":{"category":"test"}}]})");
  ASSERT_TRUE(engine_->sync());  // seeded: a `for` timer per sensor, due in 10 s
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(engine_->set_enabled("", "many", false).ok());  // before `for` elapses: its timers are stale
  ASSERT_TRUE(engine_->set_enabled("", "many", true).ok());
  ASSERT_TRUE(engine_->sync());      // the new version seeded: its timers are due 1 s after the first's
  advance(std::chrono::seconds(9));  // the first version's timers fall due (and are dropped)
  EXPECT_EQ(alerts(), std::vector<std::string>{});
  advance(std::chrono::seconds(1));  // the second version's, more than one turn's worth
  const std::vector<std::string> all_active(kSensors, "active");
  EXPECT_EQ(alerts(), all_active);
  advance(std::chrono::seconds(10));
  EXPECT_EQ(alerts().size(), static_cast<std::size_t>(kSensors));
}

// A queue far smaller than one write call: no change is lost (the writer waits for room instead of
// the engine dropping changes), every one is evaluated, and the alerts the rules thread writes while
// the queue is over its capacity do not wait for it.
TEST_F(EngineTest, AFullQueueLosesNoChange) {
  // Without fsync: with a queue of 4 the changes are made durable a few at a time, and a loaded
  // machine's fsyncs would make the test slow, not more telling.
  incidents_.reset();
  twin_.reset();
  store_.reset();
  std::filesystem::remove_all(dir_);
  store_ = std::move(storage::open_rocksdb_store({dir_, /*sync=*/false}).value());
  twin_ = std::make_unique<twin::Twin>(*store_);
  ASSERT_TRUE(twin_->load().ok());
  incidents_ = std::make_unique<Incidents>(*twin_, contexts_.core(), roads_);
  EngineOptions options;
  options.event_queue_capacity = 4;
  make_engine(nullptr, options);
  engine_->start();
  rule(R"({"id":"q","watch":{"type":"Sensor"},"when":"level>5","actions":[{"alert":{"category":"test"}}]})");
  constexpr int kSensors = 300;
  auto write_all = [&](int level) {
    std::vector<jsonld::DecodedEntity> batch;
    for (int i = 0; i < kSensors; ++i) {
      json::object body{{"id", "urn:ngsi-ld:Sensor:q" + std::to_string(i)},
                        {"type", "Sensor"},
                        {"level", json::object{{"type", "Property"}, {"value", level}}}};
      batch.push_back(jsonld::decode_entity(body, *contexts_.core(), {}).value());
    }
    return twin_->batch_upsert("", std::move(batch), twin::UpsertMode::Update);
  };
  write_all(1);  // 300 creations in one call: 75 times the queue's capacity
  write_all(9);  // 300 updates that make the condition hold
  constexpr int kSingle = 50;
  for (int i = 0; i < kSingle; ++i) {  // and single writes, each waiting for room (each change is made durable first)
    json::object body{{"id", "urn:ngsi-ld:Sensor:q" + std::to_string(i)},
                      {"type", "Sensor"},
                      {"level", json::object{{"type", "Property"}, {"value", 10}}}};
    auto fragment = jsonld::decode_entity(body, *contexts_.core(), {}).value();
    fragment.header = {};
    ASSERT_TRUE(twin_->merge("", "urn:ngsi-ld:Sensor:q" + std::to_string(i), std::move(fragment)).ok());
  }
  const bool all_active = wait_for(std::vector<std::string>(kSensors, "active"), 20'000);
  const auto raised = alerts();
  EXPECT_TRUE(all_active) << raised.size() << " alerts, " << std::count(raised.begin(), raised.end(), "active")
                          << " active, " << engine_->stats().events_processed << " changes processed";
  ASSERT_TRUE(twin_->changes().wait_consumed(*engine_, twin_->changes().published(), std::chrono::seconds(10)));
  const auto stats = engine_->stats();
  EXPECT_EQ(stats.events_queued, 2u * kSensors + kSingle);  // the alerts' own changes are not watched by any rule
  EXPECT_EQ(stats.events_processed, stats.events_queued);
  EXPECT_GE(stats.evaluations, 2u * kSensors + kSingle);
}

}  // namespace ct::rules
