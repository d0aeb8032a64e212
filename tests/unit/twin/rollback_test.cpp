// A refused write changes nothing: the twin over a Store whose groups fail (or whose volume is full).
#include "twin/twin.hpp"

#include <atomic>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "common/json.hpp"
#include "jsonld/context_store.hpp"
#include "storage/volume_reserve.hpp"

namespace ct::twin {
namespace {

// Groups settle only when the test says so: all that is queued becomes durable, or fails.
class FakeStore final : public storage::Store {
 public:
  storage::Sequence enqueue(std::vector<storage::Write> writes) override {
    if (writes.empty()) return last_;
    queued_.emplace_back(++last_, std::move(writes));
    return last_;
  }
  void when_durable(storage::Sequence seq, std::function<void(const Status&)> done) override {
    if (seq <= settled_) return done(outcome_of(seq));
    waiters_.emplace(seq, std::move(done));
  }
  Status wait_durable(storage::Sequence seq) override { return outcome_of(seq); }
  storage::Sequence durable_sequence() const override { return durable_; }
  void set_failure_handler(std::function<void(storage::Sequence)> handler) override { handler_ = std::move(handler); }
  Status admit(bool freeing) override { return full_ && !freeing ? Status(storage::storage_full()) : Status(); }
  Status scan(storage::Collection, std::string_view,
              const std::function<bool(std::string_view, std::string_view)>&) override {
    return {};
  }
  Result<std::optional<std::string>> get(storage::Collection, std::string_view) override {
    return std::optional<std::string>();
  }
  void close() override {}

  // Settles everything queued. A failure calls the handler first, as the real store does.
  void settle(bool ok) {
    if (queued_.empty()) return;
    const storage::Sequence first = queued_.front().first;
    queued_.clear();
    if (ok) {
      durable_ = last_;
    } else {
      if (handler_) handler_(durable_);
      failed_.emplace_back(first, last_);
    }
    settled_ = last_;
    for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= settled_;) {
      it->second(outcome_of(it->first));
      it = waiters_.erase(it);
    }
  }
  bool full_ = false;

 private:
  Status outcome_of(storage::Sequence seq) const {
    for (const auto& [from, to] : failed_)
      if (seq >= from && seq <= to) return storage::storage_full();
    return {};
  }
  storage::Sequence last_ = 0, durable_ = 0, settled_ = 0;
  std::vector<std::pair<storage::Sequence, std::vector<storage::Write>>> queued_;
  std::vector<std::pair<storage::Sequence, storage::Sequence>> failed_;
  std::multimap<storage::Sequence, std::function<void(const Status&)>> waiters_;
  std::function<void(storage::Sequence)> handler_;
};

// Counts the changes the change stream delivers: only those of groups that became durable (the
// stream discards, and counts, the changes of groups that failed).
class DeliveredCounter final : public ChangeConsumer {
 public:
  std::string_view name() const override { return "counter"; }
  void consume(std::span<const ChangeEvent> events) override { delivered += events.size(); }
  std::atomic<std::size_t> delivered{0};
};

class RollbackTest : public ::testing::Test {
 protected:
  void SetUp() override { twin_.changes().attach(counter_); }
  void TearDown() override { twin_.changes().detach(counter_); }

  jsonld::DecodedEntity decode(const std::string& text) {
    return jsonld::decode_entity(json::parse(text).as_object(), *contexts_.core(), {}).value();
  }
  static std::string sensor(int i, int speed, double lon) {
    return "{\"id\":\"urn:ngsi-ld:Sensor:" + std::to_string(i) + "\",\"type\":\"" + (i % 2 ? "Sensor" : "Camera") +
           "\",\"speed\":{\"type\":\"Property\",\"value\":" + std::to_string(speed) +
           "},\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\",\"coordinates\":[" +
           std::to_string(lon) + ",39.9]}}}";
  }
  static std::string id(int i) { return "urn:ngsi-ld:Sensor:" + std::to_string(i); }

