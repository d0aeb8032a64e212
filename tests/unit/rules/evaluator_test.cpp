// The evaluator on its own, driven by the test's thread: no change stream, no rules thread. Changes
// are handed to consume() as the stream would, and time moves only when the test says (run_due with
// a ManualClock), so `for`, windows and retries are checked to the millisecond.
#include "rules/evaluator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "rules/engine.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::rules {
namespace {

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-evaluator-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_, /*sync=*/false}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    incidents_ = std::make_unique<Incidents>(*twin_, contexts_.core(), roads_);
    alert_context_ = contexts_.resolve(json::value(kAlertContextUrl)).value();
    services_ = std::make_unique<ActionServices>(ActionServices{*twin_, *incidents_, contexts_, alert_context_, dispatcher_});
    registry_ = std::make_unique<RuleRegistry>(*twin_, *store_, contexts_, clock_,
                                               [this](const std::string& tenant, const std::string& id) {
                                                 changed_.emplace_back(tenant, id);
                                               });
    EvaluatorOptions options;
    options.first_retry = std::chrono::milliseconds(100);
    evaluator_ = std::make_unique<Evaluator>(*registry_, *services_, nullptr, clock_, options);
  }
  void TearDown() override {
    evaluator_.reset();
    registry_.reset();
    incidents_.reset();
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void rule(const char* text) {
    auto put = registry_->put("", json::parse(text).as_object(), "", true, kNoTimestamp);
    ASSERT_TRUE(put.ok()) << put.problem().detail;
    evaluator_->apply(changed_, /*restart=*/false);
    changed_.clear();
  }
  // Writes `level` to sensor s1 and hands the change to the evaluator, as the change stream would.
  void level(int value) {
    const std::string id = "urn:ngsi-ld:Sensor:s1";
    json::object body{{"id", id}, {"type", "Sensor"}, {"level", json::object{{"type", "Property"}, {"value", value}}}};
    auto decoded = jsonld::decode_entity(body, *contexts_.core(), {}).value();
    auto kind = twin::ChangeEvent::Kind::Created;
    if (!twin_->create("", decoded).ok()) {
      decoded.header = {};
      ASSERT_TRUE(twin_->merge("", id, std::move(decoded)).ok());
      kind = twin::ChangeEvent::Kind::Updated;
    }
    twin::ChangeEvent event;
    event.kind = kind;
    event.tenant = "";
    ASSERT_TRUE(twin_->read("", id, [&](const model::Entity& e) { event.entity = std::make_shared<const model::Entity>(e); }).ok());
    event.written.emplace_back(model::Term::intern(contexts_.core()->expand("level")), model::Term{});
    event.at = clock_.now();
    evaluator_->consume(std::span<const twin::ChangeEvent>(&event, 1));
  }
  std::vector<std::string> alerts() {
    std::vector<std::string> out;
    const auto type = model::Term::intern(alert_context_->expand("Alert"));
    const auto status = model::Term::intern(alert_context_->expand("status"));
    (void)twin_->scan("", [&](const model::Entity& e) {
      if (!e.has_type(type)) return;
      const auto* s = e.find(status);
      out.emplace_back(s && s->value.is_string() ? std::string(s->value.get_string()) : "?");
    });
    return out;
  }
  void run_at(Timestamp t) {
    clock_.set(t);
    evaluator_->run_due(clock_.now());
    evaluator_->publish_counts();
  }
  RuleHealth health(const char* id) { return registry_->find("", id).health->snapshot(); }

  std::filesystem::path dir_;
  ManualClock clock_;
  jsonld::ContextStore contexts_;
  RoadGraphs roads_;
  notify::Dispatcher dispatcher_;  // never started: these rules do not notify
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  std::unique_ptr<Incidents> incidents_;
  jsonld::ContextPtr alert_context_;
  std::unique_ptr<ActionServices> services_;
  std::vector<RuleKey> changed_;
  std::unique_ptr<RuleRegistry> registry_;
  std::unique_ptr<Evaluator> evaluator_;
};

TEST_F(EvaluatorTest, ForFiresTheMillisecondItRunsOut) {
  rule(R"({"id":"f","watch":{"type":"Sensor"},"when":"level>5","for":"PT1M","actions":[{"alert":{"category":"t"}}]})");
  const Timestamp start = clock_.now();
  level(9);
  EXPECT_EQ(evaluator_->next_deadline(), start + 60'000);
  run_at(start + 59'999);
  EXPECT_EQ(alerts(), std::vector<std::string>{});
  run_at(start + 60'000);
  EXPECT_EQ(alerts(), std::vector<std::string>{"active"});
  EXPECT_EQ(health("f").fired, 1u);
  EXPECT_EQ(health("f").active, 1u);
  EXPECT_EQ(health("f").watched, 1u);
  level(1);  // no clearFor: clears at once
  EXPECT_EQ(alerts(), std::vector<std::string>{"cleared"});
  EXPECT_EQ(evaluator_->processed(), 2u);
}

TEST_F(EvaluatorTest, AFailingActionIsRetriedWithADoublingBackoffThenGivenUp) {
  // The target exists when the rule is defined, and is gone when the rule fires.
  json::object target{{"id", "urn:ngsi-ld:Lamp:1"}, {"type", "Lamp"}};
  ASSERT_TRUE(twin_->create("", jsonld::decode_entity(target, *contexts_.core(), {}).value()).ok());
  rule(R"({"id":"u","watch":{"type":"Sensor"},"when":"level>5",
           "actions":[{"update":{"entity":"urn:ngsi-ld:Lamp:1","attributes":{"on":{"type":"Property","value":true}}}}]})");
  ASSERT_TRUE(twin_->remove("", "urn:ngsi-ld:Lamp:1").ok());
  const Timestamp start = clock_.now();
  level(9);
  EXPECT_EQ(health("u").action_failures, 1u);
  EXPECT_FALSE(health("u").failing) << "one failure is not failing yet";
  // Retries at +100, +200, +400, +800 ms after each failure (5 attempts in all).
  Timestamp at = start;
  for (int attempt = 2; attempt <= 5; ++attempt) {
    const Timestamp due = at + (100 << (attempt - 2));
    EXPECT_EQ(evaluator_->next_deadline(), due) << "attempt " << attempt;
    run_at(due - 1);
    EXPECT_EQ(health("u").action_failures, static_cast<std::uint64_t>(attempt - 1)) << "not before it is due";
    run_at(due);
    EXPECT_EQ(health("u").action_failures, static_cast<std::uint64_t>(attempt));
    at = due;
  }
  EXPECT_TRUE(health("u").failing);
  EXPECT_NE(health("u").last_error.find("update: "), std::string::npos) << health("u").last_error;
  EXPECT_EQ(evaluator_->next_deadline(), kNoTimestamp) << "given up: nothing left to retry";
}

}  // namespace
}  // namespace ct::rules