  // Everything the twin holds of tenant "", in id order, with system attributes (revisions, times).
  std::map<std::string, std::string> state() {
    std::map<std::string, std::string> out;
    jsonld::EncodeOptions options;
    options.sys_attrs = true;
    EXPECT_TRUE(twin_.scan("", [&](const model::Entity& e) {
      out[e.id] = to_text(jsonld::encode_entity(e, *contexts_.core(), options));
    }).ok());
    return out;
  }
  // What each kind of index answers: by type, by value (q) and spatially (near).
  std::set<std::string> ids(const std::string& type, const std::string& q, bool near) {
    const auto& ctx = *contexts_.core();
    EntityQuery query;
    if (!type.empty()) query.selectors.push_back({query::parse_type_expression(type, ctx).value(), {}, {}});
    if (!q.empty()) query.q = query::parse_q(q, ctx).value();
    if (near) query.geo = query::parse_geo_query("near;maxDistance==20000", "Point", "[116.0,39.9]", "", ctx).value();
    std::set<std::string> out;
    EXPECT_TRUE(twin_.query("", query, 0, 100000, [&](const model::Entity& e) { out.insert(e.id); }).ok());
    return out;
  }
  struct Answers {
    std::map<std::string, std::string> entities;
    std::set<std::string> sensors, cameras, fast, near, fast_near;
    bool operator==(const Answers&) const = default;
  };
  Answers answers() {
    return {state(), ids("Sensor", "", false), ids("Camera", "", false), ids("", "speed>50", false),
            ids("", "", true), ids("Sensor", "speed>50", true)};
  }

  jsonld::ContextStore contexts_;
  FakeStore store_;
  Twin twin_{store_};
  DeliveredCounter counter_;
};

TEST_F(RollbackTest, AFailedGroupLeavesTheTwinAndItsIndexesAsTheyWere) {
  std::vector<jsonld::DecodedEntity> seed;
  for (int i = 0; i < 40; ++i) seed.push_back(decode(sensor(i, i * 3, i % 3 ? 116.0 : 118.0)));
  for (const auto& item : twin_.batch_upsert("", std::move(seed), UpsertMode::Replace).items) ASSERT_FALSE(item.error);
  store_.settle(true);
  const Answers before = answers();  // builds the value and spatial indexes too
  ASSERT_EQ(before.entities.size(), 40u);
  ASSERT_FALSE(before.fast.empty());
  ASSERT_FALSE(before.near.empty());

  // Every kind of change, several on the same entities, all in groups that will fail.
  ASSERT_TRUE(twin_.merge("", id(1), decode(R"({"speed":{"type":"Property","value":99}})")).ok());
  ASSERT_TRUE(twin_.merge("", id(1), decode(R"({"speed":{"type":"Property","value":7},"extra":{"type":"Property","value":1}})")).ok());
  ASSERT_TRUE(twin_.replace("", id(2), decode(sensor(2, 1000, 140.0))).ok());
  ASSERT_TRUE(twin_.delete_attribute("", id(3), model::Term::intern(contexts_.core()->expand("speed")), {}, false).ok());
  ASSERT_TRUE(twin_.remove("", id(4)).ok());
  ASSERT_TRUE(twin_.create("", decode(sensor(4, 5, 116.0))).ok());  // deleted, then created again
  ASSERT_TRUE(twin_.create("", decode(sensor(100, 77, 116.0))).ok());
  std::vector<jsonld::DecodedEntity> upserts;
  for (int i = 5; i < 45; i += 3) upserts.push_back(decode(sensor(i, 60 + i, 116.0)));
  for (const auto& item : twin_.batch_upsert("", std::move(upserts), UpsertMode::Update).items) ASSERT_FALSE(item.error);
  const auto deleted = twin_.batch_delete("", {id(6), id(7), id(100)});
  for (const auto& item : deleted.items) ASSERT_FALSE(item.error);
  ASSERT_NE(answers(), before);  // applied, and readable, before they are durable

  store_.settle(false);
  EXPECT_EQ(answers(), before);
  ASSERT_TRUE(twin_.changes().wait_consumed(counter_, twin_.changes().published(), std::chrono::seconds(10)));
  EXPECT_EQ(twin_.changes().stats(counter_).events_discarded, 7u + 14u + 3u);  // no undone change delivered
  EXPECT_EQ(counter_.delivered.load(), 40u);

  // The twin writes on from the restored state.
  ASSERT_TRUE(twin_.merge("", id(1), decode(R"({"speed":{"type":"Property","value":51}})")).ok());
  store_.settle(true);
  EXPECT_EQ(ids("", "speed>50", false).count(id(1)), 1u);
  EXPECT_EQ(state().size(), 40u);
}

TEST_F(RollbackTest, OnlyWhatIsNotDurableIsUndone) {
  ASSERT_TRUE(twin_.create("", decode(sensor(1, 10, 116.0))).ok());
  store_.settle(true);
  ASSERT_TRUE(twin_.merge("", id(1), decode(R"({"speed":{"type":"Property","value":20}})")).ok());
  store_.settle(true);
  const auto durable = state();
  ASSERT_TRUE(twin_.merge("", id(1), decode(R"({"speed":{"type":"Property","value":30}})")).ok());
  ASSERT_TRUE(twin_.create("", decode(sensor(2, 10, 116.0))).ok());
  store_.settle(false);
  EXPECT_EQ(state(), durable);
  EXPECT_EQ(ids("", "speed==20", false), std::set<std::string>{id(1)});
}

TEST_F(RollbackTest, AFullVolumeRefusesWritesBeforeTheyAreApplied) {
  ASSERT_TRUE(twin_.create("", decode(sensor(1, 10, 116.0))).ok());
  ASSERT_TRUE(twin_.create("", decode(sensor(2, 10, 116.0))).ok());
  store_.settle(true);
  const auto before = state();
  store_.full_ = true;
  auto created = twin_.create("", decode(sensor(3, 10, 116.0)));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.problem().kind, ProblemKind::InsufficientStorage);
  auto merged = twin_.merge("", id(1), decode(R"({"speed":{"type":"Property","value":30}})"));
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.problem().kind, ProblemKind::InsufficientStorage);
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(decode(sensor(1, 50, 116.0)));
  batch.push_back(decode(sensor(9, 50, 116.0)));
  for (const auto& item : twin_.batch_upsert("", std::move(batch), UpsertMode::Replace).items) {
    ASSERT_TRUE(item.error);
    EXPECT_EQ(item.error->kind, ProblemKind::InsufficientStorage);
  }
  EXPECT_EQ(state(), before);
  // Deleting frees space: it is still admitted.
  ASSERT_TRUE(twin_.remove("", id(2)).ok());
  store_.settle(true);
  EXPECT_EQ(state().size(), 1u);
}

TEST(VolumeReserveTest, RefusesBelowTheReserveAndDeletionsBelowHalfOfIt) {
  std::uint64_t free = 100 << 20;
  storage::VolumeReserve reserve([&] { return std::optional<std::uint64_t>(free); }, 1000 << 20, 20 << 20);
  EXPECT_TRUE(reserve.check(1 << 20, false).ok());
  EXPECT_FALSE(reserve.check(81 << 20, false).ok());  // would leave less than the reserve
  free = 15 << 20;
  const auto refused = reserve.check(1, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.problem().kind, ProblemKind::InsufficientStorage);
  EXPECT_EQ(refused.problem().detail.find('/'), std::string::npos);  // names no path
  EXPECT_TRUE(reserve.full());
  EXPECT_TRUE(reserve.check(1 << 20, true).ok());  // a deletion still goes
  free = 5 << 20;
  EXPECT_FALSE(reserve.check(1, true).ok());
  EXPECT_FALSE(reserve.admit(false).ok());
  free = 200 << 20;
  EXPECT_TRUE(reserve.check(1, false).ok());
  EXPECT_FALSE(reserve.full());
  EXPECT_TRUE(reserve.admit(false).ok());
}

TEST(VolumeReserveTest, DefaultsToFivePercentWithinBounds) {
  auto free = [] { return std::optional<std::uint64_t>(0); };
  EXPECT_EQ(storage::VolumeReserve(free, 48ull << 20, 0).reserve_bytes(), 16ull << 20);
  EXPECT_EQ(storage::VolumeReserve(free, 10ull << 30, 0).reserve_bytes(), 512ull << 20);
  EXPECT_EQ(storage::VolumeReserve(free, 100ull << 30, 0).reserve_bytes(), 1ull << 30);
}

}  // namespace
}  // namespace ct::twin
